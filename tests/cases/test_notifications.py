"""Department notifications are side effects after commit; backfilled history sends none."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cases.conftest import new_case
from tests.world import World
from yiwang.cases import actions
from yiwang.cases.models import CaseEvent

pytestmark = pytest.mark.django_db


def test_a_dispatch_queues_one_notification_after_commit(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    case = new_case(world)
    with django_capture_on_commit_callbacks() as callbacks:
        actions.dispatch_case(case.pk, actor=world.admin, lead=world.dept_a)
    assert len(callbacks) == 1


def test_backfilled_history_records_events_but_notifies_nobody(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    case = new_case(world)
    with django_capture_on_commit_callbacks() as callbacks, actions.without_notifications():
        actions.dispatch_case(case.pk, actor=world.admin, lead=world.dept_a)
    assert callbacks == []
    assert CaseEvent.objects.filter(case=case, kind="dispatched").count() == 1
