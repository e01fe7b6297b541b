"""Which task backend and cache a deployment gets from YIWANG_TASKS_BACKEND and REDIS_URL; the
PostgreSQL session settings."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, transaction

from yiwang.analytics.rollup_store import bulk_session
from yiwang.core.jobs.config import caches_setting, extra_apps, tasks_setting


def test_database_backend_is_the_embedded_default_without_redis() -> None:
    assert tasks_setting("database")["default"]["BACKEND"] == "django_tasks_db.DatabaseBackend"
    assert caches_setting("")["default"]["BACKEND"].endswith("LocMemCache")
    assert extra_apps("database") == []


def test_redis_backend_uses_the_redis_url_and_its_app() -> None:
    config = tasks_setting("redis", "redis://cache:6379/2")["default"]
    assert config["BACKEND"] == "django_tasks_redis.RedisTaskBackend"
    assert config["OPTIONS"]["REDIS_URL"] == "redis://cache:6379/2"
    assert extra_apps("redis") == ["django_tasks_redis"]


def test_redis_url_makes_the_cache_shared_between_processes() -> None:
    cache = caches_setting("redis://cache:6379/1")["default"]
    assert cache["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert cache["LOCATION"] == "redis://cache:6379/1"


def test_redis_backend_without_url_is_refused_clearly() -> None:
    with pytest.raises(ImproperlyConfigured, match="REDIS_URL"):
        tasks_setting("redis", "")


def test_unknown_backend_is_refused_with_the_choices() -> None:
    with pytest.raises(ImproperlyConfigured, match="database, redis"):
        tasks_setting("celery")


@pytest.mark.parametrize("name", ["immediate", "dummy"])
def test_test_backends_stay_available(name: str) -> None:
    assert name in tasks_setting(name)["default"]["BACKEND"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # the atomic block below is a real transaction
def test_postgresql_reads_run_without_jit_and_the_rebuilds_bulk_statements_with_it() -> None:
    def show(setting: str) -> object:
        with connection.cursor() as cursor:
            cursor.execute(f"SHOW {setting}")
            return cursor.fetchone()

    assert show("jit") == ("off",)
    assert show("work_mem") == ("32MB",)
    with transaction.atomic():
        bulk_session()
        assert (show("jit"), show("work_mem")) == (("on",), ("1GB",))
    assert (show("jit"), show("work_mem")) == (("off",), ("32MB",))  # SET LOCAL: only for that transaction
