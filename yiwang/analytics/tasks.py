"""Background work of the analytics app (Django's Tasks API)."""

from __future__ import annotations

from django.tasks import task


@task
def rollup_catch_up(batch: int = 2000) -> int:
    """Count the case events not counted yet into the rollups; run it periodically (every minute
    is plenty). Idempotent and safe with several workers; returns how many events it counted."""
    from yiwang.analytics.rollup import catch_up

    return catch_up(batch=batch)
