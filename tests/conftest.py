from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.reference_data import reseed_reference_data
from tests.world import World, build_world


def pytest_configure(config: pytest.Config) -> None:
    # CI sets YIWANG_REQUIRE_POSTGRES=1 for the PostgreSQL run: a test run that silently fell back to
    # SQLite would prove nothing about PostgreSQL.
    if os.environ.get("YIWANG_REQUIRE_POSTGRES") == "1":
        from django.conf import settings

        engine = settings.DATABASES["default"]["ENGINE"]
        if "postgresql" not in engine:
            raise pytest.UsageError(f"YIWANG_REQUIRE_POSTGRES=1 but the database engine is {engine}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``postgres`` exercise PostgreSQL-only behaviour (row locks racing in threads);
    on SQLite they are deselected, not skipped, and the PostgreSQL CI run executes them."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    selected = [item for item in items if item.get_closest_marker("postgres") is None]
    deselected = [item for item in items if item.get_closest_marker("postgres") is not None]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


@pytest.fixture
def world(db: None) -> World:
    return build_world()


_DB_FIXTURES = frozenset({"db", "transactional_db", "live_server", "world"})


@pytest.fixture(autouse=True)
def _fresh_locator() -> Iterator[None]:
    """Every test builds its own grids (new ids, the same locator version after a rollback): the
    process-wide point→grid index must not carry a previous test's grids (PostgreSQL would refuse
    the stale foreign keys when it checks the deferred constraints at the end of the test). The
    map's cache of grid shapes likewise (a rolled-back test can leave the same ids and moments)."""
    from yiwang.grids import locator
    from yiwang.web.views import mapview

    locator.reset_cache()
    mapview.reset_grid_shapes()
    yield
    locator.reset_cache()
    mapview.reset_grid_shapes()


@pytest.fixture(autouse=True)
def _reference_data_after_flush(request: pytest.FixtureRequest) -> None:
    """A transactional test (PostgreSQL races, live-server tests) flushes the database when it ends,
    taking the categories and calendar loaded by data migrations with it. Any later test in the same
    process that finds them gone loads them again (inside its own transaction when it has one, so
    the check repeats, at the cost of one query, until the next transactional test reloads them)."""
    uses_db = request.node.get_closest_marker("django_db") is not None or bool(
        _DB_FIXTURES.intersection(request.fixturenames)
    )
    if not uses_db:
        return
    request.getfixturevalue("_django_db_helper")
    reseed_reference_data()
