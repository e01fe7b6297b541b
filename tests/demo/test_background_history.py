"""The rest of the demo year is built by background jobs, one window of days each, safe to retry."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from yiwang.cases.models import Case, CaseEvent
from yiwang.core.calendar import TZ
from yiwang.demo import tasks
from yiwang.demo.cases import DEFAULT_DAYS

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 25)


def run_demo(*args: str) -> str:
    out = StringIO()
    call_command("demo", "--scale", "0.1", *args, stdout=out)
    return out.getvalue()


def test_windows_cover_the_year_before_the_built_days_once_newest_first() -> None:
    windows = tasks.windows(TODAY)
    days = [first + dt.timedelta(days=k) for first, last in windows for k in range((last - first).days + 1)]
    assert len(days) == len(set(days)) == tasks.YEAR_DAYS - DEFAULT_DAYS
    assert max(days) == TODAY - dt.timedelta(days=DEFAULT_DAYS)
    assert min(days) == TODAY - dt.timedelta(days=tasks.YEAR_DAYS - 1)
    assert [w[0] for w in windows] == sorted((w[0] for w in windows), reverse=True)
    assert all((last - first).days < tasks.WINDOW_DAYS for first, last in windows)


def test_the_demo_queues_the_rest_of_the_year_for_the_worker() -> None:
    output = run_demo("--per-day", "2")
    assert DBTaskResult.objects.count() == len(tasks.windows(TODAY))
    assert "后台" in output


def test_an_explicit_history_length_queues_nothing() -> None:
    run_demo("--days", "0")
    run_demo("--reset", "--per-day", "2", "--no-background-history")
    assert not DBTaskResult.objects.exists()


def test_a_window_job_plays_its_cases_to_the_end_and_a_retry_does_not_double_them() -> None:
    run_demo("--days", "0")
    # The co-governance steps register a few cases of their own (disputes, demands, findings).
    built = list(Case.objects.values_list("pk", flat=True))
    kwargs = {"seed": 2026, "scale": 0.1, "first": "2026-06-01", "last": "2026-06-02"}
    tasks.backfill_demo_history.call(**kwargs)
    window = Case.objects.exclude(pk__in=built)
    first_run = sorted(window.values_list("number", "status"))
    events = CaseEvent.objects.count()
    assert first_run
    start, end = dt.datetime(2026, 6, 1, tzinfo=TZ), dt.datetime(2026, 6, 3, tzinfo=TZ)
    assert not window.exclude(created_at__gte=start, created_at__lt=end).exists()
    # Played to the end: an old window leaves nothing waiting for a department.
    assert not window.filter(status__in=["registered", "dispatched"]).exists()

    tasks.backfill_demo_history.call(**kwargs)  # the worker died and the job runs again
    assert sorted(window.values_list("number", "status")) == first_run
    assert CaseEvent.objects.count() == events
