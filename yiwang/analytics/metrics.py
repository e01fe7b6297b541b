"""Evaluations computed from the rollups only (never the case table): 三率 and 数字城管 (issue 7).

Definitions, sources and defaults: docs/metrics.md. Weights and grade thresholds come from
:class:`MetricSettings` (data, editable in the admin)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from django.db.models import Q, QuerySet, Sum

from yiwang.analytics.models import MILESTONES, DailyRollup, MetricSettings, MonthlyRollup
from yiwang.analytics.periods import split_period
from yiwang.core.scoping import AreaFields, area_q, scope_of
from yiwang.grids.models import Division, Grid
from yiwang.people.models import Department, Role

GroupBy = Literal["district", "street", "community", "grid", "department"]
ROLLUP_AREA = AreaFields(district="district_id", street="street_id", community="community_id", grid="grid_id")
MONTH_AREA = AreaFields(district="district_id", street="street_id", community="", grid="")
# The groupings the month level can answer (it keeps no community, grid or category).
MONTH_GROUPS = frozenset({"district", "street", "department"})
AREA_ROLES = (Role.DISPATCHER, Role.LEADER, Role.ADMINISTRATOR, Role.HOTLINE_OPERATOR)


@dataclass
class Row:
    """One group (a street, a department…) over the period: its counts and its rates (0–1; None
    when the denominator is zero), the combined score (0–100) and its grade."""

    id: int | None
    name: str
    counts: dict[str, int]
    rates: dict[str, float | None] = field(default_factory=dict)
    score: float | None = None
    grade: str = ""


def _scope_q(user: Any, area: AreaFields) -> Q | None:
    """The filter of the rollup rows ``user`` may aggregate (None: everything): area roles their
    areas, departments their subtree, grid workers their grids. ``user=None`` is the system."""
    if user is None:
        return None
    scope = scope_of(user)
    if scope.everything:
        return None
    q = Q(pk__in=[])
    if scope.is_empty:
        return q
    if scope.roles.intersection(AREA_ROLES):
        q |= area_q(scope, area)
    if Role.GRID_WORKER in scope.roles and scope.grid_ids and area.grid:
        q |= Q(grid_id__in=sorted(scope.grid_ids))
    if scope.department_ids:
        q |= Q(department_id__in=sorted(scope.department_ids))
    return q


def rollups_visible_to(user: Any) -> QuerySet[DailyRollup]:
    """The daily rollup rows ``user`` may aggregate."""
    q = _scope_q(user, ROLLUP_AREA)
    return DailyRollup.objects.all() if q is None else DailyRollup.objects.filter(q)


def _month_level_fits(group_by: GroupBy, user: Any) -> bool:
    """Whether the month rows can answer: a grouping they keep, and a scope no finer than a
    street (a community or grid scope needs the daily rows' finer dimensions)."""
    if group_by not in MONTH_GROUPS:
        return False
    scope = scope_of(user) if user is not None else None
    return scope is None or scope.everything or not (scope.community_ids or scope.grid_ids)


def _sums(qs: QuerySet[Any], column: str) -> dict[Any, dict[str, int]]:
    rows = qs.values(column).annotate(**{f"n_{m}": Sum(m) for m in MILESTONES}).order_by(column)
    out: dict[Any, dict[str, int]] = {}
    for row in rows:
        values: dict[str, Any] = dict(row)
        out[values[column]] = {m: int(values[f"n_{m}"] or 0) for m in MILESTONES}
    return out


def _period_sums(start: dt.date, end: dt.date, group_by: GroupBy, user: Any) -> dict[Any, dict[str, int]]:
    column = f"{group_by}_id"
    daily = rollups_visible_to(user)
    if not _month_level_fits(group_by, user):
        return _sums(daily.filter(day__gte=start, day__lte=end), column)
    split = split_period(start, end)
    q = _scope_q(user, MONTH_AREA)
    monthly = MonthlyRollup.objects.all() if q is None else MonthlyRollup.objects.filter(q)
    parts = [_sums(daily.filter(day__gte=a, day__lte=b), column) for a, b in split.day_ranges]
    if split.months:
        parts.append(_sums(monthly.filter(month__in=split.months), column))
    total: dict[Any, dict[str, int]] = {}
    for part in parts:
        for group, counts in part.items():
            into = total.setdefault(group, dict.fromkeys(MILESTONES, 0))
            for m, n in counts.items():
                into[m] += n
    return dict(sorted(total.items(), key=lambda item: (item[0] is None, item[0] or 0)))


def _names(group_by: GroupBy, ids: list[int]) -> dict[int, str]:
    if group_by == "department":
        return dict(Department.objects.filter(pk__in=ids).values_list("pk", "name"))
    if group_by == "grid":
        return dict(Grid.objects.filter(pk__in=ids).values_list("pk", "name"))
    return dict(Division.objects.filter(pk__in=ids).values_list("pk", "name"))


def totals(*, start: dt.date, end: dt.date, group_by: GroupBy, user: Any = None) -> list[Row]:
    """Milestone counts per group for the days ``start`` … ``end`` (both included): whole months
    from the month rollups where they can answer, the other days from the daily rollups."""
    sums = _period_sums(start, end, group_by, user)
    names = _names(group_by, [g for g in sums if g is not None])
    return [
        Row(id=g, name=names.get(g, "") if g is not None else "（未定位/未派遣）", counts=counts)
        for g, counts in sums.items()
    ]


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


def grade(score: float | None, cfg: MetricSettings) -> str:
    """A [grade_a, 100], B, C, D, E below grade_d (standards.md §1.4)."""
    if score is None:
        return ""
    for letter, low in (("A", cfg.grade_a), ("B", cfg.grade_b), ("C", cfg.grade_c), ("D", cfg.grade_d)):
        if score >= float(low):
            return letter
    return "E"


def apply_three_rates(row: Row, cfg: MetricSettings) -> None:
    c = row.counts
    w = float(cfg.basically_satisfied_weight)
    response = _ratio(c["signed_in_time"], c["dispatched"])
    solve = _ratio(c["solved"], c["called_back"])
    satisfaction = _ratio(c["satisfied"] + w * c["basically_satisfied"], c["called_back"])
    row.rates = {"response": response, "solve": solve, "satisfaction": satisfaction}
    parts = (
        (response, cfg.response_weight),
        (solve, cfg.solve_weight),
        (satisfaction, cfg.satisfaction_weight),
    )
    if all(rate is None for rate, _w in parts):
        row.score = None
    else:
        # A missing rate (nothing dispatched, nobody called back) scores as full: no failures.
        row.score = 100 * sum((1.0 if rate is None else rate) * float(wt) for rate, wt in parts)
    row.grade = grade(row.score, cfg)


def three_rates(*, start: dt.date, end: dt.date, group_by: GroupBy = "street", user: Any = None) -> list[Row]:
    """三率 per group: 响应率 = 按时签收/派遣, 解决率 = 解决/回访, 满意率 = (满意 + w·基本满意)/回访,
    and 综合成绩 = 100 × Σ weight·rate, with its grade."""
    cfg = MetricSettings.current()
    rows = totals(start=start, end=end, group_by=group_by, user=user)
    for row in rows:
        apply_three_rates(row, cfg)
    return rows


def apply_evaluation(row: Row) -> None:
    c = row.counts
    due = c["dispatched"]  # 应结案数: the rounds handed to departments (docs/metrics.md)
    row.rates = {
        "registered": float(c["registered"]),
        "close_rate": _ratio(c["closed"], due),
        "on_time_close_rate": _ratio(c["closed_in_time"], due),
        "on_time_resolve_rate": _ratio(c["resolved_in_time"], c["resolved"]),
        "rework_rate": _ratio(c["reworked"], c["resolved"]),
    }


def evaluation(*, start: dt.date, end: dt.date, group_by: GroupBy = "street", user: Any = None) -> list[Row]:
    """数字城管 evaluation per group: 立案数, 结案率, 按期结案率, 按期处置率, 返工率."""
    rows = totals(start=start, end=end, group_by=group_by, user=user)
    for row in rows:
        apply_evaluation(row)
    return rows


def weight_sum(cfg: MetricSettings) -> Decimal:
    """The 三率 weights should add up to 1 (the admin warns otherwise)."""
    return cfg.response_weight + cfg.solve_weight + cfg.satisfaction_weight
