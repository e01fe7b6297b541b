"""Bulk writes of rollup rows: counts *added* to what a row already holds, in one statement.

The counts of one batch of events are added to every level with an upsert (``INSERT … ON CONFLICT
(key) DO UPDATE SET n = n + excluded.n``), so two writers adding to the same row never lose an
update, and a rebuild's parallel workers can each add their share of the cases. On PostgreSQL the
rows go through ``COPY`` into a temporary table first (an order of magnitude faster than row
inserts at millions of rows); rows are applied in key order so concurrent writers lock rows in the
same order and cannot deadlock. SQLite takes a plain ``executemany`` of the same upsert.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import connection, models

from yiwang.analytics.models import MILESTONES, Level

Row = Sequence[Any]


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(connection.ops.quote_name(n) for n in names)


def _sql(template: str, **names: str) -> str:
    # Only model table and column names (quoted) ever go into the statement: no input.
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


def derive(level: Level, source: Level) -> None:
    """Fill the empty ``level`` from the rows of ``source`` (a level keeping every dimension of
    ``level``) in one ``INSERT … SELECT … GROUP BY``: what a rebuild does once the daily rows are
    counted, instead of adding every range to every level. Keys as :func:`.rollup.row_key` writes
    them (ISO dates, '' for an empty dimension, '|' between)."""
    q = connection.ops.quote_name
    day = q(source.period_field)
    if level.period == source.period:
        period = day
    elif connection.vendor == "postgresql":
        period = f"CAST(date_trunc('month', {day}) AS date)"
    else:
        period = f"strftime('%Y-%m-01', {day})"
    dims = [q(d) for d in level.dims]
    sums = ", ".join(f"SUM({q(m)}) AS {q(m)}" for m in MILESTONES)
    key = " || '|' || ".join(_as_text(c) for c in ["p", *dims])
    groups = ", ".join(str(i) for i in range(1, len(dims) + 2))
    statement = _sql(
        "INSERT INTO {t} ({c}) SELECT {k}, p, {d}, {m} FROM "
        "(SELECT {period} AS p, {d}, {sums} FROM {s} GROUP BY {g}) grouped",
        t=q(level.model._meta.db_table),
        c=_quoted(_columns(level)),
        k=key,
        d=", ".join(dims),
        m=_quoted(MILESTONES),
        period=period,
        sums=sums,
        s=q(source.model._meta.db_table),
        g=groups,
    )
    with connection.cursor() as cursor:
        cursor.execute(statement)
