"""The periodic jobs, declared in one place (:data:`JOBS`); the scheduler is in ``scheduler.py``.

To add a periodic job: write the task (``@task`` in ``<app>/tasks.py``) and append a :class:`Job`.
Tasks are named by dotted path, so the kernel never imports a domain app.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.tasks import Task
from django.utils.module_loading import import_string

from yiwang.core.calendar import TZ

# Slots are counted from a Monday midnight, Beijing time, so that a daily job with ``at=2 h`` runs at
# 02:00 and a weekly one at Monday 00:00 + ``at``.
ANCHOR = dt.datetime(2024, 1, 1, tzinfo=TZ)
MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
WEEK = dt.timedelta(days=7)


@dataclass(frozen=True)
class Job:
    """A periodic job: queue ``task`` once per slot of length ``every`` (starting ``at`` after
    the anchor's midnight). ``run_at_start``: a job never run before is queued at once (short jobs)
    rather than at its next slot (the nightly and weekly ones)."""

    name: str
    task: str
    every: dt.timedelta
    at: dt.timedelta = dt.timedelta(0)
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    run_at_start: bool = True
    description: str = ""

    def slot(self, now: dt.datetime) -> dt.datetime:
        """The start of the slot ``now`` falls in."""
        start = ANCHOR + self.at
        return start + ((now - start) // self.every) * self.every

    def next_slot(self, now: dt.datetime) -> dt.datetime:
        return self.slot(now) + self.every

    def load(self) -> Task[..., Any]:
        obj = import_string(self.task)
        if not isinstance(obj, Task):
            raise TypeError(f"{self.task} is not a django.tasks Task")
        return obj


JOBS: tuple[Job, ...] = (
    Job(
        "sla_scan",
        "yiwang.cases.tasks.scan_sla_breaches",
        every=MINUTE,
        description="record overdue clocks (超时扫描)",
    ),
    Job(
        "rollup_catch_up",
        "yiwang.analytics.tasks.rollup_catch_up",
        every=MINUTE,
        description="count new case events into the statistics rollups",
    ),
    Job(
        "mine_hotspots",
        "yiwang.dispatch.tasks.mine_hotspots",
        every=30 * MINUTE,
        description="mine the map's hotspot layer per district and street (last 30 days)",
    ),
    Job(
        "retrain_classifier",
        "yiwang.dispatch.tasks.retrain_classifier",
        every=WEEK,
        at=6 * DAY + 3 * HOUR,  # Sunday 03:00
        run_at_start=False,
        description="train the category classifier on closed cases (registered inactive)",
    ),
    Job(
        "reports",
        "yiwang.analytics.tasks.scheduled_reports",
        every=DAY,
        at=6 * HOUR,  # 06:00: last week's (on Mondays) and last month's reports, once each
        run_at_start=False,
        description="queue last week's and last month's district-wide Excel reports",
    ),
    Job(
        "projects_escalate",
        "yiwang.governance.projects.tasks.escalate_unrecovered_nodes",
        every=DAY,
        at=7 * HOUR,
        run_at_start=False,
        description="escalate key-project nodes still red after supervision (攻坚项目督办升级)",
    ),
    Job(
        "backup",
        "yiwang.core.backup.scheduled_backup",
        every=DAY,
        at=2 * HOUR + 30 * MINUTE,  # 02:30
        run_at_start=False,
        description="nightly archive into YIWANG_BACKUP_DIR (only when that is set)",
    ),
)


def enabled_jobs() -> tuple[Job, ...]:
    disabled = set(getattr(settings, "YIWANG_JOBS_DISABLED", ()))
    return tuple(job for job in JOBS if job.name not in disabled)


def job_named(name: str) -> Job:
    for job in JOBS:
        if job.name == name:
            return job
    raise KeyError(name)
