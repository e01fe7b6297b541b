"""Query expressions the ORM lacks."""

from __future__ import annotations

from typing import Any

from django.db.models import F, Func


class Unindexed(Func):
    """A column that SQLite's planner must not use an index for: ``+column`` on SQLite (its
    documented way to disqualify a WHERE term, https://sqlite.org/optoverview.html), the bare
    column elsewhere.

    SQLite keeps no value distribution for its planner: given a range on an indexed column that
    covers every row (the last 60 days of open cases) and a range on a more selective one (a
    bounding box), it may scan the first. PostgreSQL estimates both from its statistics."""

    template = "%(expressions)s"

    def __init__(self, column: str) -> None:
        super().__init__(F(column))  # the output field is the column's

    def as_sqlite(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return self.as_sql(compiler, connection, template="+%(expressions)s", **extra_context)
