"""Synthetic cases and events at scale for bench/scale.py, written straight into the tables.

A district (15 k grids, 1 M cases, SQLite or PostgreSQL) or a megacity (50 k grids, 10 M cases,
PostgreSQL) is too big for the ORM: cases and their events are generated in chunks and loaded
with COPY (PostgreSQL, two processes) or ``executemany`` (SQLite). Every case follows the real
flow (registered → dispatched → signed → resolved → verified → called back), stopping early for
the recent ones; its events carry the data the rollups read (lead department, due moments,
satisfaction), so ``rollup rebuild`` counts them exactly as it counts real cases.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

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
EVENTS_PER_CASE = 6  # event ids are case id × 6 + step: no sequence round trips


@dataclass(frozen=True)
class Plan:
    """What a chunk of cases is generated from (picklable for the worker processes)."""

    grids: Sequence[tuple[int, int, int, int, float, float]]  # id, community, street, district, lng, lat
    categories: Sequence[int]
    departments: Sequence[int]
    start: float  # epoch seconds of the first possible creation moment
    now: float
    vendor: str  # "postgresql" or "sqlite"


def _weighted(rng: random.Random, table: Sequence[tuple[object, int]]) -> object:
    values, weights = zip(*table, strict=True)
    return rng.choices(values, weights)[0]


class Formatter:
    """Values in the text each database reads: COPY text format (PostgreSQL) or Python values
    (SQLite, as Django stores them: naive UTC datetimes as text)."""

    def __init__(self, vendor: str) -> None:
        self.pg = vendor == "postgresql"
        self.null: object = r"\N" if self.pg else None
        self.suffix = "+00" if self.pg else ""
        self._days: dict[int, str] = {}

    def _text(self, ts: float) -> str:
        # strftime per value was the generator's main cost: the date part is cached per day.
        seconds = int(ts)
        day, rest = divmod(seconds, 86400)
        date = self._days.get(day)
        if date is None:
            date = self._days[day] = dt.datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%d")
        return f"{date} {rest // 3600:02d}:{rest % 3600 // 60:02d}:{rest % 60:02d}"

    def when(self, ts: float | None) -> object:
        return self.null if ts is None else self._text(ts) + self.suffix

    def iso(self, ts: float) -> str:
        return self._text(ts).replace(" ", "T") + "+00:00"

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
    for case_id in range(first, last):
        grid, community, street, district, lng, lat = plan.grids[rng.randrange(len(plan.grids))]
        cat_index = min(int(rng.paretovariate(1.2)) - 1, n_cat - 1)  # a few categories dominate
        category = plan.categories[(cat_index * 7919 + street) % n_cat]
        dept = plan.departments[(cat_index + street) % n_dept]
        channel = _weighted(rng, CHANNELS)
        t0 = plan.start + rng.random() * span
        t_dispatch = t0 + rng.uniform(0.2, 4) * HOUR
        accept_due = t_dispatch + 4 * HOUR
        t_sign = t_dispatch + rng.uniform(0.1, 5.5) * HOUR
        resolve_due = t_sign + 7 * DAY
        t_resolve = t_sign + rng.uniform(0.2, 9) * DAY
        t_verify = t_resolve + rng.uniform(1, 24) * HOUR
        t_call = t_verify + rng.uniform(2, 60) * HOUR
        age = plan.now - t0
        steps = 6 if age > 15 * DAY and rng.random() < 0.97 else int(_weighted(rng, OPEN_STAGES))  # type: ignore[call-overload]
        times = (t0, t_dispatch, t_sign, t_resolve, t_verify, t_call)
        while steps > 1 and times[steps - 1] > plan.now:
            steps -= 1
        satisfaction = str(_weighted(rng, SATISFACTION)) if steps == 6 else ""
        solved = rng.random() < 0.85 if steps == 6 else None
        status = STATUS_AFTER[steps]
        accept_running = steps == 2
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
            f.when(t_dispatch if accept_running else None),
            f.when(accept_due if accept_running else None),
            "hours" if steps >= 2 else "",
            f.null,
            f.when(t_sign if resolve_running else None),
            f.when(resolve_due if resolve_running else None),
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
            f.when(t_dispatch if steps >= 2 else None),
            f.when(t_sign if steps >= 3 else None),
            f.when(t_resolve if steps >= 4 else None),
            f.when(t_verify if steps >= 5 else None),
            f.when(t_call if steps >= 6 else None),
            f.flag(True if steps == 6 else None),
            f.flag(solved),
            satisfaction,
            f.null,
            "",
            f.null,
            f.when(t0),
            f.when(times[steps - 1]),
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
                f.when(times[k]),
                before[k],
                after[k],
                "",
                data[k],
            ]
            for k in range(steps)
        ]
        yield case, events


def copy_text(rows: Iterator[list[object]]) -> Iterator[bytes]:
    """COPY text format, in blocks of lines (the generated text has no tab, newline or backslash
    except the NULL marker)."""
    block: list[str] = []
    for row in rows:
        block.append("\t".join(str(v) for v in row))
        if len(block) >= 5000:
            yield ("\n".join(block) + "\n").encode()
            block = []
    if block:
        yield ("\n".join(block) + "\n").encode()


def load_postgresql(dsn: str, plan: Plan, first: int, last: int, seed: int) -> int:
    """Generate and COPY one range of cases (a worker process: plain psycopg, no Django)."""
    import psycopg

    cases: list[list[object]] = []
    events: list[list[object]] = []
    with psycopg.connect(dsn, autocommit=False) as conn:
        with conn.cursor() as cur:
            cur.execute(
                "SET session_replication_role = replica"
            )  # no FK triggers: ids are generated consistent
            cur.execute("SET synchronous_commit = off")
        for case, evs in generate(plan, first, last, seed):
            cases.append(case)
            events.extend(evs)
        with conn.cursor() as cur:
            with cur.copy(f"COPY cases_case ({', '.join(CASE_COLUMNS)}) FROM STDIN") as copy:
                for block in copy_text(iter(cases)):
                    copy.write(block)
            with cur.copy(f"COPY cases_caseevent ({', '.join(EVENT_COLUMNS)}) FROM STDIN") as copy:
                for block in copy_text(iter(events)):
                    copy.write(block)
        conn.commit()
    return len(events)


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
            flush()
    flush()
    conn.close()
    return n_events
