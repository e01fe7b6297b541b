"""Deadlines on the work calendar: colours, suspension, extension, limits as data, the breach scan."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection

from tests.cases.conftest import TZ, WEDNESDAY, dispatched_case, in_progress_case, new_case
from tests.world import World
from yiwang.cases import actions, sla
from yiwang.cases.choices import EventKind
from yiwang.cases.models import Case, CaseEvent, Category, DeadlinePolicy
from yiwang.core.calendar import ClockColour, TimeUnit

H = dt.timedelta(hours=1)


def breaches(case: Case) -> int:
    return CaseEvent.objects.filter(case=case, kind=EventKind.SLA_BREACHED).count()


def test_clock_turns_yellow_at_80_percent_and_red_when_overdue(world: World) -> None:
    with time_machine.travel(WEDNESDAY, tick=False):
        case = dispatched_case(world, at=None)  # accept limit: 24 natural hours
    assert case.clock_colour(WEDNESDAY + 19 * H) == ClockColour.GREEN
    assert case.clock_colour(WEDNESDAY + dt.timedelta(hours=19, minutes=15)) == ClockColour.YELLOW
    assert case.clock_colour(WEDNESDAY + 24 * H) == ClockColour.YELLOW
    assert case.clock_colour(WEDNESDAY + 25 * H) == ClockColour.RED
    with time_machine.travel(WEDNESDAY + 30 * H, tick=False):
        assert case.clock_colour() == ClockColour.RED


def test_registered_and_closed_cases_have_no_running_clock(world: World) -> None:
    case = new_case(world)
    assert case.clock_colour(WEDNESDAY) is None
    closed = actions.answer_directly(case.pk, actor=world.operator, answer="已解答")
    assert closed.clock_colour(WEDNESDAY) is None


def test_working_day_limits_skip_the_weekend(world: World, category: Category) -> None:
    DeadlinePolicy.objects.create(
        category=category,
        urgency="normal",
        accept_amount=4,
        accept_unit=TimeUnit.WORK_HOURS,
        resolve_amount=2,
        resolve_unit=TimeUnit.WORK_DAYS,
    )
    friday = dt.datetime(2026, 3, 13, 16, 0, tzinfo=TZ)
    case = dispatched_case(world, at=friday)
    # 1.5 working hours left on Friday (to 17:30), 2.5 more on Monday from 08:30.
    assert case.accept_due_at == dt.datetime(2026, 3, 16, 11, 0, tzinfo=TZ)
    case = actions.sign_case(case.pk, actor=world.handler_a, at=friday + H)
    assert case.resolve_due_at == dt.datetime(2026, 3, 17, 17, 0, tzinfo=TZ)


def test_policy_lookup_prefers_category_then_ancestor_then_default(category: Category) -> None:
    parent = category.parent
    assert parent is not None
    default = sla.limits_for(category, "urgent")
    assert (default.accept_amount, default.accept_unit) == (Decimal(2), TimeUnit.HOURS)
    DeadlinePolicy.objects.create(
        category=parent,
        urgency="urgent",
        accept_amount=1,
        accept_unit="work_hours",
        resolve_amount=4,
        resolve_unit="work_hours",
    )
    assert sla.limits_for(category, "urgent").resolve_amount == 2 * 12  # cached for a few seconds
    sla.clear_limits_cache()
    assert sla.limits_for(category, "urgent").resolve_amount == 4
    Category.objects.filter(pk=category.pk).update(
        accept_amount=2, accept_unit="work_hours", resolve_amount=1, resolve_unit="work_days"
    )
    category.refresh_from_db()
    sla.clear_limits_cache()
    assert sla.limits_for(category, "normal").resolve_unit == TimeUnit.WORK_DAYS
    assert sla.limits_for(category, "urgent").resolve_amount == 4  # a policy row wins


def test_limits_are_promised_at_intake(world: World) -> None:
    case = new_case(world, urgency="emergency")
    DeadlinePolicy.objects.filter(category__isnull=True, urgency="emergency").update(accept_amount=5)
    case = actions.dispatch_case(case.pk, actor=world.dispatcher_a, lead=world.dept_a, at=WEDNESDAY)
    assert case.accept_due_at == WEDNESDAY + H  # 1 hour, as when it was registered


def test_suspension_stops_the_clock_and_resume_moves_the_deadline(world: World) -> None:
    case = dispatched_case(world)
    due = case.accept_due_at
    assert due is not None
    actions.suspend_case(case.pk, actor=world.dispatcher_a, reason="等待产权单位答复", at=WEDNESDAY + 2 * H)
    case.refresh_from_db()
    frozen = case.clock_progress(WEDNESDAY + 2 * H)
    assert case.clock_progress(WEDNESDAY + 40 * H) == pytest.approx(frozen)
    assert case.clock_colour(WEDNESDAY + 40 * H) == ClockColour.GREEN
    case = actions.resume_case(case.pk, actor=world.dispatcher_a, at=WEDNESDAY + 12 * H)
    assert case.accept_due_at == due + 10 * H
    assert case.suspended_at is None
    assert case.events.get(kind=EventKind.RESUMED).data["moved"] == {"accept": 10.0}
    assert case.clock_progress(WEDNESDAY + 12 * H) == pytest.approx(frozen)


def test_suspension_in_working_days_moves_by_working_time_only(world: World, category: Category) -> None:
    DeadlinePolicy.objects.create(
        category=category,
        urgency="normal",
        accept_amount=1,
        accept_unit="work_days",
        resolve_amount=5,
        resolve_unit="work_days",
    )
    case = in_progress_case(world)  # signed Wednesday 10:00: due Wednesday next week, 10:00
    assert case.resolve_due_at == dt.datetime(2026, 3, 18, 10, 0, tzinfo=TZ)
    friday_noon = dt.datetime(2026, 3, 13, 12, 0, tzinfo=TZ)
    monday_noon = dt.datetime(2026, 3, 16, 12, 0, tzinfo=TZ)
    actions.suspend_case(case.pk, actor=world.dispatcher_a, reason="等待", at=friday_noon)
    case = actions.resume_case(case.pk, actor=world.dispatcher_a, at=monday_noon)
    # Friday 12:00 → Monday 12:00 is one working day (5.5 h Friday afternoon + 3.5 h Monday morning... ≈ 1 day).
    assert case.resolve_due_at == dt.datetime(2026, 3, 19, 10, 0, tzinfo=TZ)


def test_approved_extension_moves_the_deadline_past_a_recorded_breach(world: World) -> None:
    case = in_progress_case(world)
    assert sla.scan_breaches(WEDNESDAY + dt.timedelta(days=8)) == 1
    actions.request_extension(case.pk, actor=world.handler_a, reason="复杂疑难", amount=8, unit="days")
    case = actions.approve_extension(case.pk, actor=world.dispatcher_a)
    assert case.resolve_due_at == WEDNESDAY + dt.timedelta(days=15)
    assert case.resolve_breached_at is None
    assert case.clock_colour(WEDNESDAY + dt.timedelta(days=9)) == ClockColour.GREEN


def test_sla_scan_records_each_breach_once(world: World) -> None:
    late = dispatched_case(world)
    on_time = new_case(world)
    actions.dispatch_case(on_time.pk, actor=world.dispatcher_a, lead=world.dept_a, at=WEDNESDAY + 20 * H)
    with time_machine.travel(WEDNESDAY + 25 * H, tick=False):
        call_command("sla_scan", stdout=None)
        call_command("sla_scan")
    assert breaches(late) == 1
    assert breaches(on_time) == 0
    late.refresh_from_db()
    assert late.accept_breached_at == WEDNESDAY + 25 * H
    assert late.overdue_count == 1
    event = CaseEvent.objects.get(case=late, kind=EventKind.SLA_BREACHED)
    assert (event.actor, event.data["clock"]) == (None, "accept")
    assert late.clock_colour(WEDNESDAY + 25 * H) == ClockColour.RED


def test_sla_scan_records_each_clock_separately(world: World) -> None:
    case = dispatched_case(world)
    assert sla.scan_breaches(WEDNESDAY + 30 * H) == 1
    actions.sign_case(case.pk, actor=world.handler_a, at=WEDNESDAY + 30 * H)
    assert sla.scan_breaches(WEDNESDAY + dt.timedelta(days=9)) == 1
    assert sla.scan_breaches(WEDNESDAY + dt.timedelta(days=10)) == 0
    kinds = list(
        CaseEvent.objects.filter(case=case, kind=EventKind.SLA_BREACHED).values_list("data__clock", flat=True)
    )
    assert kinds == ["accept", "resolve"]


def test_sla_scan_skips_suspended_cases(world: World) -> None:
    case = dispatched_case(world)
    actions.suspend_case(case.pk, actor=world.dispatcher_a, reason="等待", at=WEDNESDAY + H)
    assert sla.scan_breaches(WEDNESDAY + 48 * H) == 0
    assert breaches(case) == 0


def test_a_lost_claim_writes_no_event(world: World) -> None:
    # What a second worker sees after the first one claimed the breach: the UPDATE matches no row.
    case = dispatched_case(world)
    now = WEDNESDAY + 30 * H
    assert sla._claim(case.pk, sla.Clock.ACCEPT, now) is True
    assert sla._claim(case.pk, sla.Clock.ACCEPT, now) is False
    assert sla.scan_breaches(now) == 0
    assert breaches(case) == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_scans_record_each_breach_once_on_postgresql() -> None:
    from tests.world import build_world

    world = build_world()
    cases = [dispatched_case(world) for _ in range(20)]
    counts: list[int] = []

    def worker() -> None:
        counts.append(sla.scan_breaches(WEDNESDAY + 30 * H))
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(counts) == len(cases)
    assert CaseEvent.objects.filter(kind=EventKind.SLA_BREACHED).count() == len(cases)
