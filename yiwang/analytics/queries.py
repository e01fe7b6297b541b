"""Read-only rollup queries for the map and the dashboard (issue 6): totals by category or channel,
the whole period, and the daily or weekly series. Same counts and rules as :mod:`.metrics`; every
number comes from :class:`DailyRollup`, never from the case table."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from django.db.models import Sum

from yiwang.analytics.metrics import Row, apply_three_rates, rollups_visible_to, three_rates
from yiwang.analytics.models import MILESTONES, MetricSettings

Step = Literal["day", "week"]


def _sums() -> dict[str, Any]:
    return {f"n_{m}": Sum(m) for m in MILESTONES}


def _counts(r: Mapping[str, Any]) -> dict[str, int]:
    return {m: int(r[f"n_{m}"] or 0) for m in MILESTONES}


def by_category(*, start: dt.date, end: dt.date, user: Any = None) -> list[Row]:
    """Counts and 三率 per category, most registered first."""
    from yiwang.cases.models import Category

    data = list(
        rollups_visible_to(user)
        .filter(day__gte=start, day__lte=end)
        .values("category_id")
        .annotate(**_sums())
        .order_by("category_id")
    )
    names = dict(
        Category.objects.filter(pk__in=[r["category_id"] for r in data if r["category_id"]]).values_list(
            "pk", "name"
        )
    )
    return _finish(
        [Row(id=r["category_id"], name=names.get(r["category_id"], "—"), counts=_counts(r)) for r in data]
    )


def by_channel(*, start: dt.date, end: dt.date, user: Any = None) -> list[Row]:
    """Counts and 三率 per intake channel, most registered first (``id`` is None, ``name`` the label)."""
    from yiwang.cases.choices import Channel

    labels = dict(Channel.choices)
    data = list(
        rollups_visible_to(user)
        .filter(day__gte=start, day__lte=end)
        .values("channel")
        .annotate(**_sums())
        .order_by("channel")
    )
    return _finish(
        [
            Row(id=None, name=str(labels.get(r["channel"], r["channel"] or "—")), counts=_counts(r))
            for r in data
        ]
    )


def _finish(rows: list[Row]) -> list[Row]:
    cfg = MetricSettings.current()
    for row in rows:
        apply_three_rates(row, cfg)
    return sorted(rows, key=lambda r: (-r.counts["registered"], r.name))


def overall(*, start: dt.date, end: dt.date, user: Any = None, grid_id: int | None = None) -> Row:
    """The whole visible area (or one grid of it) over the period, as one row with its 三率."""
    qs = rollups_visible_to(user).filter(day__gte=start, day__lte=end)
    if grid_id is not None:
        qs = qs.filter(grid_id=grid_id)
    agg = qs.aggregate(**_sums())
    row = Row(id=None, name="", counts=_counts(agg))
    apply_three_rates(row, MetricSettings.current())
    return row


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


@dataclass
class Point:
    """One step of a series: its first day (a Monday for weeks) and its row (counts, 三率)."""

    day: dt.date
    row: Row


def series(*, start: dt.date, end: dt.date, step: Step = "day", user: Any = None) -> list[Point]:
    """Counts and 三率 per day or per ISO week (Monday first) over ``start`` … ``end``; every step is
    present, empty ones with zero counts, so a chart's axis has no gaps."""
    per_day = {
        r["day"]: _counts(r)
        for r in rollups_visible_to(user)
        .filter(day__gte=start, day__lte=end)
        .values("day")
        .annotate(**_sums())
        .order_by("day")
    }
    buckets: dict[dt.date, dict[str, int]] = {}
    day = start
    while day <= end:
        key = day if step == "day" else week_start(day)
        bucket = buckets.setdefault(key, dict.fromkeys(MILESTONES, 0))
        for m, n in per_day.get(day, {}).items():
            bucket[m] += n
        day += dt.timedelta(days=1)
    cfg = MetricSettings.current()
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
