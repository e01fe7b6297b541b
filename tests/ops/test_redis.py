"""The Redis task backend (django-tasks-redis) and the Redis cache, against a real Redis server.

Skipped when no Redis answers at ``REDIS_URL`` (default ``redis://127.0.0.1:6379/15``), unless
``YIWANG_REQUIRE_REDIS=1`` (CI): then a missing Redis fails the run instead of hiding it.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.cache import caches
from django.core.management import call_command
from django.tasks import TaskResultStatus, task_backends
from django.test import override_settings
from django_tasks_redis.management.commands.run_redis_tasks import Command as RedisWorker

from tests.ops.tasks import record_run, runs
from yiwang.core.jobs import scheduler
from yiwang.core.jobs.config import caches_setting, tasks_setting
from yiwang.core.jobs.registry import MINUTE, TZ, Job

NOON = dt.datetime(2026, 3, 11, 12, 0, 5, tzinfo=TZ)


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        if os.environ.get("YIWANG_REQUIRE_REDIS") == "1":
            pytest.fail(f"YIWANG_REQUIRE_REDIS=1 but Redis at {url} does not answer: {exc}")
        pytest.skip(f"no Redis at {url}")
    return url


@pytest.fixture
def redis_tasks(redis_url: str) -> Iterator[None]:
    config = tasks_setting("redis", redis_url)
    # A key prefix of its own: parallel test runs and a developer's queue are left alone.
    config["default"]["OPTIONS"]["REDIS_KEY_PREFIX"] = f"yiwang_test_{uuid.uuid4().hex[:8]}"
    with override_settings(TASKS=config):
        yield
        client = task_backends["default"].get_client()  # type: ignore[attr-defined]
        for key in client.scan_iter(f"{config['default']['OPTIONS']['REDIS_KEY_PREFIX']}*"):
            client.delete(key)


def redis_worker() -> None:
    call_command(RedisWorker(), verbosity=0)  # without --continuous: run what is queued, then exit


def test_redis_backend_runs_queued_tasks_once(redis_tasks: None, tmp_path: Path) -> None:
    log = tmp_path / "runs"
    results = [record_run.enqueue(str(log), label) for label in ("a", "b")]
    assert all(r.status == TaskResultStatus.READY for r in results)
    redis_worker()
    redis_worker()  # a restarted worker runs nothing twice
    assert sorted(runs(log)) == ["a", "b"]
    for result in results:
        result.refresh()
        assert result.status == TaskResultStatus.SUCCESSFUL


def test_scheduler_queues_on_redis_and_waits_for_a_stopped_worker(
    redis_tasks: None, db: None, tmp_path: Path
) -> None:
    job = Job(
        "probe",
        "tests.ops.tasks.record_run",
        every=MINUTE,
        kwargs={"path": str(tmp_path / "r"), "label": "x"},
    )
    actions = [scheduler.tick(NOON + i * MINUTE, jobs=(job,))[0].action for i in range(3)]
    assert actions == ["queued", "waiting", "waiting"]
    assert scheduler.queue_depth()["ready"] == 1
    redis_worker()
    assert runs(tmp_path / "r") == ["x"]


def test_redis_cache_is_shared_between_processes(redis_url: str) -> None:
    key = f"ratelimit-{uuid.uuid4().hex}"
    with override_settings(CACHES=caches_setting(redis_url)):
        caches["default"].set(key, 3, 30)
        # Another process has its own connection: a fresh cache object stands in for it.
        other = caches.create_connection("default")
        assert other.incr(key) == 4
        assert caches["default"].get(key) == 4
        caches["default"].delete(key)
