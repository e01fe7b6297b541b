"""Supervision (督办) and escalation of red nodes not recovered after it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.governance.projects.conftest import NOW, ProjectWorld
from yiwang.governance.projects import actions
from yiwang.governance.projects.errors import ProjectForbidden, ProjectTransitionNotAllowed
from yiwang.governance.projects.models import Escalation, EscalationLevel, Node, SupervisionStatus


def test_leader_supervises_and_the_owner_replies(pw: ProjectWorld) -> None:
    s = actions.issue_supervision(
        pw.world.leader, pw.project, notice="加快征迁", reply_due=dt.date(2026, 3, 6)
    )
    s = actions.reply_supervision(pw.world.handler_a, s, reply="本周完成签约")
    assert (s.status, s.replied_by, s.replied_at) == (SupervisionStatus.REPLIED, pw.world.handler_a, NOW)
    with pytest.raises(ProjectTransitionNotAllowed):
        actions.reply_supervision(pw.world.handler_a, s, reply="再次回复")


@pytest.mark.parametrize("persona", ["handler_a", "handler_b"])
def test_only_leaders_supervise(pw: ProjectWorld, persona: str) -> None:
    with pytest.raises(ProjectForbidden):
        actions.issue_supervision(
            getattr(pw.world, persona), pw.project, notice="x", reply_due=dt.date(2026, 3, 6)
        )


def test_node_supervision_is_answered_by_that_nodes_responsible(pw: ProjectWorld) -> None:
    s = actions.issue_supervision(
        pw.world.leader, pw.project, notice="管网进度滞后", reply_due=dt.date(2026, 3, 6), node=pw.node2
    )
    with pytest.raises(ProjectForbidden):
        actions.reply_supervision(pw.world.handler_a_sub, s, reply="非本节点")
    assert (
        actions.reply_supervision(pw.world.handler_b, s, reply="已增派人手").status
        == SupervisionStatus.REPLIED
    )
    with pytest.raises(ProjectForbidden):
        actions.reply_supervision(pw.world.leader, s, reply="领导不回复")


def _red_supervised_node(pw: ProjectWorld, clock: Any) -> Node:
    clock.move_to(dt.datetime(2026, 2, 20, 9, 0, tzinfo=NOW.tzinfo))
    node = actions.add_node(
        pw.world.leader,
        pw.project,
        name="拆除完成",
        deadline=dt.date(2026, 2, 27),
        target_value="10",
        responsible=pw.world.handler_a_sub,
        responsible_department=pw.world.dept_a_sub,
    )
    actions.issue_supervision(
        pw.world.leader, pw.project, notice="按期拆除", reply_due=dt.date(2026, 2, 25), node=node
    )
    clock.move_to(NOW)
    return node


def test_red_node_not_recovered_after_supervision_escalates(pw: ProjectWorld, clock: Any) -> None:
    node = _red_supervised_node(pw, clock)
    escalation = actions.escalate_node(pw.world.leader, node, reason="督办后仍未完成")
    assert (escalation.level, escalation.escalated_by, escalation.escalated_at) == (
        EscalationLevel.UNIT,
        pw.world.leader,
        NOW,
    )
    node.refresh_from_db()
    assert node.escalation_level == EscalationLevel.UNIT
    # The same supervision does not escalate twice: a new supervision is needed first.
    with pytest.raises(ProjectTransitionNotAllowed):
        actions.escalate_node(pw.world.leader, node)


def test_escalation_needs_an_expired_supervision(pw: ProjectWorld, clock: Any) -> None:
    node = actions.add_node(
        pw.world.leader,
        pw.project,
        name="逾期未督办",
        deadline=dt.date(2026, 2, 27),
        target_value="10",
        responsible=pw.world.handler_a,
        responsible_department=pw.world.dept_a,
    )
    with pytest.raises(ProjectTransitionNotAllowed) as err:
        actions.escalate_node(pw.world.leader, node)
    assert "须先督办" in err.value.zh


def test_green_node_does_not_escalate(pw: ProjectWorld) -> None:
    with pytest.raises(ProjectTransitionNotAllowed):
        actions.escalate_node(pw.world.leader, pw.node2)


def test_owner_may_not_escalate(pw: ProjectWorld, clock: Any) -> None:
    node = _red_supervised_node(pw, clock)
    with pytest.raises(ProjectForbidden):
        actions.escalate_node(pw.world.handler_a, node)


def test_periodic_check_escalates_without_an_actor(pw: ProjectWorld, clock: Any) -> None:
    node = _red_supervised_node(pw, clock)
    done = actions.escalate_unrecovered()
    assert [(e.node_id, e.escalated_by) for e in done] == [(node.pk, None)]
    assert actions.escalate_unrecovered() == []
    assert Escalation.objects.count() == 1
