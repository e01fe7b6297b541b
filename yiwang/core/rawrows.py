"""Run a queryset's SQL and return its plain rows, without the ORM's per-value converters.

For grouped counts of thousands of rows (every grid of a district) the converters cost more than
the query; ids, codes and integer sums need none. Dates and decimals do: keep the ORM for those."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet


def raw_rows(qs: QuerySet[Any]) -> list[tuple[Any, ...]]:
    """The rows of ``qs`` as the database driver returns them; none for a queryset that can match
    nothing (Django refuses to compile it: an empty scope)."""
    try:
        sql, params = qs.query.get_compiler(using=qs.db).as_sql()
    except EmptyResultSet:
        return []
    with connections[qs.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
