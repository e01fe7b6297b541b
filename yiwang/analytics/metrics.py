"""Evaluations computed from the rollups only (never the case table): 三率 and 数字城管 (issue 7).

Definitions, sources and defaults: docs/metrics.md. Weights and grade thresholds come from
:class:`MetricSettings` (data, editable in the admin)."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from operator import itemgetter
from typing import Any, Literal

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db import connection
from django.db.models import Model, Q, QuerySet
from django.utils import timezone

from yiwang.analytics.models import DAILY, LEVELS, MILESTONES, Level, MetricSettings
from yiwang.analytics.periods import split_period
from yiwang.analytics.rollup_store import _quoted, _sql
from yiwang.core.scoping import AreaFields, Scope, area_q, scope_of
from yiwang.grids.models import Division, Grid
from yiwang.people.models import Department, Role

GroupBy = Literal["district", "street", "community", "grid", "department"]
ROLLUP_AREA = AreaFields(district="district_id", street="street_id", community="community_id", grid="grid_id")
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


def _scope_needs(user: Any) -> frozenset[str]:
    """The dimensions a level must keep to be filtered to ``user``'s scope."""
    if user is None:
        return frozenset()
    scope = scope_of(user)
    if scope.everything or scope.is_empty:
        return frozenset()
    need: set[str] = set()
    if scope.roles.intersection(AREA_ROLES):
        for ids, column in (
            (scope.district_ids, "district_id"),
            (scope.street_ids, "street_id"),
            (scope.community_ids, "community_id"),
            (scope.grid_ids, "grid_id"),
        ):
            if ids:
                need.add(column)
    if Role.GRID_WORKER in scope.roles and scope.grid_ids:
        need.add("grid_id")
    if scope.department_ids:
        need.add("department_id")
    return frozenset(need)


def _scope_q(user: Any) -> Q | None:
    """The filter of the rollup rows ``user`` may aggregate (None: everything): area roles their
    areas, departments their subtree, grid workers their grids. ``user=None`` is the system."""
    return None if user is None else _scope_filter(scope_of(user))


def _scope_filter(scope: Scope) -> Q | None:
    if scope.everything:
        return None
    q = Q(pk__in=[])
    if scope.is_empty:
        return q
    if scope.roles.intersection(AREA_ROLES):
        q |= area_q(scope, ROLLUP_AREA)
    if Role.GRID_WORKER in scope.roles and scope.grid_ids:
        q |= Q(grid_id__in=sorted(scope.grid_ids))
    if scope.department_ids:
        q |= Q(department_id__in=sorted(scope.department_ids))
    return q


@functools.lru_cache(maxsize=1024)
def _scope_where(model: type[Model], scope: Scope) -> tuple[str, tuple[Any, ...]] | None:
    """:func:`_scope_filter` as the WHERE condition of ``model``'s table (None: no condition),
    compiled by the ORM once per scope and table: compiling a queryset cost more than running it."""
    q = _scope_filter(scope)
    if q is None:
        return None
    query = model._default_manager.filter(q).query
    try:
        sql, params = query.where.as_sql(query.get_compiler(connection=connection), connection)
    except EmptyResultSet:  # an empty scope
        return "1 = 0", ()
    except FullResultSet:
        return None
    return sql, tuple(params)


def choose_level(period: str, needed: Iterable[str]) -> Level | None:
    """The smallest level of ``period`` that keeps every dimension in ``needed`` (the daily rows
    keep all of them; a month level may not exist for a combination: None)."""
    wanted = set(needed)
    for level in LEVELS:
        if level.period == period and wanted <= set(level.dims):
            return level
    return DAILY if period == "day" else None


def rollups_visible_to(user: Any, level: Level = DAILY) -> QuerySet[Any]:
    """The rows of ``level`` that ``user`` may aggregate (the level must keep the scope's
    dimensions: see :func:`choose_level`)."""
    q = _scope_q(user)
    qs = level.model._default_manager.all()
    return qs if q is None else qs.filter(q)


Sums = dict[tuple[Any, ...], dict[str, int]]
UNPLACED = "（未定位/未派遣）"  # the group of rows without the grouping's dimension
# What the 三率 and the combined score read: a grid table (15 000 rows) sums only these.
RATE_MILESTONES: tuple[str, ...] = (
    "dispatched",
    "signed_in_time",
    "called_back",
    "solved",
    "satisfied",
    "basically_satisfied",
)


@dataclass(frozen=True)
class Part:
    """The rows of one rollup level that make up a piece of a period: its table and the condition
    (the period, the filters and the user's scope) with its parameters."""

    level: Level
    where: str
    params: tuple[Any, ...]

    def select(self, columns: Sequence[str]) -> tuple[str, list[Any]]:
        """``SELECT columns FROM`` the level's table ``WHERE`` the condition, and its parameters."""
        statement = _sql(
            "SELECT {c} FROM {t} WHERE {w}",
            c=_quoted(columns),
            t=connection.ops.quote_name(self.level.model._meta.db_table),
            w=self.where,
        )
        return statement, list(self.params)


def _part(level: Level, period: str, days: Sequence[dt.date], user: Any, filters: dict[str, Any]) -> Part:
    """The rows of ``level`` whose period column matches ``period`` (a condition on ``{p}`` with a
    placeholder per day of ``days``), ``filters`` (dimension=value) and ``user``'s scope."""
    # The statements are written here rather than built by the ORM: at 10 M cases a dashboard
    # figure's query runs in about a millisecond, and building and compiling its queryset took two
    # or three. Only the scope's condition comes from the ORM (see _scope_where).
    q = connection.ops.quote_name
    conditions = [period.format(p=q(level.period_field))]
    params: list[Any] = [connection.ops.adapt_datefield_value(d) for d in days]
    for name, value in filters.items():
        if value is None:
            conditions.append(f"{q(name)} IS NULL")
        else:
            conditions.append(f"{q(name)} = %s")
            params.append(value)
    scope = None if user is None else _scope_where(level.model, scope_of(user))
    if scope is not None:
        conditions.append(f"({scope[0]})")
        params.extend(scope[1])
    return Part(level, " AND ".join(conditions), tuple(params))


def sums_sql(parts: Sequence[Part], group: Sequence[str], milestones: Sequence[str]) -> tuple[str, list[Any]]:
    """One statement of the ``group`` columns and the sums of ``milestones`` (named as they are)
    per combination over the rows of every part (the rows themselves go into one aggregation)."""
    q = connection.ops.quote_name
    selects, params = [], []
    for part in parts:
        sql, part_params = part.select([*group, *milestones])
        selects.append(sql)
        params.extend(part_params)
    groups = _quoted(group)
    statement = _sql(
        "SELECT {g}{sums} FROM ({parts}) parts{by}",
        g=f"{groups}, " if group else "",
        sums=", ".join(f"SUM({q(m)}) AS {q(m)}" for m in milestones),
        parts=" UNION ALL ".join(selects),
        by=f" GROUP BY {groups}" if group else "",
    )
    return statement, params


def _fetch(statement: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.fetchall()


def _sums(parts: Sequence[Part], group: Sequence[str], milestones: Sequence[str]) -> Sums:
    rows = _fetch(*sums_sql(parts, group, milestones))
    width = len(group)
    if not group:  # one row, NULL sums when no row matched
        return {(): {m: int(n or 0) for m, n in zip(milestones, rows[0], strict=True)}}
    day = group.index("day") if "day" in group else None
    out: Sums = {}
    # No ORDER BY: every caller orders the groups itself (and a sort of 15 000 grids is not free). A
    # group has at least one row, so no sum is NULL; SUM of an integer column is an integer.
    for row in rows:
        key = row[:width]
        if day is not None and isinstance(key[day], str):  # SQLite returns dates as text
            key = (*key[:day], dt.date.fromisoformat(key[day]), *key[day + 1 :])
        out[tuple(key)] = dict(zip(milestones, row[width:], strict=True))
    return out


def period_parts(
    start: dt.date, end: dt.date, group: Sequence[str], user: Any, filters: dict[str, Any]
) -> list[Part]:
    """The rollup rows that make up ``start`` … ``end``, one part per level read (see
    :func:`period_sums`)."""
    dims = {c for c in group if c != "day"} | set(filters) | _scope_needs(user)
    day_level = choose_level("day", dims) or DAILY
    month_level = None if "day" in group else choose_level("month", dims)
    # Year and week levels only where they have the month level's rows: one row per year instead of
    # twelve, one per week instead of seven day rows of every combination.
    year_level, week_level = (_keeping_dims_of(month_level, choose_level(p, dims)) for p in ("year", "week"))
    split = split_period(
        start, end, today=timezone.localdate(), years=year_level is not None, weeks=week_level is not None
    )
    ranges = ((start, end),) if month_level is None else split.day_ranges
    parts = [_part(day_level, "{p} >= %s AND {p} <= %s", (a, b), user, filters) for a, b in ranges if a <= b]
    for level, periods in ((week_level, split.weeks), (month_level, split.months), (year_level, split.years)):
        if level is not None and periods:
            marks = ", ".join(["%s"] * len(periods))
            parts.append(_part(level, f"{{p}} IN ({marks})", periods, user, filters))
    return parts


def _keeping_dims_of(month_level: Level | None, level: Level | None) -> Level | None:
    """``level`` if it keeps exactly the dimensions of ``month_level`` (and both exist), else None."""
    return level if month_level is not None and level is not None and level.dims == month_level.dims else None


def period_sums(
    start: dt.date,
    end: dt.date,
    group: Sequence[str] = (),
    user: Any = None,
    *,
    milestones: Sequence[str] = MILESTONES,
    **filters: Any,
) -> Sums:
    """Counts of ``milestones`` per combination of ``group`` columns (dimension names such as
    ``street_id``; ``day`` for a series) over ``start`` … ``end``, for ``user``'s scope, with
    ``filters`` (dimension=value). Whole years come from a year level with the month level's
    dimensions (the grid and category tables), whole months from the smallest month level that keeps
    the needed dimensions, whole weeks among the edge days from a week level with the month level's
    dimensions (the grid, category and department tables), the other edge days from the smallest
    day level; never the case table."""
    parts = period_parts(start, end, group, user, filters)
    if not parts:  # an empty period
        return {(): dict.fromkeys(milestones, 0)} if not group else {}
    return _sums(parts, group, milestones)


def period_rows(
    start: dt.date, end: dt.date, group: Sequence[str], milestones: Sequence[str]
) -> list[tuple[Any, ...]]:
    """:func:`period_sums` (unscoped) per combination of ``group`` (at least one column) as the
    database returns them: the ``group`` values then the sums of ``milestones``, in no order. For
    callers that put thousands of groups into arrays, without a dict per group."""
    parts = period_parts(start, end, group, None, {})
    return _fetch(*sums_sql(parts, group, milestones)) if parts else []


def name_table(group_by: GroupBy) -> str:
    """The quoted table holding the names of ``group_by``'s groups (``id``, ``name``)."""
    model = {"grid": Grid, "department": Department}.get(group_by, Division)
    return connection.ops.quote_name(model._meta.db_table)


def named_sums(
    start: dt.date, end: dt.date, column: str, names: str, user: Any, milestones: Sequence[str]
) -> list[tuple[Any, str | None, dict[str, int]]]:
    """``(id, name, counts)`` per value of the dimension ``column`` over ``start`` … ``end``, with
    the name from the quoted table ``names`` (``id``, ``name``; None for a missing row) joined in
    the same statement; ordered by id, the group without the dimension (id None) last."""
    parts = period_parts(start, end, (column,), user, {})
    if not parts:  # an empty period
        return []
    sums, params = sums_sql(parts, (column,), milestones)
    q = connection.ops.quote_name
    rows = _fetch(
        _sql(
            "SELECT s.{g}, n.name, {m} FROM ({sums}) s LEFT JOIN {names} n ON n.id = s.{g}",
            g=q(column),
            m=", ".join(f"s.{q(m)}" for m in milestones),
            sums=sums,
            names=names,
        ),
        params,
    )
    # Sorted by id in Python (itemgetter: no Python call per row of 50 000 grids), unplaced last.
    placed = sorted((row for row in rows if row[0] is not None), key=itemgetter(0))
    unplaced = [row for row in rows if row[0] is None]
    return [(g, name, dict(zip(milestones, counts, strict=True))) for g, name, *counts in placed + unplaced]


def totals(
    *,
    start: dt.date,
    end: dt.date,
    group_by: GroupBy,
    user: Any = None,
    milestones: Sequence[str] = MILESTONES,
) -> list[Row]:
    """Counts of ``milestones`` per group for the days ``start`` … ``end`` (both included), ordered
    by id with the unplaced group last: whole months from the month rollups where they can answer,
    the other days from the daily rollups."""
    sums = named_sums(start, end, f"{group_by}_id", name_table(group_by), user, milestones)
    return [
        Row(id=g, name=(name or "") if g is not None else UNPLACED, counts=counts) for g, name, counts in sums
    ]


def _ratio(num: float, den: float) -> float | None:
    return num / den if den else None


# The fields (and columns) of MetricSettings that Weights holds, in its order.
_WEIGHT_FIELDS = (
    "basically_satisfied_weight",
    "response_weight",
    "solve_weight",
    "satisfaction_weight",
    "grade_a",
    "grade_b",
    "grade_c",
    "grade_d",
)


@dataclass(frozen=True)
class Weights:
    """MetricSettings as floats, read once per query rather than once per row (a district's grid
    table has 15 000 rows)."""

    basic: float
    response: float
    solve: float
    satisfaction: float
    grades: tuple[tuple[str, float], ...]

    @classmethod
    def current(cls) -> Weights:
        """The weights of :meth:`.models.MetricSettings.current`, read in one plain statement: each
        figure of the dashboard reads them, and building and compiling the ORM's query took 0.85 ms
        at 10 M cases, against 0.3 ms for the statement."""
        table = connection.ops.quote_name(MetricSettings._meta.db_table)
        rows = _fetch(_sql("SELECT {c} FROM {t} ORDER BY id LIMIT 1", c=_quoted(_WEIGHT_FIELDS), t=table), ())
        if not rows:  # the row is created with its defaults on first use
            return cls.of(MetricSettings.current())
        return cls._of_values(rows[0])

    @classmethod
    def of(cls, cfg: MetricSettings) -> Weights:
        return cls._of_values(getattr(cfg, name) for name in _WEIGHT_FIELDS)

    @classmethod
    def _of_values(cls, values: Iterable[Any]) -> Weights:
        """From the values of :data:`_WEIGHT_FIELDS`, in its order."""
        basic, response, solve, satisfaction, *grades = map(float, values)
        return cls(basic, response, solve, satisfaction, tuple(zip("ABCD", grades, strict=True)))


def grade(score: float | None, cfg: MetricSettings | Weights) -> str:
    """A [grade_a, 100], B, C, D, E below grade_d (standards.md §1.4)."""
    if score is None:
        return ""
    weights = cfg if isinstance(cfg, Weights) else Weights.of(cfg)
    for letter, low in weights.grades:
        if score >= low:
            return letter
    return "E"


Rates = tuple[float | None, float | None, float | None, float | None]


def rates_and_score(c: dict[str, int], w: Weights) -> Rates:
    """``(response, solve, satisfaction, score)`` of one group's counts (None: nothing to rate)."""
    response = _ratio(c["signed_in_time"], c["dispatched"])
    solve = _ratio(c["solved"], c["called_back"])
    satisfaction = _ratio(c["satisfied"] + w.basic * c["basically_satisfied"], c["called_back"])
    if response is None and solve is None and satisfaction is None:
        return response, solve, satisfaction, None
    # A missing rate (nothing dispatched, nobody called back) scores as full: no failures.
    score = 100 * (
        (1.0 if response is None else response) * w.response
        + (1.0 if solve is None else solve) * w.solve
        + (1.0 if satisfaction is None else satisfaction) * w.satisfaction
    )
    return response, solve, satisfaction, score


def apply_three_rates(row: Row, cfg: MetricSettings | Weights) -> None:
    w = cfg if isinstance(cfg, Weights) else Weights.of(cfg)
    response, solve, satisfaction, row.score = rates_and_score(row.counts, w)
    row.rates = {"response": response, "solve": solve, "satisfaction": satisfaction}
    row.grade = grade(row.score, w)


def three_rates(
    *,
    start: dt.date,
    end: dt.date,
    group_by: GroupBy = "street",
    user: Any = None,
    milestones: Sequence[str] = MILESTONES,
) -> list[Row]:
    """三率 per group: 响应率 = 按时签收/派遣, 解决率 = 解决/回访, 满意率 = (满意 + w·基本满意)/回访,
    and 综合成绩 = 100 × Σ weight·rate, with its grade. The rows' counts hold ``milestones``
    (at least :data:`RATE_MILESTONES`)."""
    weights = Weights.current()
    rows = totals(start=start, end=end, group_by=group_by, user=user, milestones=milestones)
    for row in rows:
        apply_three_rates(row, weights)
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
