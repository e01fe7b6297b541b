"""The ``TASKS`` and ``CACHES`` settings for a task backend name and an optional Redis URL.

Read by ``yiwang/config/settings.py`` (so: no Django models, no app imports here).

- ``database`` (embedded default): django-tasks-db, the queue is a table; ``yiwang jobs worker``.
- ``redis``: django-tasks-redis (Redis Streams, consumer groups, crashed tasks reclaimed); any number
  of ``yiwang jobs worker`` processes on any machine. Needs ``REDIS_URL``.
- ``immediate``: run in the caller (tests, scripts); ``dummy``: queue into nothing (tests).

With ``REDIS_URL`` set, the cache is Redis too (Django's own ``RedisCache``): rate limits and
lockout counters are then shared by every app process instead of kept per process.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured

BACKENDS = ("database", "redis", "immediate", "dummy")


def tasks_setting(backend: str, redis_url: str = "") -> dict[str, Any]:
    """The ``TASKS`` setting for ``backend`` (one of :data:`BACKENDS`)."""
    if backend not in BACKENDS:
        raise ImproperlyConfigured(f"YIWANG_TASKS_BACKEND={backend!r} must be one of {', '.join(BACKENDS)}")
    if backend == "redis":
        if not redis_url:
            raise ImproperlyConfigured(
                "YIWANG_TASKS_BACKEND=redis needs REDIS_URL (e.g. redis://127.0.0.1:6379/0)"
            )
        return {
            "default": {
                "BACKEND": "django_tasks_redis.RedisTaskBackend",
                "QUEUES": [],  # any queue name
                "OPTIONS": {
                    "REDIS_URL": redis_url,
                    "REDIS_KEY_PREFIX": "yiwang_tasks",
                    # A worker that died holding a task loses it to another after this many seconds;
                    # longer than the longest job (the weekly retraining, the nightly backup).
                    "REDIS_CLAIM_TIMEOUT": 3600,
                },
            }
        }
    return {
        "default": {
            "BACKEND": {
                "database": "django_tasks_db.DatabaseBackend",
                "immediate": "django.tasks.backends.immediate.ImmediateBackend",
                "dummy": "django.tasks.backends.dummy.DummyBackend",
            }[backend]
        }
    }


def caches_setting(redis_url: str = "") -> dict[str, Any]:
    """The ``CACHES`` setting: Redis when a URL is given, else per-process memory (Django's default)."""
    if not redis_url:
        return {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    return {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": "yiwang",
        }
    }


def extra_apps(backend: str) -> list[str]:
    """Apps a backend needs in ``INSTALLED_APPS`` (its worker command, its admin pages)."""
    return ["django_tasks_redis"] if backend == "redis" else []
