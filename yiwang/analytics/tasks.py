"""Background work of the analytics app (Django's Tasks API)."""

from __future__ import annotations

from django.tasks import task


@task
def rollup_catch_up(batch: int = 2000) -> int:
    """Count the case events not counted yet into the rollups, then bring every grid's running
    totals up to today; run it periodically (every minute is plenty). Idempotent and safe with
    several workers; returns how many events it counted."""
    from yiwang.analytics import grid_totals
    from yiwang.analytics.rollup import catch_up

    counted = catch_up(batch=batch)
    grid_totals.fill()
    return counted


@task
def generate_report(report_id: int) -> bool:
    """Build one requested report's workbook (a second run of the same job does nothing)."""
    from yiwang.analytics.reports import generate

    return generate(report_id)


@task
def scheduled_reports() -> int:
    """Queue last week's and last month's district-wide reports (idempotent: run it daily) and
    re-queue reports whose worker died mid-way."""
    from yiwang.analytics.reports import request_scheduled_reports, requeue_stale

    return len(request_scheduled_reports()) + requeue_stale()
