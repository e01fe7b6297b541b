"""Bulk writes of rollup rows: counts *added* to what a row already holds, in one statement.

The counts of one batch of events are added to every level with an upsert (``INSERT … ON CONFLICT
(key) DO UPDATE SET n = n + excluded.n``), so two writers adding to the same row never lose an
update, and a rebuild's parallel workers can each add their share of the cases. On PostgreSQL the
rows go through ``COPY`` into a temporary table first (an order of magnitude faster than row
inserts at millions of rows); rows are applied in key order so concurrent writers lock rows in the
same order and cannot deadlock. SQLite takes a plain ``executemany`` of the same upsert.

A rebuild and ``verify`` work on *stages* instead: tables of daily rows without key or index, where
each range of cases appends its counts; SQL sums them into a level (:func:`grouped`), keys included.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import connection, models

from yiwang.analytics.models import DAILY, MILESTONES, Level

Row = Sequence[Any]


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(connection.ops.quote_name(n) for n in names)


def _sql(template: str, **names: str) -> str:
    # Only quoted table and column names and compiled SQL (values stay parameters) go into the
    # statement: no input.
    return template.format(**names)


def _columns(level: Level) -> list[str]:
    return ["key", level.period_field, *level.dims, *MILESTONES]


def copy_rows(table: str, columns: Sequence[str], rows: Iterable[Row]) -> None:
    """Insert ``rows`` into ``table`` as fast as the database allows (COPY on PostgreSQL)."""
    if connection.vendor == "postgresql":
        statement = _sql("COPY {t} ({c}) FROM STDIN", t=connection.ops.quote_name(table), c=_quoted(columns))
        # cursor.cursor: the psycopg cursor under Django's wrapper.
        with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
        return
    marks = ", ".join(["%s"] * len(columns))
    with connection.cursor() as cursor:
        cursor.executemany(
            _sql(
                "INSERT INTO {t} ({c}) VALUES ({m})",
                t=connection.ops.quote_name(table),
                c=_quoted(columns),
                m=marks,
            ),
            [[_sqlite_value(v) for v in row] for row in rows],
        )


def copy_lines(table: str, columns: Sequence[str], lines: Iterable[str]) -> None:
    """COPY lines already in PostgreSQL's text format into ``table``, in blocks."""
    statement = _sql("COPY {t} ({c}) FROM STDIN", t=connection.ops.quote_name(table), c=_quoted(columns))
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        block: list[str] = []
        for line in lines:
            block.append(line)
            if len(block) >= 10_000:
                copy.write("".join(block))
                block.clear()
        if block:
            copy.write("".join(block))


def _sqlite_value(value: Any) -> Any:
    # In the text form Django's own queries write and compare (UTC for aware datetimes).
    if isinstance(value, dt.datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, dt.date):
        return connection.ops.adapt_datefield_value(value)
    return value


def add_counts(level: Level, counts: Mapping[tuple[Any, ...], list[int]]) -> None:
    """Add ``counts`` ((period, *dims of ``level``) → counts in the order of MILESTONES) to the
    level's rows."""
    from yiwang.analytics.rollup import row_key

    if not counts:
        return
    pg = connection.vendor == "postgresql"
    rows = sorted(
        (
            [row_key(key), key[0] if pg else connection.ops.adapt_datefield_value(key[0]), *key[1:], *vector]
            for key, vector in counts.items()
        ),
        key=lambda row: row[0],
    )
    table = level.model._meta.db_table
    columns = _columns(level)
    qt = connection.ops.quote_name(table)
    adds = ", ".join(
        f"{connection.ops.quote_name(m)} = {qt}.{connection.ops.quote_name(m)} + excluded.{connection.ops.quote_name(m)}"
        for m in MILESTONES
    )
    upsert = f"ON CONFLICT ({connection.ops.quote_name('key')}) DO UPDATE SET {adds}"
    if connection.vendor == "postgresql":
        stage = f"yw_stage_{table}"
        names = {"s": stage, "t": qt, "c": _quoted(columns), "u": upsert}
        with connection.cursor() as cursor:
            cursor.execute(
                _sql("CREATE TEMP TABLE IF NOT EXISTS {s} AS SELECT {c} FROM {t} WITH NO DATA", **names)
            )
            cursor.execute(_sql("TRUNCATE {s}", **names))
        copy_rows(stage, columns, rows)
        with connection.cursor() as cursor:
            cursor.execute(_sql('INSERT INTO {t} ({c}) SELECT {c} FROM {s} ORDER BY "key" {u}', **names))
            cursor.execute(_sql("TRUNCATE {s}", **names))
        return
    marks = ", ".join(["%s"] * len(columns))
    with connection.cursor() as cursor:
        cursor.executemany(
            _sql("INSERT INTO {t} ({c}) VALUES ({m}) {u}", t=qt, c=_quoted(columns), m=marks, u=upsert), rows
        )


def drop_indexes(*tables: type[models.Model]) -> None:
    """On PostgreSQL, drop the indexes, unique constraints and primary keys of ``tables``: filling
    millions of rows into a table with its indexes in place cost several times more than inserting
    them bare and building each index in one sort (:func:`add_declared`). Even an index whose
    values only grow (the former ``id`` primary key) made a COPY of daily rows half as slow again
    (0.73 s against 0.45 s for 213,000 rows)."""
    if connection.vendor != "postgresql":
        return
    names = [t._meta.db_table for t in tables]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.conrelid::regclass::text, c.conname FROM pg_constraint c "
            "WHERE c.contype = ANY(%s) AND c.conrelid = ANY(CAST(%s AS regclass[]))",
            [["u", "p"], names],
        )
        for table, name in cursor.fetchall():
            cursor.execute(
                _sql("ALTER TABLE {t} DROP CONSTRAINT {c}", t=table, c=connection.ops.quote_name(name))
            )
        cursor.execute(
            "SELECT i.indexname FROM pg_indexes i WHERE i.schemaname = current_schema() "
            "AND i.tablename = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = "
            "(quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass)",
            [names],
        )
        for (name,) in cursor.fetchall():
            cursor.execute(_sql("DROP INDEX {i}", i=connection.ops.quote_name(name)))


def _each_table(statement: str, tables: Sequence[type[models.Model]]) -> None:
    """On PostgreSQL, run ``statement`` (``{t}``: the table's quoted name) once per table."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in tables:
            cursor.execute(_sql(statement, t=connection.ops.quote_name(model._meta.db_table)))


def set_autovacuum(*tables: type[models.Model], enabled: bool) -> None:
    """On PostgreSQL, let autovacuum work on ``tables`` again (the server's settings) or keep it
    off them. While a rebuild fills them, an autovacuum started by the inserts reads the whole
    table (3.5 GB of daily rows at 10 M cases) on the cores the rebuild needs, only to be cancelled
    by the next index build; the rebuild analyzes the tables itself."""
    setting = "RESET (autovacuum_enabled)" if enabled else "SET (autovacuum_enabled = false)"
    _each_table("ALTER TABLE {t} " + setting, tables)


def analyze(*tables: type[models.Model]) -> None:
    """On PostgreSQL, ANALYZE ``tables``: rows written by COPY from other sessions leave a table
    without statistics, and the index builds and the GROUP BYs of derived levels plan from them."""
    _each_table("ANALYZE {t}", tables)


# In :func:`declared`: the primary key (which :func:`drop_indexes` may have dropped).
PRIMARY = "primary key"


def declared(model: type[models.Model]) -> list[str]:
    """The names of the indexes and unique constraints ``model`` declares, and :data:`PRIMARY`: what
    :func:`drop_indexes` drops (a check stays in place)."""
    unique = [c.name for c in model._meta.constraints if isinstance(c, models.UniqueConstraint)]
    names = [index.name for index in model._meta.indexes] + unique
    return [PRIMARY, *names]


@dataclass(frozen=True)
class Key:
    """A table's primary key: its constraint (and index) name, as PostgreSQL names it, and columns."""

    name: str
    columns: list[str]


def _primary_key(model: type[models.Model]) -> Key:
    table = model._meta.db_table
    return Key(f"{table}_pkey", [model._meta.pk.column or "id"])


def _constraint_exists(table: str, name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_constraint WHERE conname = %s AND conrelid = CAST(%s AS regclass)",
            [name, table],
        )
        return cursor.fetchone() is not None


def build_declared(model: type[models.Model], name: str) -> None:
    """On PostgreSQL, build the index or constraint ``name`` that ``model`` declares (after
    :func:`drop_indexes`; from the model, so a rebuild that died between the two is mended by the
    next one). The primary key gets only its unique index here (built under a SHARE lock, which
    lets readers and other index builds of the table go on); :func:`attach_keys` makes it the
    constraint."""
    if connection.vendor != "postgresql":
        return
    table = model._meta.db_table
    if name == PRIMARY:
        key = _primary_key(model)
        if not _constraint_exists(table, key.name):
            q = connection.ops.quote_name
            with connection.cursor() as cursor:
                cursor.execute(
                    _sql(
                        "CREATE UNIQUE INDEX IF NOT EXISTS {n} ON {t} ({c})",
                        n=q(key.name),
                        t=q(table),
                        c=_quoted(key.columns),
                    )
                )
        return
    with connection.schema_editor(atomic=False) as editor:
        for index in model._meta.indexes:
            if index.name == name:
                editor.add_index(model, index)
        for constraint in model._meta.constraints:
            if constraint.name == name:
                editor.add_constraint(model, constraint)


def attach_keys(*tables: type[models.Model]) -> None:
    """On PostgreSQL, make each primary key's unique index (:func:`build_declared`) its constraint: ALTER
    TABLE … USING INDEX, a catalogue change, but under an exclusive lock that waits for every other
    session using the table. So it comes after all the index builds and sums that read the tables
    (at 10 M cases, attached beside them, a key waited 26 s for a sum reading its table)."""
    if connection.vendor != "postgresql":
        return
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model in tables:
            table = model._meta.db_table
            key = _primary_key(model)
            if not _constraint_exists(table, key.name):
                cursor.execute(
                    _sql(
                        "ALTER TABLE {t} ADD CONSTRAINT {n} PRIMARY KEY USING INDEX {n}",
                        t=q(table),
                        n=q(key.name),
                    )
                )


def add_declared(*tables: type[models.Model]) -> None:
    """:func:`analyze` ``tables``, build every index and constraint their models declare, and
    attach the keys."""
    analyze(*tables)
    for model in tables:
        for name in declared(model):
            build_declared(model, name)
    attach_keys(*tables)


@contextmanager
def indexes_set_aside(*tables: type[models.Model]) -> Iterator[None]:
    """:func:`drop_indexes`, the body, :func:`add_declared`. Run it inside a transaction (a
    failure brings everything back with the rollback); readers of the tables wait for it."""
    drop_indexes(*tables)
    yield
    add_declared(*tables)


def bulk_session() -> None:
    """Settings for the statements that sum millions of rows, for the current transaction only
    (PostgreSQL): room to hash them in memory, and no parallel aggregation. A daily row stands for
    about one event, so the workers' partial sums are nearly as many as the rows and only add a
    second aggregation on top (measured: 31 s with two workers, 14 s without, for 4 M rows). JIT
    compilation, off for the application's short reads (see the settings), is back on: statements
    of minutes are what it is for, and the rebuild was measured with it."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL work_mem = '1GB'")
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
            cursor.execute("SET LOCAL jit = on")


def empty(*tables: type[models.Model]) -> None:
    """Remove every row of ``tables`` (TRUNCATE on PostgreSQL: no dead rows left behind)."""
    names = [t._meta.db_table for t in tables]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_sql("TRUNCATE {t}", t=_quoted(names)))
        else:
            for name in names:
                cursor.execute(_sql("DELETE FROM {t}", t=connection.ops.quote_name(name)))


def _as_text(column: str) -> str:
    return f"COALESCE(CAST({column} AS TEXT), '')"


def _sums() -> str:
    q = connection.ops.quote_name
    return ", ".join(f"SUM({q(m)}) AS {q(m)}" for m in MILESTONES)


# The first day of the period holding the day ``{day}``: on PostgreSQL by date arithmetic (the day
# less its place in the period), which sums a level from the daily rows a quarter faster than
# ``date_trunc``, a timestamp function that turns every date into a moment in the session's time zone
# and back (measured at 10 M cases: the week × grid level's SELECT took 64 s instead of 84 s).
_PG_PERIOD_START = {
    "week": "({day} - CAST(EXTRACT(ISODOW FROM {day}) AS integer) + 1)",
    "month": "({day} - CAST(EXTRACT(DAY FROM {day}) AS integer) + 1)",
    "year": "({day} - CAST(EXTRACT(DOY FROM {day}) AS integer) + 1)",
}
# The same in SQLite's date functions.
_SQLITE_PERIOD_START = {
    # Back to Monday: %w counts from Sunday = 0.
    "week": "date({day}, '-' || ((CAST(strftime('%w', {day}) AS INTEGER) + 6) % 7) || ' days')",
    "month": "strftime('%Y-%m-01', {day})",
    "year": "strftime('%Y-01-01', {day})",
}


def period_start_sql(period: str, day: str) -> str:
    """SQL for the first day of the ``period`` ("week", "month" or "year") holding the date ``day``
    (an SQL expression), as :data:`.models.PERIOD_START` computes it in Python."""
    starts = _PG_PERIOD_START if connection.vendor == "postgresql" else _SQLITE_PERIOD_START
    return starts[period].format(day=day)


def grouped(level: Level, source: str, source_period: str = "day", where: str = "") -> str:
    """A SELECT of ``level``'s rows (key, period, dims, counts) summed from the table ``source``
    (a level keeping every dimension of ``level``, or a stage of daily rows), with ``where`` (an SQL
    condition, or "") on the source's rows. Keys as :func:`.rollup.row_key` writes them (ISO dates,
    '' for an empty dimension, '|' between)."""
    q = connection.ops.quote_name
    day = q(source_period)
    period = day if level.period == source_period else period_start_sql(level.period, day)
    dims = [q(d) for d in level.dims]
    if connection.vendor == "postgresql":
        # One concat() (NULL as '') instead of a chain of casts and ||: a third of the time of
        # summing millions of rows went into building their keys.
        key = "concat(" + ", '|', ".join(["p", *dims]) + ")"
    else:
        key = " || '|' || ".join(_as_text(c) for c in ["p", *dims])
    groups = ", ".join(str(i) for i in range(1, len(dims) + 2))
    return _sql(
        "SELECT {k} AS {key}, p, {d}, {m} FROM (SELECT {period} AS p, {d}, {sums} FROM {s}{w} GROUP BY {g}) grouped",
        k=key,
        key=q("key"),
        d=", ".join(dims),
        m=_quoted(MILESTONES),
        period=period,
        sums=_sums(),
        s=q(source),
        w=f" WHERE {where}" if where else "",
        g=groups,
    )


def _fill(level: Level, source: str, source_period: str) -> None:
    # A plain INSERT … SELECT … GROUP BY into the empty table: no row exists to add to. Ordered by
    # the period (a date), not the key: the rows of one day or month end up on neighbouring pages,
    # as the incremental path's rows of each new day do. A period query then reads a few thousand
    # pages instead of one page per row (a 22-day range of the day × category level at 10 M cases:
    # 1 800 pages and 63 ms, against 45 500 pages and 264 ms with the rows in hash order).
    with connection.cursor() as cursor:
        cursor.execute(
            _sql(
                "INSERT INTO {t} ({c}) {select} ORDER BY p",
                t=connection.ops.quote_name(level.model._meta.db_table),
                c=_quoted(_columns(level)),
                select=grouped(level, source, source_period),
            )
        )


def derive(level: Level, source: Level) -> None:
    """Fill the empty ``level`` from the rows of ``source`` (a level keeping every dimension of
    ``level``) in one statement: what a rebuild does once the daily rows are counted, instead of
    adding every range to every level."""
    _fill(level, source.model._meta.db_table, source.period_field)


# --- stages: daily rows without a key, appended with COPY and summed in SQL -------------------------
STAGE_COLUMNS: tuple[str, ...] = (DAILY.period_field, *DAILY.dims, *MILESTONES)


def create_stage(name: str, *, shared: bool) -> None:
    """An empty table shaped like the daily rows without their key (no index, no constraint):
    ``shared`` (a plain table that outlives the transaction: a rebuild's stage on SQLite) or
    temporary (this connection only: ``verify``). Replaces a stage of that name left by a run that
    died."""
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(_sql("DROP TABLE IF EXISTS {s}", s=q(name)))
        cursor.execute(
            _sql(
                "CREATE {kind} TABLE {s} AS SELECT {c} FROM {t} WHERE 1 = 0",
                kind="" if shared else "TEMPORARY",
                s=q(name),
                c=_quoted(STAGE_COLUMNS),
                t=q(DAILY.model._meta.db_table),
            )
        )


def drop_stage(name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_sql("DROP TABLE IF EXISTS {s}", s=connection.ops.quote_name(name)))


def index_stage(name: str) -> None:
    """Index the stage ``name`` by day, to read it a few days at a time (``verify``)."""
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            _sql("CREATE INDEX {i} ON {s} ({d})", i=q(f"{name}_day"), s=q(name), d=q(DAILY.period_field))
        )


def day_span(*tables: str) -> tuple[dt.date, dt.date] | None:
    """The first and the last day of the daily rows in the quoted ``tables`` (None without rows)."""
    q = connection.ops.quote_name
    spans = " UNION ALL ".join(
        _sql("SELECT MIN({d}) AS a, MAX({d}) AS b FROM {t}", d=q(DAILY.period_field), t=t) for t in tables
    )
    with connection.cursor() as cursor:
        cursor.execute(_sql("SELECT MIN(a), MAX(b) FROM ({spans}) spans", spans=spans))
        first, last = cursor.fetchone()
    if first is None:
        return None
    # SQLite returns dates as text.
    return dt.date.fromisoformat(str(first)), dt.date.fromisoformat(str(last))


def stage_rows(name: str, rows: Iterable[Row]) -> None:
    """Append daily rows (day, *DIMENSIONS, *MILESTONES) to the stage ``name``."""
    copy_rows(name, STAGE_COLUMNS, rows)


def fill_from_stage(name: str) -> None:
    """Fill the empty daily table with the rows of the stage ``name`` summed per key."""
    _fill(DAILY, name, DAILY.period_field)


def expect(level: Level, name: str, source: str, source_period: str) -> None:
    """A temporary table ``name`` shaped like ``level``'s table (key, period, dims, counts), holding
    its rows summed from the table ``source`` (a stage of daily rows, or another such table)."""
    q = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(_sql("DROP TABLE IF EXISTS {n}", n=q(name)))
        cursor.execute(
            _sql(
                "CREATE TEMPORARY TABLE {n} AS SELECT {key}, p AS {period}, {d}, {m} FROM ({select}) g",
                n=q(name),
                key=q("key"),
                period=q(level.period_field),
                d=_quoted(level.dims),
                m=_quoted(MILESTONES),
                select=grouped(level, source, source_period),
            )
        )


def differences(
    level: Level, expected: str, params: Sequence[Any] = (), within: tuple[dt.date, dt.date] | None = None
) -> list[tuple[str, list[int], list[int]]]:
    """The rows where ``level``'s stored counts differ from ``expected``'s: (key, stored counts,
    expected counts), a missing row counting as zeros. ``expected`` is a quoted table made by
    :func:`expect`, or a parenthesised SELECT of such rows with its ``params``; with ``within``
    (first and last day, inclusive), only the stored rows of those periods are compared, and
    ``expected`` must hold the rows of those periods alone. The comparison runs in the database:
    only the differing rows come back."""
    q = connection.ops.quote_name
    stored_rows, stored_params = q(level.model._meta.db_table), []
    if within is not None:
        stored_rows = _sql(
            "(SELECT * FROM {t} WHERE {p} >= %s AND {p} <= %s)", t=stored_rows, p=q(level.period_field)
        )
        stored_params = list(within)
    stored = ", ".join(f"s.{q(m)}" for m in MILESTONES)
    wanted = ", ".join(f"COALESCE(e.{q(m)}, 0)" for m in MILESTONES)
    differ = " OR ".join(f"s.{q(m)} <> COALESCE(e.{q(m)}, 0)" for m in MILESTONES)
    only_expected = " OR ".join(f"e.{q(m)} <> 0" for m in MILESTONES)
    # A FULL OUTER JOIN written as its two halves: SQLite has it only since 3.39.
    statement = _sql(
        "SELECT s.{key}, {stored}, {wanted} FROM {t} s LEFT JOIN {e} e ON e.{key} = s.{key} WHERE {differ} "
        "UNION ALL SELECT e.{key}, {zeros}, {expected} FROM {e} e "
        "WHERE NOT EXISTS (SELECT 1 FROM {t} s WHERE s.{key} = e.{key}) AND ({only_expected})",
        key=q("key"),
        stored=stored,
        wanted=wanted,
        t=stored_rows,
        e=expected,
        differ=differ,
        zeros=", ".join(["0"] * len(MILESTONES)),
        expected=", ".join(f"e.{q(m)}" for m in MILESTONES),
        only_expected=only_expected,
    )
    # The placeholders in the order they appear: stored, expected, expected, stored.
    arguments = [*stored_params, *params, *params, *stored_params]
    n = len(MILESTONES)
    with connection.cursor() as cursor:
        cursor.execute(statement, arguments or None)
        return [
            (row[0], [int(v) for v in row[1 : n + 1]], [int(v) for v in row[n + 1 :]])
            for row in cursor.fetchall()
        ]
