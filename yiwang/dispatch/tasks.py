"""Background work of the dispatch app (Django's Tasks API)."""

from __future__ import annotations

import logging

from django.tasks import task

logger = logging.getLogger(__name__)


@task
def retrain_classifier(min_per_class: int = 20) -> str:
    """Train the category classifier on the closed cases and register it, inactive: an
    administrator compares it with the active model and activates it (``yiwang train`` does the
    same by hand). Too few closed cases is an expected state of a new district, not a failure."""
    from yiwang.dispatch.actions import DispatchActionError, train_from_cases
    from yiwang.dispatch.classifier import ClassifierInputError

    try:
        row = train_from_cases(None, min_per_class=min_per_class, activate=False)
    except (ClassifierInputError, DispatchActionError) as exc:
        logger.info("classifier not retrained: %s", exc)
        return f"skipped: {exc}"
    return f"model #{row.pk} {row.name}: {row.n_train} cases, {len(row.classes)} categories"


@task
def mine_hotspots() -> str:
    """Mine the map's hotspot layer (last 30 days, per district and street) in the background."""
    from yiwang.dispatch.hotspots import refresh_snapshots

    return f"{refresh_snapshots()} areas mined"
