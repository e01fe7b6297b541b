"""Fill the rollups from the case timeline, incrementally, without signals (issue 7).

The rules (which event counts as which milestone, what "in time" means) live in :func:`step`; the
incremental path (:func:`catch_up`) and the check (:func:`verify`, used by ``rollup verify``) go
through it, and so does the rebuild (:mod:`.rebuild`) on SQLite. On PostgreSQL the rebuild applies
the same rules to whole ranges of events at once (:mod:`.columnar`, for speed at tens of millions of
events); a property test holds the two forms equal on random timelines, and ``verify``, replaying
with :func:`step`, checks every rebuild. Missing or tampered rows are what :func:`verify` reports
and ``rollup rebuild`` repairs.

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
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Min
from django.utils import timezone

from yiwang.analytics import grid_totals
from yiwang.analytics.models import (
    DAILY,
    LEVELS,
    MILESTONES,
    PERIOD_START,
    SUMS_INTO,
    CaseTrack,
    Level,
    ProcessedEvent,
    RollupState,
)
from yiwang.analytics.periods import next_month
from yiwang.analytics.rollup_store import (
    STAGE_COLUMNS,
    add_counts,
    bulk_session,
    copy_lines,
    create_stage,
    day_span,
    differences,
    drop_stage,
    expect,
    grouped,
    index_stage,
    stage_rows,
)
from yiwang.cases.choices import Clock, EventKind, Satisfaction
from yiwang.cases.models import Case, CaseEvent
from yiwang.core.rawrows import raw_rows

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
class TrackState(Protocol):
    """What the rules remember about one case between its events: :class:`CaseTrack` (stored by the
    incremental path) or :class:`Track` (a rebuild's replay, in memory)."""

    lead_department_id: int | None
    accept_due_at: dt.datetime | None
    resolve_due_at: dt.datetime | None
    accept_breached: bool
    resolve_breached: bool
    resolved_in_time: bool


class Track:
    """A case's state during a replay: the fields of :class:`CaseTrack` without a model instance
    (building one per case cost more than replaying its events)."""

    __slots__ = ("case_id", *TRACK_FIELDS)

    def __init__(self, case_id: int) -> None:
        self.case_id = case_id
        self.lead_department_id: int | None = None
        self.accept_due_at: dt.datetime | None = None
        self.resolve_due_at: dt.datetime | None = None
        self.accept_breached = False
        self.resolve_breached = False
        self.resolved_in_time = False

    def row(self) -> tuple[Any, ...]:
        """``case_id`` then :data:`TRACK_FIELDS`: a row of the CaseTrack table."""
        return (
            self.case_id,
            self.lead_department_id,
            self.accept_due_at,
            self.resolve_due_at,
            self.accept_breached,
            self.resolve_breached,
            self.resolved_in_time,
        )


def _moment(value: Any) -> dt.datetime | None:
    if not value:
        return None
    try:
        return dt.datetime.fromisoformat(str(value))
    except ValueError:
        return None


# Kinds as plain strings (comparing with enum members costs an attribute lookup per event), and the
# milestones each counts as tuples of positions in MILESTONES, built once.
_REGISTERED, _RECEIVED_FROM_110 = str(EventKind.REGISTERED.value), str(EventKind.RECEIVED_FROM_110.value)
_DISPATCHED, _REOPENED = str(EventKind.DISPATCHED.value), str(EventKind.REOPENED.value)
_SIGNED, _RETURNED = str(EventKind.SIGNED.value), str(EventKind.RETURNED.value)
_EXTENSION_APPROVED, _RESUMED = str(EventKind.EXTENSION_APPROVED.value), str(EventKind.RESUMED.value)
_RESOLVED, _VERIFIED = str(EventKind.RESOLVED.value), str(EventKind.VERIFIED.value)
_VERIFICATION_FAILED = str(EventKind.VERIFICATION_FAILED.value)
_CALLED_BACK, _SLA_BREACHED = str(EventKind.CALLED_BACK.value), str(EventKind.SLA_BREACHED.value)
_ACCEPT = str(Clock.ACCEPT.value)
_SATISFACTION = {str(v): INDEX[str(v)] for v in Satisfaction.values}
# The kinds whose data the rules read (a replay parses the JSON of these only).
DATA_KINDS = (_DISPATCHED, _REOPENED, _SIGNED, _EXTENSION_APPROVED, _CALLED_BACK, _SLA_BREACHED)
_NONE: tuple[int, ...] = ()
_M_REGISTERED = (INDEX["registered"],)
_M_DISPATCHED = (INDEX["dispatched"],)
_M_REOPENED = (INDEX["dispatched"], INDEX["reopened"])
_M_SIGNED = (INDEX["signed"],)
_M_SIGNED_IN_TIME = (INDEX["signed"], INDEX["signed_in_time"])
_M_RESOLVED = (INDEX["resolved"],)
_M_RESOLVED_IN_TIME = (INDEX["resolved"], INDEX["resolved_in_time"])
_M_CLOSED = (INDEX["closed"],)
_M_CLOSED_IN_TIME = (INDEX["closed"], INDEX["closed_in_time"])
_M_REWORKED = (INDEX["reworked"],)
_M_OVERDUE = (INDEX["overdue"],)
_I_CALLED_BACK, _I_CONTACTED, _I_SOLVED = INDEX["called_back"], INDEX["contacted"], INDEX["solved"]


def step(
    kind: str, at: dt.datetime, data: Mapping[str, Any], track: TrackState
) -> tuple[int | None, Sequence[int]]:
    """Apply one event to the case's track; return the lead department the event is counted under
    and the milestones it counts (positions in :data:`MILESTONES`). See docs/metrics.md for the
    table. A clock recorded as breached (SLA_BREACHED) is late whatever the due moment says; when
    the events do not carry the due moment (after a resumption or a rework) the breach record
    decides. The branches are in the order of how often the kinds occur."""
    dept = track.lead_department_id
    if kind in (_REGISTERED, _RECEIVED_FROM_110):
        return dept, _M_REGISTERED
    if kind in (_DISPATCHED, _REOPENED):
        track.lead_department_id = dept = data.get("lead")
        track.accept_due_at = _moment(data.get("accept_due_at"))
        track.resolve_due_at = None
        track.accept_breached = track.resolve_breached = track.resolved_in_time = False
        return dept, (_M_DISPATCHED if kind == _DISPATCHED else _M_REOPENED)
    if kind == _SIGNED:
        due = track.accept_due_at
        in_time = not track.accept_breached and (due is None or at <= due)
        track.resolve_due_at = _moment(data.get("resolve_due_at"))
        track.resolve_breached = False
        return dept, (_M_SIGNED_IN_TIME if in_time else _M_SIGNED)
    if kind == _RESOLVED:
        due = track.resolve_due_at
        in_time = track.resolved_in_time = not track.resolve_breached and (due is None or at <= due)
        return dept, (_M_RESOLVED_IN_TIME if in_time else _M_RESOLVED)
    if kind == _VERIFIED:
        return dept, (_M_CLOSED_IN_TIME if track.resolved_in_time else _M_CLOSED)
    if kind == _CALLED_BACK:
        out = [_I_CALLED_BACK]
        if data.get("contacted"):
            out.append(_I_CONTACTED)
        if data.get("solved"):
            out.append(_I_SOLVED)
        satisfaction = data.get("satisfaction")
        if isinstance(satisfaction, str) and satisfaction in _SATISFACTION:
            out.append(_SATISFACTION[satisfaction])
        return dept, out
    if kind == _SLA_BREACHED:
        if data.get("clock") == _ACCEPT:
            track.accept_breached = True
        else:
            track.resolve_breached = True
        return dept, _M_OVERDUE
    if kind == _RETURNED:
        track.lead_department_id = None
        track.accept_due_at = track.resolve_due_at = None
    elif kind == _EXTENSION_APPROVED:
        track.resolve_due_at = _moment(data.get("resolve_due_at"))
    elif kind == _RESUMED:
        # The events say how much the clocks moved, not where to: the breach record decides.
        track.accept_due_at = track.resolve_due_at = None
    elif kind == _VERIFICATION_FAILED:
        track.resolve_due_at, track.resolve_breached, track.resolved_in_time = None, False, False
        return dept, _M_REWORKED
    return dept, _NONE


def _day(at: dt.datetime) -> dt.date:
    return timezone.localtime(at).date()


def _dims_of(case_ids: Iterable[int]) -> dict[int, Dims]:
    rows = Case.objects.filter(pk__in=sorted(set(case_ids))).values_list(
        "pk", "district_id", "street_id", "community_id", "grid_id", "category_id", "channel"
    )
    return {pk: (d, s, c, g, cat, ch) for pk, d, s, c, g, cat, ch in rows}


NO_DIMS: Dims = (None, None, None, None, None, "")


def count_events(
    events: Iterable[Mapping[str, Any]],
    tracks: dict[int, Any],
    dims: Mapping[int, Dims],
    counts: dict[Key, Vector],
) -> None:
    """Fold ``events`` (in id order, as ``values(*EVENT_FIELDS)`` dicts) into ``counts``, updating
    ``tracks`` (case id → :class:`CaseTrack`) in place: the incremental path."""
    size = len(MILESTONES)
    for event in events:
        case_id = event["case_id"]
        track = tracks.get(case_id)
        if track is None:
            track = tracks[case_id] = CaseTrack(case_id=case_id)
        at = event["at"]
        dept, milestones = step(event["kind"], at, event["data"] or {}, track)
        if not milestones:
            continue
        d, s, c, g, cat, ch = dims.get(case_id, NO_DIMS)
        key = (_day(at), d, s, c, g, cat, ch, dept)
        vector = counts.get(key)
        if vector is None:
            vector = counts[key] = [0] * size
        for i in milestones:
            vector[i] += 1


# --- replaying ranges of cases (rebuild, verify) ----------------------------------------------------
# (day, lead department) → counts, per dimension combination of the cases: a case's dimensions are the
# same for all its events, so a replay looks them up once per case, not once per event.
RangeCounts = dict[Dims, dict[tuple[dt.date, int | None], Vector]]
# An event as a replay reads it: case id, kind, moment, local day (computed by the database), and
# the JSON text of its data for the kinds in DATA_KINDS (None otherwise).
EventRow = tuple[int, str, dt.datetime, dt.date, str | None]
_EMPTY: Mapping[str, Any] = {}


def case_ranges(chunk: int) -> list[tuple[int, int]]:
    """Half-open ranges of case ids covering every case, ``chunk`` ids each."""
    bounds = Case.objects.aggregate(lo=Min("pk"), hi=Max("pk"))
    if bounds["lo"] is None:
        return []
    return [(lo, min(lo + chunk, bounds["hi"] + 1)) for lo in range(bounds["lo"], bounds["hi"] + 1, chunk)]


def dims_between(lo: int, hi: int) -> dict[int, Dims]:
    """The dimensions of the cases with ids in [lo, hi)."""
    rows = Case.objects.filter(pk__gte=lo, pk__lt=hi).values_list(
        "pk", "district_id", "street_id", "community_id", "grid_id", "category_id", "channel"
    )
    return {pk: (d, s, c, g, cat, ch) for pk, d, s, c, g, cat, ch in raw_rows(rows)}


_RANGE_SQL = (
    "SELECT e.case_id, e.kind, {at}, {day}, CASE WHEN e.kind IN ({kinds}) THEN CAST(e.data AS TEXT) END "
    "FROM {events} e WHERE e.case_id >= %s AND e.case_id < %s AND e.id <= %s"
)
_PROCESSED_SQL = " AND (e.id <= %s OR e.id IN (SELECT p.event_id FROM {processed} p WHERE p.event_id > %s))"


def read_range(lo: int, hi: int, *, upto: int, low: int | None = None) -> list[EventRow]:
    """The events (id ≤ ``upto``) of the cases with ids in [lo, hi), in case then id order.

    A plain cursor: no dict, model or JSON decoding per row; the local day is computed by the
    database. With ``low``, the ids in (low, upto] that :class:`ProcessedEvent` does not list are
    left out (what ``verify`` recounts: the rollups have not counted them yet)."""
    q = connection.ops.quote_name
    at = f"e.{q('at')}"
    day, day_params = connection.ops.datetime_cast_date_sql(at, (), timezone.get_current_timezone_name())
    # Only model table and column names (quoted) go into the statement; values are parameters.
    sql = _RANGE_SQL.format(
        at=at,
        day=day,
        kinds=", ".join(["%s"] * len(DATA_KINDS)),
        events=q(CaseEvent._meta.db_table),
    )
    params: list[Any] = [*day_params, *DATA_KINDS, lo, hi, upto]
    if low is not None:
        sql += _PROCESSED_SQL.format(processed=q(ProcessedEvent._meta.db_table))
        params += [low, low]
    sql += " ORDER BY e.case_id, e.id"
    if connection.vendor == "postgresql":
        # psycopg's own cursor: Django's cursors load every timestamp through a Python-level loader
        # (a third of the read time); psycopg's C loader gives the same aware moments.
        connection.ensure_connection()
        with connection.connection.cursor() as raw:
            raw.adapters.register_loader("timestamptz", _pg_timestamptz_loader())
            raw.execute(sql, params)
            return raw.fetchall()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if connection.vendor == "sqlite":
        # A plain SQLite cursor returns naive UTC datetimes and the day as text.
        return [(c, k, a.replace(tzinfo=dt.UTC), dt.date.fromisoformat(d), j) for c, k, a, d, j in rows]
    return rows


_scan = json.JSONDecoder().scan_once  # type: ignore[attr-defined]


def _pg_timestamptz_loader() -> Any:
    """psycopg's own loader of timestamptz (C), which Django wraps in a Python one that only sets
    the time zone the session already uses (UTC)."""
    import psycopg
    from psycopg import pq

    return psycopg.adapters.get_loader(psycopg.adapters.types["timestamptz"].oid, pq.Format.TEXT)


def _data(text: str) -> Mapping[str, Any]:
    # The JSON text as the database writes it (no leading blank): the C scanner straight away
    # costs a third of json.loads, whose wrappers and blank-skipping regexes dominate on small texts.
    try:
        value = _scan(text, 0)[0]
    except StopIteration:
        value = json.loads(text)
    return value or _EMPTY


def replay(rows: Iterable[EventRow], dims: Mapping[int, Dims], counts: RangeCounts) -> list[Track]:
    """Fold ``rows`` (grouped by case, in id order within a case) into ``counts``; returns the track
    of every case seen, in the state its last event left it."""
    tracks: list[Track] = []
    size = len(MILESTONES)
    current = None
    track = Track(0)
    per: dict[tuple[dt.date, int | None], Vector] = {}
    for case_id, kind, at, day, data in rows:
        if case_id != current:
            current = case_id
            track = Track(case_id)
            tracks.append(track)
            combination = dims.get(case_id, NO_DIMS)
            found = counts.get(combination)
            per = counts[combination] = {} if found is None else found
        dept, milestones = step(kind, at, _data(data) if data else _EMPTY, track)
        if milestones:
            key = (day, dept)
            vector = per.get(key)
            if vector is None:
                vector = per[key] = [0] * size
            for i in milestones:
                vector[i] += 1
    return tracks


def daily_rows(counts: RangeCounts) -> Iterator[tuple[Any, ...]]:
    """``counts`` as rows (day, *DIMENSIONS, *MILESTONES) of the daily level, without the key."""
    for (d, s, c, g, cat, ch), per in counts.items():
        for (day, dept), vector in per.items():
            yield (day, d, s, c, g, cat, ch, dept, *vector)


def _copy_field(value: Any) -> str:
    if value is None:
        return "\\N"
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def daily_lines(counts: RangeCounts) -> Iterator[str]:
    """The rows of :func:`daily_rows` as lines of COPY text: the dimensions are formatted once per
    combination and the counts once per distinct vector (a few patterns cover most rows), which
    makes writing a range's rows several times cheaper than adapting every value."""
    vectors: dict[tuple[int, ...], str] = {}
    days: dict[dt.date, str] = {}
    depts: dict[int | None, str] = {}
    for combination, per in counts.items():
        middle = "\t".join(map(_copy_field, combination))
        for (day, dept), vector in per.items():
            key = tuple(vector)
            text = vectors.get(key)
            if text is None:
                text = vectors[key] = "\t".join(map(str, key))
            when = days.get(day)
            if when is None:
                when = days[day] = day.isoformat()
            field = depts.get(dept)
            if field is None:
                field = depts[dept] = _copy_field(dept)
            yield f"{when}\t{middle}\t{field}\t{text}\n"


def stage_counts(stage: str, counts: RangeCounts) -> None:
    """Append a range's daily counts to the stage table ``stage``."""
    if connection.vendor == "postgresql":
        copy_lines(stage, STAGE_COLUMNS, daily_lines(counts))
    else:
        stage_rows(stage, daily_rows(counts))


def project(level: Level, counts: Mapping[Key, Vector]) -> dict[LevelKey, Vector]:
    """Sum daily counts into the combinations ``level`` keeps (its period, its dimensions)."""
    out: dict[LevelKey, Vector] = {}
    positions = level.positions
    start_of = PERIOD_START[level.period]
    for key, vector in counts.items():
        target = (start_of(key[0]), *(key[1 + i] for i in positions))
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
    if vectors:
        grid_totals.stale_from(min(key[0] for key in vectors))


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


# --- the lattice -----------------------------------------------------------------------------------
def fill_order() -> list[Level]:
    """The levels, each after every level it may be summed from (finer periods, then more
    dimensions first): the daily level first."""
    return sorted(LEVELS, key=lambda lv: (lv.period_rank, -len(lv.dims)))


def smallest_source(level: Level, filled: list[Level]) -> Level:
    """The level to sum ``level`` from: among those ``filled``, one keeping all its dimensions, with
    a period that sums into ``level``'s (:data:`.models.SUMS_INTO`: the same one or a finer one
    inside it), and the fewest rows (the coarsest period, then the fewest dimensions). Only the
    finest levels read the daily rows, the others read a few per cent of them."""
    candidates = [
        source
        for source in filled
        if set(level.dims) <= set(source.dims) and level.period in SUMS_INTO[source.period]
    ]
    return min(candidates, key=lambda source: (-source.period_rank, len(source.dims)))


# --- checking ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Difference:
    key: str
    milestone: str
    stored: int
    expected: int
    level: str = "day"


@dataclass(frozen=True)
class VerifyProgress:
    """How far ``verify`` is: ``done`` of ``total`` in its current ``step`` ("recount": ranges of
    case ids; "daily": months of daily rows compared; "levels": coarser levels compared)."""

    step: Literal["recount", "daily", "levels"]
    done: int
    total: int


VerifyProgressCallback = Callable[[VerifyProgress], None]
VERIFY_STAGE = "yw_verify_daily"
VERIFY_CHUNK = 50_000  # case ids per range: the events of one range are in memory at a time


def recount_into(
    stage: str,
    *,
    upto: int,
    low: int | None,
    chunk: int = VERIFY_CHUNK,
    progress: VerifyProgressCallback | None = None,
) -> None:
    """Replay every case's events (see :func:`read_range`) range by range and append the daily
    counts to the stage table ``stage``. Memory holds one range; the sums over ranges are left to
    the database."""
    ranges = case_ranges(chunk)
    for n, (lo, hi) in enumerate(ranges, start=1):
        rows = read_range(lo, hi, upto=upto, low=low)
        counts: RangeCounts = {}
        replay(rows, dims_between(lo, hi), counts)
        stage_counts(stage, counts)
        if progress is not None:
            progress(VerifyProgress("recount", n, len(ranges)))


def verify(*, chunk: int = VERIFY_CHUNK, progress: VerifyProgressCallback | None = None) -> list[Difference]:
    """Compare the stored rollups (every level) with a recount of the events they claim to have
    counted: the events up to the high-water mark, less those inside the overlap window that
    :class:`ProcessedEvent` does not list.

    The recount goes range by range of case ids into a temporary table of daily rows (the events of
    one range in memory at a time, whatever the volume). The daily level is compared with that
    table's sums a month of days at a time, and each coarser level with its expected rows, summed
    (as the rebuild sums the stored ones) from the smallest expected level already made; each is
    dropped once no later level is summed from it. The database returns only the rows that differ,
    and besides the recount it holds at most the coarser levels' expected rows: at 10 M cases an
    expected copy of the daily rows beside the recount filled the disk."""
    state = RollupState.objects.filter(pk=1).first()
    high = state.high_water if state else 0
    low = max(0, high - overlap_window())
    found: dict[Level, list[Difference]] = {}
    with transaction.atomic():
        bulk_session()
        # A stage left by a run that failed is replaced; on failure this one rolls back with the
        # transaction.
        create_stage(VERIFY_STAGE, shared=False)
        recount_into(VERIFY_STAGE, upto=high, low=low, chunk=chunk, progress=progress)
        index_stage(VERIFY_STAGE)
        found[DAILY] = _daily_differences(VERIFY_STAGE, progress)
        plan = _expected_sources()
        tables = {DAILY: VERIFY_STAGE}
        for n, (level, source) in enumerate(plan):
            tables[level] = f"yw_verify_{level.model._meta.model_name}"
            expect(level, tables[level], tables[source], source.period_field)
            found[level] = _as_differences(
                level, differences(level, connection.ops.quote_name(tables[level]))
            )
            needed = {DAILY} | {later_source for _, later_source in plan[n + 1 :]}
            for made in [made for made in tables if made not in needed]:
                drop_stage(tables.pop(made))
            if progress is not None:
                progress(VerifyProgress("levels", n + 1, len(plan)))
        drop_stage(VERIFY_STAGE)
    return [d for level in LEVELS for d in found[level]]


def _expected_sources() -> list[tuple[Level, Level]]:
    """Each coarser level in fill order, with the level its expected rows are summed from."""
    made = [DAILY]
    plan = []
    for level in fill_order():
        if level is not DAILY:
            plan.append((level, smallest_source(level, made)))
            made.append(level)
    return plan


def _daily_differences(stage: str, progress: VerifyProgressCallback | None) -> list[Difference]:
    q = connection.ops.quote_name
    span = day_span(q(stage), q(DAILY.model._meta.db_table))
    months = _months(*span) if span is not None else []
    where = "{d} >= %s AND {d} <= %s".format(d=q(DAILY.period_field))
    expected = f"({grouped(DAILY, stage, DAILY.period_field, where)})"
    found = []
    for n, month in enumerate(months, start=1):
        found += _as_differences(DAILY, differences(DAILY, expected, month, within=month))
        if progress is not None:
            progress(VerifyProgress("daily", n, len(months)))
    return found


def _months(first: dt.date, last: dt.date) -> list[tuple[dt.date, dt.date]]:
    """``first`` … ``last`` cut at the months' ends, as inclusive (first day, last day) pairs."""
    months = []
    while first <= last:
        end = min(last, next_month(first) - dt.timedelta(days=1))
        months.append((first, end))
        first = end + dt.timedelta(days=1)
    return months


def _as_differences(level: Level, rows: list[tuple[str, list[int], list[int]]]) -> list[Difference]:
    label = level.model._meta.model_name or ""
    return [
        Difference(key, m, h, w, label)
        for key, have, want in sorted(rows)
        for m, h, w in zip(MILESTONES, have, want, strict=True)
        if h != w
    ]
