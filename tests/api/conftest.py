"""Fixtures of the API tests: an API client per persona."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from rest_framework.test import APIClient

from tests.world import World
from yiwang.grids import locator
from yiwang.people.models import User


@pytest.fixture(autouse=True)
def _fresh_locator() -> Iterator[None]:
    # The world's grids are new rows in every test; the process-wide index must not be reused.
    locator.reset_cache()
    yield
    locator.reset_cache()


@pytest.fixture
def client_for(world: World) -> Callable[[User], APIClient]:
    def make(user: User) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make
