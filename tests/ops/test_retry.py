"""A periodic job that dies half-way is run again without double effects; queued jobs survive a
stopped worker and each runs exactly once when it comes back (database backend)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from tests.analytics.helpers import stored
from tests.cases.conftest import IN_A2, IN_B1, WEDNESDAY, dispatched_case, in_progress_case, new_case
from tests.ops.conftest import run_worker
from tests.ops.tasks import record_run, runs
from tests.world import World
from yiwang.analytics import rebuild, rollup
from yiwang.analytics.models import DailyRollup, ProcessedEvent
from yiwang.analytics.tasks import rollup_catch_up
from yiwang.cases import actions, sla
from yiwang.cases.choices import EventKind
from yiwang.cases.models import Case, CaseEvent
from yiwang.cases.tasks import scan_sla_breaches
from yiwang.grids import locator

LATER = WEDNESDAY + dt.timedelta(days=10)


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    locator.reset_cache()
    sla.clear_limits_cache()
    yield
    locator.reset_cache()
    sla.clear_limits_cache()


def overdue_cases(world: World) -> list[Case]:
    """Four cases with clocks running out by ``LATER``: two unsigned (acceptance), two signed (resolution)."""
    return [
        dispatched_case(world),
        dispatched_case(world, IN_A2),
        in_progress_case(world),
        in_progress_case(world, point=IN_B1),
    ]


def breach_state() -> list[tuple[int, int, int]]:
    """(case, overdue_count, SLA events) per case."""
    return [
        (
            case.pk,
            case.overdue_count,
            CaseEvent.objects.filter(case=case, kind=EventKind.SLA_BREACHED).count(),
        )
        for case in Case.objects.order_by("pk")
    ]


def fail_after(n: int, original: Any) -> Any:
    """A stand-in for ``original`` that works ``n`` times, then dies like a killed job."""
    calls = {"n": 0}

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] > n:
            raise RuntimeError("worker killed")
        return original(*args, **kwargs)

    return wrapper


def run(task: Any, **kwargs: Any) -> str:
    """Queue ``task``, let the worker take it, and return how it ended."""
    result = task.enqueue(**kwargs)
    run_worker()
    result.refresh()
    return str(result.status)


def test_sla_scan_twice_records_each_breach_once(world: World, db_tasks: None) -> None:
    overdue_cases(world)
    with time_machine.travel(LATER, tick=False):
        scan_sla_breaches.enqueue()
        scan_sla_breaches.enqueue()
        run_worker()
    assert {status for (status,) in DBTaskResult.objects.values_list("status")} == {
        TaskResultStatus.SUCCESSFUL
    }
    assert [(n, events) for _pk, n, events in breach_state()] == [(1, 1)] * 4


def test_sla_scan_killed_half_way_then_rerun_ends_as_a_clean_run(
    world: World, db_tasks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    overdue_cases(world)
    monkeypatch.setattr(CaseEvent.objects, "create", fail_after(2, CaseEvent.objects.create))
    with time_machine.travel(LATER, tick=False):
        assert run(scan_sla_breaches) == TaskResultStatus.FAILED
        half = breach_state()
        # The breach whose event failed was rolled back with it: recorded ones are complete.
        assert sorted(events for *_x, events in half) == [0, 0, 1, 1]
        assert all(n == events for _pk, n, events in half)
        monkeypatch.undo()
        # The next slot of the periodic job:
        assert run(scan_sla_breaches) == TaskResultStatus.SUCCESSFUL
    assert [(n, events) for _pk, n, events in breach_state()] == [(1, 1)] * 4


def _history(world: World) -> None:
    for i in range(3):
        case = new_case(world, at=WEDNESDAY + dt.timedelta(hours=i))
        actions.dispatch_case(
            case.pk, actor=world.admin, lead=world.dept_a, at=WEDNESDAY + dt.timedelta(hours=i)
        )
        actions.sign_case(case.pk, actor=world.handler_a, at=WEDNESDAY + dt.timedelta(hours=i + 1))
    sla.scan_breaches(LATER)


def test_rollup_catch_up_killed_half_way_then_rerun_counts_each_event_once(
    world: World, db_tasks: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    _history(world)
    events = CaseEvent.objects.count()
    monkeypatch.setattr(rollup, "_process", fail_after(2, rollup._process))
    assert run(rollup_catch_up, batch=2) == TaskResultStatus.FAILED
    assert ProcessedEvent.objects.count() == 4  # two batches of two committed, the third rolled back
    monkeypatch.undo()
    assert run(rollup_catch_up, batch=2) == TaskResultStatus.SUCCESSFUL
    assert rollup.verify() == []
    assert ProcessedEvent.objects.count() == events
    incremental = stored()
    rebuild.rebuild()
    assert stored() == incremental  # the same end state as counting everything from scratch


def test_rollup_catch_up_twice_changes_nothing_the_second_time(world: World, db_tasks: None) -> None:
    _history(world)
    rollup_catch_up.enqueue()
    run_worker()
    first = stored()
    rows = DailyRollup.objects.count()
    rollup_catch_up.enqueue()
    run_worker()
    assert stored() == first
    assert DailyRollup.objects.count() == rows


def test_jobs_queued_while_the_worker_is_stopped_run_once_when_it_returns(
    world: World, db_tasks: None, tmp_path: Path
) -> None:
    overdue_cases(world)
    log = tmp_path / "runs"
    with time_machine.travel(LATER, tick=False):
        results = [record_run.enqueue(str(log), label) for label in ("a", "b", "c")]
        results.append(scan_sla_breaches.enqueue())
        results.append(rollup_catch_up.enqueue())
        # No worker yet: everything waits in the queue.
        assert set(DBTaskResult.objects.values_list("status", flat=True)) == {TaskResultStatus.READY}
        run_worker()  # the worker comes back
        run_worker()  # and is restarted once more: nothing runs twice
    assert sorted(runs(log)) == ["a", "b", "c"]
    for result in results:
        result.refresh()
        assert result.status == TaskResultStatus.SUCCESSFUL
        assert len(result.worker_ids) == 1
    assert [(n, events) for _pk, n, events in breach_state()] == [(1, 1)] * 4
    assert rollup.verify() == []
