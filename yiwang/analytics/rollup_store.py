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
