"""The rebuild's replay on columns: the rules of :func:`.rollup.step` applied to a whole range of
events at once, with numpy.

Why a second form of the rules: a rebuild replays every event ever recorded (58 M at 10 M cases).
Event by event in Python (:func:`.rollup.replay`) a range of 300,000 events took ~3 s of CPU, most
of it turning rows into Python objects and stepping through them, which kept a rebuild over its
10 minutes whatever the number of processes on two cores. Here a range is read as columns
(binary arrays from PostgreSQL, :func:`read_columns`) and each piece of a case's state (its lead
department, its two due moments, the two breach records, whether it was resolved in time) is the
value written by the last event of the case that writes it: a forward fill, :func:`_latest`.

Used on PostgreSQL, where the database extracts the data's fields. On SQLite the rebuild replays
event by event (the fields would be parsed in Python either way, and that replay is faster than
feeding the columns). The incremental path and ``rollup verify`` keep :func:`.rollup.step`, so every
``verify`` after a rebuild checks the two against each other on the real events; the property test
in ``tests/analytics/test_columnar.py`` compares them on random timelines, including malformed data.

Moments are integers: microseconds since 2000-01-01 UTC, and days since 2000-01-01 (PostgreSQL's
binary forms of ``timestamptz`` and ``date``). :data:`NONE` stands for an absent department or due
moment (it is also the binary form of ``-infinity``).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import psycopg
from django.db import connection, transaction
from django.utils import timezone

from yiwang.analytics.models import DIMENSIONS, MILESTONES, CaseTrack, Level
from yiwang.analytics.rollup import (
    _ACCEPT,
    _CALLED_BACK,
    _DISPATCHED,
    _EXTENSION_APPROVED,
    _RECEIVED_FROM_110,
    _REGISTERED,
    _REOPENED,
    _RESOLVED,
    _RESUMED,
    _RETURNED,
    _SATISFACTION,
    _SIGNED,
    _SLA_BREACHED,
    _VERIFICATION_FAILED,
    _VERIFIED,
    INDEX,
    NO_DIMS,
    TRACK_FIELDS,
    Dims,
)
from yiwang.cases.models import CaseEvent

NONE = np.iinfo(np.int64).min
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
EPOCH_DAY = EPOCH.date()
_SECOND_US = 1_000_000
_DAY_US = 86_400 * _SECOND_US

# The kinds the rules read, coded by position + 1 (0: any other kind).
KINDS: tuple[str, ...] = (
    _REGISTERED,
    _RECEIVED_FROM_110,
    _DISPATCHED,
    _REOPENED,
    _SIGNED,
    _RETURNED,
    _EXTENSION_APPROVED,
    _RESUMED,
    _RESOLVED,
    _VERIFIED,
    _VERIFICATION_FAILED,
    _CALLED_BACK,
    _SLA_BREACHED,
)
_CODE = {kind: i for i, kind in enumerate(KINDS, start=1)}
# Satisfaction levels coded by position + 1 (0: none, or not one of them).
SATISFACTIONS: tuple[str, ...] = tuple(_SATISFACTION)
# Bits of EventColumns.flags.
CONTACTED, SOLVED, ACCEPT_CLOCK = 1, 2, 4


@dataclass(frozen=True)
class EventColumns:
    """A range's events (grouped by case, in id order within a case), one array per field."""

    case: np.ndarray  # int64
    kind: np.ndarray  # int16, a code of KINDS
    at: np.ndarray  # int64 microseconds
    day: np.ndarray  # int32 local day
    lead: np.ndarray  # int64: the lead department a dispatch or reopening names, or NONE
    due: np.ndarray  # int64 microseconds: the due moment the event carries, or NONE
    flags: np.ndarray  # int16 bits: CONTACTED, SOLVED (call-backs), ACCEPT_CLOCK (breaches)
    satisfaction: np.ndarray  # int16, a code of SATISFACTIONS
    # int64: each event's id, where read from the database (a rebuild keeps those of its overlap window)
    id: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.case)


# --- reading on PostgreSQL: the data's fields extracted by the database, sent in binary -----------
def _truthy_sql(value: str) -> str:
    # Python's truth of a JSON value: absent, null, false, 0, "", [] and {} are false.
    falsy = ", ".join(f"'{v}'::jsonb" for v in ("null", "false", "0", '""', "[]", "{}"))
    return f"COALESCE({value} NOT IN ({falsy}), false)"


def _moment_sql(text: str) -> str:
    # A due moment as :func:`.rollup._moment` reads it: text in ISO form, else none (->> gives a
    # number or an object as text that cannot match). A text that looks ISO but names no moment
    # (2026-02-30) stops the rebuild with the database's error, where Python reads none: the
    # actions never write one. The test is the pattern ^[0-9]{4}-[0-9]{2}-[0-9]{2} without a
    # regular expression (the dashes in place, eight ASCII digits around them): the regex took a
    # third of the read of a range (0.35 of 1.26 s at 10 M cases). %% is a literal % (the
    # statement has parameters).
    return (
        f"CASE WHEN {text} LIKE '____-__-__%%' AND translate(left({text}, 10), '0123456789', '') = '--' "
        f"THEN CAST({text} AS timestamptz) END"
    )


_NONE_SQL = f"CAST('{NONE}' AS bigint)"
# Each field as one array of the range's events (array_send: PostgreSQL's binary form, a header
# then each element's length and bytes), in no particular order: numpy sorts them. Rows would be
# handed over by the driver one Python object per value, which cost more than the replay; an ORDER
# BY would sort in the database what numpy sorts faster. No element is ever null (checked).
_COLUMNS_SQL = (
    "SELECT {arrays} FROM (SELECT e.id, e.case_id, e.at, "
    "CAST(COALESCE(array_position(%s, CAST(e.kind AS text)), 0) AS smallint) AS kind, "
    "CASE WHEN e.kind IN (%s, %s) THEN COALESCE(CAST(e.data ->> 'lead' AS bigint), {none}) ELSE {none} END AS lead, "
    "CASE WHEN e.kind IN (%s, %s) THEN e.data ->> 'accept_due_at' "
    "WHEN e.kind IN (%s, %s) THEN e.data ->> 'resolve_due_at' END AS due_text, "
    "CAST(CASE WHEN e.kind = %s THEN CAST({contacted} AS integer) * {c} + CAST({solved} AS integer) * {s} "
    "WHEN e.kind = %s AND e.data -> 'clock' = to_jsonb(CAST(%s AS text)) THEN {a} ELSE 0 END AS smallint) AS flags, "
    "CAST(CASE WHEN e.kind = %s AND jsonb_typeof(e.data -> 'satisfaction') = 'string' "
    "THEN COALESCE(array_position(%s, e.data ->> 'satisfaction'), 0) ELSE 0 END AS smallint) AS satisfaction "
    "FROM {events} e WHERE e.case_id >= %s AND e.case_id < %s AND e.id <= %s) events"
)
# (field, expression over the subquery, its binary type): the order of the arrays.
_ARRAYS = (
    ("id", "id", ">i8"),
    ("case", "case_id", ">i8"),
    ("kind", "kind", ">i2"),
    ("at", "at", ">i8"),
    ("lead", "lead", ">i8"),
    ("due", "COALESCE({due}, '-infinity')", ">i8"),
    ("flags", "flags", ">i2"),
    ("satisfaction", "satisfaction", ">i2"),
)


def _array(data: bytes | None, dtype: str) -> np.ndarray:
    """A one-dimensional array without nulls from its binary form (array_send)."""
    if data is None:  # array_agg of no rows
        return np.empty(0, dtype=dtype)
    dimensions, has_nulls = int.from_bytes(data[:4], "big"), int.from_bytes(data[4:8], "big")
    if dimensions != 1 or has_nulls:
        raise ValueError("expected a one-dimensional array without nulls")
    elements = np.frombuffer(data, dtype=[("length", ">i4"), ("value", dtype)], offset=20)
    return elements["value"]


def read_columns(lo: int, hi: int, *, upto: int) -> EventColumns:
    """The events (id ≤ ``upto``) of the cases with ids in [lo, hi) as columns, in case then id
    order (PostgreSQL). The database extracts the fields the rules read from the JSON data (as
    :func:`.rollup.step` reads them) and sends each field as one binary array, read without a Python
    object per value."""
    q = connection.ops.quote_name
    arrays = ", ".join(
        f"array_send(array_agg({expression.format(due=_moment_sql('due_text'))}))"
        for _, expression, _ in _ARRAYS
    )
    sql = _COLUMNS_SQL.format(
        arrays=arrays,
        none=_NONE_SQL,
        contacted=_truthy_sql("e.data -> 'contacted'"),
        solved=_truthy_sql("e.data -> 'solved'"),
        c=CONTACTED,
        s=SOLVED,
        a=ACCEPT_CLOCK,
        events=q(CaseEvent._meta.db_table),
    )
    params = [
        list(KINDS),
        _DISPATCHED,
        _REOPENED,
        _DISPATCHED,
        _REOPENED,
        _SIGNED,
        _EXTENSION_APPROVED,
        _CALLED_BACK,
        _SLA_BREACHED,
        _ACCEPT,
        _CALLED_BACK,
        list(SATISFACTIONS),
        lo,
        hi,
        upto,
    ]
    # A psycopg cursor binding on the server (Django's binds on the client, which rules out binary
    # results): the bytea values arrive as bytes, not as hex text.
    with transaction.atomic(), psycopg.Cursor(connection.connection) as raw:
        # A bitmap scan, not the planner's index scan: it reads each heap page of the range once, in
        # the table's order, where the index scan went to a page per event (at 10 M cases a range
        # read 1.8 → 1.5 s with the pages cached, 2.0–2.9 → 2.0–2.2 s from disk). Not in parallel:
        # a rebuild's workers already keep every core busy. Set back afterwards: called inside a
        # caller's transaction, the settings would otherwise last until it ends.
        raw.execute("SET LOCAL enable_indexscan = off")
        raw.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        raw.execute(sql, params, binary=True)
        row = raw.fetchone()
        raw.execute("SET LOCAL enable_indexscan TO DEFAULT")
        raw.execute("SET LOCAL max_parallel_workers_per_gather TO DEFAULT")
    assert row is not None
    fields = {name: _array(data, dtype) for (name, _, dtype), data in zip(_ARRAYS, row, strict=True)}
    order = np.lexsort((fields["id"], fields["case"]))
    at = fields["at"][order].astype(np.int64)
    return EventColumns(
        case=fields["case"][order].astype(np.int64),
        kind=fields["kind"][order].astype(np.int16),
        at=at,
        day=local_days(at, timezone.get_current_timezone()),
        lead=fields["lead"][order].astype(np.int64),
        due=fields["due"][order].astype(np.int64),
        flags=fields["flags"][order].astype(np.int16),
        satisfaction=fields["satisfaction"][order].astype(np.int16),
        id=fields["id"][order].astype(np.int64),
    )


def local_days(at: np.ndarray, zone: dt.tzinfo) -> np.ndarray:
    """The day in ``zone`` (days since 2000-01-01) of each moment of ``at`` (microseconds since
    2000-01-01 UTC), as :func:`django.utils.timezone.localdate` gives it for one moment. Computed
    here rather than by the database (``AT TIME ZONE``): a range of 295,000 events at 10 M cases
    read in 1.24 s with the day, 0.93 s without; and the offsets come from Python's time zone data,
    as the incremental path's days do."""
    if not len(at):
        return np.zeros(0, dtype=np.int32)
    first, last = (int(v) // _SECOND_US for v in (at.min(), at.max()))
    years = range((EPOCH + dt.timedelta(seconds=first)).year, (EPOCH + dt.timedelta(seconds=last)).year + 1)
    starts, offsets = (
        np.concatenate(parts) for parts in zip(*(_offsets(zone, y) for y in years), strict=True)
    )
    offset = offsets[np.searchsorted(starts, at, side="right") - 1]
    return ((at + offset) // _DAY_US).astype(np.int32)


@functools.lru_cache(maxsize=64)
def _offsets(zone: dt.tzinfo, year: int) -> tuple[np.ndarray, np.ndarray]:
    """The moments (µs since 2000-01-01 UTC) from which ``zone``'s UTC offset holds within the
    (UTC) ``year``, the year's first moment first, and each offset (µs). Found by looking at every
    hour (a change of offset lasts weeks at least), then the second it changed by bisection."""

    def offset(second: int) -> int:
        moment = (EPOCH + dt.timedelta(seconds=second)).astimezone(zone)
        return int(moment.utcoffset().total_seconds())  # type: ignore[union-attr]

    first = int((dt.datetime(year, 1, 1, tzinfo=dt.UTC) - EPOCH).total_seconds())
    last = int((dt.datetime(year + 1, 1, 1, tzinfo=dt.UTC) - EPOCH).total_seconds())
    starts, offsets = [first], [offset(first)]
    for hour in range(first + 3600, last + 3600, 3600):
        lo, hi = hour - 3600, min(hour, last)  # offset(lo) is the last one found
        if offset(hi) == offsets[-1]:
            continue
        while hi - lo > 1:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if offset(mid) == offsets[-1] else (lo, mid)
        if hi < last:  # else it is the next year's first offset
            starts.append(hi)
            offsets.append(offset(hi))
    return np.array(starts, dtype=np.int64) * _SECOND_US, np.array(offsets, dtype=np.int64) * _SECOND_US


# --- the replay -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Tracks:
    """Each case's track after its last event (the columns of :class:`.models.CaseTrack`)."""

    case: np.ndarray
    lead: np.ndarray
    accept_due: np.ndarray
    resolve_due: np.ndarray
    accept_breached: np.ndarray
    resolve_breached: np.ndarray
    resolved_in_time: np.ndarray


@dataclass(frozen=True)
class DailyRows:
    """Rows of a level as columns: the day, or the first day of the period (days since 2000-01-01),
    each dimension as integers (ids, NONE for none; the channel as a position in ``channels``) and
    the counts (one column per milestone). A range's daily rows, or a level's summed from them."""

    day: np.ndarray
    dims: dict[str, np.ndarray]
    channels: list[str]
    counts: np.ndarray

    def __len__(self) -> int:
        return len(self.day)


def _packed(keys: Sequence[np.ndarray]) -> list[np.ndarray]:
    """``keys`` (int64 columns, the most significant first) packed into as few int64 words as
    hold them, ordered and compared as the keys are: each column becomes its rank above its
    smallest value (NONE, the smallest int64, becomes 0) in as many bits as its largest rank needs.
    Sorting 2.5 M rows shaped like a street bucket's daily rows by their eight keys took 2.9 s, by
    the two words they fit in 1.1 s."""
    words: list[np.ndarray] = []
    bits_used = 0
    for key in keys:
        present = key != NONE
        base = int(key[present].min()) - 1 if present.any() else 0
        rank = np.where(present, key, base) - base  # NONE to 0 without wrapping around
        bits = max(int(rank.max(initial=0)).bit_length(), 1)
        if words and bits_used + bits <= 63:
            words[-1] = (words[-1] << bits) | rank
            bits_used += bits
        else:
            words.append(rank)
            bits_used = bits
    return words


def _sum_type(counts: np.ndarray) -> type[np.signedinteger]:
    """int32 when no sum of ``counts`` can exceed it (every column's total fits), else int64:
    gathering the rows in sort order, the costliest part of summing them, moves half the bytes."""
    fits = not len(counts) or int(counts.sum(axis=0, dtype=np.int64).max()) <= np.iinfo(np.int32).max
    return np.int32 if fits else np.int64


def grouped_rows(
    day: np.ndarray, dims: dict[str, np.ndarray], channels: list[str], counts: np.ndarray
) -> DailyRows:
    """Sum the rows that share a day and dimensions (rows come out ordered by day, then by the
    dimensions in their order)."""
    words = _packed([day, *dims.values()])
    order = np.lexsort(words[::-1])  # the day first
    new = np.zeros(len(order), dtype=bool)
    new[:1] = True
    for word in words:
        ordered = word[order]
        new[1:] |= ordered[1:] != ordered[:-1]
    starts = np.flatnonzero(new)
    sums = np.add.reduceat(counts[order], starts, axis=0, dtype=_sum_type(counts)) if len(starts) else counts
    first = order[starts]
    return DailyRows(day[first], {name: key[first] for name, key in dims.items()}, channels, sums)


def _latest(writes: np.ndarray, values: np.ndarray, initial: Any, start: np.ndarray) -> np.ndarray:
    """Per event, the value the last event of its case up to and including it wrote (``values`` at
    the positions where ``writes``), or ``initial`` when none of them wrote."""
    positions = np.arange(len(writes))
    last = np.maximum.accumulate(np.where(writes, positions, -1))
    return np.where(last >= start, values[np.maximum(last, 0)], initial)


def replay(ev: EventColumns) -> tuple[np.ndarray, np.ndarray, Tracks]:
    """Apply the rules to every event: (the milestones each event counts, one row per event and a
    column per milestone; the lead department each is counted under; each case's final track)."""
    n = len(ev)
    first = np.ones(n, dtype=bool)
    first[1:] = ev.case[1:] != ev.case[:-1]
    start = np.maximum.accumulate(np.where(first, np.arange(n), 0))

    def of(*kinds: str) -> np.ndarray:
        return np.isin(ev.kind, [_CODE[k] for k in kinds])

    dispatch = of(_DISPATCHED, _REOPENED)
    returned, resumed, reworked = of(_RETURNED), of(_RESUMED), of(_VERIFICATION_FAILED)
    signed, extended, resolved, verified = of(_SIGNED), of(_EXTENSION_APPROVED), of(_RESOLVED), of(_VERIFIED)
    breached = of(_SLA_BREACHED)
    accept_clock = (ev.flags & ACCEPT_CLOCK) != 0
    nothing = np.full(n, NONE, dtype=np.int64)

    lead = _latest(dispatch | returned, np.where(dispatch, ev.lead, NONE), NONE, start)
    accept_due = _latest(dispatch | returned | resumed, np.where(dispatch, ev.due, NONE), NONE, start)
    accept_breached = _latest(dispatch | (breached & accept_clock), breached, False, start)
    resolve_due = _latest(
        dispatch | signed | returned | extended | resumed | reworked,
        np.where(signed | extended, ev.due, nothing),
        NONE,
        start,
    )
    resolve_breached = _latest(
        dispatch | signed | reworked | (breached & ~accept_clock), breached, False, start
    )
    signed_in_time = signed & ~accept_breached & ((accept_due == NONE) | (ev.at <= accept_due))
    resolved_now = resolved & ~resolve_breached & ((resolve_due == NONE) | (ev.at <= resolve_due))
    resolved_in_time = _latest(resolved | dispatch | reworked, resolved_now, False, start)

    counts = np.zeros((n, len(MILESTONES)), dtype=np.int8)  # 0 or 1: summed in grouped_rows
    called_back = of(_CALLED_BACK)
    for milestone, mask in (
        ("registered", of(_REGISTERED, _RECEIVED_FROM_110)),
        ("dispatched", dispatch),
        ("reopened", of(_REOPENED)),
        ("signed", signed),
        ("signed_in_time", signed_in_time),
        ("resolved", resolved),
        ("resolved_in_time", resolved_now),
        ("closed", verified),
        ("closed_in_time", verified & resolved_in_time),
        ("called_back", called_back),
        ("contacted", called_back & ((ev.flags & CONTACTED) != 0)),
        ("solved", called_back & ((ev.flags & SOLVED) != 0)),
        ("overdue", breached),
        ("reworked", reworked),
    ):
        counts[:, INDEX[milestone]] = mask
    for code, level in enumerate(SATISFACTIONS, start=1):
        counts[:, INDEX[level]] = called_back & (ev.satisfaction == code)

    last = np.ones(n, dtype=bool)  # each case's last event
    last[:-1] = first[1:]
    tracks = Tracks(
        case=ev.case[last],
        lead=lead[last],
        accept_due=accept_due[last],
        resolve_due=resolve_due[last],
        accept_breached=accept_breached[last],
        resolve_breached=resolve_breached[last],
        resolved_in_time=resolved_in_time[last],
    )
    return counts, lead, tracks


def daily_counts(ev: EventColumns, dims: Mapping[int, Dims]) -> tuple[DailyRows, Tracks]:
    """Replay ``ev`` and sum what each event counts per (day, the case's dimensions, lead
    department): the daily level's rows. ``dims`` gives each case's dimensions
    (:func:`.rollup.dims_between`)."""
    counts, lead, tracks = replay(ev)
    combinations: dict[Dims, int] = {}
    per_case = np.array(
        [
            combinations.setdefault(dims.get(case, NO_DIMS), len(combinations))
            for case in tracks.case.tolist()
        ],
        dtype=np.int64,
    )
    channels: dict[str, int] = {}
    table = np.array(
        [
            [NONE if v is None else v for v in combination[:5]]
            + [channels.setdefault(combination[5], len(channels))]
            for combination in combinations
        ],
        dtype=np.int64,
    ).reshape(-1, 6)
    counted = counts.any(axis=1)
    case_of_event = np.cumsum(np.append(True, ev.case[1:] != ev.case[:-1])) - 1 if len(ev) else per_case
    of_row = per_case[case_of_event[counted]]
    columns = {name: table[of_row, i] for i, name in enumerate(DIMENSIONS[:6])}
    columns["department_id"] = lead[counted]
    return grouped_rows(ev.day[counted], columns, list(channels), counts[counted]), tracks


# --- writing on PostgreSQL: binary COPY -----------------------------------------------------------
@dataclass(frozen=True)
class Joined:
    """A text column given as its parts (bytes arrays), joined by "|": written part by part into
    each COPY record, so no joined string is ever built. Joining the eight parts of a daily key was
    a quarter of the time of encoding the rows; written by parts (with more record layouts, one per
    combination of the parts' lengths) the encoding took 14 % less."""

    parts: list[np.ndarray]


# A column to COPY: its values (numbers in the column's binary type, bytes ("S") or Joined for text)
# and which rows are null (None: none; a Joined column is never null).
Column = tuple[np.ndarray | Joined, np.ndarray | None]
_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"


def _widths(values: np.ndarray | Joined, nulls: np.ndarray | None) -> list[np.ndarray | int]:
    """Each row's length in a column (-1: null), or the one length of all its rows; for a Joined
    column, those of each part."""
    if isinstance(values, Joined):
        return [np.strings.str_len(part) for part in values.parts]
    if values.dtype.kind == "S":
        lengths = np.strings.str_len(values)
    elif nulls is None:
        return [values.dtype.itemsize]
    else:
        lengths = np.full(len(values), values.dtype.itemsize)
    return [lengths if nulls is None else np.where(nulls, -1, lengths)]


def _layouts(widths: list[np.ndarray | int], n: int) -> np.ndarray:
    """Which layout (the lengths of its fields) each row has, as one number per row."""
    layout = np.zeros(n, dtype=np.int64)
    for width in widths:
        if isinstance(width, np.ndarray):
            distinct, digit = np.unique(width, return_inverse=True)
            layout = layout * len(distinct) + digit.ravel()
    return layout


def _fields(j: int, values: np.ndarray | Joined, lengths: list[int]) -> list[tuple[str, Any]]:
    """The record fields of column ``j``: its length, then its bytes (for a Joined column, each
    part's, with the separators between)."""
    if not isinstance(values, Joined):
        kind = f"S{lengths[0]}" if values.dtype.kind == "S" else values.dtype.newbyteorder(">")
        return [(f"l{j}", ">i4"), *([(f"v{j}", kind)] if lengths[0] > 0 else [])]
    fields: list[tuple[str, Any]] = [(f"l{j}", ">i4")]
    for p, length in enumerate(lengths):
        fields += [(f"s{j}_{p}", "S1")] if p else []
        fields += [(f"v{j}_{p}", f"S{length}")] if length else []
    return fields


def _records(columns: Sequence[Column], rows: np.ndarray, lengths: list[list[int]]) -> bytes:
    """``rows`` (which all have the field ``lengths``) as binary COPY tuples."""
    fields: list[tuple[str, Any]] = [("n", ">i2")]
    for j, ((values, _), length) in enumerate(zip(columns, lengths, strict=True)):
        fields += _fields(j, values, length)
    record = np.empty(len(rows), dtype=np.dtype(fields))
    record["n"] = len(columns)
    for j, ((values, _), length) in enumerate(zip(columns, lengths, strict=True)):
        if isinstance(values, Joined):
            record[f"l{j}"] = sum(length) + len(length) - 1
            for p, (part, part_length) in enumerate(zip(values.parts, length, strict=True)):
                if p:
                    record[f"s{j}_{p}"] = b"|"
                if part_length:
                    record[f"v{j}_{p}"] = part[rows]
        else:
            record[f"l{j}"] = length[0]
            if length[0] > 0:
                record[f"v{j}"] = values[rows]
    return record.tobytes()


def binary_copy_data(columns: Sequence[Column], runs: np.ndarray) -> bytes:
    """Rows given as columns, in PostgreSQL's binary COPY format, in the order of ``runs`` (rows
    with the same value, e.g. a day, come out together, in ascending order of the value).

    Each tuple is its field count, then each field's length (-1 for null) and bytes. Rows with the
    same lengths are one fixed-size record, so numpy lays them out a layout at a time (a range of
    daily rows has a few dozen: which dimensions are empty, the key's and the channel's lengths);
    each layout's part of each run is then put in its place."""
    widths = [_widths(values, nulls) for values, nulls in columns]
    layout = _layouts([w for column in widths for w in column], len(runs))
    order = np.lexsort((runs, layout))  # by layout, then run
    pieces: list[tuple[int, memoryview]] = []
    for rows in np.split(order, np.flatnonzero(np.diff(layout[order])) + 1) if len(order) else []:
        lengths = [[int(w[rows[0]]) if isinstance(w, np.ndarray) else w for w in column] for column in widths]
        data = memoryview(_records(columns, rows, lengths))
        size = len(data) // len(rows)
        values = runs[rows]
        bounds = (np.flatnonzero(np.diff(values)) + 1).tolist()
        for lo, hi in zip([0, *bounds], [*bounds, len(rows)], strict=True):
            pieces.append((int(values[lo]), data[lo * size : hi * size]))
    pieces.sort(key=lambda piece: piece[0])  # stable: a run's layouts stay in layout order
    return b"".join([_SIGNATURE, bytes(8), *(piece for _, piece in pieces), b"\xff\xff"])


def copy_binary(table: str, names: Sequence[str], columns: Sequence[Column], runs: np.ndarray) -> None:
    q = connection.ops.quote_name
    statement = f"COPY {q(table)} ({', '.join(q(n) for n in names)}) FROM STDIN (FORMAT BINARY)"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        copy.write(binary_copy_data(columns, runs))


def _optional(values: np.ndarray, dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """Ids that may be absent (None in an object array, or NONE) as a column of ``dtype``."""
    if values.dtype == object:
        nulls = np.fromiter((v is None for v in values.tolist()), dtype=bool, count=len(values))
    else:
        nulls = values == NONE
    return np.where(nulls, 0, values).astype(dtype), nulls


def _text(values: np.ndarray, nulls: np.ndarray) -> np.ndarray:
    # Ids as the decimal text row_key writes, '' for none: each distinct id formatted once.
    distinct, position = np.unique(np.where(nulls, NONE, values), return_inverse=True)
    texts = np.where(distinct == NONE, b"", distinct.astype("S20"))
    return texts[position.ravel()]


def level_columns(level: Level, rows: DailyRows) -> list[Column]:
    """The columns of ``level``'s table: ``key``, the period, the level's dimensions, the
    milestones. Keys as :func:`.rollup.row_key` writes them, from the texts of each distinct
    period, id and channel (:class:`Joined`)."""
    days, day_of = np.unique(rows.day, return_inverse=True)
    texts = np.array([(EPOCH_DAY + dt.timedelta(days=d)).isoformat().encode() for d in days.tolist()], "S")
    columns: list[Column] = [(rows.day.astype(">i4"), None)]
    parts = [texts[day_of.ravel()]]
    for name in level.dims:
        if name == "channel":
            channels = np.array([c.encode() for c in rows.channels], dtype="S")[rows.dims[name]]
            columns.append((channels, None))
            parts.append(channels)
        else:
            values, nulls = _optional(rows.dims[name], ">i8")
            columns.append((values, nulls))
            parts.append(_text(values, nulls))
    columns += [(rows.counts[:, i].astype(">i4"), None) for i in range(len(MILESTONES))]
    return [(Joined(parts), None), *columns]


def track_columns(tracks: Tracks) -> list[Column]:
    """The columns of :class:`.models.CaseTrack` (``case_id`` then :data:`.rollup.TRACK_FIELDS`)."""
    return [
        (tracks.case.astype(">i8"), None),
        _optional(tracks.lead, ">i4"),
        _optional(tracks.accept_due, ">i8"),
        _optional(tracks.resolve_due, ">i8"),
        (tracks.accept_breached.astype("?"), None),
        (tracks.resolve_breached.astype("?"), None),
        (tracks.resolved_in_time.astype("?"), None),
    ]


# Rows per COPY statement: the binary data of a statement is built in memory at once.
_COPY_ROWS = 250_000


def copy_level(level: Level, rows: DailyRows) -> None:
    """Append ``rows`` to ``level``'s table, keys included (PostgreSQL, during a rebuild, the
    table's indexes set aside). In period order: rows that come case by case or street by street
    would otherwise spread a day's rows over the whole table (a day would then cost one page read
    per row; at 10 M cases four days of the grid table read 146,000 pages when unordered)."""
    names = ["key", level.period_field, *level.dims, *MILESTONES]
    order = np.argsort(rows.day, kind="stable")
    for start in range(0, len(order), _COPY_ROWS):
        part = order[start : start + _COPY_ROWS]
        piece = DailyRows(
            rows.day[part], {d: v[part] for d, v in rows.dims.items()}, rows.channels, rows.counts[part]
        )
        copy_binary(level.model._meta.db_table, names, level_columns(level, piece), piece.day)


def write_tracks(tracks: Tracks) -> None:
    names = ["case_id", *TRACK_FIELDS]
    copy_binary(
        CaseTrack._meta.db_table, names, track_columns(tracks), np.zeros(len(tracks.case), dtype=np.int64)
    )
