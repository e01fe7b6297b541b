"""The Chinese working-day calendar and deadline arithmetic.

The data lives in two tables (:class:`~yiwang.core.models.CalendarDay` for the exceptions to the
Monday–Friday rule, :class:`~yiwang.core.models.WorkSchedule` for the working hours). This module
loads them once per process into a :class:`WorkCalendar`, which does all arithmetic in memory:

* Working time is mapped onto one integer axis, the *working position* (microseconds of working time
  since 0001-01-01). ``position(b) - position(a)`` is the working time between two moments, and a
  deadline is the inverse of ``position(start) + amount``. Counting working days before a date is a
  closed-form weekday count corrected by two ``bisect`` calls over the sorted exceptions, so adding a
  thousand working days costs the same as adding one.
* **Working days** (工作日), the practice of 12345 hotlines: N working days is N × the daily working
  time, i.e. the same clock position on the N-th following working day (Friday 10:00 + 1 working day
  = Monday 10:00). A case received outside working hours starts counting at the next working period,
  so it is due at the end of the N-th working day (Saturday + 1 working day = Monday 17:30). A
  deadline that falls exactly on the boundary between two working days is reported as the end of the
  earlier day (17:30), never the start of the next one (08:30).
* **Working hours** (工作时) skip nights, the lunch break, weekends and holidays in the same way.
* **Natural hours / days** (自然小时/自然日) are plain elapsed time.

All datetimes must be timezone-aware; results are in Asia/Shanghai (Beijing time, no DST since
1991), because the statutory calendar is defined in Beijing time whatever the server's zone.

The process cache re-checks a cheap signature of the tables (row count, latest change, active
schedule) at most every :data:`RECHECK_SECONDS`, so another process's edit shows up within seconds;
edits made through the admin or :func:`set_calendar_day` call :func:`invalidate_calendar` at once.
"""

from __future__ import annotations

import bisect
import datetime as dt
import logging
import math
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import models, transaction
from django.db.models import Count, Max
from django.utils.translation import gettext_lazy as _

from yiwang.core.models import (
    DEFAULT_WARNING_SHARE,
    DEFAULT_WORK_PERIODS,
    CalendarDay,
    CalendarSource,
    WorkSchedule,
    parse_periods,
)

logger = logging.getLogger(__name__)

# Beijing time: the zone in which the statutory calendar and office hours are defined.
TZ = ZoneInfo("Asia/Shanghai")
RECHECK_SECONDS = 5.0
_US = 1_000_000  # microseconds per second; positions are integers to stay exact over centuries

Number = int | float | Decimal


class TimeUnit(models.TextChoices):
    WORK_HOURS = "work_hours", _("工作时")
    WORK_DAYS = "work_days", _("工作日")
    HOURS = "hours", _("自然小时")
    DAYS = "days", _("自然日")


class ClockColour(models.TextChoices):
    GREEN = "green", _("绿灯")
    YELLOW = "yellow", _("黄灯")
    RED = "red", _("红灯")


def clock_colour(
    progress: float, yellow_at: float = DEFAULT_WARNING_SHARE, *, overdue: bool = False
) -> ClockColour:
    """Green below ``yellow_at`` of the allowed time, yellow from it up to 100 %, red beyond.

    Pass ``overdue=True`` when the clock's due moment has passed: in working units a case that is
    due Friday 17:30 has used exactly 100 % all weekend, yet it is overdue.
    """
    if overdue or progress > 1.0:
        return ClockColour.RED
    if progress >= yellow_at:
        return ClockColour.YELLOW
    return ClockColour.GREEN


@dataclass(frozen=True)
class DayInfo:
    date: dt.date
    is_workday: bool
    is_exception: bool
    name: str


def _require_aware(value: dt.datetime, label: str) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise ValueError(f"{label} 必须是 datetime / {label} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{label} 必须带时区 / {label} must be timezone-aware (got naive {value.isoformat()})"
        )
    return value.astimezone(TZ)


def _amount_us(amount: Number, per_unit_seconds: int) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int | float | Decimal):
        raise ValueError(f"时长必须是数字 / amount must be a number, got {amount!r}")
    if isinstance(amount, float | Decimal) and not math.isfinite(amount):
        raise ValueError(f"时长必须是有限数 / amount must be finite, got {amount!r}")
    if amount < 0:
        raise ValueError(f"时长不能为负数 / amount must not be negative, got {amount!r}")
    return round(Decimal(str(amount)) * per_unit_seconds * _US)


def _weekdays_before(ordinal: int) -> int:
    """Mon–Fri days in [0001-01-01, ordinal); 0001-01-01 (ordinal 1) is a Monday."""
    weeks, rest = divmod(ordinal - 1, 7)
    return weeks * 5 + min(rest, 5)


class WorkCalendar:
    """Working days and hours in memory. Build with :func:`get_calendar`, or directly in tests."""

    def __init__(
        self,
        overrides: Mapping[dt.date, bool],
        periods: Sequence[tuple[int, int]],
        *,
        names: Mapping[dt.date, str] | None = None,
        warning_share: float = DEFAULT_WARNING_SHARE,
        signature: object = None,
    ) -> None:
        if not periods:
            raise ValueError("工作时段不能为空 / at least one working period is required")
        self.overrides = dict(overrides)
        self.names = dict(names or {})
        self.periods = tuple(sorted(periods))
        self.warning_share = warning_share
        self.signature = signature
        self.day_us = sum(end - start for start, end in self.periods) * _US
        # Only real exceptions matter for counting: a manual row that restates the default rule
        # (a cancelled seeded holiday) must not be counted as one.
        self._off_weekdays = sorted(
            d.toordinal() for d, work in self.overrides.items() if not work and d.weekday() < 5
        )
        self._work_weekends = sorted(
            d.toordinal() for d, work in self.overrides.items() if work and d.weekday() >= 5
        )

    # --- days ---------------------------------------------------------------------------------
    def is_workday(self, day: dt.date) -> bool:
        if isinstance(day, dt.datetime):
            day = _require_aware(day, "day").date()
        work = self.overrides.get(day)
        return day.weekday() < 5 if work is None else work

    def day_info(self, day: dt.date) -> DayInfo:
        return DayInfo(day, self.is_workday(day), day in self.overrides, self.names.get(day, ""))

    def workdays_before(self, day: dt.date) -> int:
        """Number of working days in [0001-01-01, day): a monotone index of working days."""
        o = day.toordinal()
        return (
            _weekdays_before(o)
            - bisect.bisect_left(self._off_weekdays, o)
            + bisect.bisect_left(self._work_weekends, o)
        )

    def workdays_between(self, first: dt.date, last: dt.date) -> int:
        """Working days in the closed range [first, last]."""
        return max(0, self.workdays_before(last + dt.timedelta(days=1)) - self.workdays_before(first))

    def _workday_at(self, index: int) -> dt.date:
        """The working day whose :meth:`workdays_before` equals ``index`` (binary search)."""
        lo, hi = 1, dt.date.max.toordinal()
        while lo < hi:  # smallest ordinal with workdays_before(ordinal + 1) > index
            mid = (lo + hi) // 2
            if self.workdays_before(dt.date.fromordinal(mid + 1)) > index:
                hi = mid
            else:
                lo = mid + 1
        return dt.date.fromordinal(lo)

    # --- working positions ----------------------------------------------------------------------
    def _worked_in_day_us(self, clock_us: int) -> int:
        worked = 0
        for start, end in self.periods:
            worked += min(max(clock_us - start * _US, 0), (end - start) * _US)
        return worked

    def position(self, moment: dt.datetime) -> int:
        """Working microseconds from 0001-01-01 to ``moment`` (constant outside working time)."""
        local = _require_aware(moment, "moment")
        day = local.date()
        base = self.workdays_before(day) * self.day_us
        if not self.is_workday(day):
            return base
        clock_us = (local.hour * 3600 + local.minute * 60 + local.second) * _US + local.microsecond
        return base + self._worked_in_day_us(clock_us)

    def from_position(self, pos: int) -> dt.datetime:
        """The earliest moment whose working position is ``pos`` (end of a period on boundaries)."""
        index, rest = divmod(pos, self.day_us)
        if rest == 0 and index > 0:  # boundary between days: the end of the earlier working day
            index, rest = index - 1, self.day_us
        try:
            day = self._workday_at(index)
            if self.workdays_before(day) != index or not self.is_workday(day):
                raise ValueError(index)
        except (OverflowError, ValueError) as exc:
            raise ValueError("期限超出可计算范围 / deadline out of range") from exc
        micro = self.periods[-1][1] * _US
        for start, end in self.periods:
            length = (end - start) * _US
            if rest <= length:
                micro = start * _US + rest
                break
            rest -= length
        midnight = dt.datetime.combine(day, dt.time(), tzinfo=TZ)
        return midnight + dt.timedelta(microseconds=micro)

    # --- public arithmetic ------------------------------------------------------------------------
    def add(self, start: dt.datetime, amount: Number, unit: TimeUnit | str) -> dt.datetime:
        """The due moment ``amount`` units after ``start`` (see the module docstring for the rules)."""
        local = _require_aware(start, "start")
        unit = TimeUnit(unit)
        if unit == TimeUnit.HOURS:
            return local + dt.timedelta(microseconds=_amount_us(amount, 3600))
        if unit == TimeUnit.DAYS:
            return local + dt.timedelta(microseconds=_amount_us(amount, 86400))
        us = (
            _amount_us(amount, 3600)
            if unit == TimeUnit.WORK_HOURS
            else _amount_us(amount, 1) * self.day_us // _US
        )
        if us == 0:
            return local
        return self.from_position(self.position(local) + us)

    def working_seconds(self, a: dt.datetime, b: dt.datetime) -> float:
        """Working time from ``a`` to ``b`` in seconds (negative when ``b`` is before ``a``)."""
        return (self.position(b) - self.position(a)) / _US

    def elapsed(self, a: dt.datetime, b: dt.datetime, unit: TimeUnit | str) -> float:
        """Time from ``a`` to ``b`` measured in ``unit`` (working units skip non-working time)."""
        unit = TimeUnit(unit)
        if unit == TimeUnit.WORK_HOURS:
            return self.working_seconds(a, b) / 3600
        if unit == TimeUnit.WORK_DAYS:
            return (self.position(b) - self.position(a)) / self.day_us
        seconds = (_require_aware(b, "b") - _require_aware(a, "a")).total_seconds()
        return seconds / 3600 if unit == TimeUnit.HOURS else seconds / 86400

    def progress(
        self, started_at: dt.datetime, due_at: dt.datetime, now: dt.datetime, unit: TimeUnit | str
    ) -> float:
        """Share of the allowed time already used (0.0 at the start, 1.0 at the due moment)."""
        allowed = self.elapsed(started_at, due_at, unit)
        used = max(0.0, self.elapsed(started_at, now, unit))
        if allowed <= 0:
            # A zero allowance (e.g. "0 working hours"): fully used the moment it starts.
            return 1.0 if _require_aware(now, "now") >= _require_aware(due_at, "due_at") else 0.0
        return used / allowed

    def colour(
        self,
        started_at: dt.datetime,
        due_at: dt.datetime,
        now: dt.datetime,
        unit: TimeUnit | str,
        warning_share: float | None = None,
    ) -> ClockColour:
        """Traffic-light colour of a running clock; the threshold defaults to the schedule's."""
        share = self.warning_share if warning_share is None else warning_share
        overdue = _require_aware(now, "now") > _require_aware(due_at, "due_at")
        return clock_colour(self.progress(started_at, due_at, now, unit), share, overdue=overdue)


# --- loading and the process cache ------------------------------------------------------------------
_lock = threading.Lock()
_cached: WorkCalendar | None = None
_checked_at = 0.0


def _signature() -> tuple[object, ...]:
    days = CalendarDay.objects.aggregate(n=Count("id"), last=Max("updated_at"))
    schedule = WorkSchedule.objects.filter(is_active=True).values_list("id", "updated_at").first()
    return (days["n"], days["last"], schedule)


def load_calendar() -> WorkCalendar:
    """Build a fresh :class:`WorkCalendar` from the tables (no cache)."""
    signature = _signature()
    overrides: dict[dt.date, bool] = {}
    names: dict[dt.date, str] = {}
    for day, work, name in CalendarDay.objects.values_list("date", "is_workday", "name"):
        overrides[day] = work
        if name:
            names[day] = name
    schedule = WorkSchedule.objects.filter(is_active=True).first()
    if schedule is None:
        # Deadlines must keep working if an administrator deactivates every schedule.
        logger.warning("没有启用的工作时间，使用默认值 / no active WorkSchedule, using the default periods")
        periods, share = parse_periods(DEFAULT_WORK_PERIODS), DEFAULT_WARNING_SHARE
    else:
        periods, share = parse_periods(schedule.periods), schedule.warning_share
    return WorkCalendar(overrides, periods, names=names, warning_share=share, signature=signature)


def get_calendar() -> WorkCalendar:
    """The process-wide calendar; reloaded when the tables change (checked every few seconds)."""
    global _cached, _checked_at
    with _lock:
        now = time.monotonic()
        if _cached is not None and now - _checked_at < RECHECK_SECONDS:
            return _cached
        if _cached is None or _signature() != _cached.signature:
            _cached = load_calendar()
        _checked_at = now
        return _cached


def invalidate_calendar() -> None:
    """Drop the cached calendar; the next :func:`get_calendar` reloads from the tables."""
    global _cached
    with _lock:
        _cached = None


# --- seeding from the chinese_calendar package ---------------------------------------------------------
def supported_years() -> range:
    """Years the installed ``chinese_calendar`` package has official data for."""
    import chinese_calendar

    years = {d.year for d in chinese_calendar.holidays} | {d.year for d in chinese_calendar.workdays}
    return range(min(years), max(years) + 1)


def _holiday_name(english: str | None, is_workday: bool) -> str:
    from chinese_calendar import Holiday

    try:
        name = str(Holiday(english).chinese) if english else ""
    except ValueError:
        name = english or ""
    return f"{name}调休" if is_workday and name else name


def package_exceptions(years: Iterable[int]) -> list[tuple[dt.date, bool, str]]:
    """``(date, is_workday, name)`` for every day the package says breaks the Mon–Fri rule.

    Years the package does not know are skipped (it raises ``NotImplementedError`` for them).
    Pure function: also used by the data migration that seeds the table.
    """
    import chinese_calendar

    rows: list[tuple[dt.date, bool, str]] = []
    for year in years:
        day = dt.date(year, 1, 1)
        try:
            chinese_calendar.is_workday(day)
        except NotImplementedError:
            logger.info("chinese_calendar has no data for %s; skipped", year)
            continue
        while day.year == year:
            work = chinese_calendar.is_workday(day)
            if work != (day.weekday() < 5):
                _is_holiday, english = chinese_calendar.get_holiday_detail(day)
                rows.append((day, work, _holiday_name(english, work)))
            day += dt.timedelta(days=1)
    return rows


def seed_calendar(years: range | Iterable[int] | None = None) -> int:
    """Bring seeded rows for ``years`` (default: all the package knows) in line with the package.

    Creates missing rows, updates changed ones and deletes seeded rows the package no longer
    lists; ``manual`` rows are never touched. Returns the number of rows written.
    """
    supported = supported_years()
    wanted = [y for y in (supported if years is None else years) if y in supported]
    if not wanted:
        return 0
    rows = {day: (work, name) for day, work, name in package_exceptions(wanted)}
    changed = 0
    with transaction.atomic():
        existing = {
            row.date: row for row in CalendarDay.objects.select_for_update().filter(date__year__in=wanted)
        }
        for day, (work, name) in rows.items():
            row = existing.get(day)
            if row is None:
                CalendarDay.objects.create(date=day, is_workday=work, name=name, source=CalendarSource.SEEDED)
                changed += 1
            elif row.source == CalendarSource.SEEDED and (row.is_workday, row.name) != (work, name):
                row.is_workday, row.name = work, name
                row.save(update_fields=["is_workday", "name", "updated_at"])
                changed += 1
        stale = [
            row.pk for day, row in existing.items() if row.source == CalendarSource.SEEDED and day not in rows
        ]
        if stale:
            changed += CalendarDay.objects.filter(pk__in=stale).delete()[0]
        # Now for this thread, and again at commit for everyone else.
        invalidate_calendar()
        transaction.on_commit(invalidate_calendar)
    return changed


def set_calendar_day(day: dt.date, *, is_workday: bool, name: str = "") -> CalendarDay:
    """Record a manual exception (it wins over the seed and survives reseeding)."""
    with transaction.atomic():
        row, _created = CalendarDay.objects.update_or_create(
            date=day, defaults={"is_workday": is_workday, "name": name, "source": CalendarSource.MANUAL}
        )
        invalidate_calendar()
        transaction.on_commit(invalidate_calendar)
    return row
