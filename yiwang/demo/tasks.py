"""The rest of the demo year, built in the background so that ``make run`` starts in minutes.

``yiwang demo`` builds the last :data:`~yiwang.demo.cases.DEFAULT_DAYS` days at once and queues one
job per window of :data:`WINDOW_DAYS` days for the rest of the year, newest first. The worker plays
each window through the real actions (~3 minutes a window on SQLite); the site is usable meanwhile
and the history grows backwards. A window is deterministic (its own random streams per day), and a
job that dies half-way is simply run again: it discards its partial window first.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.tasks import TaskResult, task
from django.utils import timezone

from yiwang.core.calendar import TZ
from yiwang.demo.builder import DemoContext
from yiwang.demo.cases import DEFAULT_DAYS, build_cases, discard_window

logger = logging.getLogger(__name__)

YEAR_DAYS = 365
WINDOW_DAYS = 30


def windows(
    today: dt.date, *, built_days: int = DEFAULT_DAYS, year_days: int = YEAR_DAYS
) -> list[tuple[dt.date, dt.date]]:
    """The (first, last) day windows before the ``built_days`` already built, newest first."""
    out: list[tuple[dt.date, dt.date]] = []
    last = today - dt.timedelta(days=built_days)
    oldest = today - dt.timedelta(days=year_days - 1)
    while last >= oldest:
        first = max(oldest, last - dt.timedelta(days=WINDOW_DAYS - 1))
        out.append((first, last))
        last = first - dt.timedelta(days=1)
    return out


@task
def backfill_demo_history(*, seed: int, scale: float, first: str, last: str) -> str:
    """Build the demo cases registered on the days ``first``..``last`` (ISO dates)."""
    first_day, last_day = dt.date.fromisoformat(first), dt.date.fromisoformat(last)
    dropped = discard_window(first_day, last_day)
    if dropped:
        logger.info("demo history %s..%s: discarded %d cases of an interrupted run", first, last, dropped)
    summary = build_cases(
        DemoContext(seed=seed, scale=scale),
        days=(last_day - first_day).days + 1,
        last_day=last_day,
        log=lambda line: logger.info("demo history %s..%s%s", first, last, line),
    )
    logger.info("演示案件历史 / demo history %s..%s: %s", first, last, summary)
    return summary


def queue_rest_of_year(*, seed: int, scale: float) -> list[TaskResult[..., str]]:
    """Queue the background jobs for the year before the days built at once."""
    today = timezone.now().astimezone(TZ).date()
    return [
        backfill_demo_history.enqueue(seed=seed, scale=scale, first=first.isoformat(), last=last.isoformat())
        for first, last in windows(today)
    ]
