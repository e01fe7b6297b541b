"""Split a period into whole calendar months (read from the month rollups) and the days at its
edges (read from the daily rollups), so that a year costs twelve month rows per group, not 365
day rows per combination."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


@dataclass(frozen=True)
class Split:
    months: tuple[dt.date, ...]  # first days of the whole months inside the period
    day_ranges: tuple[tuple[dt.date, dt.date], ...]  # the remaining days, as inclusive ranges


def split_period(start: dt.date, end: dt.date, today: dt.date | None = None) -> Split:
    """``start`` … ``end`` (inclusive) as whole months plus at most two ranges of edge days.

    With ``today``: nothing has happened after it yet, so a month whose days after ``end`` are all
    in the future holds exactly the period's days (this month so far is read as a month)."""
    if end < start:
        return Split((), ())
    if today is not None and end >= today:
        end = max(end, _next_month(today) - dt.timedelta(days=1))
    first_whole = start if start.day == 1 else _next_month(start)
    months: list[dt.date] = []
    month = first_whole
    while _next_month(month) - dt.timedelta(days=1) <= end:
        months.append(month)
        month = _next_month(month)
    if not months:
        return Split((), ((start, end),))
    ranges = []
    if start < months[0]:
        ranges.append((start, months[0] - dt.timedelta(days=1)))
    after = _next_month(months[-1])
    if after <= end:
        ranges.append((after, end))
    return Split(tuple(months), tuple(ranges))
