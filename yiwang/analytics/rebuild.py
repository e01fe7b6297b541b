"""``yiwang rollup rebuild``: empty the rollups and count every event again, in parallel workers.

The counting rules are those of the incremental path (:func:`.rollup.count_events`); what changes
is the order of work. A case's events only ever change that case's track, so the cases are split
into ranges of ids and each range is replayed on its own (events in case, then id order), by
several processes on PostgreSQL. Each range *adds* its counts to the daily rows
(:mod:`.rollup_store`), so ranges may finish in any order; the coarser levels are then summed from
the daily rows in one SQL statement each.

While it runs, ``RollupState.rebuilding_since`` is set and the incremental catch-up stands aside;
at the end the high-water mark is the last event id seen at the start, and the ordinary catch-up
counts whatever arrived meanwhile. A rebuild that died half-way leaves the mark set (catch-up keeps
waiting, so nothing is counted on a half-built base): run it again with ``--force``.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Max, Min
from django.utils import timezone

from yiwang.analytics import rebuild_worker
from yiwang.analytics.models import DAILY, LEVELS, CaseTrack, ProcessedEvent
from yiwang.analytics.rollup import (
    EVENT_FIELDS,
    TRACK_FIELDS,
    Dims,
    Key,
    Vector,
    _lock_state,
    catch_up,
    count_events,
    overlap_window,
)
from yiwang.analytics.rollup_store import add_counts, copy_rows, derive, empty
from yiwang.cases.models import Case, CaseEvent

DEFAULT_CHUNK = 20_000  # case ids per range: a few hundred thousand events in memory at most


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
        empty(*(level.model for level in LEVELS), CaseTrack, ProcessedEvent)
        state.high_water = high
        state.rebuilding_since = timezone.now()
        state.save(update_fields=["high_water", "rebuilding_since", "updated_at"])
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


def case_ranges(chunk: int) -> list[tuple[int, int]]:
    """Half-open ranges of case ids covering every case, ``chunk`` ids each."""
    bounds = Case.objects.aggregate(lo=Min("pk"), hi=Max("pk"))
    if bounds["lo"] is None:
        return []
    return [(lo, min(lo + chunk, bounds["hi"] + 1)) for lo in range(bounds["lo"], bounds["hi"] + 1, chunk)]


def _dims_between(lo: int, hi: int) -> dict[int, Dims]:
    rows = Case.objects.filter(pk__gte=lo, pk__lt=hi).values_list(
        "pk", "district_id", "street_id", "community_id", "grid_id", "category_id", "channel"
    )
    return {pk: (d, s, c, g, cat, ch) for pk, d, s, c, g, cat, ch in rows.iterator(chunk_size=20_000)}


def count_range(lo: int, hi: int, high: int, window: int) -> RangeResult:
    """Replay the events (id ≤ ``high``) of the cases with ids in [lo, hi) and add their counts."""
    events = CaseEvent.objects.filter(case_id__gte=lo, case_id__lt=hi, pk__lte=high).order_by("case_id", "pk")
    tracks: dict[int, CaseTrack] = {}
    counts: dict[Key, Vector] = {}
    rows = list(events.values(*EVENT_FIELDS).iterator(chunk_size=20_000))
    count_events(rows, tracks, _dims_between(lo, hi), counts)
    # Only the daily rows: the coarser levels are summed from them once at the end (derive). A
    # worker dying half-way leaves the rebuild unfinished (the state says so), and the next one
    # starts from empty tables.
    with transaction.atomic():
        add_counts(DAILY, counts)
        copy_rows(
            CaseTrack._meta.db_table,
            ["case_id", *TRACK_FIELDS],
            ([t.case_id, *(getattr(t, f) for f in TRACK_FIELDS)] for t in tracks.values()),
        )
    return RangeResult(len(rows), [e["id"] for e in rows if e["id"] > high - window])


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

    if workers > 1 and connection.vendor == "postgresql" and len(jobs) > 1:
        context: Any = multiprocessing.get_context("spawn")
        from django.conf import settings

        # The module this process was configured from (pytest-xdist workers leave SETTINGS_MODULE unset).
        module = (
            os.environ.get("DJANGO_SETTINGS_MODULE") or settings.SETTINGS_MODULE or "yiwang.config.settings"
        )
        init = (module, connection.settings_dict["NAME"])
        with context.Pool(min(workers, len(jobs)), rebuild_worker.init, init) as pool:
            for n, result in enumerate(pool.imap_unordered(rebuild_worker.count, jobs), start=1):
                done(result, n)
    else:
        for n, job in enumerate(jobs, start=1):
            done(count_range(*job), n)
    with transaction.atomic():
        for level in LEVELS:
            if level is not DAILY:
                derive(level, DAILY)
    _finish(high, recent)
    return total + catch_up()
