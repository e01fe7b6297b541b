"""The Chinese working-day calendar: seeded data, overrides, deadline arithmetic, clock colours."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from io import StringIO
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from yiwang.core.calendar import (
    ClockColour,
    TimeUnit,
    WorkCalendar,
    clock_colour,
    get_calendar,
    invalidate_calendar,
    seed_calendar,
    set_calendar_day,
    supported_years,
)
from yiwang.core.models import CalendarDay, CalendarSource, WorkSchedule, parse_periods

SH = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, hh, mm, tzinfo=SH)


@pytest.fixture(autouse=True)
def fresh_calendar() -> Iterator[None]:
    # The calendar is cached per process; each test starts and ends with a reload from the tables.
    invalidate_calendar()
    yield
    invalidate_calendar()


@pytest.fixture
def cal() -> WorkCalendar:
    return get_calendar()


# --- seeded data -----------------------------------------------------------------------------------


def test_migration_seeds_every_year_the_package_supports() -> None:
    years = supported_years()
    assert 2025 in years
    assert 2026 in years
    seeded = set(CalendarDay.objects.filter(source=CalendarSource.SEEDED).dates("date", "year"))
    assert {d.year for d in seeded} == set(years)


def test_only_exceptions_to_the_weekday_rule_are_stored() -> None:
    for row in CalendarDay.objects.filter(source=CalendarSource.SEEDED):
        assert row.is_workday == (row.date.weekday() >= 5), row


@pytest.mark.parametrize(
    ("day", "is_workday"),
    [
        (dt.date(2025, 10, 1), False),  # 国庆节 Wednesday
        (dt.date(2025, 10, 8), False),  # last day of the 2025 National Day / Mid-autumn holiday
        (dt.date(2025, 10, 9), True),
        (dt.date(2025, 9, 28), True),  # Sunday 调休
        (dt.date(2025, 10, 11), True),  # Saturday 调休
        (dt.date(2025, 10, 4), False),  # Saturday inside the holiday: default rule
        (dt.date(2026, 2, 16), False),  # 春节 2026
        (dt.date(2026, 2, 23), False),
        (dt.date(2026, 2, 14), True),  # Saturday 调休
        (dt.date(2026, 2, 28), True),
        (dt.date(2026, 10, 7), False),
        (dt.date(2026, 10, 10), True),
    ],
)
def test_workdays_match_the_chinese_calendar_package(
    cal: WorkCalendar, day: dt.date, is_workday: bool
) -> None:
    assert chinese_calendar.is_workday(day) is is_workday
    assert cal.is_workday(day) is is_workday


def test_whole_2025_and_2026_agree_with_the_package(cal: WorkCalendar) -> None:
    day = dt.date(2025, 1, 1)
    while day.year < 2027:
        assert cal.is_workday(day) == chinese_calendar.is_workday(day), day
        day += dt.timedelta(days=1)


def test_seeded_rows_carry_chinese_names() -> None:
    assert CalendarDay.objects.get(date=dt.date(2026, 2, 16)).name == "春节"
    assert CalendarDay.objects.get(date=dt.date(2026, 2, 14)).name == "春节调休"


def test_workday_count_uses_the_exceptions(cal: WorkCalendar) -> None:
    # October 2025: 23 weekdays, 6 of them holidays, plus the Saturday 11th = 18 working days.
    assert cal.workdays_between(dt.date(2025, 10, 1), dt.date(2025, 10, 31)) == 18


def test_years_beyond_the_package_fall_back_to_the_weekday_rule(cal: WorkCalendar) -> None:
    beyond = supported_years().stop + 3
    assert seed_calendar(range(beyond, beyond + 2)) == 0
    assert cal.is_workday(dt.date(beyond, 1, 1)) == (dt.date(beyond, 1, 1).weekday() < 5)


# --- manual overrides --------------------------------------------------------------------------------


def test_manual_override_wins_over_the_seed_and_survives_reseeding() -> None:
    # A district decides to work on 2025-10-08 (seeded as a holiday).
    set_calendar_day(dt.date(2025, 10, 8), is_workday=True, name="防台风值守")
    assert get_calendar().is_workday(dt.date(2025, 10, 8))

    seed_calendar(range(2025, 2026))
    invalidate_calendar()

    row = CalendarDay.objects.get(date=dt.date(2025, 10, 8))
    assert (row.source, row.is_workday, row.name) == (CalendarSource.MANUAL, True, "防台风值守")
    assert get_calendar().is_workday(dt.date(2025, 10, 8))


def test_reseed_restores_a_deleted_seeded_row_and_removes_stale_ones() -> None:
    CalendarDay.objects.filter(date=dt.date(2025, 10, 1)).delete()
    CalendarDay.objects.create(date=dt.date(2025, 3, 5), is_workday=False, source=CalendarSource.SEEDED)
    assert seed_calendar(range(2025, 2026)) == 2
    assert CalendarDay.objects.get(date=dt.date(2025, 10, 1)).source == CalendarSource.SEEDED
    assert not CalendarDay.objects.filter(date=dt.date(2025, 3, 5)).exists()
    assert seed_calendar(range(2025, 2026)) == 0


def test_a_restated_default_cancels_a_seeded_exception_in_counts(cal: WorkCalendar) -> None:
    set_calendar_day(dt.date(2025, 9, 28), is_workday=False, name="取消调休")  # Sunday back to rest
    fresh = get_calendar()
    assert not fresh.is_workday(dt.date(2025, 9, 28))
    assert fresh.workdays_between(dt.date(2025, 9, 22), dt.date(2025, 9, 28)) == 5


def test_cache_reloads_after_invalidate_only() -> None:
    first = get_calendar()
    assert get_calendar() is first
    CalendarDay.objects.create(date=dt.date(2026, 3, 2), is_workday=False, name="测试")
    assert get_calendar() is first  # within the re-check window nothing is queried
    invalidate_calendar()
    assert not get_calendar().is_workday(dt.date(2026, 3, 2))


def test_admin_save_marks_the_row_manual_and_invalidates(admin_client: object) -> None:
    first = get_calendar()
    row = CalendarDay.objects.get(date=dt.date(2025, 10, 1))
    response = admin_client.post(  # type: ignore[attr-defined]
        f"/admin/core/calendarday/{row.pk}/change/",
        {"date": "2025-10-01", "is_workday": "on", "name": "值班"},
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.source == CalendarSource.MANUAL
    assert get_calendar() is not first
    assert get_calendar().is_workday(dt.date(2025, 10, 1))


def test_admin_lists_calendar_days_by_year(admin_client: object) -> None:
    response = admin_client.get("/admin/core/calendarday/?year=2025&is_workday__exact=1")  # type: ignore[attr-defined]
    assert response.status_code == 200
    assert "2025-10-11" in response.content.decode() or "2025年10月11日" in response.content.decode()


# --- work schedule -------------------------------------------------------------------------------------


def test_default_schedule_is_seeded_with_a_warning_share() -> None:
    schedule = WorkSchedule.objects.get(is_active=True)
    assert schedule.periods == [["08:30", "12:00"], ["13:30", "17:30"]]
    assert schedule.warning_share == 0.8


@pytest.mark.parametrize(
    "periods",
    [
        [],
        [["08:30"]],
        [["12:00", "08:30"]],
        [["08:30", "12:00"], ["11:00", "14:00"]],
        [["8:30", "12:00"]],
        "x",
    ],
)
def test_bad_periods_are_rejected(periods: object) -> None:
    with pytest.raises(ValidationError):
        parse_periods(periods)
    with pytest.raises(ValidationError):
        WorkSchedule(periods=periods).clean()


def test_edited_schedule_changes_the_arithmetic() -> None:
    WorkSchedule.objects.filter(is_active=True).update(periods=[["09:00", "12:00"], ["13:00", "17:00"]])
    invalidate_calendar()
    # Monday 16:00 + 2 work hours under 09:00–17:00 = Tuesday 10:00.
    assert get_calendar().add(at(2025, 11, 3, 16), 2, TimeUnit.WORK_HOURS) == at(2025, 11, 4, 10)


def test_no_active_schedule_falls_back_to_the_default() -> None:
    WorkSchedule.objects.update(is_active=False)
    invalidate_calendar()
    assert get_calendar().add(at(2025, 11, 3, 8, 30), 3.5, TimeUnit.WORK_HOURS) == at(2025, 11, 3, 12)


# --- adding time -----------------------------------------------------------------------------------


def test_four_work_hours_from_friday_afternoon_end_monday_morning(cal: WorkCalendar) -> None:
    # Friday 2025-11-07 16:00–17:30 uses 1.5 h; Monday 08:30 + 2.5 h = 11:00.
    assert cal.add(at(2025, 11, 7, 16), 4, TimeUnit.WORK_HOURS) == at(2025, 11, 10, 11)


def test_work_hours_skip_lunch(cal: WorkCalendar) -> None:
    assert cal.add(at(2025, 11, 3, 11), 2, TimeUnit.WORK_HOURS) == at(2025, 11, 3, 14, 30)


def test_a_deadline_on_a_period_boundary_is_the_end_of_the_period(cal: WorkCalendar) -> None:
    assert cal.add(at(2025, 11, 3, 11), 1, TimeUnit.WORK_HOURS) == at(2025, 11, 3, 12)
    assert cal.add(at(2025, 11, 3, 16), Decimal("1.5"), TimeUnit.WORK_HOURS) == at(2025, 11, 3, 17, 30)


def test_starting_at_night_counts_from_the_next_working_period(cal: WorkCalendar) -> None:
    assert cal.add(at(2025, 11, 3, 22), 1, TimeUnit.WORK_HOURS) == at(2025, 11, 4, 9, 30)
    assert cal.add(at(2025, 11, 8, 10), 1, TimeUnit.WORK_HOURS) == at(2025, 11, 10, 9, 30)  # Saturday


def test_work_days_keep_the_clock_position(cal: WorkCalendar) -> None:
    assert cal.add(at(2025, 11, 7, 10), 1, TimeUnit.WORK_DAYS) == at(2025, 11, 10, 10)
    assert cal.add(at(2025, 11, 3, 14), 5, TimeUnit.WORK_DAYS) == at(2025, 11, 10, 14)


def test_work_days_from_outside_working_time_end_at_close_of_the_last_day(cal: WorkCalendar) -> None:
    assert cal.add(at(2025, 11, 8, 10), 1, TimeUnit.WORK_DAYS) == at(2025, 11, 10, 17, 30)
    assert cal.add(at(2025, 11, 7, 19), 3, TimeUnit.WORK_DAYS) == at(2025, 11, 12, 17, 30)


def test_a_deadline_crossing_spring_festival_skips_the_holiday(cal: WorkCalendar) -> None:
    # Friday 2026-02-13 10:00 + 3 working days: Sat 14th (调休) is one, then 15th–23rd are off,
    # then Tuesday 24th and Wednesday 25th.
    assert cal.add(at(2026, 2, 13, 10), 3, TimeUnit.WORK_DAYS) == at(2026, 2, 25, 10)


def test_a_deadline_crossing_national_day_uses_the_make_up_saturday(cal: WorkCalendar) -> None:
    # Tuesday 2025-09-30 16:00 + 8 work hours: 1.5 h on the 30th, 1–8 October off, then 6.5 h on
    # Thursday the 9th: 3.5 h in the morning and 3 h from 13:30 = 16:30.
    assert cal.add(at(2025, 9, 30, 16), 8, TimeUnit.WORK_HOURS) == at(2025, 10, 9, 16, 30)
    assert cal.add(at(2025, 10, 10, 10), 1, TimeUnit.WORK_DAYS) == at(2025, 10, 11, 10)


def test_natural_units_ignore_the_calendar(cal: WorkCalendar) -> None:
    assert cal.add(at(2025, 9, 30, 16), 24, TimeUnit.HOURS) == at(2025, 10, 1, 16)
    assert cal.add(at(2025, 9, 30, 16), 2, TimeUnit.DAYS) == at(2025, 10, 2, 16)
    assert cal.add(at(2025, 9, 30, 16), 0.5, "days") == at(2025, 10, 1, 4)


def test_zero_amount_returns_the_start(cal: WorkCalendar) -> None:
    assert cal.add(at(2025, 11, 8, 10), 0, TimeUnit.WORK_HOURS) == at(2025, 11, 8, 10)


def test_many_working_days_agree_with_a_day_by_day_count(cal: WorkCalendar) -> None:
    due = cal.add(at(2025, 1, 2, 9), 400, TimeUnit.WORK_DAYS)
    day, counted = dt.date(2025, 1, 2), 0
    while counted < 400:
        day += dt.timedelta(days=1)
        counted += chinese_calendar.is_workday(day)
    assert due == dt.datetime.combine(day, dt.time(9), tzinfo=SH)


def test_results_are_in_beijing_time_whatever_the_input_zone(cal: WorkCalendar) -> None:
    # 2025-03-08 20:00 in New York (the evening before its DST change) is Sunday 09:00 in Beijing.
    start = dt.datetime(2025, 3, 8, 20, tzinfo=ZoneInfo("America/New_York"))
    due = cal.add(start, 1, TimeUnit.WORK_HOURS)
    assert due == at(2025, 3, 10, 9, 30)
    assert due.tzinfo == SH
    assert due.utcoffset() == dt.timedelta(hours=8)
    utc_start = dt.datetime(2025, 11, 7, 8, tzinfo=dt.UTC)  # Friday 16:00 in Beijing
    assert cal.add(utc_start, 4, TimeUnit.WORK_HOURS) == at(2025, 11, 10, 11)


def test_summer_and_winter_have_the_same_offset(cal: WorkCalendar) -> None:
    assert cal.add(at(2025, 7, 1, 8, 30), 24 * 180, TimeUnit.HOURS).utcoffset() == dt.timedelta(hours=8)


# --- bad input --------------------------------------------------------------------------------------


def test_naive_datetime_is_rejected_with_a_clear_message(cal: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.add(dt.datetime(2025, 11, 3, 9), 1, TimeUnit.WORK_HOURS)
    with pytest.raises(ValueError, match="必须带时区"):
        cal.working_seconds(at(2025, 11, 3, 9), dt.datetime(2025, 11, 4, 9))


@pytest.mark.parametrize("amount", [-1, -0.5, Decimal("-2"), float("nan"), float("inf"), "3", True])
def test_bad_amounts_are_rejected(cal: WorkCalendar, amount: object) -> None:
    with pytest.raises(ValueError, match="amount"):
        cal.add(at(2025, 11, 3, 9), amount, TimeUnit.WORK_DAYS)  # type: ignore[arg-type]


def test_unknown_unit_is_rejected(cal: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="fortnights"):
        cal.add(at(2025, 11, 3, 9), 1, "fortnights")


# --- elapsed time, progress and colours ---------------------------------------------------------------


def test_working_seconds_across_a_weekend(cal: WorkCalendar) -> None:
    # Friday 16:00 → Monday 10:00: 1.5 h Friday + 1.5 h Monday.
    assert cal.working_seconds(at(2025, 11, 7, 16), at(2025, 11, 10, 10)) == 3 * 3600
    assert cal.working_seconds(at(2025, 11, 8, 9), at(2025, 11, 9, 17)) == 0
    assert cal.working_seconds(at(2025, 11, 10, 10), at(2025, 11, 7, 16)) == -3 * 3600


def test_elapsed_in_each_unit(cal: WorkCalendar) -> None:
    a, b = at(2025, 11, 7, 16), at(2025, 11, 10, 10)
    assert cal.elapsed(a, b, TimeUnit.WORK_HOURS) == 3
    assert cal.elapsed(a, b, TimeUnit.WORK_DAYS) == pytest.approx(3 / 7.5)
    assert cal.elapsed(a, b, TimeUnit.HOURS) == 66
    assert cal.elapsed(a, b, TimeUnit.DAYS) == 2.75


def test_elapsed_inverts_add(cal: WorkCalendar) -> None:
    start = at(2026, 2, 12, 15, 7)
    for amount in (1, 3.25, 17, 100):
        assert cal.elapsed(start, cal.add(start, amount, TimeUnit.WORK_HOURS), TimeUnit.WORK_HOURS) == amount


def test_progress_is_measured_in_the_clock_unit(cal: WorkCalendar) -> None:
    start = at(2025, 11, 7, 16)
    due = cal.add(start, 4, TimeUnit.WORK_HOURS)  # Monday 11:00
    assert cal.progress(start, due, at(2025, 11, 10, 9, 30), TimeUnit.WORK_HOURS) == pytest.approx(2.5 / 4)
    assert cal.progress(start, due, at(2025, 11, 8, 12), TimeUnit.WORK_HOURS) == pytest.approx(1.5 / 4)
    assert cal.progress(start, due, at(2025, 11, 7, 12), TimeUnit.WORK_HOURS) == 0.0


@pytest.mark.parametrize(
    ("progress", "colour"),
    [
        (0.0, ClockColour.GREEN),
        (0.79, ClockColour.GREEN),
        (0.8, ClockColour.YELLOW),
        (1.0, ClockColour.YELLOW),
        (1.0001, ClockColour.RED),
    ],
)
def test_colour_thresholds(progress: float, colour: ClockColour) -> None:
    assert clock_colour(progress) == colour


def test_colour_threshold_comes_from_the_schedule() -> None:
    WorkSchedule.objects.filter(is_active=True).update(warning_share=0.5)
    invalidate_calendar()
    cal = get_calendar()
    start = at(2025, 11, 3, 8, 30)
    due = cal.add(start, 2, TimeUnit.WORK_HOURS)
    assert cal.colour(start, due, at(2025, 11, 3, 9, 30), TimeUnit.WORK_HOURS) == ClockColour.YELLOW
    assert cal.colour(start, due, at(2025, 11, 3, 9, 30), TimeUnit.WORK_HOURS, warning_share=0.9) == "green"


def test_colour_at_exactly_80_and_100_percent_with_a_frozen_clock(cal: WorkCalendar) -> None:
    start = at(2025, 11, 3, 8, 30)
    due = cal.add(start, 5, TimeUnit.WORK_HOURS)  # 08:30 + 3.5 h + 1.5 h = 15:00
    assert due == at(2025, 11, 3, 15)
    with time_machine.travel(at(2025, 11, 3, 14), tick=False):  # 4 of 5 hours used
        assert cal.colour(start, due, timezone.now(), TimeUnit.WORK_HOURS) == ClockColour.YELLOW
    with time_machine.travel(at(2025, 11, 3, 13, 59), tick=False):
        assert cal.colour(start, due, timezone.now(), TimeUnit.WORK_HOURS) == ClockColour.GREEN
    with time_machine.travel(due, tick=False):
        assert cal.colour(start, due, timezone.now(), TimeUnit.WORK_HOURS) == ClockColour.YELLOW
    with time_machine.travel(due + dt.timedelta(minutes=1), tick=False):
        assert cal.colour(start, due, timezone.now(), TimeUnit.WORK_HOURS) == ClockColour.RED


def test_overdue_over_the_weekend_is_red_although_no_working_time_passed(cal: WorkCalendar) -> None:
    start = at(2025, 11, 7, 8, 30)
    due = at(2025, 11, 7, 17, 30)
    with time_machine.travel(at(2025, 11, 8, 10), tick=False):
        now = timezone.now()
        assert cal.progress(start, due, now, TimeUnit.WORK_HOURS) == 1.0
        assert cal.colour(start, due, now, TimeUnit.WORK_HOURS) == ClockColour.RED


# --- the command ------------------------------------------------------------------------------------


def test_calendar_command_shows_a_month_and_checks_a_day() -> None:
    out = StringIO()
    call_command("calendar", "show", "2025-10", stdout=out)
    text = out.getvalue()
    assert "[1]" in text
    assert "11*" in text
    assert "workdays: 18" in text
    out = StringIO()
    call_command("calendar", "check", "2025-09-28", stdout=out)
    assert "工作日" in out.getvalue()


def test_calendar_command_seeds_and_skips_unsupported_years() -> None:
    out, err = StringIO(), StringIO()
    last = supported_years().stop
    call_command("calendar", "seed", "--from", str(last - 1), "--to", str(last + 1), stdout=out, stderr=err)
    assert "0 rows written" in out.getvalue()
    assert "skipped" in err.getvalue()


def test_calendar_command_computes_a_deadline() -> None:
    out = StringIO()
    call_command("calendar", "due", "2025-11-07 16:00", "4", "work_hours", stdout=out)
    assert out.getvalue().strip() == "2025-11-10 11:00+08:00"
