"""Split a period into whole calendar years and months (read from the year and month rollups),
whole weeks at its edges (the week rollups) and the days left over (the daily rollups), so that a
year costs one year row or twelve month rows per group, not 365 day rows per combination."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

WEEK = dt.timedelta(days=7)


def next_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


@dataclass(frozen=True)
class Split:
    months: tuple[dt.date, ...]  # first days of the whole months inside the period (not in a year)
    day_ranges: tuple[tuple[dt.date, dt.date], ...]  # the remaining days, as inclusive ranges
    years: tuple[dt.date, ...] = ()  # 1 January of the whole years inside the period
    weeks: tuple[dt.date, ...] = ()  # Mondays of the whole weeks inside the edge days (not in a month)


def split_period(
    start: dt.date, end: dt.date, today: dt.date | None = None, *, years: bool = False, weeks: bool = False
) -> Split:
    """``start`` … ``end`` (inclusive) as whole months (and, with ``years``, whole years) plus at
    most two ranges of edge days; with ``weeks``, the whole weeks (Monday to Sunday) inside those
    ranges are taken out of them (up to four shorter ranges are left).

    With ``today``: nothing has happened after it yet, so a month (a year) whose days after ``end``
    are all in the future holds exactly the period's days (this month or year so far is read as a
    month or a year)."""
    if end < start:
        return Split((), ())
    if today is not None and end >= today:
        this_year = dt.date(today.year, 1, 1)
        if years and start <= this_year:
            end = max(end, dt.date(today.year, 12, 31))
        else:
            end = max(end, next_month(today) - dt.timedelta(days=1))
    split = _split_months(start, end)
    if years:
        whole = tuple(m for m in split.months if m.month == 1 and m.replace(month=12) in split.months)
        months = tuple(m for m in split.months if m.replace(month=1) not in whole)
        split = Split(months, split.day_ranges, whole)
    return _split_weeks(split) if weeks else split


def _split_weeks(split: Split) -> Split:
    weeks: list[dt.date] = []
    ranges: list[tuple[dt.date, dt.date]] = []
    for first, last in split.day_ranges:
        monday = first + dt.timedelta(days=-first.weekday() % 7)
        inside = []
        while monday + WEEK - dt.timedelta(days=1) <= last:
            inside.append(monday)
            monday += WEEK
        if not inside:
            ranges.append((first, last))
            continue
        weeks.extend(inside)
        if first < inside[0]:
            ranges.append((first, inside[0] - dt.timedelta(days=1)))
        if inside[-1] + WEEK <= last:
            ranges.append((inside[-1] + WEEK, last))
    return replace(split, day_ranges=tuple(ranges), weeks=tuple(weeks))


def _split_months(start: dt.date, end: dt.date) -> Split:
    first_whole = start if start.day == 1 else next_month(start)
    months: list[dt.date] = []
    month = first_whole
    while next_month(month) - dt.timedelta(days=1) <= end:
        months.append(month)
        month = next_month(month)
    if not months:
        return Split((), ((start, end),))
    ranges = []
    if start < months[0]:
        ranges.append((start, months[0] - dt.timedelta(days=1)))
    after = next_month(months[-1])
    if after <= end:
        ranges.append((after, end))
    return Split(tuple(months), tuple(ranges))
