from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.core.servers.basehttp import WSGIServer
from django.test.testcases import LiveServerThread, QuietWSGIRequestHandler
from pytest_django.live_server_helper import LiveServer

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


class _SerialLiveServerThread(LiveServerThread):
    """The live server, answering one request at a time. With the in-memory SQLite database every
    request thread shares the test's one connection (pytest-django passes it to the server), and a
    page that fetches several URLs at once (the map) made two threads use it together: "sqlite3.
    InterfaceError: bad parameter or other API misuse". Django's dev server closes each connection
    when it is not threaded, so the browser never waits on a kept-alive socket."""

    def _create_server(self, connections_override: object = None) -> WSGIServer:
        return WSGIServer((self.host, self.port), QuietWSGIRequestHandler, allow_reuse_address=False)


@pytest.fixture(scope="session")
def live_server(request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """pytest-django's ``live_server``, with the serial thread above in place of Django's threaded one."""
    addr = (
        request.config.getvalue("liveserver") or os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS") or "localhost"
    )
    server = LiveServer(addr, start=False)
    threaded = server.thread
    server.thread = _SerialLiveServerThread(
        threaded.host, threaded.static_handler, threaded.connections_override, threaded.port
    )
    server.thread.daemon = True
    server.start()
    yield server
    server.stop()


@pytest.fixture
def world(db: None) -> World:
    return build_world()


_DB_FIXTURES = frozenset({"db", "transactional_db", "live_server", "world"})


@pytest.fixture(autouse=True)
def _fresh_locator() -> Iterator[None]:
    """Every test builds its own grids (new ids, the same locator version after a rollback): the
    process-wide point→grid index must not carry a previous test's grids (PostgreSQL would refuse
    the stale foreign keys when it checks the deferred constraints at the end of the test). The
    map's cache of grid shapes and the grid tables' kept sums likewise (a rolled-back test can
    leave the same ids and moments)."""
    from yiwang.analytics import grid_totals
    from yiwang.grids import locator
    from yiwang.web.views import mapview

    locator.reset_cache()
    mapview.reset_grid_shapes()
    grid_totals.forget_kept_sums()
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
