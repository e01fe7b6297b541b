"""Background work of the case pipeline, run after commit (Django's Tasks API)."""

from __future__ import annotations

import logging

from django.tasks import task

logger = logging.getLogger(__name__)


@task
def notify_case_event(event_id: int) -> None:
    """Tell the departments of a case about a dispatch, urging, supervision or reopening.

    The delivery channels (SMS, app push, the department's own system) belong to ``dispatch``
    (issue 4); until they exist the notification is logged.
    """
    from yiwang.cases.models import CaseEvent

    event = CaseEvent.objects.select_related("case").filter(pk=event_id).first()
    if event is None:
        return
    logger.info("case %s: %s (notify departments)", event.case.number, event.kind)


def enqueue_notification(event_id: int) -> None:
    """Queue :func:`notify_case_event`; a broken queue must not break the action that committed."""
    try:
        notify_case_event.enqueue(event_id)
    except Exception:
        logger.exception("could not enqueue the notification of case event %s", event_id)


@task
def scan_sla_breaches() -> int:
    """Record every overdue clock (the periodic job ``sla_scan`` of :mod:`yiwang.core.jobs.registry`).

    Safe to run twice or to rerun after a crash half-way: each breach is claimed by a conditional
    UPDATE in the transaction that writes its event (:func:`yiwang.cases.sla.scan_breaches`)."""
    from django.utils import timezone

    from yiwang.cases.sla import scan_breaches

    return scan_breaches(timezone.now())
