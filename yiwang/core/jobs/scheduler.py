"""The scheduler that queues the periodic jobs of :mod:`yiwang.core.jobs.registry`.

:data:`~yiwang.core.jobs.registry.JOBS` lists every periodic job: a name, the dotted path of a ``django.tasks`` task and a
schedule. ``yiwang jobs scheduler`` (started by ``yiwang serve``) wakes every few seconds and, for
each job whose current time slot has not been queued yet, queues it on the configured task backend
(database or Redis); a worker runs it.

Several schedulers may run at once (one per app server, say): each job has a row
(:class:`~yiwang.core.models_jobs.ScheduledJob`) with the newest slot it was queued for, and a
scheduler queues a slot only after moving that stamp forward with a conditional UPDATE
(``… WHERE last_slot < slot``), in the same transaction as the enqueue. Exactly one scheduler wins
each slot; on the database backend the queued task and the stamp commit together or not at all.

A slot whose previous run is still waiting in the queue (the workers are stopped or behind) is
skipped, not queued again: when the workers come back each job runs once, not once per missed slot.
A run that failed is simply run again at the next slot, so every job must be idempotent (the SLA
scan and the rollup catch-up are: see tests/ops).

Extension point: to add a periodic job, write the task (``@task`` in ``<app>/tasks.py``) and append a
:class:`~yiwang.core.jobs.registry.Job` to :data:`~yiwang.core.jobs.registry.JOBS`. ``YIWANG_JOBS_DISABLED`` (comma-separated names) switches jobs off.
The kernel never imports a domain app: tasks are named by their dotted path.
"""

from __future__ import annotations

import datetime as dt
import logging
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any

from django.db import close_old_connections, transaction
from django.db.models import Q
from django.tasks import Task, TaskResultStatus, task_backends
from django.tasks.exceptions import TaskResultDoesNotExist
from django.utils import timezone

from yiwang.core.jobs.registry import Job, enabled_jobs
from yiwang.core.models_jobs import ScheduledJob

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    job: str
    slot: dt.datetime
    action: str  # "queued", "waiting" (previous run still queued), "taken" (another scheduler), "due later"
    task_id: str = ""


def _row(job: Job, now: dt.datetime) -> ScheduledJob:
    # A long job never run before starts at its next slot, not the moment the scheduler first runs.
    first = None if job.run_at_start else job.slot(now)
    row, _created = ScheduledJob.objects.get_or_create(name=job.name, defaults={"last_slot": first})
    return row


def _still_queued(task: Task[..., Any], task_id: str) -> bool:
    """True when the previous run has not started yet (so queueing another would pile up)."""
    if not task_id:
        return False
    try:
        result = task.get_result(task_id)
    except (TaskResultDoesNotExist, NotImplementedError, ValueError):
        return False
    return result.status == TaskResultStatus.READY


def tick_job(job: Job, now: dt.datetime) -> Outcome:
    """Queue ``job`` for its current slot unless that slot was queued already (by any scheduler)."""
    slot = job.slot(now)
    row = _row(job, now)
    if row.last_slot is not None and row.last_slot >= slot:
        return Outcome(job.name, slot, "due later")
    task = job.load()
    with transaction.atomic():
        # The claim: only one scheduler's UPDATE matches the old stamp.
        claimed = (
            ScheduledJob.objects.filter(pk=row.pk)
            .filter(Q(last_slot__isnull=True) | Q(last_slot__lt=slot))
            .update(last_slot=slot)
        )
        if not claimed:
            return Outcome(job.name, slot, "taken")
        if _still_queued(task, row.last_task_id):
            ScheduledJob.objects.filter(pk=row.pk).update(last_outcome=f"{slot:%Y-%m-%d %H:%M} waiting")
            return Outcome(job.name, slot, "waiting", row.last_task_id)
        # An enqueue that raises rolls the claim back: the next tick tries the slot again.
        result = task.enqueue(**job.kwargs)
        ScheduledJob.objects.filter(pk=row.pk).update(
            last_enqueued_at=now, last_task_id=str(result.id), last_outcome=f"{slot:%Y-%m-%d %H:%M} queued"
        )
    return Outcome(job.name, slot, "queued", str(result.id))


def tick(now: dt.datetime | None = None, jobs: tuple[Job, ...] | None = None) -> list[Outcome]:
    """One pass of the scheduler over ``jobs`` (default: the enabled ones)."""
    moment = now or timezone.now()
    outcomes = []
    for job in enabled_jobs() if jobs is None else jobs:
        try:
            outcomes.append(tick_job(job, moment))
        except Exception:
            # One broken job (a queue that is down, a bad path) must not stop the others.
            logger.exception("scheduler: could not queue job %s", job.name)
            outcomes.append(Outcome(job.name, job.slot(moment), "error"))
    return outcomes


def run_scheduler(
    *, interval: float = 10.0, once: bool = False, log: Callable[[Outcome], None] | None = None
) -> None:
    """Tick every ``interval`` seconds until SIGTERM/SIGINT (or once)."""
    stopping = False

    def stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    if not once:
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
    while True:
        if not once:
            close_old_connections()  # a long-running loop: drop connections the server closed
        for outcome in tick():
            if outcome.action in ("queued", "waiting", "error"):
                logger.info("scheduler: %s %s (slot %s)", outcome.job, outcome.action, outcome.slot)
            if log is not None:
                log(outcome)
        if once:
            return
        close_old_connections()
        deadline = time.monotonic() + interval
        while not stopping and time.monotonic() < deadline:
            time.sleep(min(0.5, interval))
        if stopping:
            return


# --- monitoring ----------------------------------------------------------------------------------
def queue_depth(backend_alias: str = "default") -> dict[str, int]:
    """Tasks per status on the configured backend (``ready`` is the queue depth to alert on)."""
    backend = task_backends[backend_alias]
    stats = getattr(backend, "get_queue_stats", None)
    if stats is not None:  # django-tasks-redis
        raw = stats()
        return {
            "ready": int(raw["pending_count"]),
            "running": int(raw["running_count"]),
            "successful": int(raw["successful_count"]),
            "failed": int(raw["failed_count"]),
        }
    if backend.__class__.__module__.startswith("django_tasks_db"):
        from django.db.models import Count
        from django_tasks_db.models import DBTaskResult

        counts = (
            DBTaskResult.objects.filter(backend_name=backend_alias)
            .values("status")
            .annotate(n=Count("id"))
            .order_by()
        )
        out = {"ready": 0, "running": 0, "successful": 0, "failed": 0}
        for row in counts:
            out[str(row["status"]).lower()] = row["n"]
        return out
    return {}
