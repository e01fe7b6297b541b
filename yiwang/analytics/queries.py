"""Read-only rollup queries for the map and the dashboard (issue 6): totals by category or channel,
the whole period, and the daily or weekly series. Same counts and rules as :mod:`.metrics`; every
number comes from the rollup levels (:func:`.metrics.period_sums`), never from the case table."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from django.db import connection

from yiwang.analytics.metrics import Row, Weights, apply_three_rates, named_sums, period_sums, three_rates
from yiwang.analytics.models import MILESTONES, PERIOD_START

Step = Literal["day", "week"]


def by_category(
    *, start: dt.date, end: dt.date, user: Any = None, milestones: Sequence[str] = MILESTONES
) -> list[Row]:
    """Counts of ``milestones`` (at least :data:`.metrics.RATE_MILESTONES` and ``registered``) and
    三率 per category, most registered first."""
    from yiwang.cases.models import Category

    names = connection.ops.quote_name(Category._meta.db_table)
    sums = named_sums(start, end, "category_id", names, user, milestones)
    return _finish([Row(id=g, name=name or "—", counts=counts) for g, name, counts in sums])


def by_channel(
    *, start: dt.date, end: dt.date, user: Any = None, milestones: Sequence[str] = MILESTONES
) -> list[Row]:
    """Counts of ``milestones`` (as :func:`by_category`) and 三率 per intake channel, most registered
    first (``id`` is None, ``name`` the label)."""
    from yiwang.cases.choices import Channel

    labels = dict(Channel.choices)
    sums = period_sums(start, end, ("channel",), user, milestones=milestones)
    return _finish(
        [Row(id=None, name=str(labels.get(key[0], key[0] or "—")), counts=c) for key, c in sums.items()]
    )


def _finish(rows: list[Row]) -> list[Row]:
    cfg = Weights.current()
    for row in rows:
        apply_three_rates(row, cfg)
    return sorted(rows, key=lambda r: (-r.counts["registered"], r.name))


def overall(*, start: dt.date, end: dt.date, user: Any = None, grid_id: int | None = None) -> Row:
    """The whole visible area (or one grid of it) over the period, as one row with its 三率."""
    if grid_id is None:
        sums = period_sums(start, end, (), user)
    else:
        sums = period_sums(start, end, (), user, grid_id=grid_id)
    row = Row(id=None, name="", counts=sums[()])
    apply_three_rates(row, Weights.current())
    return row


def daily_counts(*, start: dt.date, end: dt.date, user: Any = None) -> list[tuple[dt.date, dict[str, int]]]:
    """Milestone counts per day of the period (every day present, zeros included)."""
    by_day = {key[0]: counts for key, counts in period_sums(start, end, ("day",), user).items()}
    days = (start + dt.timedelta(days=n) for n in range((end - start).days + 1))
    return [(d, by_day.get(d, dict.fromkeys(MILESTONES, 0))) for d in days]


@dataclass
class Point:
    """One step of a series: its first day (a Monday for weeks) and its row (counts, 三率)."""

    day: dt.date
    row: Row


def series(*, start: dt.date, end: dt.date, step: Step = "day", user: Any = None) -> list[Point]:
    """Counts and 三率 per day or per ISO week (Monday first) over ``start`` … ``end``; every step is
    present, empty ones with zero counts, so a chart's axis has no gaps."""
    per_day = dict(daily_counts(start=start, end=end, user=user))
    buckets: dict[dt.date, dict[str, int]] = {}
    day = start
    while day <= end:
        key = day if step == "day" else PERIOD_START["week"](day)
        bucket = buckets.setdefault(key, dict.fromkeys(MILESTONES, 0))
        for m, n in per_day.get(day, {}).items():
            bucket[m] += n
        day += dt.timedelta(days=1)
    cfg = Weights.current()
    out = []
    for key, counts in buckets.items():
        row = Row(id=None, name=key.isoformat(), counts=counts)
        apply_three_rates(row, cfg)
        out.append(Point(day=key, row=row))
    return out


def rates_by(
    group_by: Literal["street", "grid", "department"], *, start: dt.date, end: dt.date, user: Any = None
) -> dict[int, Row]:
    """三率 rows keyed by street, grid or department id (the unplaced group left out)."""
    return {
        r.id: r for r in three_rates(start=start, end=end, group_by=group_by, user=user) if r.id is not None
    }
