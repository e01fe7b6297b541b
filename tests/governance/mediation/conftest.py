from __future__ import annotations

import pytest

from tests.governance.mediation.helpers import MedWorld, build_med_world
from tests.world import World


@pytest.fixture
def med(world: World) -> MedWorld:
    return build_med_world(world)
