"""``yiwang rollup rebuild``: empty the rollups and count every event again, in parallel workers.

The counting rules are those of the incremental path (:func:`.rollup.step`); what changes is the
order of work. A case's events only ever change that case's track, so the cases are split into
ranges of ids and each range is replayed on its own, by several processes on PostgreSQL. There a
range is read and replayed as numpy columns (:func:`.columnar.read_columns` and
:func:`.columnar.daily_counts`: the rules applied to all its events at once); on SQLite event by
event (:func:`.rollup.read_range` and :func:`.rollup.replay`). Ranges may finish in any order,
and two ranges may count the same daily key (cases of both on the same day, grid, category, channel
and department), so the daily rows are written without a unique key:

* on PostgreSQL each range COPYs its rows (binary, keys included) straight into the daily table,
  whose indexes and unique key are dropped at the start; at the end the few shared keys are summed
  into one row (:func:`.rollup_store.merge_duplicate_keys`);
* on SQLite (one process; a unique key written into the table definition cannot be dropped) each
  range appends to a stage table, summed into the daily rows at the end.

Then each coarser level is filled from the smallest level already filled, with their indexes set
aside, and every index and key is built again from the models' declarations: on PostgreSQL in two
sessions at once (:data:`FINISH_PARTS`: the daily table's merge and indexes with the month and year
grid levels, beside the other coarser levels), on SQLite in one transaction.

While it runs, ``RollupState.rebuilding_since`` is set and the incremental catch-up stands aside;
at the end the high-water mark is the last event id seen at the start, and the ordinary catch-up
counts whatever arrived meanwhile. A rebuild that died half-way leaves the mark set (catch-up keeps
waiting, so nothing is counted on a half-built base): run it again with ``--force``, which also
builds the indexes the dead one had dropped.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from yiwang.analytics import columnar, rebuild_worker
from yiwang.analytics.models import DAILY, LEVELS, CaseTrack, GridTotals, Level, ProcessedEvent
from yiwang.analytics.rollup import (
    TRACK_FIELDS,
    RangeCounts,
    _lock_state,
    case_ranges,
    catch_up,
    dims_between,
    fill_order,
    overlap_window,
    read_range,
    replay,
    smallest_source,
    stage_counts,
)
from yiwang.analytics.rollup_store import (
    add_declared,
    bulk_session,
    copy_rows,
    create_stage,
    derive,
    drop_secondary,
    drop_stage,
    empty,
    fill_from_stage,
    indexes_set_aside,
    merge_duplicate_keys,
)
from yiwang.cases.models import CaseEvent

DEFAULT_CHUNK = 50_000  # case ids per range: a few hundred thousand events in memory at most
# SQLite only: every range's daily rows, appended without index or key, summed into the daily table
# once at the end.
STAGE = "yw_rebuild_daily"


def _direct() -> bool:
    """Whether ranges write straight into the daily table (see the module's docstring)."""
    return connection.vendor == "postgresql"


class RebuildRunning(RuntimeError):
    """Another rebuild is (or was, until it died) under way."""


@dataclass(frozen=True)
class RangeResult:
    events: int
    recent_ids: list[int]  # ids inside the overlap window below the high-water mark


@dataclass(frozen=True)
class Progress:
    ranges_done: int
    ranges: int
    events: int


def _begin(force: bool) -> int:
    with transaction.atomic():
        state = _lock_state()
        if state.rebuilding_since is not None and not force:
            raise RebuildRunning(
                f"统计重算已于 {state.rebuilding_since:%Y-%m-%d %H:%M} 开始且未结束；确认其已停止后加 --force 重新执行 / "
                "a rebuild started then and has not finished; if it died, run again with --force"
            )
        high = CaseEvent.objects.aggregate(m=Max("pk"))["m"] or 0
        empty(*(level.model for level in LEVELS), CaseTrack, ProcessedEvent, GridTotals)
        if _direct():
            drop_secondary(DAILY.model)
        else:
            create_stage(STAGE, shared=True)
        state.high_water = high
        state.rebuilding_since = timezone.now()
        state.grid_totals_through = None
        state.save(update_fields=["high_water", "rebuilding_since", "grid_totals_through", "updated_at"])
    return high


def _finish(high: int, recent_ids: list[int]) -> None:
    with transaction.atomic():
        state = _lock_state()
        ProcessedEvent.objects.bulk_create(
            [ProcessedEvent(event_id=i) for i in sorted(set(recent_ids))], batch_size=1000
        )
        state.high_water = high
        state.rebuilding_since = None
        state.save(update_fields=["high_water", "rebuilding_since", "updated_at"])


def _recent(lo: int, hi: int, high: int, window: int) -> list[int]:
    ids = CaseEvent.objects.filter(case_id__gte=lo, case_id__lt=hi, pk__gt=high - window, pk__lte=high)
    return list(ids.values_list("pk", flat=True))


def count_range(lo: int, hi: int, high: int, window: int) -> RangeResult:
    """Replay the events (id ≤ ``high``) of the cases with ids in [lo, hi) and add their counts.

    Only the daily rows, appended: adding each range to the indexed daily table cost far more than
    counting (every range touches every day's part of five indexes). A worker dying half-way leaves
    the rebuild unfinished (the state says so), and the next one starts afresh."""
    dims = dims_between(lo, hi)
    if not _direct():
        # SQLite: event by event. There the data's fields would be parsed in Python either way, and
        # feeding them to the columns took twice the CPU of this replay (measured on a district).
        rows = read_range(lo, hi, upto=high)
        counts: RangeCounts = {}
        tracks = replay(rows, dims, counts)
        with transaction.atomic():
            stage_counts(STAGE, counts)
            copy_rows(CaseTrack._meta.db_table, ["case_id", *TRACK_FIELDS], (t.row() for t in tracks))
        return RangeResult(len(rows), _recent(lo, hi, high, window) if rows else [])
    events = columnar.read_columns(lo, hi, upto=high)
    daily, final = columnar.daily_counts(events, dims)
    with transaction.atomic():
        columnar.add_to_daily(daily)
        columnar.write_tracks(final)
    return RangeResult(len(events), _recent(lo, hi, high, window) if len(events) else [])


def _coarser() -> list[Level]:
    return [level for level in fill_order() if level is not DAILY]


def _derive(levels: list[Level]) -> None:
    # Each level summed in one statement from the smallest level already filled (among the daily
    # level and ``levels``, in fill order) that keeps its dimensions.
    filled = [DAILY]
    for level in levels:
        derive(level, smallest_source(level, filled))
        filled.append(level)


def _beside_daily(level: Level) -> bool:
    """Whether ``level`` is summed in the daily half of a PostgreSQL rebuild's end: the month and
    year grid levels (a chain of their own: no other level is summed from them), which even out
    the halves' work (at 10 M cases both took about 445 s; without them the coarser half would have
    taken about 65 s longer)."""
    return "grid_id" in level.dims and level.period in ("month", "year")


def _merge_daily() -> None:
    merge_duplicate_keys(DAILY)
    beside = [level for level in _coarser() if _beside_daily(level)]
    with indexes_set_aside(*(level.model for level in beside)):
        _derive(beside)
    add_declared(DAILY.model)


def _fill_coarser() -> None:
    levels = [level for level in _coarser() if not _beside_daily(level)]
    with indexes_set_aside(*(level.model for level in levels)):
        _derive(levels)


# The end of a PostgreSQL rebuild, in two halves that run at once in two sessions (each one
# statement at a time, so the two cores both work): the daily table's shared keys summed, the month
# and year grid levels, and the daily indexes; and the other coarser levels. The second does not
# wait for the first: a GROUP BY sums two rows of one key as it sums one merged row, and whichever
# version of the daily rows its snapshot sees gives the same sums. Only the daily table's unique key
# (ALTER TABLE, an exclusive lock) waits for the coarser levels' transaction to end.
FINISH_PARTS: dict[str, Callable[[], None]] = {"daily": _merge_daily, "coarser": _fill_coarser}


def finish_part(part: str) -> None:
    """One half of the end of a PostgreSQL rebuild (a key of :data:`FINISH_PARTS`), in its own
    transaction. A rebuild that dies here leaves its mark set; ``--force`` starts again."""
    with transaction.atomic():
        bulk_session()
        FINISH_PARTS[part]()


def _pool(processes: int) -> Any:
    from django.conf import settings

    # The module this process was configured from (pytest-xdist workers leave SETTINGS_MODULE unset).
    module = os.environ.get("DJANGO_SETTINGS_MODULE") or settings.SETTINGS_MODULE or "yiwang.config.settings"
    init = (module, connection.settings_dict["NAME"])
    return multiprocessing.get_context("spawn").Pool(processes, rebuild_worker.init, init)


def rebuild(
    *,
    workers: int = 1,
    chunk: int = DEFAULT_CHUNK,
    force: bool = False,
    progress: Callable[[Progress], None] | None = None,
) -> int:
    """Recount every event; returns how many were counted (including those the final catch-up
    found). ``workers`` > 1 uses that many processes (PostgreSQL only: SQLite has one writer)."""
    high = _begin(force)
    window = overlap_window()
    ranges = case_ranges(chunk)
    jobs = [(lo, hi, high, window) for lo, hi in ranges]
    total, recent = 0, []

    def done(result: RangeResult, n: int) -> None:
        nonlocal total
        total += result.events
        recent.extend(result.recent_ids)
        if progress is not None:
            progress(Progress(n, len(jobs), total))

    pool = (
        _pool(min(workers, len(jobs)))
        if workers > 1 and connection.vendor == "postgresql" and len(jobs) > 1
        else None
    )
    try:
        counted = pool.imap_unordered(rebuild_worker.count, jobs) if pool else (count_range(*j) for j in jobs)
        for n, result in enumerate(counted, start=1):
            done(result, n)
        if _direct():
            list(
                pool.imap_unordered(rebuild_worker.finish_part, FINISH_PARTS)
                if pool
                else map(finish_part, FINISH_PARTS)
            )
        else:
            with transaction.atomic(), indexes_set_aside(*(level.model for level in _coarser())):
                bulk_session()
                fill_from_stage(STAGE)
                drop_stage(STAGE)
                _derive(_coarser())
    finally:
        if pool is not None:
            pool.terminate()
    _finish(high, recent)
    return total + catch_up()
