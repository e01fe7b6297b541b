"""Deadlines of a case: which limits apply, starting/stopping/moving clocks, and the breach scan.

The limits are data (``DeadlinePolicy`` rows and the limits written on a ``Category``); the
arithmetic is the work calendar's (``yiwang.core.calendar``). Functions that change a case only set
attributes on the (locked) instance; the calling action saves it and writes the event. The scan is
the exception: it claims each breach with a conditional UPDATE so that several workers can run it at
once and every breach is recorded exactly once.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import F, Q

from yiwang.cases.choices import Clock, EventKind, Urgency
from yiwang.cases.models import Case, CaseEvent, Category, DeadlinePolicy
from yiwang.core.calendar import TimeUnit, get_calendar

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    accept_amount: Decimal
    accept_unit: str
    resolve_amount: Decimal
    resolve_unit: str


# Used only if an administrator deleted the default policy rows: the Beijing defaults for 一般诉求.
FALLBACK = Limits(Decimal(24), TimeUnit.HOURS, Decimal(7), TimeUnit.DAYS)


def _lineage(category: Category) -> list[Category]:
    """The category and its ancestors, nearest first (the tree is at most a few levels deep)."""
    chain = [category]
    seen = {category.pk}
    parent_id = category.parent_id
    while parent_id is not None and parent_id not in seen:
        parent = Category.objects.get(pk=parent_id)
        chain.append(parent)
        seen.add(parent.pk)
        parent_id = parent.parent_id
    return chain


# Intake is hot and the policy tables change rarely: answers are kept per process for a few seconds
# (like the work calendar); the admin clears the cache of its own process on save.
CACHE_SECONDS = 5.0
_cache: dict[tuple[int, str], tuple[float, Limits]] = {}
_cache_lock = threading.Lock()


def clear_limits_cache() -> None:
    with _cache_lock:
        _cache.clear()


def limits_for(category: Category, urgency: str) -> Limits:
    """The acceptance and resolution limits for a case of ``category`` with ``urgency``.

    Order: a policy row for the category or its nearest ancestor; for normal urgency, limits
    written on the category or its nearest ancestor; the default policy row of the urgency.
    Cached per process for :data:`CACHE_SECONDS`.
    """
    key = (category.pk, urgency)
    now = time.monotonic()
    hit = _cache.get(key)
    if hit is not None and now - hit[0] < CACHE_SECONDS:
        return hit[1]
    limits = _lookup_limits(category, urgency)
    with _cache_lock:
        _cache[key] = (now, limits)
    return limits


def _lookup_limits(category: Category, urgency: str) -> Limits:
    chain = _lineage(category)
    ids = [c.pk for c in chain]
    rows = {
        p.category_id: p
        for p in DeadlinePolicy.objects.filter(
            Q(category_id__in=ids) | Q(category__isnull=True), urgency=urgency
        )
    }
    for c in chain:
        p = rows.get(c.pk)
        if p is not None:
            return Limits(p.accept_amount, p.accept_unit, p.resolve_amount, p.resolve_unit)
    if urgency == Urgency.NORMAL:
        for c in chain:
            if (
                c.accept_amount is not None
                and c.resolve_amount is not None
                and c.accept_unit
                and c.resolve_unit
            ):
                return Limits(c.accept_amount, c.accept_unit, c.resolve_amount, c.resolve_unit)
    p = rows.get(None)
    if p is not None:
        return Limits(p.accept_amount, p.accept_unit, p.resolve_amount, p.resolve_unit)
    logger.warning("no deadline policy for urgency %s; using the built-in fallback", urgency)
    return FALLBACK


def apply_limits(case: Case, limits: Limits) -> None:
    """Remember the limits on the case at intake, so that later edits of the policy table do not
    change the promise made to the citizen (they apply to new cases)."""
    case.accept_limit = limits.accept_amount
    case.accept_unit = limits.accept_unit
    case.resolve_limit = limits.resolve_amount
    case.resolve_unit = limits.resolve_unit


def start_accept_clock(case: Case, at: dt.datetime) -> None:
    case.accept_started_at = at
    case.accept_due_at = get_calendar().add(at, case.accept_limit or 0, case.accept_unit or TimeUnit.HOURS)
    case.accept_breached_at = None


def stop_accept_clock(case: Case) -> None:
    case.accept_due_at = None


def start_resolve_clock(case: Case, at: dt.datetime) -> None:
    case.resolve_started_at = at
    case.resolve_due_at = get_calendar().add(at, case.resolve_limit or 0, case.resolve_unit or TimeUnit.DAYS)
    case.resolve_breached_at = None


def stop_resolve_clock(case: Case) -> None:
    case.resolve_due_at = None


def stop_clocks(case: Case) -> None:
    stop_accept_clock(case)
    stop_resolve_clock(case)


def extend(case: Case, amount: Decimal, unit: str) -> None:
    """Move the resolution deadline by an approved extension; a breach of the old deadline stays
    in the timeline, and the new deadline can be breached (and recorded) again."""
    if case.resolve_due_at is None:
        return
    case.resolve_due_at = get_calendar().add(case.resolve_due_at, amount, unit)
    case.resolve_breached_at = None


FIELDS_OF = {
    Clock.ACCEPT: ("accept_started_at", "accept_due_at", "accept_unit"),
    Clock.RESOLVE: ("resolve_started_at", "resolve_due_at", "resolve_unit"),
}


def shift_for_suspension(case: Case, suspended_at: dt.datetime, resumed_at: dt.datetime) -> dict[str, float]:
    """Move every running clock by the time spent suspended, measured in the clock's own unit
    (working time for working units). Returns the amount moved per clock, for the event data."""
    cal = get_calendar()
    moved: dict[str, float] = {}
    for clock, (started_f, due_f, unit_f) in FIELDS_OF.items():
        due = getattr(case, due_f)
        if due is None:
            continue
        unit = getattr(case, unit_f) or TimeUnit.HOURS
        spent = max(0.0, cal.elapsed(suspended_at, resumed_at, unit))
        setattr(case, due_f, cal.add(due, spent, unit))
        started = getattr(case, started_f)
        if started is not None:
            setattr(case, started_f, cal.add(started, spent, unit))
        moved[str(clock)] = round(spent, 4)
    return moved


# --- the breach scan ----------------------------------------------------------------------------
def _claim(pk: int, clock: Clock, now: dt.datetime) -> bool:
    """Mark one breach as recorded; True only for the one worker whose UPDATE changed the row."""
    due_f, breached_f = f"{clock}_due_at", f"{clock}_breached_at"
    return (
        Case.objects.filter(
            pk=pk, suspended_at__isnull=True, **{f"{due_f}__lt": now, f"{breached_f}__isnull": True}
        ).update(**{breached_f: now, "overdue_count": F("overdue_count") + 1})
        == 1
    )


def scan_breaches(now: dt.datetime, *, batch: int = 500) -> int:
    """Record every clock that is past due and not yet recorded; returns how many were recorded.

    Each breach is claimed by a conditional UPDATE (``… WHERE breached_at IS NULL``) and its
    ``SLA_BREACHED`` event is written in the same transaction: two workers scanning at once each
    record a disjoint set, and a re-run records nothing new. Suspended cases are skipped.
    """
    recorded = 0
    for clock in (Clock.ACCEPT, Clock.RESOLVE):
        due_f, breached_f = f"{clock}_due_at", f"{clock}_breached_at"
        skip: set[int] = set()
        while True:
            rows = list(
                Case.objects.filter(
                    suspended_at__isnull=True, **{f"{due_f}__lt": now, f"{breached_f}__isnull": True}
                )
                .exclude(pk__in=skip)
                .order_by(due_f)
                .values_list("pk", due_f, "status")[:batch]
            )
            if not rows:
                break
            for pk, due, status in rows:
                skip.add(pk)
                with transaction.atomic():
                    if not _claim(pk, clock, now):
                        continue
                    CaseEvent.objects.create(
                        case_id=pk,
                        kind=EventKind.SLA_BREACHED,
                        actor=None,
                        at=now,
                        from_status=status,
                        to_status=status,
                        note=f"{Clock(clock).label}已超时",
                        data={"clock": str(clock), "due_at": due.isoformat()},
                    )
                    recorded += 1
    return recorded
