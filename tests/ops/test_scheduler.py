"""The scheduler: each slot of each job is queued once, even by several schedulers; a backlog while
the workers are down is not piled up; a failed enqueue is tried again."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.tasks import Task
from django_tasks_db.models import DBTaskResult

from tests.ops.conftest import run_worker
from tests.ops.tasks import runs
from yiwang.core.jobs import registry, scheduler
from yiwang.core.jobs.config import tasks_setting
from yiwang.core.jobs.registry import DAY, MINUTE, TZ, Job
from yiwang.core.models_jobs import ScheduledJob

NOON = dt.datetime(2026, 3, 11, 12, 0, 5, tzinfo=TZ)


def probe(path: Path, **kwargs: Any) -> Job:
    return Job(
        "probe",
        "tests.ops.tasks.record_run",
        every=MINUTE,
        kwargs={"path": str(path), "label": "x"},
        **kwargs,
    )


def queued() -> int:
    return DBTaskResult.objects.count()


def test_every_declared_job_names_an_existing_task() -> None:
    names = [job.name for job in registry.JOBS]
    assert len(names) == len(set(names))
    for job in registry.JOBS:
        assert isinstance(job.load(), Task), job.task
    assert {"sla_scan", "rollup_catch_up", "retrain_classifier"} <= set(names)


def test_slots_follow_the_schedule_in_beijing_time() -> None:
    nightly = Job("n", "x.y", every=DAY, at=dt.timedelta(hours=2, minutes=30))
    assert nightly.slot(NOON) == dt.datetime(2026, 3, 11, 2, 30, tzinfo=TZ)
    assert nightly.next_slot(NOON) == dt.datetime(2026, 3, 12, 2, 30, tzinfo=TZ)
    assert probe(Path("p")).slot(NOON) == dt.datetime(2026, 3, 11, 12, 0, tzinfo=TZ)


def test_two_schedulers_queue_a_slot_once(
    db_tasks: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = probe(tmp_path / "runs")
    scheduler.tick(NOON - MINUTE, jobs=(job,))  # the row exists, stamped with the previous slot
    run_worker()
    stale = ScheduledJob.objects.get(name="probe")
    first = scheduler.tick(NOON, jobs=(job,))
    # A second scheduler that read the row before the first one claimed the slot loses the UPDATE.
    monkeypatch.setattr(scheduler, "_row", lambda job, now: stale)
    second = scheduler.tick(NOON, jobs=(job,))
    assert [o.action for o in first + second] == ["queued", "taken"]
    assert queued() == 2  # the previous slot's run and this one
    run_worker()
    assert runs(tmp_path / "runs") == ["x", "x"]


def test_a_slot_already_queued_is_not_queued_again(db_tasks: None, tmp_path: Path) -> None:
    job = probe(tmp_path / "runs")
    assert scheduler.tick(NOON, jobs=(job,))[0].action == "queued"
    assert scheduler.tick(NOON + dt.timedelta(seconds=30), jobs=(job,))[0].action == "due later"
    assert queued() == 1


def test_while_the_worker_is_stopped_missed_slots_run_once_when_it_returns(
    db_tasks: None, tmp_path: Path
) -> None:
    job = probe(tmp_path / "runs")
    actions = [scheduler.tick(NOON + i * MINUTE, jobs=(job,))[0].action for i in range(5)]
    assert actions == ["queued", "waiting", "waiting", "waiting", "waiting"]
    run_worker()
    assert runs(tmp_path / "runs") == ["x"]
    assert scheduler.tick(NOON + 5 * MINUTE, jobs=(job,))[0].action == "queued"


def test_a_long_job_first_runs_at_its_next_slot(db_tasks: None, tmp_path: Path) -> None:
    job = Job(
        "probe",
        "tests.ops.tasks.record_run",
        every=DAY,
        run_at_start=False,
        kwargs={"path": "p", "label": "x"},
    )
    assert scheduler.tick(NOON, jobs=(job,))[0].action == "due later"
    assert scheduler.tick(NOON + DAY, jobs=(job,))[0].action == "queued"


def test_a_failed_enqueue_leaves_the_slot_to_the_next_tick(
    db_tasks: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job = probe(tmp_path / "runs")

    def broken(**kwargs: Any) -> None:
        raise ConnectionError("queue down")

    monkeypatch.setattr(Task, "enqueue", lambda self, **kw: broken(**kw))
    assert scheduler.tick(NOON, jobs=(job,))[0].action == "error"
    assert ScheduledJob.objects.get(name="probe").last_slot is None
    monkeypatch.undo()
    assert scheduler.tick(NOON, jobs=(job,))[0].action == "queued"


def test_a_run_that_died_does_not_block_the_next_slot(db_tasks: None, tmp_path: Path) -> None:
    job = probe(tmp_path / "runs")
    scheduler.tick(NOON, jobs=(job,))
    # A worker claimed the task and was killed: the row stays RUNNING for ever.
    DBTaskResult.objects.update(status="RUNNING")
    assert scheduler.tick(NOON + MINUTE, jobs=(job,))[0].action == "queued"
    run_worker()
    assert runs(tmp_path / "runs") == ["x"]


def test_disabled_jobs_are_not_ticked(settings: Any) -> None:
    settings.YIWANG_JOBS_DISABLED = ["backup"]
    assert "backup" not in {job.name for job in registry.enabled_jobs()}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_schedulers_racing_in_threads_queue_each_slot_once(tmp_path: Path, settings: Any) -> None:
    settings.TASKS = tasks_setting("database")
    job = probe(tmp_path / "runs")
    scheduler.tick(NOON - MINUTE, jobs=(job,))
    DBTaskResult.objects.update(status="SUCCESSFUL")  # as if a worker had run it
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def one() -> None:
        try:
            barrier.wait()
            outcomes.extend(o.action for o in scheduler.tick(NOON, jobs=(job,)))
        finally:
            connection.close()

    threads = [threading.Thread(target=one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("queued") == 1
    assert DBTaskResult.objects.count() == 2
