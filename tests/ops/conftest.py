"""Fixtures of the operations tests: the database task backend, a media folder, a worker pass."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
from django.core.management import call_command
from django.test import override_settings

from yiwang.core.jobs.config import tasks_setting


@pytest.fixture
def db_tasks(db: None) -> Iterator[None]:
    """The embedded default: django-tasks-db (whatever TASKS_BACKEND the test run was given), with
    an empty queue: tasks left by module-scoped demo builds of other files in this worker process
    would otherwise be counted (the deletion rolls back with the test)."""
    from django_tasks_db.models import DBTaskResult

    DBTaskResult.objects.all().delete()
    with override_settings(TASKS=tasks_setting("database")):
        yield


@pytest.fixture
def media_root(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "media"
    root.mkdir()
    with override_settings(MEDIA_ROOT=root):
        yield root


def run_worker() -> None:
    """One pass of the database worker, as a restarted worker does: run what is queued, then exit.

    The worker closes "old" connections between tasks; inside a test's transaction that would close
    the test's own connection (PostgreSQL), so that housekeeping is switched off here."""
    with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
        call_command("db_worker", batch=True, reload=False, startup_delay=False, queue_name="*", verbosity=0)
