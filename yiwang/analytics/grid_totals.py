"""Every grid's running counts, day by day: the grid tables of any period in two reads (issue 7).

A grid table (the dashboard's lowest grids, the map's colours) sums the period's rollup rows of
every grid: at 50 000 grids that is 50 000 rows for one month and over half a million for a range
such as 11 May … 18 November (edge days, weeks, months), 0.1–0.5 s in PostgreSQL whatever the plan.
Here :class:`GridTotals` keeps, for each day with rollup rows, every grid's counts from the first
day through that day, as one array (milestone × grid id). The sums over ``start`` … ``end`` are then
``T(end) − T(start − 1)``: two rows, whatever the period.

The totals are a cache of the rollups, never of the events:

- ``RollupState.grid_totals_through`` is the last day whose totals agree with the rollups. Adding
  counts of a day (:func:`stale_from`, called by ``rollup.add`` under the state lock) moves it back
  before that day; a rebuild empties the totals.
- :func:`fill` (after each rollup catch-up) writes the days after it up to today, from the daily
  rollup rows, under the same lock. Today's row is written again after each catch-up that counted
  something today: once per change in the job, where every web process's first read of a period
  ending today had summed today's rollup rows (75 ms for a whole day at 10 M cases).
- A read (:func:`period_sums_by_grid`) takes the days after it from the rollups (between a catch-up
  and its fill, or a period ending in the future), so it is exact whether or not the fill has run;
  before the first fill, or for a scope that is not a set of grids (a department's), the caller reads
  the rollups as before.
- Each process keeps the sums of the last :data:`KEPT_PERIODS` periods it read, keyed by the ids of
  the two rows read (a row is never changed: a fill deletes it and writes a new one, and ids are
  never reused) and, for a period that also reads days after the totals, by the rollup state's
  version (``high_water``, ``updated_at``, ``grid_totals_through``), which every change to the
  rollups saves. So a kept sum is never older than the data, and a period that ended before today
  (last month) stays kept while today's counts change; a period ending today is summed again after
  each change, from its two rows. A kept period costs one read of the state.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import Min, Q
from django.utils import timezone

from yiwang.analytics.metrics import AREA_ROLES, RATE_MILESTONES, period_rows
from yiwang.analytics.models import DailyRollup, GridTotals, RollupState
from yiwang.core.scoping import area_q, scope_of
from yiwang.grids.models import GRID_AREA, Division, DivisionLevel, Grid
from yiwang.people.models import Role

log = logging.getLogger(__name__)

# What the grid tables read: the 三率's counts, and new and overdue cases for the map.
GRID_MILESTONES: tuple[str, ...] = (*RATE_MILESTONES, "registered", "overdue")
DAY = dt.timedelta(days=1)
DAYS_PER_TRANSACTION = 31  # the catch-up waits for the state lock at most this many days' reads
# Periods whose sums a process keeps (as int32, 2.2 MB each at 50 000 grids): the dashboard's and
# the map's usual periods (this and last month, this year, the last 12 months) and a few others.
KEPT_PERIODS = 6
Counts = npt.NDArray[np.int64]


class UnreadableTotals(Exception):
    """A stored row that is not an array of the expected shape (damaged, or of another version)."""


def _encode(totals: Counts) -> bytes:
    # The four byte planes one after the other (all lowest bytes, then the next…): the high ones are
    # nearly all zero. At 50 000 grids a day is 0.26 MB instead of the plain array's 0.44 MB, and it
    # decodes in 5 ms instead of 6.
    planes = totals.astype("<i4").view(np.uint8).reshape(-1, 4).T
    return zlib.compress(np.ascontiguousarray(planes).tobytes(), 6)


def _decode(row: GridTotals | None) -> Counts:
    """The row's array, milestone × grid id (no row: no grid)."""
    if row is None:
        return np.zeros((len(GRID_MILESTONES), 0), dtype=np.int64)
    try:
        planes = np.frombuffer(zlib.decompress(bytes(row.data)), dtype=np.uint8).reshape(4, -1)
        stored = _joined_planes(planes).reshape(len(GRID_MILESTONES), -1)
    except (zlib.error, ValueError) as exc:
        raise UnreadableTotals(f"grid totals of {row.day}: {exc}") from exc
    return stored.astype(np.int64)


def _joined_planes(planes: npt.NDArray[np.uint8]) -> npt.NDArray[np.int32]:
    # Shifted in, the highest plane first: at 50 000 grids 0.4 ms, where transposing the planes
    # back into little-endian int32s took 3.4 ms.
    joined = planes[3].astype(np.int32)
    for plane in planes[2::-1]:
        joined <<= 8
        joined |= plane
    return joined


def _latest(day: dt.date) -> GridTotals | None:
    """The row of the last day with rollup rows up to ``day`` (its totals are ``day``'s)."""
    return GridTotals.objects.filter(day__lte=day).order_by("-day").first()


def _through() -> dt.date | None:
    return RollupState.objects.filter(pk=1).values_list("grid_totals_through", flat=True).first()


def _days_sums(start: dt.date, end: dt.date) -> Counts:
    """Each grid's sums of the rollup rows of ``start`` … ``end`` as an array (the unplaced rows
    left out). The rows go into the array as the database returns them: at 10 M cases, putting
    today's 6,400 grid rows (early in the day; a whole day has 29,000) through a dict per grid
    cost 15–20 ms of Python on each first read of a period."""
    rows = [row for row in period_rows(start, end, ("grid_id",), GRID_MILESTONES) if row[0] is not None]
    if not rows:
        return np.zeros((len(GRID_MILESTONES), 1), dtype=np.int64)
    table = np.array(rows, dtype=np.int64)
    out = np.zeros((len(GRID_MILESTONES), int(table[:, 0].max()) + 1), dtype=np.int64)
    out[:, table[:, 0]] = table[:, 1:].T
    return out


def _add(a: Counts, b: Counts) -> Counts:
    """``a + b``, the narrower one widened with zeros (grids added since it was written)."""
    out = np.zeros((len(GRID_MILESTONES), max(a.shape[1], b.shape[1])), dtype=np.int64)
    out[:, : a.shape[1]] += a
    out[:, : b.shape[1]] += b
    return out


def _running(first: dt.date, last: dt.date, totals: Counts) -> Iterator[tuple[dt.date, bool, Counts]]:
    """Each day of ``first`` … ``last``, whether it has rollup rows, and the totals through it
    (``totals``: those through the day before ``first``)."""
    day = first
    while day <= last:
        added = _days_sums(day, day)
        totals = _add(totals, added)
        yield day, bool(added.any()), totals
        day += DAY


# --- writing ----------------------------------------------------------------------------------------
def stale_from(day: dt.date) -> None:
    """Counts of ``day`` were added to the rollups: the totals from that day on no longer agree."""
    RollupState.objects.filter(pk=1, grid_totals_through__gte=day).update(grid_totals_through=day - DAY)


def fill(*, until: dt.date | None = None) -> int:
    """Write the totals of the days after ``grid_totals_through`` up to ``until`` (today unless
    told); returns how many days were read. Under the rollup state's lock,
    :data:`DAYS_PER_TRANSACTION` days per transaction."""
    until = until or timezone.localdate()
    read = 0
    while True:
        with transaction.atomic():
            state = RollupState.objects.select_for_update().filter(pk=1).first()
            if state is None or state.rebuilding_since is not None:
                return read
            through = state.grid_totals_through
            first = through + DAY if through is not None else _first_rollup_day()
            if first is None or first > until:
                return read
            last = min(until, first + (DAYS_PER_TRANSACTION - 1) * DAY)
            _write_days(first, last, through)
            state.grid_totals_through = last
            state.save(update_fields=["grid_totals_through", "updated_at"])
            read += (last - first).days + 1


def _first_rollup_day() -> dt.date | None:
    return DailyRollup.objects.aggregate(first=Min("day"))["first"]


def _write_days(first: dt.date, last: dt.date, through: dt.date | None) -> None:
    """Rewrite the rows of ``first`` … ``last`` from the totals through ``through`` and the days'
    rollup rows (a row written before the counts moved back is replaced)."""
    totals = _decode(_latest(through) if through is not None else None)
    GridTotals.objects.filter(day__gte=first).delete()
    GridTotals.objects.bulk_create(
        GridTotals(day=day, data=_encode(running))
        for day, counted, running in _running(first, last, totals)
        if counted
    )


def mismatched_days() -> list[dt.date]:
    """The days up to ``grid_totals_through``, today left out, whose stored totals differ from the
    rollups' (a row missing or extra included): ``rollup verify`` reports them, ``rollup rebuild``
    rewrites them. Today's row is written again after every catch-up that counts something today,
    so a verify reading it while the job adds to today would report a difference that is not one."""
    through, first = _through(), _first_rollup_day()
    if through is None or first is None:
        return []
    through = min(through, timezone.localdate() - DAY)
    stored = {row.day: row for row in GridTotals.objects.filter(day__lte=through)}
    wrong = []
    for day, counted, running in _running(first, through, _decode(None)):
        row = stored.pop(day, None)
        if counted != (row is not None) or (row is not None and not _agrees(row, running)):
            wrong.append(day)
    return sorted([*wrong, *stored])


def _agrees(row: GridTotals, totals: Counts) -> bool:
    try:
        return not _add(_decode(row), -totals).any()
    except UnreadableTotals:
        return False


# --- reading ----------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class GridSums:
    """The period's counts of the grids ``user`` may see that have any: ``ids`` ascending, and
    ``counts[m]`` the array of milestone ``m`` in the same order. ``derived`` keeps what callers
    compute from these sums (a score, the unplaced row's sums): kept as long as the sums are, that
    is, for every grid, until the rollup state moves on."""

    ids: npt.NDArray[np.int64]
    counts: dict[str, npt.NDArray[np.int32]]
    derived: dict[Any, Any] = field(default_factory=dict, repr=False)


def period_sums_by_grid(start: dt.date, end: dt.date, user: Any = None) -> GridSums | None:
    """Each visible grid's sums of :data:`GRID_MILESTONES` over ``start`` … ``end``, from the totals
    and the rollup rows of the days after them; None when the totals cannot answer (not filled up to
    the day before ``start``, a scope that is not a set of grids, a damaged row): read the rollups."""
    if start > end:
        return None
    state = _state_and_rows(start, end)
    if state is None:
        return None
    high_water, updated_at, through, last_row, first_row = state
    if through is None or start - DAY > through:
        return None
    allowed = _visible_grids(user)
    if allowed is None:
        return None
    # Days after the totals come from the rollup rows, which change with the state's version.
    after = (high_water, updated_at, through) if end > through else None
    every = _every_grid_sums(start, end, last_row, first_row, after)
    if every is None or allowed is True:
        return every
    visible = np.isin(every.ids, allowed)
    return GridSums(ids=every.ids[visible], counts={m: c[visible] for m, c in every.counts.items()})


# The rollup state's version and the ids of the two rows a read subtracts (those through the
# period's end or ``grid_totals_through``, whichever is first, and through the day before its start),
# in one statement written once: building it with the ORM took 3 of its 4 ms, on every kept read.
_STATE_SQL = (
    "SELECT s.high_water, s.updated_at, s.grid_totals_through, "
    "(SELECT t.id FROM {totals} t WHERE t.day <= CASE WHEN s.grid_totals_through < %s "
    "THEN s.grid_totals_through ELSE %s END ORDER BY t.day DESC LIMIT 1), "
    "(SELECT t.id FROM {totals} t WHERE t.day <= %s ORDER BY t.day DESC LIMIT 1) "
    "FROM {state} s WHERE s.id = 1"
)


def _state_and_rows(start: dt.date, end: dt.date) -> tuple[Any, ...] | None:
    """``high_water``, ``updated_at``, ``grid_totals_through`` and the ids of the rows through the
    period's last day that the totals hold and through the day before ``start`` (None: no row)."""
    q = connection.ops.quote_name
    sql = _STATE_SQL.format(totals=q(GridTotals._meta.db_table), state=q(RollupState._meta.db_table))
    with connection.cursor() as cursor:
        cursor.execute(sql, [end, end, start - DAY])
        return cursor.fetchone()


_ROWS_SQL = "SELECT id, day, data FROM {totals} WHERE id IN (%s, %s)"


def _rows(first: int | None, second: int | None) -> dict[int | None, GridTotals]:
    """The rows with these ids (a raw read: the ORM's took twice as long for two rows)."""
    sql = _ROWS_SQL.format(totals=connection.ops.quote_name(GridTotals._meta.db_table))
    with connection.cursor() as cursor:
        cursor.execute(sql, [first, second])
        return {pk: GridTotals(pk=pk, day=day, data=data) for pk, day, data in cursor.fetchall()}


@functools.lru_cache(maxsize=KEPT_PERIODS)
def _every_grid_sums(
    start: dt.date,
    end: dt.date,
    last_row: int | None,
    first_row: int | None,
    after: tuple[int, dt.datetime, dt.date] | None,
) -> GridSums | None:
    """Every grid's sums over ``start`` … ``end`` (read-only arrays, shared by the calls that find
    them kept): row ``last_row`` less row ``first_row``, plus, with ``after`` (the rollup state's
    version, its last field the day the totals run through), the rollup rows of the days after the
    totals; None when a stored row is unreadable or gone: read the rollups."""
    if last_row == first_row:  # no day with counts inside the totals' part of the period
        sums = _decode(None)
    else:
        rows = _rows(last_row, first_row)
        if any(pk is not None and pk not in rows for pk in (last_row, first_row)):
            return None  # rewritten by a fill since the state was read (its new id is never this one)
        try:
            sums = _add(_decode(rows.get(last_row)), -_decode(rows.get(first_row)))
        except UnreadableTotals:
            log.exception("grid totals unreadable: reading the rollups instead")
            return None
    if after is not None:
        sums = _add(sums, _days_sums(after[2] + DAY, end))
    keep = sums.any(axis=0)
    keep[:1] = False  # no grid has id 0 (and a period before the first counts has no column)
    ids = np.flatnonzero(keep)
    # As stored, int32: a day's totals fit, and so does any difference of two.
    table = sums[:, ids].astype(np.int32)
    for array in (ids, table):
        array.flags.writeable = False
    return GridSums(ids=ids, counts=dict(zip(GRID_MILESTONES, table, strict=True)))


def forget_kept_sums() -> None:
    """Drop this process's kept sums (tests: a rolled-back test can leave the same row ids and state
    version)."""
    _every_grid_sums.cache_clear()


def _every_district(ids: frozenset[int]) -> bool:
    """Whether ``ids`` hold every district (a city's leader): every grid, without listing them."""
    return (
        bool(ids) and not Division.objects.filter(level=DivisionLevel.DISTRICT).exclude(pk__in=ids).exists()
    )


def _visible_grids(user: Any) -> npt.NDArray[np.int64] | bool | None:
    """The ids of the grids whose rollup rows ``user`` may aggregate (True: every grid; None: the
    scope is not a set of grids: a department's rows may lie in any grid). The same rule as
    ``metrics._scope_filter``, on the grid table."""
    if user is None:
        return True
    scope = scope_of(user)
    if scope.everything:
        return True
    if scope.department_ids:
        return None
    if scope.roles.intersection(AREA_ROLES) and _every_district(scope.district_ids):
        return True
    q = Q(pk__in=[])
    if scope.roles.intersection(AREA_ROLES):
        q |= area_q(scope, GRID_AREA)
    if Role.GRID_WORKER in scope.roles and scope.grid_ids:
        q |= Q(pk__in=sorted(scope.grid_ids))
    try:
        sql, params = Grid.objects.filter(q).values_list("pk").order_by().query.sql_with_params()
    except EmptyResultSet:  # an empty scope
        return np.zeros(0, dtype=np.int64)
    with connection.cursor() as cursor:  # 50 000 ids: a cursor rather than model instances
        cursor.execute(sql, params)
        return np.array([row[0] for row in cursor.fetchall()], dtype=np.int64)
