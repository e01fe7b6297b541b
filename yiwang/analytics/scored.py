"""三率 and the combined score of every group for the tables that only show a few groups or one
number per group: the dashboard's lowest grids and the map's colours.

:func:`.metrics.three_rates` builds one Python row per group, which is what a report of every grid
needs; at 50 000 grids that costs about a second. Here a grid table is computed from every grid's
running totals (:mod:`.grid_totals`: two rows whatever the period) with numpy; other groups, and
grids when the totals cannot answer, from the period's rollup rows (the same levels as
:func:`.metrics.period_sums`), summed, rated, scored and ordered in one statement. The numpy and
the SQL forms write the formulas of :func:`.metrics.rates_and_score` in its order of operations, so
all three give the same floating-point numbers and the same order. A group is listed when any of
:data:`.grid_totals.GRID_MILESTONES` is not zero over the period. A period whose sums a process
keeps (:data:`.grid_totals.KEPT_PERIODS`) keeps its grids' score and its unplaced row's sums with
them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection

from yiwang.analytics.grid_totals import GRID_MILESTONES, GridSums, period_sums_by_grid
from yiwang.analytics.metrics import (
    RATE_MILESTONES,
    UNPLACED,
    GroupBy,
    Row,
    Weights,
    apply_three_rates,
    grade,
    name_table,
    period_parts,
    period_sums,
    sums_sql,
)
from yiwang.analytics.rollup_store import _quoted, _sql
from yiwang.core.scoping import scope_of
from yiwang.grids.models import Grid

RATES = ("response", "solve", "satisfaction", "score")


def _with_rates(milestones: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys((*GRID_MILESTONES, *milestones)))


def _real(expression: str) -> str:
    return f"CAST({expression} AS DOUBLE PRECISION)"


def _scored_sql(
    start: dt.date, end: dt.date, group_by: GroupBy, user: Any, milestones: Sequence[str], w: Weights
) -> tuple[str, list[Any]] | None:
    """A SELECT of ``g`` (the group's id), the sums of ``milestones`` and :data:`RATES` per group;
    None when the period holds no day. The rates need :data:`.metrics.RATE_MILESTONES` and whether
    a group is listed :data:`.grid_totals.GRID_MILESTONES`: they are always summed."""
    milestones = _with_rates(milestones)
    column = f"{group_by}_id"
    parts = period_parts(start, end, (column,), user, {})
    if not parts:  # an empty period
        return None
    groups, part_params = sums_sql(parts, (column,), milestones)
    # The statement's placeholders in order: the weights in the rates and the score, then the parts'.
    params: list[Any] = [w.basic, w.response, w.solve, w.basic, w.satisfaction, *part_params]
    response = f"{_real('signed_in_time')} / NULLIF(dispatched, 0)"
    solve = f"{_real('solved')} / NULLIF(called_back, 0)"
    satisfaction = f"(satisfied + {_real('%s')} * basically_satisfied) / NULLIF(called_back, 0)"
    # As rates_and_score: a missing rate counts as full, no rate at all is no score.
    score = (
        "CASE WHEN dispatched = 0 AND called_back = 0 THEN NULL ELSE 100 * ("
        f"COALESCE({response}, 1.0) * {_real('%s')} + COALESCE({solve}, 1.0) * {_real('%s')}"
        f" + COALESCE({satisfaction}, 1.0) * {_real('%s')}) END"
    )
    statement = _sql(
        "SELECT {g} AS g, {m}, {response} AS response, {solve} AS solve, {satisfaction} AS satisfaction, "
        "{score} AS score FROM ({groups}) sums WHERE {listed}",
        g=connection.ops.quote_name(column),
        m=_quoted(milestones),
        response=response,
        solve=solve,
        satisfaction=satisfaction,
        score=score,
        groups=groups,
        listed=" OR ".join(f"{connection.ops.quote_name(m)} <> 0" for m in GRID_MILESTONES),
    )
    return statement, params


def lowest_scores(
    *, start: dt.date, end: dt.date, group_by: GroupBy = "grid", user: Any = None, limit: int | None = 50
) -> tuple[list[Row], int]:
    """The ``limit`` groups (all with None) with the lowest combined score, unscored ones last,
    then by name (code-point order) and id, as :func:`.metrics.three_rates` rows holding
    :data:`.metrics.RATE_MILESTONES`, and how many groups there are: the dashboard's grid table
    (the page's lowest grids, the export's every grid). Grids are ranked from their running totals
    when those can answer, anything else by the database."""
    weights = Weights.current()
    if group_by == "grid":
        by_grid = period_sums_by_grid(start, end, user)
        if by_grid is not None:
            return _lowest_grids(by_grid, start, end, user, limit, weights)
    scored = _scored_sql(start, end, group_by, user, RATE_MILESTONES, weights)
    if scored is None:
        return [], 0
    sql, params = scored
    # Names compare as code points, as Python's sort would ("C" is PostgreSQL's byte order; SQLite
    # compares bytes by default).
    collate = ' COLLATE "C"' if connection.vendor == "postgresql" else ""

    def order(name: str) -> str:
        return (
            "CASE WHEN s.score IS NULL THEN 1 ELSE 0 END, s.score, "
            f"CASE WHEN s.g IS NULL THEN 1 ELSE 0 END, {name}{collate}, s.g"
        )

    names = {
        "m": ", ".join("s." + connection.ops.quote_name(m) for m in RATE_MILESTONES),
        "scored": sql,
        "names": name_table(group_by),
    }
    if limit is not None and connection.vendor == "postgresql":
        # Only the groups that can be among the lowest (scoring at most the limit-th score, ties
        # included) are named and ordered by name, and the groups are counted once: naming,
        # counting and ordering 50 000 grids took longer than scoring them. The limit-th lowest
        # score comes from a top-N sort (cut.high); all groups are candidates when unscored ones
        # are among the lowest (cut.unscored).
        statement = _sql(
            "WITH scored AS MATERIALIZED ({scored}), cut AS (SELECT MAX(score) AS high, "
            "BOOL_OR(score IS NULL) AS unscored FROM (SELECT score FROM scored ORDER BY score NULLS LAST "
            "LIMIT %s) lowest) "
            "SELECT s.g, n.name, {m}, (SELECT COUNT(*) FROM scored) FROM scored s CROSS JOIN cut "
            "CROSS JOIN LATERAL (SELECT COALESCE((SELECT name FROM {names} WHERE id = s.g), '') AS name) n "
            "WHERE cut.unscored OR s.score <= cut.high ORDER BY {order} LIMIT %s",
            order=order("n.name"),
            **names,
        )
        params = [*params, limit, limit]
    else:
        statement = _sql(
            "SELECT s.g, COALESCE(n.name, ''), {m}, COUNT(*) OVER () FROM ({scored}) s "
            "LEFT JOIN {names} n ON n.id = s.g ORDER BY {order}",
            order=order("COALESCE(n.name, '')"),
            **names,
        )
        if limit is not None:
            statement += " LIMIT %s"
            params = [*params, limit]
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        fetched = cursor.fetchall()
    rows = []
    for g, name, *rest in fetched:
        row = Row(
            id=g,
            name=name if g is not None else UNPLACED,
            counts=dict(zip(RATE_MILESTONES, rest[:-1], strict=True)),
        )
        apply_three_rates(row, weights)
        rows.append(row)
    # Every row carries the count of all groups; none came back: there is no group.
    return rows, (fetched[0][-1] if fetched else 0)


@dataclass(frozen=True)
class GroupValues:
    """One number per placed group: ``ids`` ascending, ``values`` in the same order (a float array
    for rates and the score, NaN where there is nothing to rate; an integer array for sums). Arrays
    rather than a dict: the map colours 50 000 grids, and a Python value per grid cost more than
    computing them."""

    ids: npt.NDArray[np.int64]
    values: npt.NDArray[Any]

    def as_dict(self) -> dict[int, float | int | None]:
        """``{id: value}``, None for NaN."""
        return dict(zip(self.ids.tolist(), nan_as_none(self.values), strict=True))


def values_by(
    value: str,
    *,
    start: dt.date,
    end: dt.date,
    group_by: GroupBy,
    user: Any = None,
    milestones: Sequence[str] = RATE_MILESTONES,
) -> GroupValues:
    """One number per placed group: a sum of one of ``milestones`` or one of :data:`RATES` (rates
    0–1, score 0–100; NaN when there is nothing to rate)."""
    if value not in RATES and value not in _with_rates(milestones):
        raise ValueError(f"unknown value {value!r}")
    weights = Weights.current()
    if group_by == "grid" and value in (*RATES, *GRID_MILESTONES):
        by_grid = period_sums_by_grid(start, end, user)
        if by_grid is not None:
            if value in GRID_MILESTONES:
                return GroupValues(by_grid.ids, by_grid.counts[value])
            if value == "score":
                return GroupValues(by_grid.ids, _kept_score(by_grid, weights))
            return GroupValues(by_grid.ids, _rates(by_grid.counts, weights)[value])
    scored = _scored_sql(start, end, group_by, user, milestones, weights)
    if scored is None:
        return GroupValues(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))
    sql, params = scored
    with connection.cursor() as cursor:
        cursor.execute(
            _sql(
                "SELECT s.g, s.{v} FROM ({scored}) s WHERE s.g IS NOT NULL ORDER BY s.g",
                v=connection.ops.quote_name(value),
                scored=sql,
            ),
            params,
        )
        fetched = cursor.fetchall()
    ids = np.array([g for g, _v in fetched], dtype=np.int64)
    if value in RATES:
        return GroupValues(ids, np.array([np.nan if v is None else v for _g, v in fetched], dtype=np.float64))
    return GroupValues(ids, np.array([v for _g, v in fetched], dtype=np.int64))


# --- from every grid's running totals ----------------------------------------------------------------
Floats = npt.NDArray[np.float64]


def _rates(counts: dict[str, npt.NDArray[np.int32]], w: Weights) -> dict[str, Floats]:
    """:func:`.metrics.rates_and_score` over arrays, operation for operation (NaN: None)."""

    def ratio(num: Floats, den: npt.NDArray[np.int32]) -> Floats:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(den != 0, num / den, np.nan)

    response = ratio(counts["signed_in_time"].astype(np.float64), counts["dispatched"])
    solve = ratio(counts["solved"].astype(np.float64), counts["called_back"])
    satisfaction = ratio(counts["satisfied"] + w.basic * counts["basically_satisfied"], counts["called_back"])
    score = 100 * (
        np.where(np.isnan(response), 1.0, response) * w.response
        + np.where(np.isnan(solve), 1.0, solve) * w.solve
        + np.where(np.isnan(satisfaction), 1.0, satisfaction) * w.satisfaction
    )
    score[np.isnan(response) & np.isnan(solve) & np.isnan(satisfaction)] = np.nan
    return {"response": response, "solve": solve, "satisfaction": satisfaction, "score": score}


def nan_as_none(values: npt.NDArray[Any]) -> list[Any]:
    """``values`` as a list of Python numbers, None for NaN (the rows' and the map's "nothing to rate")."""
    if values.dtype.kind != "f":
        return values.tolist()
    return [None if v != v else v for v in values.tolist()]  # NaN is the one value unequal to itself


# More grids than this are named from the whole grid table, one read of every name, rather than an
# IN list of their ids: an export's 50,000 would also pass SQLite's 32,766 parameters.
NAMED_BY_ID = 1000


def _kept_score(by_grid: GridSums, w: Weights) -> Floats:
    """The combined score of every grid of ``by_grid``, kept with the sums (``by_grid.derived``)
    while the weights are the same: a kept period is then ranked without rating 50 000 grids."""
    kept = by_grid.derived.get("score")
    if kept is None or kept[0] != w:
        score = _rates(by_grid.counts, w)["score"]
        score.flags.writeable = False
        kept = by_grid.derived["score"] = (w, score)
    return kept[1]


def _unplaced_sums(by_grid: GridSums, start: dt.date, end: dt.date, user: Any) -> dict[str, int]:
    """The sums of the rows without a grid that ``user`` may see, kept with the sums per scope."""
    key = ("unplaced", None if user is None else scope_of(user))
    if key not in by_grid.derived:
        by_grid.derived[key] = period_sums(start, end, (), user, milestones=GRID_MILESTONES, grid_id=None)[()]
    return dict(by_grid.derived[key])


def _lowest_grids(
    by_grid: GridSums, start: dt.date, end: dt.date, user: Any, limit: int | None, weights: Weights
) -> tuple[list[Row], int]:
    """:func:`lowest_scores` of grids from their totals: the grids that can be among the ``limit``
    lowest (scoring at most the limit-th score, ties included; every grid when there are fewer
    scored ones or no limit) and the unplaced group are named and sorted in Python."""
    score = _kept_score(by_grid, weights)
    scored = ~np.isnan(score)
    if limit is not None and int(scored.sum()) >= limit:
        cut = np.partition(score[scored], limit - 1)[limit - 1]
        picked = np.flatnonzero(scored & (score <= cut))
    else:
        picked = np.arange(score.size)
    ids = by_grid.ids[picked].tolist()
    grids = Grid.objects.filter(pk__in=ids) if len(ids) <= NAMED_BY_ID else Grid.objects.all()
    names = dict(grids.values_list("pk", "name"))
    # The rows take their rates from the arrays (rates_and_score's values, computed alike): building
    # them row by row cost half the time of an export of 50 000 grids.
    picked_counts = {m: by_grid.counts[m][picked] for m in RATE_MILESTONES}
    rates = _rates(picked_counts, weights)
    columns = [picked_counts[m].tolist() for m in RATE_MILESTONES]
    response, solve, satisfaction, scores = (nan_as_none(rates[k]) for k in RATES)
    rows = [
        Row(
            id=g,
            name=names.get(g, ""),
            counts=dict(zip(RATE_MILESTONES, counts, strict=True)),
            rates={"response": r, "solve": s, "satisfaction": t},
            score=v,
            grade=grade(v, weights),
        )
        for g, r, s, t, v, *counts in zip(ids, response, solve, satisfaction, scores, *columns, strict=True)
    ]
    unplaced = _unplaced_sums(by_grid, start, end, user)
    listed = len(by_grid.ids)
    if any(unplaced.values()):
        row = Row(id=None, name=UNPLACED, counts={m: unplaced[m] for m in RATE_MILESTONES})
        apply_three_rates(row, weights)
        rows.append(row)
        listed += 1
    rows.sort(key=lambda r: (r.score is None, r.score or 0.0, r.id is None, r.name, r.id or 0))
    return rows[:limit], listed
