"""Fixtures of the analytics tests: a fresh locator and deadline cache per test (as in tests/cases)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from yiwang.cases import sla
from yiwang.grids import locator


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    locator.reset_cache()
    sla.clear_limits_cache()
    yield
    locator.reset_cache()
    sla.clear_limits_cache()
