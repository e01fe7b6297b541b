"""The rebuild's replay on columns (:mod:`yiwang.analytics.columnar`) counts what the event-by-event
rules (:func:`yiwang.analytics.rollup.step`) count, on random timelines with malformed data too, and
PostgreSQL extracts the data's fields as the Python reader does."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.cases.conftest import WEDNESDAY, new_case
from tests.world import World
from yiwang.analytics import columnar, rollup
from yiwang.analytics.models import DAILY, DIMENSIONS, MILESTONES, DailyRollup
from yiwang.analytics.rollup import DATA_KINDS, Dims, EventRow, RangeCounts
from yiwang.cases.choices import EventKind
from yiwang.cases.models import CaseEvent

START = dt.datetime(2026, 3, 2, 8, tzinfo=dt.UTC)
DUE = st.sampled_from(
    [
        "2026-03-02T09:00:00+00:00",
        "2026-03-03T10:30:00.250000+08:00",
        "2026-03-05T00:00:00+00:00",
        "",
        "not a moment",
        5,
        None,
    ]
)
TRUTH = st.sampled_from([True, False, 0, 1, "", "yes", None, [], [0], {}, {"a": 1}, 0.0])
DATA = st.fixed_dictionaries(
    {},
    optional={
        "lead": st.sampled_from([None, 7, 8]),
        "accept_due_at": DUE,
        "resolve_due_at": DUE,
        "contacted": TRUTH,
        "solved": TRUTH,
        "satisfaction": st.sampled_from(
            ["satisfied", "basically_satisfied", "unsatisfied", "other", 3, None]
        ),
        "clock": st.sampled_from(["accept", "resolve", None, 1]),
    },
)
KIND = st.sampled_from([*EventKind.values, "no_such_kind"])
EVENT = st.tuples(KIND, st.integers(0, 60 * 24 * 6), DATA)
DIMS: list[Dims] = [
    (1, 2, 3, 4, 5, "hotline_12345"),
    (1, 2, 3, None, 5, "web"),
    (None, None, None, None, 6, ""),
]


def micros(moment: dt.datetime | None) -> int:
    return columnar.NONE if moment is None else (moment - columnar.EPOCH) // dt.timedelta(microseconds=1)


def moment_of(value: int) -> dt.datetime | None:
    return None if value == columnar.NONE else columnar.EPOCH + dt.timedelta(microseconds=value)


def daily_rows(daily: columnar.DailyRows) -> list[tuple[Any, ...]]:
    """(day, *DIMENSIONS, *MILESTONES) as Python values, like :func:`.rollup.daily_rows`."""

    def values(name: str) -> list[Any]:
        if name == "channel":
            return [daily.channels[i] for i in daily.dims[name].tolist()]
        return [None if v == columnar.NONE else v for v in daily.dims[name].tolist()]

    days = [columnar.EPOCH_DAY + dt.timedelta(days=d) for d in daily.day.tolist()]
    columns = [values(name) for name in daily.dims]
    return [
        (day, *rest[:-1], *rest[-1]) for day, *rest in zip(days, *columns, daily.counts.tolist(), strict=True)
    ]


def track_rows(tracks: columnar.Tracks) -> list[tuple[Any, ...]]:
    """``case_id`` then :data:`.rollup.TRACK_FIELDS`, as Python values."""
    return [
        (case, None if lead == columnar.NONE else lead, moment_of(accept), moment_of(resolve), *breaches)
        for case, lead, accept, resolve, *breaches in zip(
            tracks.case.tolist(),
            tracks.lead.tolist(),
            tracks.accept_due.tolist(),
            tracks.resolve_due.tolist(),
            tracks.accept_breached.tolist(),
            tracks.resolve_breached.tolist(),
            tracks.resolved_in_time.tolist(),
            strict=True,
        )
    ]


def _fields(kind: str, data: Mapping[str, Any]) -> tuple[int, int, int, int]:
    """(lead, due, flags, satisfaction) of one event, as :func:`.rollup.step` reads its data."""
    if kind in (rollup._DISPATCHED, rollup._REOPENED):
        lead = data.get("lead")
        return (
            (columnar.NONE if lead is None else int(lead)),
            micros(rollup._moment(data.get("accept_due_at"))),
            0,
            0,
        )
    if kind in (rollup._SIGNED, rollup._EXTENSION_APPROVED):
        return columnar.NONE, micros(rollup._moment(data.get("resolve_due_at"))), 0, 0
    if kind == rollup._CALLED_BACK:
        flags = (columnar.CONTACTED if data.get("contacted") else 0) | (
            columnar.SOLVED if data.get("solved") else 0
        )
        level = data.get("satisfaction")
        code = (
            columnar.SATISFACTIONS.index(level) + 1
            if isinstance(level, str) and level in rollup._SATISFACTION
            else 0
        )
        return columnar.NONE, columnar.NONE, flags, code
    if kind == rollup._SLA_BREACHED:
        return (
            columnar.NONE,
            columnar.NONE,
            (columnar.ACCEPT_CLOCK if data.get("clock") == rollup._ACCEPT else 0),
            0,
        )
    return columnar.NONE, columnar.NONE, 0, 0


def columns_from_rows(rows: Sequence[EventRow]) -> columnar.EventColumns:
    """Columns from rows as :func:`.rollup.read_range` returns them, the data of the kinds the rules
    read parsed in Python (with the rules' own helpers): the reference the database's extraction is
    held to, and the input of the replay on random timelines."""
    fields = [_fields(kind, rollup._data(text) if text else rollup._EMPTY) for _, kind, _, _, text in rows]
    lead, due, flags, satisfaction = zip(*fields, strict=True) if fields else ((), (), (), ())
    return columnar.EventColumns(
        case=np.array([r[0] for r in rows], dtype=np.int64),
        kind=np.array([columnar._CODE.get(r[1], 0) for r in rows], dtype=np.int16),
        at=np.array([micros(r[2]) for r in rows], dtype=np.int64),
        day=np.array([(r[3] - columnar.EPOCH_DAY).days for r in rows], dtype=np.int32),
        lead=np.array(lead, dtype=np.int64),
        due=np.array(due, dtype=np.int64),
        flags=np.array(flags, dtype=np.int16),
        satisfaction=np.array(satisfaction, dtype=np.int16),
    )


def _rows(cases: Sequence[Sequence[tuple[str, int, dict[str, Any]]]]) -> list[EventRow]:
    """Events as :func:`.rollup.read_range` returns them: case then id order, the data's JSON text
    for the kinds the rules read."""
    rows: list[EventRow] = []
    for case_id, events in enumerate(cases, start=1):
        for kind, minutes, data in events:
            at = START + dt.timedelta(minutes=minutes)
            rows.append((case_id, kind, at, at.date(), json.dumps(data) if kind in DATA_KINDS else None))
    return rows


def _by_step(
    rows: list[EventRow], dims: dict[int, Dims]
) -> tuple[dict[tuple[Any, ...], list[int]], list[Any]]:
    counts: RangeCounts = {}
    tracks = rollup.replay(rows, dims, counts)
    return {row[:8]: list(row[8:]) for row in rollup.daily_rows(counts)}, [t.row() for t in tracks]


def _by_columns(
    rows: list[EventRow], dims: dict[int, Dims]
) -> tuple[dict[tuple[Any, ...], list[int]], list[Any]]:
    daily, tracks = columnar.daily_counts(columns_from_rows(rows), dims)
    return {row[:8]: list(row[8:]) for row in daily_rows(daily)}, track_rows(tracks)


@settings(max_examples=300, deadline=None)
@given(
    cases=st.lists(st.lists(EVENT, max_size=14), max_size=5),
    dims=st.lists(st.sampled_from(DIMS), min_size=5, max_size=5),
)
def test_the_replay_on_columns_counts_what_the_rules_count_event_by_event(
    cases: list[list[tuple[str, int, dict[str, Any]]]], dims: list[Dims]
) -> None:
    rows = _rows(cases)
    # Case 5 has no dimensions (a case deleted meanwhile): both count it under none.
    known = dict(enumerate(dims[:4], start=1))
    assert _by_columns(rows, known) == _by_step(rows, known)


def test_a_dispatch_then_a_late_signature_counts_as_signed_but_not_in_time() -> None:
    # One concrete timeline beside the property: the values, not only the agreement.
    rows = _rows(
        [
            [
                ("registered", 0, {}),
                ("dispatched", 10, {"lead": 7, "accept_due_at": "2026-03-02T09:00:00+00:00"}),
                ("signed", 90, {"resolve_due_at": "2026-03-05T00:00:00+00:00"}),
                ("resolved", 120, {}),
                ("verified", 130, {}),
            ]
        ]
    )
    counts, tracks = _by_columns(rows, {1: DIMS[0]})
    day = START.date()
    registered = [0] * len(MILESTONES)
    registered[rollup.INDEX["registered"]] = 1
    under_lead = counts[(day, *DIMS[0], 7)]
    assert counts[(day, *DIMS[0], None)] == registered
    named = {m for m, n in zip(MILESTONES, under_lead, strict=True) if n}
    assert named == {"dispatched", "signed", "resolved", "resolved_in_time", "closed", "closed_in_time"}
    assert tracks == [
        (
            1,
            7,
            dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC),
            dt.datetime(2026, 3, 5, tzinfo=dt.UTC),
            False,
            False,
            True,
        )
    ]


def test_a_range_without_events_replays_to_nothing() -> None:
    daily, tracks = columnar.daily_counts(columns_from_rows([]), {})
    assert daily_rows(daily) == []
    assert track_rows(tracks) == []


@pytest.mark.postgres
def test_the_database_reads_the_fields_of_the_data_as_python_does(world: World) -> None:
    """On PostgreSQL the fields come from SQL over the JSON; they must equal what the Python reader
    takes from the same rows. Events are written directly: the actions never write most of these
    values, and a rebuild must still read them as the rules do."""
    case = new_case(world, at=WEDNESDAY)
    values: list[tuple[str, dict[str, Any]]] = [
        ("dispatched", {"lead": 7, "accept_due_at": "2026-03-03T10:30:00.250000+08:00"}),
        ("reopened", {"lead": None, "accept_due_at": ""}),
        ("dispatched", {"accept_due_at": 5}),
        ("signed", {"resolve_due_at": "not a moment"}),
        # Dashes where ISO puts them, but not digits; digits, but not padded: no moment either.
        ("signed", {"resolve_due_at": "abcd-ef-ghT10:00:00+08:00"}),
        ("dispatched", {"lead": 7, "accept_due_at": "2026-3-05T10:00:00+08:00"}),
        ("extension_approved", {"resolve_due_at": "2026-03-05T00:00:00+00:00"}),
        # The forms the actions write (UTC, with and without microseconds), and another offset.
        ("signed", {"resolve_due_at": "2026-03-05T08:15:00.125000+00:00"}),
        ("dispatched", {"lead": 7, "accept_due_at": "2028-02-29T23:59:59+00:00"}),
        ("reopened", {"lead": 8, "accept_due_at": "2026-03-05T08:15:00.125000+08:00"}),
        ("called_back", {"contacted": 1, "solved": "", "satisfaction": "basically_satisfied"}),
        ("called_back", {"contacted": [], "solved": {"a": 1}, "satisfaction": 3}),
        ("called_back", {"contacted": 0.0, "solved": "no", "satisfaction": "other"}),
        ("sla_breached", {"clock": "accept"}),
        ("sla_breached", {"clock": 1}),
        ("registered", {"lead": 9, "contacted": True}),
        ("urged", {}),
    ]
    for minutes, (kind, data) in enumerate(values):
        CaseEvent.objects.create(
            case=case, kind=kind, at=WEDNESDAY + dt.timedelta(minutes=minutes), data=data
        )
    high = CaseEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    read = columnar.read_columns(case.pk, case.pk + 1, upto=high)
    expected = columns_from_rows(rollup.read_range(case.pk, case.pk + 1, upto=high))
    assert len(read) == len(expected) > len(values)  # with the events of the case's registration
    for field in ("case", "kind", "at", "day", "lead", "due", "flags", "satisfaction"):
        assert np.array_equal(getattr(read, field), getattr(expected, field)), field


def _planner_settings() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setting FROM pg_settings WHERE name IN ('enable_indexscan', "
            "'max_parallel_workers_per_gather') ORDER BY name"
        )
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.postgres
def test_reading_a_range_leaves_the_callers_transaction_planning_as_before(world: World) -> None:
    case = new_case(world, at=WEDNESDAY)
    before = _planner_settings()
    assert len(columnar.read_columns(case.pk, case.pk + 1, upto=10**12)) > 0
    assert _planner_settings() == before


@pytest.mark.postgres
def test_binary_copy_writes_keys_empty_dimensions_and_channels_as_the_rules_do(db: None) -> None:
    """The daily rows of a rebuild on PostgreSQL go in through binary COPY, keys built by numpy:
    they must read back as :func:`.rollup.row_key` and the Python rows say."""
    rows = _rows(
        [
            [("registered", 0, {}), ("dispatched", 5, {"lead": 7})],
            [("registered", 60 * 3, {}), ("sla_breached", 60 * 31, {"clock": "accept"})],
            [("registered", 2, {})],
        ]
    )
    daily, _ = columnar.daily_counts(columns_from_rows(rows), {1: DIMS[0], 2: DIMS[1]})
    columnar.copy_level(DAILY, daily)
    fields = ["key", "day", *DIMENSIONS, *MILESTONES]
    stored = sorted(DailyRollup.objects.values_list(*fields))
    expected = sorted((rollup.row_key(row[:8]), *row) for row in daily_rows(daily))
    assert stored == expected
    keys = {row[0] for row in stored}
    assert f"{START.date()}|||||||" in keys  # the case without dimensions
    assert f"{START.date()}|1|2|3||5|web|" in keys  # no grid, no department yet


def _grouped_by_hand(
    day: np.ndarray, dims: dict[str, np.ndarray], counts: np.ndarray
) -> list[tuple[Any, ...]]:
    sums: dict[tuple[int, ...], list[int]] = {}
    for i in range(len(day)):
        key = (int(day[i]), *(int(v[i]) for v in dims.values()))
        old = sums.get(key, [0] * counts.shape[1])
        sums[key] = [a + int(b) for a, b in zip(old, counts[i], strict=True)]
    return [(*key, *vector) for key, vector in sorted(sums.items())]  # NONE, the smallest, first


def _as_rows(rows: columnar.DailyRows) -> list[tuple[Any, ...]]:
    columns = [rows.day, *rows.dims.values()]
    return [(*(int(c[i]) for c in columns), *rows.counts[i].tolist()) for i in range(len(rows))]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(-400, 9_000),
            st.lists(st.sampled_from([columnar.NONE, 1, 2, 2**40, 2**40 + 1, 2**45]), min_size=7, max_size=7),
            st.lists(st.integers(0, 3), min_size=3, max_size=3),
        ),
        max_size=60,
    )
)
def test_grouping_sums_the_rows_of_a_key_and_orders_them_as_their_columns_sort(
    rows: list[tuple[int, list[int], list[int]]],
) -> None:
    # Ids up to 2**45: the eight columns no longer fit one packed word.
    day = np.array([r[0] for r in rows], dtype=np.int64)
    dims = {name: np.array([r[1][j] for r in rows], dtype=np.int64) for j, name in enumerate(DIMENSIONS[:7])}
    counts = np.array([r[2] for r in rows], dtype=np.int8).reshape(-1, 3)
    grouped = columnar.grouped_rows(day, dims, [], counts)
    assert _as_rows(grouped) == _grouped_by_hand(day, dims, counts)


def test_grouping_sums_beyond_32_bits_exactly() -> None:
    day = np.zeros(3, dtype=np.int64)
    dims = {"grid_id": np.array([5, 5, 6], dtype=np.int64)}
    counts = np.array([[2**31 - 1], [2**31 - 1], [1]], dtype=np.int64)
    grouped = columnar.grouped_rows(day, dims, [], counts)
    assert _as_rows(grouped) == [(0, 5, 2**32 - 2), (0, 6, 1)]


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/New_York", "Australia/Lord_Howe"])
def test_the_local_day_of_each_moment_is_the_day_python_gives_across_changes_of_offset(zone: str) -> None:
    # Every half hour of two years, a microsecond either side: New York's and Lord Howe's offsets
    # change at such moments (Lord Howe by half an hour, at half past in UTC), and days begin at them.
    tz = ZoneInfo(zone)
    half_hours = np.arange(0, 2 * 366 * 48, dtype=np.int64) * 1_800_000_000 + 820 * 86_400_000_000
    at = np.concatenate([half_hours - 1, half_hours, half_hours + 1])
    expected = [
        ((columnar.EPOCH + dt.timedelta(microseconds=m)).astimezone(tz).date() - columnar.EPOCH_DAY).days
        for m in at.tolist()
    ]
    assert columnar.local_days(at, tz).tolist() == expected
