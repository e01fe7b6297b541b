"""``yiwang rollup rebuild``: empty the rollups and count every event again, in parallel workers.

The counting rules are those of the incremental path (:func:`.rollup.step`); what changes is the
order of work. A case's events only ever change that case's track, so the cases are split into
ranges of ids and each range is replayed on its own, by several processes on PostgreSQL. There a
range is read and replayed as numpy columns (:func:`.columnar.read_columns` and
:func:`.columnar.daily_counts`: the rules applied to all its events at once); on SQLite event by
event (:func:`.rollup.read_range` and :func:`.rollup.replay`). Ranges may finish in any order,
and two ranges may count the same daily key (cases of both on the same day, grid, category, channel
and department):

* on PostgreSQL each range writes its daily rows to files (:mod:`.spill`), by street bucket; each
  bucket is then summed in numpy into its daily rows and the levels that keep the street, and
  COPYed into tables whose indexes and keys were dropped at the start. Then, in :func:`finish_tasks`
  shared by the workers: the levels without a street summed in numpy from the street levels' rows
  the buckets kept in files, and every index and key built again from the models' declarations,
  one per task;
* on SQLite (one process; a unique key written into the table definition cannot be dropped) each
  range appends to a stage table, summed into the daily rows at the end, and each coarser level is
  filled from the smallest level already filled, in one transaction.

While it runs, ``RollupState.rebuilding_since`` is set and the incremental catch-up stands aside;
at the end the high-water mark is the last event id seen at the start, and the ordinary catch-up
counts whatever arrived meanwhile. A rebuild that died half-way leaves the mark set (catch-up keeps
waiting, so nothing is counted on a half-built base): run it again with ``--force``, which also
builds the indexes the dead one had dropped.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from yiwang.analytics import columnar, rebuild_worker, spill
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
    analyze,
    attach_keys,
    build_declared,
    bulk_session,
    copy_rows,
    create_stage,
    declared,
    derive,
    drop_indexes,
    drop_stage,
    empty,
    fill_from_stage,
    indexes_set_aside,
    set_autovacuum,
)
from yiwang.cases.models import CaseEvent

DEFAULT_CHUNK = 50_000  # case ids per range: a few hundred thousand events in memory at most
# Processes of a PostgreSQL rebuild unless told: one more than the cores, since each waits while its
# own database session works (with one per core, at 10 M cases a core stood idle a tenth of the time).
DEFAULT_WORKERS = (os.cpu_count() or 1) + 1
# SQLite only: every range's daily rows, appended without index or key, summed into the daily table
# once at the end.
STAGE = "yw_rebuild_daily"


def _direct() -> bool:
    """Whether ranges are counted on columns and summed by street bucket (see the module's docstring)."""
    return connection.vendor == "postgresql"


class RebuildRunning(RuntimeError):
    """Another rebuild is (or was, until it died) under way."""


@dataclass(frozen=True)
class RangeResult:
    events: int
    recent_ids: list[int]  # ids inside the overlap window below the high-water mark


Step = Literal["ranges", "buckets", "indexes"]


@dataclass(frozen=True)
class Progress:
    """How far a rebuild is: ``done`` of ``total`` case ranges counted, street buckets summed
    (PostgreSQL) or end tasks (levels summed, indexes built) finished; ``events`` counted so far."""

    step: Step
    done: int
    total: int
    events: int


def _street_models() -> list[type[Any]]:
    return [DAILY.model, *(level.model for level in spill.street_levels())]


def _written() -> list[type[Any]]:
    """The tables a rebuild empties and fills. On PostgreSQL autovacuum stays off them until it
    ends; one that dies leaves it off until a forced rebuild ends."""
    return [*(level.model for level in LEVELS), CaseTrack]


def _begin(force: bool) -> int:
    with transaction.atomic():
        state = _lock_state()
        if state.rebuilding_since is not None and not force:
            raise RebuildRunning(
                f"统计重算已于 {state.rebuilding_since:%Y-%m-%d %H:%M} 开始且未结束；确认其已停止后加 --force 重新执行 / "
                "a rebuild started then and has not finished; if it died, run again with --force"
            )
        high = CaseEvent.objects.aggregate(m=Max("pk"))["m"] or 0
        empty(*_written(), ProcessedEvent, GridTotals)
        if _direct():
            set_autovacuum(*_written(), enabled=False)
            drop_indexes(*_street_models())
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


def count_range(lo: int, hi: int, high: int, window: int, spill_to: str) -> RangeResult:
    """Replay the events (id ≤ ``high``) of the cases with ids in [lo, hi) and keep their counts:
    on PostgreSQL the daily rows in files under ``spill_to`` (:func:`.spill.write_range`), on
    SQLite (``spill_to`` empty) appended to the stage. Adding each range to the indexed tables
    cost far more than counting (every range touches every day's part of every index). A worker
    dying half-way leaves the rebuild unfinished (the state says so), and the next one starts
    afresh."""
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
    spill.write_range(Path(spill_to), f"{lo:012d}", daily)
    with transaction.atomic():
        columnar.write_tracks(final)
    assert events.id is not None
    # The ids read are all ≤ high: those in the window, without asking the database again.
    return RangeResult(len(events), events.id[events.id > high - window].tolist())


def sum_bucket(spill_from: str, bucket: int) -> int:
    """Sum one street bucket of the spilled daily rows into the daily and street levels (PostgreSQL)."""
    with transaction.atomic():
        return spill.sum_bucket(Path(spill_from), bucket)


def _coarser() -> list[Level]:
    return [level for level in fill_order() if level is not DAILY]


def _derive(levels: list[Level], filled: list[Level]) -> None:
    # Each level summed in one statement from the smallest level already filled (among ``filled``
    # and ``levels``, in fill order) that keeps its dimensions.
    filled = list(filled)
    for level in levels:
        derive(level, smallest_source(level, filled))
        filled.append(level)


# A task of a PostgreSQL rebuild's end: ("levels", spill directory) sums the levels without a
# street; ("index", model label, name) builds one declared index (or key's unique index) of the
# daily or a street level. Each runs in its own transaction in one of the workers, so both cores
# work; two sessions may build indexes of the same table at once (CREATE INDEX takes a SHARE lock).
# The keys are made constraints after the last task (``attach_keys``), when no other session uses
# the tables.
Task = tuple[str, ...]


def finish_tasks(spill_to: str) -> list[Task]:
    """The end's tasks: the levels without a street, then the indexes, the daily table's (the
    longest) first, so the last tasks to start are short."""
    indexes = [("index", model._meta.label, name) for model in _street_models() for name in declared(model)]
    return [("levels", spill_to), *indexes]


def finish_task(task: Task) -> None:
    """Run one of :func:`finish_tasks`. A rebuild that dies here leaves its mark set; ``--force``
    starts again (and builds every index and key)."""
    with transaction.atomic():
        bulk_session()
        if task[0] == "levels":
            with indexes_set_aside(*(level.model for level in spill.streetless_levels())):
                spill.sum_streetless(Path(task[1]))
        else:
            build_declared(apps.get_model(task[1]), task[2])


def _pool(processes: int) -> Any:
    # The module this process was configured from (pytest-xdist workers leave SETTINGS_MODULE unset).
    module = os.environ.get("DJANGO_SETTINGS_MODULE") or settings.SETTINGS_MODULE or "yiwang.config.settings"
    init = (module, connection.settings_dict["NAME"])
    return multiprocessing.get_context("spawn").Pool(processes, rebuild_worker.init, init)


@contextmanager
def _spill_directory() -> Iterator[Path | None]:
    """Where ranges keep their daily rows (PostgreSQL: setting ``YIWANG_REBUILD_TMP``, else the
    system's temporary directory), removed at the end whatever happens."""
    if not _direct():
        yield None
        return
    directory = Path(tempfile.mkdtemp(prefix="yiwang-rebuild-", dir=settings.YIWANG_REBUILD_TMP or None))
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


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
    total, recent = 0, []
    pool = (
        _pool(min(workers, max(len(ranges), spill.BUCKETS)))
        if workers > 1 and _direct() and len(ranges) > 1
        else None
    )

    def run(step: Step, work: Callable[..., Any], jobs: list[Any]) -> Iterable[Any]:
        # Each job of a step in the pool (or here, one by one), reported as it ends.
        done = pool.imap_unordered(work, jobs) if pool else (work(*job) for job in jobs)
        for n, result in enumerate(done, start=1):
            yield result
            if progress is not None:
                progress(Progress(step, n, len(jobs), total))

    try:
        with _spill_directory() as directory:
            spill_to = str(directory or "")
            jobs = [(lo, hi, high, window, spill_to) for lo, hi in ranges]
            for result in run("ranges", rebuild_worker.count if pool else count_range, jobs):
                total += result.events
                recent.extend(result.recent_ids)
            if directory is not None:
                buckets = [(spill_to, bucket) for bucket in range(spill.BUCKETS)]
                list(run("buckets", rebuild_worker.sum_bucket if pool else sum_bucket, buckets))
                analyze(*_street_models())
                tasks = [(task,) for task in finish_tasks(spill_to)]
                list(run("indexes", rebuild_worker.finish_task if pool else finish_task, tasks))
                with transaction.atomic():
                    attach_keys(*_street_models())
                    set_autovacuum(*_written(), enabled=True)
        if not _direct():
            with transaction.atomic(), indexes_set_aside(*(level.model for level in _coarser())):
                bulk_session()
                fill_from_stage(STAGE)
                drop_stage(STAGE)
                _derive(_coarser(), [DAILY])
    finally:
        if pool is not None:
            pool.terminate()
    _finish(high, recent)
    return total + catch_up()
