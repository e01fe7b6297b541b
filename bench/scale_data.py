"""Synthetic cases and events at scale for bench/scale.py, written straight into the tables.

A district (15 k grids, 1 M cases, SQLite or PostgreSQL) or a megacity (50 k grids, 10 M cases,
PostgreSQL) is too big for the ORM: cases and their events are generated in chunks, by the
database itself on PostgreSQL (INSERT … SELECT over generate_series, two sessions), in Python and
loaded with ``executemany`` on SQLite (both draw from the same distributions). Every case follows the real
flow (registered → dispatched → signed → resolved → verified → called back), stopping early for
the recent ones; its events carry the data the rollups read (lead department, due moments,
satisfaction), so ``rollup rebuild`` counts them exactly as it counts real cases.

As at a real intake, case ids follow the creation moments (each id draws its moment within its
own slot of the period), and each chunk's events are written in the order they happened. Both
shape the tables as a running installation's: the case table in time order, the events of one
case spread among the others' of the same days.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import random
from bisect import bisect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import accumulate

UTC = dt.UTC
HOUR = 3600.0
DAY = 24 * HOUR

CHANNELS = (
    ("hotline_12345", 55),
    ("grid_patrol", 20),
    ("web", 12),
    ("police_110", 5),
    ("leader", 3),
    ("open311", 3),
    ("enterprise", 2),
)
SATISFACTION = (("satisfied", 70), ("basically_satisfied", 20), ("unsatisfied", 10))
# Stages a recent case may have reached (number of events written).
OPEN_STAGES = ((1, 15), (2, 20), (3, 40), (4, 25))
STATUS_AFTER = {1: "registered", 2: "dispatched", 3: "in_progress", 4: "resolved", 5: "closed", 6: "closed"}

CASE_COLUMNS = (
    "id",
    "number",
    "channel",
    "category_id",
    "demand_kind",
    "title",
    "description",
    "lng",
    "lat",
    "address",
    "grid_id",
    "community_id",
    "street_id",
    "district_id",
    "urgency",
    "reporter_name",
    "reporter_phone",
    "reporter_phone_hash",
    "is_anonymous",
    "is_confidential",
    "external_ref",
    "idempotency_key",
    "attributes",
    "status",
    "suspended_at",
    "version",
    "lead_department_id",
    "accept_limit",
    "resolve_limit",
    "accept_started_at",
    "accept_due_at",
    "accept_unit",
    "accept_breached_at",
    "resolve_started_at",
    "resolve_due_at",
    "resolve_unit",
    "resolve_breached_at",
    "overdue_count",
    "extension_amount",
    "extension_unit",
    "extension_count",
    "urge_count",
    "supervise_level",
    "return_count",
    "rework_count",
    "reopen_count",
    "round",
    "result",
    "dispatched_at",
    "signed_at",
    "resolved_at",
    "closed_at",
    "called_back_at",
    "contacted",
    "solved",
    "satisfaction",
    "merged_into_id",
    "transfer_receipt",
    "created_by_id",
    "created_at",
    "updated_at",
)
EVENT_COLUMNS = ("id", "case_id", "kind", "actor_id", "at", "from_status", "to_status", "note", "data")
_AT = EVENT_COLUMNS.index("at")
EVENTS_PER_CASE = 6  # event ids are case id × 6 + step: no sequence round trips


_CLOCK = [f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}" for s in range(86400)]


@dataclass(frozen=True)
class Plan:
    """What a chunk of cases is generated from (picklable for the worker processes)."""

    grids: Sequence[tuple[int, int, int, int, float, float]]  # id, community, street, district, lng, lat
    categories: Sequence[int]
    departments: Sequence[int]
    start: float  # epoch seconds of the first possible creation moment
    now: float
    vendor: str  # "postgresql" or "sqlite"
    cases: int  # in all: case ids follow the creation moments, as intake numbers them


class _Weighted:
    """A weighted draw, as ``rng.choices(values, weights)[0]`` makes it (the same random number,
    the same result), with the cumulative weights computed once instead of per draw."""

    def __init__(self, table: Sequence[tuple[object, int]]) -> None:
        self.values, weights = zip(*table, strict=True)
        self.cum = list(accumulate(weights))
        self.total = self.cum[-1] + 0.0
        self.hi = len(self.cum) - 1

    def __call__(self, rng: random.Random) -> object:
        return self.values[bisect(self.cum, rng.random() * self.total, 0, self.hi)]


_CHANNEL, _SATISFACTION, _OPEN_STAGE = _Weighted(CHANNELS), _Weighted(SATISFACTION), _Weighted(OPEN_STAGES)


class Formatter:
    """Values in the text each database reads: COPY text format (PostgreSQL) or Python values
    (SQLite, as Django stores them: naive UTC datetimes as text)."""

    def __init__(self, vendor: str) -> None:
        self.pg = vendor == "postgresql"
        self.null: object = r"\N" if self.pg else None
        self.suffix = "+00" if self.pg else ""
        self._days: dict[int, str] = {}

    def _text(self, ts: float) -> str:
        # Formatting per value was the generator's main cost: the date part is cached per day and
        # the time of day looked up in a table of the 86 400 seconds of a day.
        day, rest = divmod(int(ts), 86400)
        date = self._days.get(day)
        if date is None:
            date = self._days[day] = dt.datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%d ")
        return date + _CLOCK[rest]

    def when(self, ts: float | None) -> object:
        return self.null if ts is None else self._text(ts) + self.suffix

    def iso(self, ts: float) -> str:
        text = self._text(ts)
        return f"{text[:10]}T{text[11:]}+00:00"

    def flag(self, value: bool | None) -> object:
        if value is None:
            return self.null
        return ("t" if value else "f") if self.pg else int(value)

    def opt(self, value: object) -> object:
        return self.null if value is None else value


def generate(
    plan: Plan, first: int, last: int, seed: int
) -> Iterator[tuple[list[object], list[list[object]]]]:
    """Rows of cases ``first`` … ``last - 1`` (ids) with their events."""
    rng = random.Random(seed)
    f = Formatter(plan.vendor)
    span = plan.now - plan.start
    n_cat, n_dept = len(plan.categories), len(plan.departments)
    null = f.null
    padding = [[null] * (6 - steps) for steps in range(7)]  # the moments a case has not reached
    for case_id in range(first, last):
        grid, community, street, district, lng, lat = plan.grids[rng.randrange(len(plan.grids))]
        cat_index = min(int(rng.paretovariate(1.2)) - 1, n_cat - 1)  # a few categories dominate
        category = plan.categories[(cat_index * 7919 + street) % n_cat]
        dept = plan.departments[(cat_index + street) % n_dept]
        channel = _CHANNEL(rng)
        t0 = plan.start + (case_id - 1 + rng.random()) * span / plan.cases
        t_dispatch = t0 + rng.uniform(0.2, 4) * HOUR
        accept_due = t_dispatch + 4 * HOUR
        t_sign = t_dispatch + rng.uniform(0.1, 5.5) * HOUR
        resolve_due = t_sign + 7 * DAY
        t_resolve = t_sign + rng.uniform(0.2, 9) * DAY
        t_verify = t_resolve + rng.uniform(1, 24) * HOUR
        t_call = t_verify + rng.uniform(2, 60) * HOUR
        age = plan.now - t0
        steps = 6 if age > 15 * DAY and rng.random() < 0.97 else int(_OPEN_STAGE(rng))  # type: ignore[call-overload]
        times = (t0, t_dispatch, t_sign, t_resolve, t_verify, t_call)
        while steps > 1 and times[steps - 1] > plan.now:
            steps -= 1
        satisfaction = str(_SATISFACTION(rng)) if steps == 6 else ""
        solved = rng.random() < 0.85 if steps == 6 else None
        status = STATUS_AFTER[steps]
        accept_running = steps == 2
        # The moments' text, once each (case columns and events share them).
        text = [f.when(t) for t in times[:steps]]
        resolve_running = steps == 3
        case = [
            case_id,
            f"S{case_id:012d}",
            channel,
            category,
            "complaint",
            "测试案件",
            "基准测试生成的案件",
            lng,
            lat,
            "",
            grid,
            community,
            street,
            district,
            "normal",
            "",
            "",
            "",
            f.flag(False),
            f.flag(False),
            "",
            f.null,
            "{}",
            status,
            f.null,
            steps,
            f.opt(dept if steps >= 2 else None),
            4 if steps >= 2 else f.null,
            5 if steps >= 3 else f.null,
            text[1] if accept_running else null,
            f.when(accept_due) if accept_running else null,
            "hours" if steps >= 2 else "",
            f.null,
            text[2] if resolve_running else null,
            f.when(resolve_due) if resolve_running else null,
            "work_days" if steps >= 3 else "",
            f.null,
            0,
            f.null,
            "",
            0,
            0,
            f.null,
            0,
            0,
            0,
            1,
            "已处理" if steps >= 4 else "",
            *text[1:],
            *padding[steps],
            f.flag(True if steps == 6 else None),
            f.flag(solved),
            satisfaction,
            f.null,
            "",
            f.null,
            text[0],
            text[-1],
        ]
        data = (
            "{}",
            f'{{"lead":{dept},"accept_due_at":"{f.iso(accept_due)}"}}',
            f'{{"resolve_due_at":"{f.iso(resolve_due)}"}}',
            "{}",
            "{}",
            f'{{"contacted":true,"solved":{"true" if solved else "false"},"satisfaction":"{satisfaction}"}}',
        )
        kinds = ("registered", "dispatched", "signed", "resolved", "verified", "called_back")
        before = ("", "registered", "dispatched", "in_progress", "resolved", "closed")
        after = ("registered", "dispatched", "in_progress", "resolved", "closed", "closed")
        events = [
            [
                case_id * EVENTS_PER_CASE + k,
                case_id,
                kinds[k],
                f.null,
                text[k],
                before[k],
                after[k],
                "",
                data[k],
            ]
            for k in range(steps)
        ]
        yield case, events


def load_sqlite(path: str, plan: Plan, first: int, last: int, seed: int) -> int:
    import sqlite3

    conn = sqlite3.connect(path)
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA journal_mode = MEMORY")
    conn.execute("PRAGMA cache_size = -1000000")
    n_events = 0
    cases: list[list[object]] = []
    events: list[list[object]] = []

    def flush() -> None:
        conn.executemany(
            f"INSERT INTO cases_case ({', '.join(CASE_COLUMNS)}) VALUES ({', '.join('?' * len(CASE_COLUMNS))})",
            cases,
        )
        conn.executemany(
            f"INSERT INTO cases_caseevent ({', '.join(EVENT_COLUMNS)}) VALUES ({', '.join('?' * len(EVENT_COLUMNS))})",
            events,
        )
        conn.commit()
        cases.clear()
        events.clear()

    for case, evs in generate(plan, first, last, seed):
        cases.append(case)
        events.extend(evs)
        n_events += len(evs)
        if len(cases) >= 20_000:
            events.sort(key=_moment)  # written as they happened, like the PostgreSQL loader's
            flush()
    events.sort(key=_moment)
    flush()
    conn.close()
    return n_events


def _moment(event: list[object]) -> str:
    return str(event[_AT])


# --- PostgreSQL: the same cases generated by the database itself --------------------------------------
# Formatting and parsing the COPY text of tens of millions of rows was the generation's whole cost;
# on PostgreSQL the rows are made by INSERT … SELECT over generate_series instead, with the draws of
# :func:`generate` (the same distributions, stages and event data; other random numbers). Only the
# grids travel from Python, once, into GRIDS_TABLE (loaded by :func:`stage_grids`).
GRIDS_TABLE = "yw_scale_grids"


def _cum(table: Sequence[tuple[object, int]]) -> list[tuple[object, float]]:
    total = sum(w for _v, w in table)
    return [
        (v, c / total) for v, c in zip([v for v, _w in table], accumulate(w for _v, w in table), strict=True)
    ]


def _pick(draw: str, table: Sequence[tuple[object, int]], quote: bool = True) -> str:
    """A SQL CASE choosing a value of ``table`` by its weight from the uniform draw ``draw``."""
    steps = _cum(table)
    arms = " ".join(f"WHEN {draw} < {c!r} THEN {repr(str(v)) if quote else v}" for v, c in steps[:-1])
    last = steps[-1][0]
    return f"CASE {arms} ELSE {repr(str(last)) if quote else last} END"


def _ts(expr: str) -> str:
    return f"to_timestamp(floor({expr}))"


def _iso(expr: str) -> str:
    return (
        f"""to_char(to_timestamp(floor({expr})) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') || '+00:00'"""
    )


def _draws_sql() -> str:
    """Per case: every random draw and the moments, in a temporary table ``g``."""
    kinds_open = _pick("r_open", OPEN_STAGES, quote=False)
    return f"""
CREATE TEMP TABLE g ON COMMIT DROP AS
SELECT c.*, least(s.steps0, 1 + (t_dispatch <= %(now)s)::int + (t_sign <= %(now)s)::int
                  + (t_resolve <= %(now)s)::int + (t_verify <= %(now)s)::int + (t_call <= %(now)s)::int) AS steps
FROM (
  SELECT b.*, t_dispatch + 4 * {HOUR} AS accept_due, t_sign + 7 * {DAY} AS resolve_due,
         t_sign + (0.2 + 8.8 * r_resolve) * {DAY} AS t_resolve,
         t_sign + (0.2 + 8.8 * r_resolve) * {DAY} + (1 + 23 * r_verify) * {HOUR} AS t_verify,
         t_sign + (0.2 + 8.8 * r_resolve) * {DAY} + (1 + 23 * r_verify) * {HOUR} + (2 + 58 * r_call) * {HOUR} AS t_call
  FROM (
    SELECT a.*, {_pick("r_channel", CHANNELS)} AS channel, {_pick("r_sat", SATISFACTION)} AS sat,
           t0 + (0.2 + 3.8 * r_dispatch) * {HOUR} AS t_dispatch,
           t0 + (0.2 + 3.8 * r_dispatch) * {HOUR} + (0.1 + 5.4 * r_sign) * {HOUR} AS t_sign
    FROM (
      SELECT id, 1 + floor(random() * %(grids)s)::int AS grid_index,
             least(floor(1.0 / power(1.0 - random(), 1.0 / 1.2))::int - 1, %(n_cat)s - 1) AS cat_index,
             random() AS r_channel,
             %(start)s + (id - 1 + random()) * (%(now)s - %(start)s) / %(cases)s AS t0,
             random() AS r_dispatch, random() AS r_sign, random() AS r_resolve, random() AS r_verify,
             random() AS r_call, random() AS r_done, random() AS r_open,
             random() AS r_sat, random() < 0.85 AS solved_draw
      FROM generate_series(%(first)s::bigint, %(last)s::bigint - 1) id
    ) a
  ) b
) c,
LATERAL (SELECT CASE WHEN %(now)s - c.t0 > 15 * {DAY} AND c.r_done < 0.97 THEN 6 ELSE {kinds_open} END AS steps0) s
"""


def _cases_sql() -> str:
    status = "(ARRAY[" + ", ".join(repr(STATUS_AFTER[k]) for k in range(1, 7)) + "])[g.steps]"
    last_at = "(ARRAY[t0, t_dispatch, t_sign, t_resolve, t_verify, t_call])[g.steps]"
    values = {
        "id": "g.id",
        "number": "'S' || lpad(g.id::text, 12, '0')",
        "channel": "g.channel",
        "category_id": "(%(categories)s::int[])[(g.cat_index * 7919 + gr.street) %% %(n_cat)s + 1]",
        "demand_kind": "'complaint'",
        "title": "'测试案件'",
        "description": "'基准测试生成的案件'",
        "lng": "gr.lng",
        "lat": "gr.lat",
        "grid_id": "gr.id",
        "community_id": "gr.community",
        "street_id": "gr.street",
        "district_id": "gr.district",
        "urgency": "'normal'",
        "is_anonymous": "false",
        "is_confidential": "false",
        "idempotency_key": "NULL",
        "attributes": "'{}'::jsonb",
        "status": status,
        "suspended_at": "NULL",
        "version": "g.steps",
        "lead_department_id": "CASE WHEN g.steps >= 2 THEN (%(departments)s::int[])[(g.cat_index + gr.street) %% %(n_dept)s + 1] END",
        "accept_limit": "CASE WHEN g.steps >= 2 THEN 4 END",
        "resolve_limit": "CASE WHEN g.steps >= 3 THEN 5 END",
        "accept_started_at": f"CASE WHEN g.steps = 2 THEN {_ts('t_dispatch')} END",
        "accept_due_at": f"CASE WHEN g.steps = 2 THEN {_ts('accept_due')} END",
        "accept_unit": "CASE WHEN g.steps >= 2 THEN 'hours' ELSE '' END",
        "accept_breached_at": "NULL",
        "resolve_started_at": f"CASE WHEN g.steps = 3 THEN {_ts('t_sign')} END",
        "resolve_due_at": f"CASE WHEN g.steps = 3 THEN {_ts('resolve_due')} END",
        "resolve_unit": "CASE WHEN g.steps >= 3 THEN 'work_days' ELSE '' END",
        "resolve_breached_at": "NULL",
        "extension_amount": "NULL",
        "supervise_level": "NULL",
        "round": "1",
        "result": "CASE WHEN g.steps >= 4 THEN '已处理' ELSE '' END",
        "dispatched_at": f"CASE WHEN g.steps >= 2 THEN {_ts('t_dispatch')} END",
        "signed_at": f"CASE WHEN g.steps >= 3 THEN {_ts('t_sign')} END",
        "resolved_at": f"CASE WHEN g.steps >= 4 THEN {_ts('t_resolve')} END",
        "closed_at": f"CASE WHEN g.steps >= 5 THEN {_ts('t_verify')} END",
        "called_back_at": f"CASE WHEN g.steps >= 6 THEN {_ts('t_call')} END",
        "contacted": "CASE WHEN g.steps = 6 THEN true END",
        "solved": "CASE WHEN g.steps = 6 THEN g.solved_draw END",
        "satisfaction": "CASE WHEN g.steps = 6 THEN g.sat ELSE '' END",
        "merged_into_id": "NULL",
        "created_by_id": "NULL",
        "created_at": _ts("t0"),
        "updated_at": _ts(last_at),
    }
    zero = {"overdue_count", "extension_count", "urge_count", "return_count", "rework_count", "reopen_count"}
    exprs = [values.get(c, "0" if c in zero else "''") for c in CASE_COLUMNS]
    return (
        f"INSERT INTO cases_case ({', '.join(CASE_COLUMNS)}) SELECT {', '.join(exprs)} "
        f"FROM g JOIN {GRIDS_TABLE} gr ON gr.idx = g.grid_index"
    )


def _events_sql() -> str:
    kinds = "ARRAY['registered', 'dispatched', 'signed', 'resolved', 'verified', 'called_back']"
    before = "ARRAY['', 'registered', 'dispatched', 'in_progress', 'resolved', 'closed']"
    after = "ARRAY['registered', 'dispatched', 'in_progress', 'resolved', 'closed', 'closed']"
    moment = "(ARRAY[t0, t_dispatch, t_sign, t_resolve, t_verify, t_call])[k + 1]"
    data = (
        "CASE k WHEN 1 THEN jsonb_build_object('lead', (%(departments)s::int[])[(g.cat_index + gr.street) %% %(n_dept)s + 1], "
        f"'accept_due_at', {_iso('accept_due')}) "
        f"WHEN 2 THEN jsonb_build_object('resolve_due_at', {_iso('resolve_due')}) "
        "WHEN 5 THEN jsonb_build_object('contacted', true, 'solved', g.solved_draw, 'satisfaction', g.sat) "
        "ELSE '{}'::jsonb END"
    )
    return (
        f"INSERT INTO cases_caseevent ({', '.join(EVENT_COLUMNS)}) "
        f"SELECT g.id * {EVENTS_PER_CASE} + k, g.id, ({kinds})[k + 1], NULL, {_ts(moment)}, "
        f"({before})[k + 1], ({after})[k + 1], '', {data} "
        f"FROM g JOIN {GRIDS_TABLE} gr ON gr.idx = g.grid_index, LATERAL generate_series(0, g.steps - 1) k "
        "ORDER BY 5"  # at: written as they happened
    )


def stage_grids(dsn: str, plan: Plan) -> None:
    """The plan's grids in an UNLOGGED table numbered from 1, for :func:`load_postgresql_sql`."""
    import psycopg

    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {GRIDS_TABLE}")
        cur.execute(
            f"CREATE UNLOGGED TABLE {GRIDS_TABLE} (idx int PRIMARY KEY, id int, community int, street int,"
            " district int, lng float8, lat float8)"
        )
        with cur.copy(f"COPY {GRIDS_TABLE} FROM STDIN") as copy:
            for i, row in enumerate(plan.grids, start=1):
                copy.write_row((i, *row))


def drop_grids(dsn: str) -> None:
    import psycopg

    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {GRIDS_TABLE}")


def load_postgresql_sql(dsn: str, plan: Plan, first: int, last: int, seed: int) -> int:
    """Generate one range of cases and their events in the database (a worker process)."""
    import psycopg

    params = {
        "first": first,
        "last": last,
        "now": plan.now,
        "start": plan.start,
        "cases": plan.cases,
        "grids": len(plan.grids),
        "n_cat": len(plan.categories),
        "n_dept": len(plan.departments),
        "categories": list(plan.categories),
        "departments": list(plan.departments),
    }
    with psycopg.connect(dsn, autocommit=False) as conn, psycopg.ClientCursor(conn) as cur:
        cur.execute("SET session_replication_role = replica")  # no FK triggers: ids are consistent
        cur.execute("SET synchronous_commit = off")
        # The planner expects 1 000 rows per generate_series: JIT compiling would cost more than running.
        cur.execute("SET jit = off")
        cur.execute("SELECT setseed(%s)", [(seed % 1_000_003) / 1_000_003])
        cur.execute(_draws_sql(), params)
        cur.execute(_cases_sql(), params)
        cur.execute(_events_sql(), params)
        events = cur.rowcount
        conn.commit()
    return events


def _execute(dsn: str, statement: str, autocommit: bool = False) -> None:
    import psycopg

    with psycopg.connect(dsn, autocommit=autocommit) as conn, conn.cursor() as cur:
        # One core per session: two sessions side by side keep both cores busy, where one build
        # with a parallel worker sorts in parallel but merges and writes alone.
        cur.execute("SET max_parallel_maintenance_workers = 0")
        cur.execute(statement)


def _in_two_sessions(dsn: str, statements: Sequence[str], autocommit: bool = False) -> None:
    with multiprocessing.get_context("fork").Pool(2) as pool:
        # One statement at a time per session, in the order given (longest first): whichever
        # session is free takes the next, so neither waits on a long build the other is doing.
        list(pool.imap_unordered(partial(_execute, dsn, autocommit=autocommit), statements, chunksize=1))


def build_indexes(dsn: str, definitions: Sequence[str]) -> None:
    """Build the case tables' secondary indexes after a load, two at a time, largest first.

    The sort of an index build is most of its cost: the events' (several times as many rows)
    before the cases', composite keys before single columns (a tie on the first column makes the
    sort read the whole tuple)."""

    def cost(definition: str) -> tuple[bool, int]:
        columns = definition.split(" USING ", 1)[1].split(")", 1)[0].count(",") + 1  # before any WHERE
        return ("cases_caseevent" not in definition, -columns)

    _in_two_sessions(dsn, sorted(definitions, key=cost))


def vacuum(dsn: str, tables: Sequence[str]) -> None:
    """``VACUUM (ANALYZE)`` the tables side by side (after the index builds: they would conflict)."""
    _in_two_sessions(dsn, [f"VACUUM (ANALYZE) {table}" for table in tables], autocommit=True)
