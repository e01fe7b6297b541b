"""Case numbers that can be read over the phone: ``yymmdd`` + a daily sequence (``2611250001``).

The sequence is at least four digits and grows when a day needs more (``26112510000`` is the
10,000th case of 25 Nov 2026), so numbers stay unique and sort by day. The counter is one row per
day, bumped with ``UPDATE … SET last = last + 1``: the row lock serialises concurrent intakes on
PostgreSQL, and SQLite's IMMEDIATE transactions serialise writers anyway. Call inside the intake
transaction, so that a rolled-back intake does not consume a number.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from yiwang.cases.models import CaseNumberCounter

SEQUENCE_DIGITS = 4


def format_number(day: dt.date, seq: int) -> str:
    return f"{day:%y%m%d}{seq:0{SEQUENCE_DIGITS}d}"


def next_case_number(at: dt.datetime) -> str:
    """Reserve and return the next number of the (Beijing-time) day of ``at``."""
    day = timezone.localdate(at)
    seq = _bump(day)
    if seq is None:
        try:
            with transaction.atomic():
                CaseNumberCounter.objects.create(day=day, last=1)
            return format_number(day, 1)
        except IntegrityError:  # another intake created today's row first
            seq = _bump(day)
    if seq is None:  # pragma: no cover - the row exists by now
        raise RuntimeError("case number counter row vanished")
    return format_number(day, seq)


def _bump(day: dt.date) -> int | None:
    """Increment the day's counter and return the new value (None if the row does not exist)."""
    if connection.vendor in ("sqlite", "postgresql"):
        # One statement instead of UPDATE + SELECT: intake is on the hot path.
        qn = connection.ops.quote_name
        table, last, key = qn(CaseNumberCounter._meta.db_table), qn("last"), qn("day")
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {last} = {last} + 1 WHERE {key} = %s RETURNING {last}",  # noqa: S608
                [connection.ops.adapt_datefield_value(day)],
            )
            row = cursor.fetchone()
        return int(row[0]) if row else None
    counter = CaseNumberCounter.objects.filter(day=day)
    if not counter.update(last=F("last") + 1):
        return None
    return counter.values_list("last", flat=True).get()
