"""Case numbers that can be read over the phone: ``yymmdd`` + a daily sequence (``2611250001``).

The sequence is at least four digits and grows when a day needs more (``26112510000`` is the
10,000th case of 25 Nov 2026), so numbers stay unique and sort by day. The counter is one row per
day, bumped with ``UPDATE … SET last = last + 1``: the row lock serialises concurrent intakes on
PostgreSQL, and SQLite's IMMEDIATE transactions serialise writers anyway. Call inside the intake
transaction, so that a rolled-back intake does not consume a number.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from yiwang.cases.models import CaseNumberCounter

SEQUENCE_DIGITS = 4


def format_number(day: dt.date, seq: int) -> str:
    return f"{day:%y%m%d}{seq:0{SEQUENCE_DIGITS}d}"


def next_case_number(at: dt.datetime) -> str:
    """Reserve and return the next number of the (Beijing-time) day of ``at``."""
    day = timezone.localdate(at)
    counter = CaseNumberCounter.objects.filter(day=day)
    if not counter.update(last=F("last") + 1):
        try:
            with transaction.atomic():
                CaseNumberCounter.objects.create(day=day, last=1)
            return format_number(day, 1)
        except IntegrityError:  # another intake created today's row first
            counter.update(last=F("last") + 1)
    return format_number(day, counter.values_list("last", flat=True).get())
