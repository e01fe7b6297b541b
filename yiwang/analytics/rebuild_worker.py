"""The entry points of ``rollup rebuild``'s worker processes.

Kept free of Django imports at module level: a spawned process imports this module to find the
function it runs before Django is set up in it."""

from __future__ import annotations

import os
from typing import Any

_WORKER: dict[str, str] = {}


def init(settings_module: str, database_name: str) -> None:
    # Only remember: a failure here would make the pool respawn workers forever; in the first job
    # it travels back to the parent as that job's exception.
    _WORKER.update(settings_module=settings_module, database_name=database_name)


def _ready() -> None:
    if "ready" not in _WORKER:
        import django
        from django.conf import settings

        os.environ["DJANGO_SETTINGS_MODULE"] = _WORKER["settings_module"]
        django.setup()
        # The parent's database (under pytest, the test database, not the configured one).
        settings.DATABASES["default"]["NAME"] = _WORKER["database_name"]
        _WORKER["ready"] = "yes"


def count(args: tuple[int, int, int, int, str]) -> Any:
    _ready()
    from yiwang.analytics.rebuild import count_range

    return count_range(*args)


def sum_bucket(args: tuple[str, int]) -> int:
    _ready()
    from yiwang.analytics.rebuild import sum_bucket

    return sum_bucket(*args)


def finish_task(args: tuple[tuple[str, ...]]) -> None:
    _ready()
    from yiwang.analytics.rebuild import finish_task

    finish_task(*args)
