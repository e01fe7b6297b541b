"""Fill the rollups from the case timeline, incrementally, without signals (issue 7).

The rules (which event counts as which milestone, what "in time" means) live in :func:`step`; the
incremental path (:func:`catch_up`), the rebuild (:mod:`.rebuild`) and the check (:func:`verify`,
used by ``rollup verify``) go through it, so they cannot disagree by construction — only by missing or
tampered rows, which :func:`verify` reports and ``rollup rebuild`` repairs.

Late commits: event ids are handed out at INSERT, so a long transaction can commit a lower id after
a higher one was counted. :func:`catch_up` therefore re-reads the last ``overlap`` ids below the
high-water mark on every run and skips the ones listed in :class:`ProcessedEvent`. Events of one
case are serialised by the case's row lock, so per case the id order is the commit order and the
per-case state (:class:`CaseTrack`) replays the same whatever order other cases' events arrive in.
An event committing more than ``overlap`` ids late is missed: ``verify`` finds it, ``rebuild``
fixes it. (Waiting N seconds by ``at`` would not work: backfilled history carries old moments.)
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from yiwang.analytics.models import (
    LEVELS,
    MILESTONES,
    CaseTrack,
    Level,
    ProcessedEvent,
    RollupState,
)
from yiwang.analytics.rollup_store import add_counts
from yiwang.cases.choices import Clock, EventKind, Satisfaction
from yiwang.cases.models import Case, CaseEvent

DEFAULT_BATCH = 2000
EVENT_FIELDS = ("id", "case_id", "kind", "at", "data")
TRACK_FIELDS = (
    "lead_department_id",
    "accept_due_at",
    "resolve_due_at",
    "accept_breached",
    "resolve_breached",
    "resolved_in_time",
)

# (day, district, street, community, grid, category, channel, department)
Key = tuple[dt.date, int | None, int | None, int | None, int | None, int | None, str, int | None]
Dims = tuple[int | None, int | None, int | None, int | None, int | None, str]
# (period, *the dimensions a level keeps)
LevelKey = tuple[Any, ...]
# Counts of one combination as a list in the order of MILESTONES (cheaper than a Counter when a
# rebuild adds up tens of millions of events).
Vector = list[int]
INDEX = {m: i for i, m in enumerate(MILESTONES)}


def overlap_window() -> int:
    """How many ids below the high-water mark each catch-up re-reads (setting
    ``YIWANG_ROLLUP_OVERLAP``, default 10 000: far more than the events of the longest transaction)."""
    return int(getattr(settings, "YIWANG_ROLLUP_OVERLAP", 10_000))


# --- the rules --------------------------------------------------------------------------------------
def _moment(value: Any) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None


def _in_time(at: dt.datetime, due: dt.datetime | None, breached: bool) -> bool:
    # A clock recorded as breached (SLA_BREACHED) is late whatever the due moment says; when the
    # events do not carry the due moment (after a resumption or a rework) the breach record decides.
    return not breached and (due is None or at <= due)


def step(event: Mapping[str, Any], track: CaseTrack) -> tuple[int | None, list[str]]:
    """Apply one event to the case's track; return the lead department the event is counted under
    and the milestones it counts. See docs/metrics.md for the table."""
    kind, at, data = event["kind"], event["at"], event["data"] or {}
    out: list[str] = []
    dept = track.lead_department_id
    if kind in (EventKind.REGISTERED, EventKind.RECEIVED_FROM_110):
        out.append("registered")
    elif kind in (EventKind.DISPATCHED, EventKind.REOPENED):
        track.lead_department_id = dept = data.get("lead")
        track.accept_due_at = _moment(data.get("accept_due_at"))
        track.resolve_due_at = None
        track.accept_breached = track.resolve_breached = track.resolved_in_time = False
        out.append("dispatched")
        if kind == EventKind.REOPENED:
            out.append("reopened")
    elif kind == EventKind.SIGNED:
        out.append("signed")
        if _in_time(at, track.accept_due_at, track.accept_breached):
            out.append("signed_in_time")
        track.resolve_due_at = _moment(data.get("resolve_due_at"))
        track.resolve_breached = False
    elif kind == EventKind.RETURNED:
        track.lead_department_id = None
        track.accept_due_at = track.resolve_due_at = None
    elif kind == EventKind.EXTENSION_APPROVED:
        track.resolve_due_at = _moment(data.get("resolve_due_at"))
    elif kind == EventKind.RESUMED:
        # The events say how much the clocks moved, not where to: the breach record decides.
        track.accept_due_at = track.resolve_due_at = None
    elif kind == EventKind.RESOLVED:
        out.append("resolved")
        track.resolved_in_time = _in_time(at, track.resolve_due_at, track.resolve_breached)
        if track.resolved_in_time:
            out.append("resolved_in_time")
    elif kind == EventKind.VERIFIED:
        out.append("closed")
        if track.resolved_in_time:
            out.append("closed_in_time")
    elif kind == EventKind.VERIFICATION_FAILED:
        out.append("reworked")
        track.resolve_due_at, track.resolve_breached, track.resolved_in_time = None, False, False
    elif kind == EventKind.CALLED_BACK:
        out.append("called_back")
        if data.get("contacted"):
            out.append("contacted")
        if data.get("solved"):
            out.append("solved")
        satisfaction = data.get("satisfaction")
        if satisfaction in Satisfaction.values:
            out.append(str(satisfaction))
    elif kind == EventKind.SLA_BREACHED:
        out.append("overdue")
        if data.get("clock") == Clock.ACCEPT:
            track.accept_breached = True
        else:
            track.resolve_breached = True
    return dept, out


def _day(at: dt.datetime) -> dt.date:
    return timezone.localtime(at).date()


def _dims_of(case_ids: Iterable[int]) -> dict[int, Dims]:
    rows = Case.objects.filter(pk__in=sorted(set(case_ids))).values_list(
        "pk", "district_id", "street_id", "community_id", "grid_id", "category_id", "channel"
    )
    return {pk: (d, s, c, g, cat, ch) for pk, d, s, c, g, cat, ch in rows}


def count_events(
    events: Iterable[Mapping[str, Any]],
    tracks: dict[int, CaseTrack],
    dims: Mapping[int, Dims],
    counts: dict[Key, Vector],
) -> None:
    """Fold ``events`` (in id order) into ``counts``, updating ``tracks`` in place."""
    for event in events:
        case_id = event["case_id"]
        track = tracks.get(case_id)
        if track is None:
            track = tracks[case_id] = CaseTrack(case_id=case_id)
        dept, milestones = step(event, track)
        if not milestones:
            continue
        d, s, c, g, cat, ch = dims.get(case_id, (None, None, None, None, None, ""))
        key = (_day(event["at"]), d, s, c, g, cat, ch, dept)
        vector = counts.get(key)
        if vector is None:
            vector = counts[key] = [0] * len(MILESTONES)
        for m in milestones:
            vector[INDEX[m]] += 1


def project(level: Level, counts: Mapping[Key, Vector]) -> dict[LevelKey, Vector]:
    """Sum daily counts into the combinations ``level`` keeps (its period, its dimensions)."""
    out: dict[LevelKey, Vector] = {}
    positions = level.positions
    monthly = level.period == "month"
    for key, vector in counts.items():
        day = key[0]
        target = (day.replace(day=1) if monthly else day, *(key[1 + i] for i in positions))
        into = out.get(target)
        out[target] = list(vector) if into is None else [a + b for a, b in zip(into, vector, strict=True)]
    return out


def as_vectors(counts: Mapping[Key, Mapping[str, int]]) -> dict[Key, Vector]:
    return {key: [c.get(m, 0) for m in MILESTONES] for key, c in counts.items()}


def row_key(key: Key | LevelKey) -> str:
    """The text form of a dimension combination (``DailyRollup.key``, ``MonthlyRollup.key``)."""
    return "|".join("" if v is None else (v.isoformat() if isinstance(v, dt.date) else str(v)) for v in key)


# --- writing ----------------------------------------------------------------------------------------
def _lock_state() -> RollupState:
    state = RollupState.objects.select_for_update().filter(pk=1).first()
    if state is not None:
        return state
    try:
        with transaction.atomic():
            RollupState.objects.create(pk=1)
    except IntegrityError:
        pass  # another worker created it first
    return RollupState.objects.select_for_update().get(pk=1)


def add(counts: Mapping[Key, Vector] | Mapping[Key, Mapping[str, int]]) -> None:
    """Add daily counts (vectors, or milestone → count mappings) to every level of the rollups
    (the caller holds the state lock or owns the cases, see :mod:`.rollup_store`)."""
    vectors: Any = counts
    if counts and isinstance(next(iter(counts.values())), Mapping):
        vectors = as_vectors(counts)  # type: ignore[arg-type]
    for level in LEVELS:
        add_counts(level, project(level, vectors))


def _process(events: list[dict[str, Any]]) -> None:
    case_ids = {e["case_id"] for e in events}
    tracks = {t.case_id: t for t in CaseTrack.objects.filter(case_id__in=sorted(case_ids))}
    counts: dict[Key, Vector] = {}
    count_events(events, tracks, _dims_of(case_ids), counts)
    add(counts)
    CaseTrack.objects.bulk_create(
        list(tracks.values()),
        update_conflicts=True,
        unique_fields=["case_id"],
        update_fields=list(TRACK_FIELDS),
        batch_size=500,
    )


@dataclass(frozen=True)
class BatchResult:
    processed: int
    high_water: int


def catch_up_once(*, batch: int = DEFAULT_BATCH, overlap: int | None = None) -> BatchResult:
    """Count up to ``batch`` new events in one transaction that also moves the high-water mark."""
    window = overlap_window() if overlap is None else overlap
    with transaction.atomic():
        state = _lock_state()
        if state.rebuilding_since is not None:
            return BatchResult(0, state.high_water)  # a rebuild is recounting: it hands over at its end
        low = max(0, state.high_water - window)
        done = ProcessedEvent.objects.filter(event_id__gt=low).values("event_id")
        events = list(
            CaseEvent.objects.filter(pk__gt=low)
            .exclude(pk__in=done)
            .order_by("pk")
            .values(*EVENT_FIELDS)[:batch]
        )
        if not events:
            return BatchResult(0, state.high_water)
        _process(events)
        ProcessedEvent.objects.bulk_create(
            [ProcessedEvent(event_id=e["id"]) for e in events], batch_size=1000
        )
        state.high_water = max(state.high_water, events[-1]["id"])
        ProcessedEvent.objects.filter(event_id__lte=state.high_water - window).delete()
        state.save(update_fields=["high_water", "updated_at"])
        return BatchResult(len(events), state.high_water)


def catch_up(
    *,
    batch: int = DEFAULT_BATCH,
    overlap: int | None = None,
    progress: Callable[[BatchResult], None] | None = None,
) -> int:
    """Count every event not counted yet, ``batch`` events per transaction; returns how many.

    Idempotent and safe from several workers at once: each batch locks the state row."""
    total = 0
    while True:
        result = catch_up_once(batch=batch, overlap=overlap)
        total += result.processed
        if progress is not None and result.processed:
            progress(result)
        if result.processed < batch:
            return total


# --- checking ---------------------------------------------------------------------------------------
def _recount(*, upto: int | None, skip: Iterable[int]) -> dict[Key, Vector]:
    skipped = set(skip)
    qs = CaseEvent.objects.order_by("pk")
    if upto is not None:
        qs = qs.filter(pk__lte=upto)
    tracks: dict[int, CaseTrack] = {}
    counts: dict[Key, Vector] = {}
    last, chunk = 0, 20_000
    while True:
        rows = list(qs.filter(pk__gt=last).values(*EVENT_FIELDS)[:chunk])
        if not rows:
            break
        last = rows[-1]["id"]
        events = [e for e in rows if e["id"] not in skipped]
        count_events(events, tracks, _dims_of(e["case_id"] for e in events), counts)
    return counts


def _by_text(counts: Mapping[Any, Vector]) -> dict[str, Counter[str]]:
    return {
        row_key(k): Counter({m: n for m, n in zip(MILESTONES, v, strict=True) if n})
        for k, v in counts.items()
    }


@dataclass(frozen=True)
class Difference:
    key: str
    milestone: str
    stored: int
    expected: int
    level: str = "day"


def _compare(
    level: str, expected: dict[str, Counter[str]], stored: dict[str, dict[str, Any]]
) -> list[Difference]:
    diffs: list[Difference] = []
    for key in sorted(set(expected) | set(stored)):
        want, have = expected.get(key, Counter()), stored.get(key, {})
        for m in MILESTONES:
            if int(have.get(m, 0)) != want.get(m, 0):
                diffs.append(Difference(key, m, int(have.get(m, 0)), want.get(m, 0), level))
    return diffs


def verify() -> list[Difference]:
    """Compare the stored rollups (every level) with a recount of the events they claim to have
    counted."""
    state = RollupState.objects.filter(pk=1).first()
    high = state.high_water if state else 0
    low = max(0, high - overlap_window())
    done = set(ProcessedEvent.objects.filter(event_id__gt=low).values_list("event_id", flat=True))
    pending = set(CaseEvent.objects.filter(pk__gt=low, pk__lte=high).values_list("pk", flat=True)) - done
    counts = _recount(upto=high, skip=pending)
    diffs: list[Difference] = []
    for level in LEVELS:
        stored = {r["key"]: r for r in level.model._default_manager.values("key", *MILESTONES)}
        diffs += _compare(level.model._meta.model_name or "", _by_text(project(level, counts)), stored)
    return diffs
