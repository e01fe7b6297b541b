"""Every transition × role: who may, who is refused (403), who cannot even see the project (404)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.governance.projects.conftest import ProjectWorld, build
from tests.world import World
from yiwang.governance.projects import actions, workflow
from yiwang.governance.projects.errors import (
    ProjectForbidden,
    ProjectNotFound,
    ProjectTransitionNotAllowed,
)
from yiwang.governance.projects.models import EventKind, NodeStatus, ProjectEvent, ProjectStatus

PERSONAS = ("admin", "leader", "handler_a", "handler_a_sub", "handler_b", "dispatcher_a", "outsider")
HIDDEN = {"dispatcher_a", "outsider"}


def _prepare(world: World, status: str) -> ProjectWorld:
    pw = build(world, started=False)
    if status in (ProjectStatus.APPROVED, ProjectStatus.IN_PROGRESS, ProjectStatus.SUSPENDED):
        actions.approve_project(world.leader, pw.project)
    if status in (ProjectStatus.IN_PROGRESS, ProjectStatus.SUSPENDED):
        actions.start_project(world.leader, pw.project)
    if status == ProjectStatus.SUSPENDED:
        actions.suspend_project(world.leader, pw.project)
    return pw


def _finish_nodes(pw: ProjectWorld) -> None:
    for node in (pw.node1, pw.node2):
        actions.start_node(pw.world.leader, node)
        actions.complete_node(pw.world.leader, node)


# action → (starting status, who may)
PROJECT_CASES: dict[str, tuple[str, set[str]]] = {
    "approve": (ProjectStatus.DRAFT, {"admin", "leader"}),
    "start": (ProjectStatus.APPROVED, {"admin", "leader", "handler_a"}),
    "complete": (ProjectStatus.IN_PROGRESS, {"admin", "leader"}),
    "suspend": (ProjectStatus.IN_PROGRESS, {"admin", "leader"}),
    "resume": (ProjectStatus.SUSPENDED, {"admin", "leader"}),
    "cancel": (ProjectStatus.APPROVED, {"admin", "leader"}),
}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", sorted(PROJECT_CASES))
def test_project_transition_by_role(world: World, clock: object, name: str, persona: str) -> None:
    start, allowed = PROJECT_CASES[name]
    pw = _prepare(world, start)
    if name == "complete":
        _finish_nodes(pw)
    actor = getattr(world, persona)
    run: Callable[..., object] = actions.PROJECT_ACTIONS[name]
    events_before = ProjectEvent.objects.count()
    if persona in allowed:
        project = run(actor, pw.project)
        assert project.status == workflow.PROJECT_TRANSITIONS[name].target  # type: ignore[attr-defined]
        event = ProjectEvent.objects.latest("pk")
        assert (event.kind, event.actor, event.from_status) == (
            workflow.PROJECT_TRANSITIONS[name].event,
            actor,
            start,
        )
    else:
        expected = ProjectNotFound if persona in HIDDEN else ProjectForbidden
        with pytest.raises(expected):
            run(actor, pw.project)
        pw.project.refresh_from_db()
        assert pw.project.status == start
        assert ProjectEvent.objects.count() == events_before


NODE_ALLOWED = {"admin", "leader", "handler_a", "handler_a_sub"}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", ["start_node", "complete_node"])
def test_node_transition_by_role(world: World, clock: object, name: str, persona: str) -> None:
    pw = _prepare(world, ProjectStatus.IN_PROGRESS)
    if name == "complete_node":
        actions.start_node(world.leader, pw.node1)
    before = "pending" if name == "start_node" else "in_progress"
    actor = getattr(world, persona)
    if persona in NODE_ALLOWED:
        node = actions.NODE_ACTIONS[name](actor, pw.node1)
        assert node.status == workflow.NODE_TRANSITIONS[name].target
    else:
        expected = ProjectNotFound if persona in HIDDEN else ProjectForbidden
        with pytest.raises(expected):
            actions.NODE_ACTIONS[name](actor, pw.node1)
        pw.node1.refresh_from_db()
        assert pw.node1.status == before


@pytest.mark.parametrize(
    ("status", "name"),
    [
        (ProjectStatus.IN_PROGRESS, "approve"),
        (ProjectStatus.DRAFT, "start"),
        (ProjectStatus.APPROVED, "complete"),
        (ProjectStatus.APPROVED, "resume"),
        (ProjectStatus.SUSPENDED, "suspend"),
    ],
)
def test_transition_from_wrong_state_is_refused(world: World, clock: object, status: str, name: str) -> None:
    pw = _prepare(world, status)
    with pytest.raises(ProjectTransitionNotAllowed):
        actions.PROJECT_ACTIONS[name](world.leader, pw.project)
    pw.project.refresh_from_db()
    assert pw.project.status == status


def test_cancelled_project_cannot_be_cancelled_again(world: World, clock: object) -> None:
    pw = _prepare(world, ProjectStatus.DRAFT)
    actions.cancel_project(world.leader, pw.project, note="重复立项")
    with pytest.raises(ProjectTransitionNotAllowed):
        actions.cancel_project(world.leader, pw.project)


def test_completing_a_project_with_open_nodes_is_refused(world: World, clock: object) -> None:
    pw = _prepare(world, ProjectStatus.IN_PROGRESS)
    with pytest.raises(ProjectTransitionNotAllowed) as err:
        actions.complete_project(world.leader, pw.project)
    assert "2 个节点未完成" in err.value.zh


def test_node_cannot_move_while_project_is_suspended(world: World, clock: object) -> None:
    pw = _prepare(world, ProjectStatus.SUSPENDED)
    with pytest.raises(ProjectTransitionNotAllowed):
        actions.start_node(world.leader, pw.node1)
    pw.node1.refresh_from_db()
    assert pw.node1.status == NodeStatus.PENDING


def test_done_node_cannot_be_completed_twice(world: World, clock: object) -> None:
    pw = _prepare(world, ProjectStatus.IN_PROGRESS)
    actions.start_node(world.handler_a_sub, pw.node1)
    actions.complete_node(world.handler_a_sub, pw.node1)
    with pytest.raises(ProjectTransitionNotAllowed):
        actions.complete_node(world.handler_a_sub, pw.node1)


def test_every_transition_writes_one_event(world: World, clock: object) -> None:
    pw = _prepare(world, ProjectStatus.DRAFT)
    actions.approve_project(world.leader, pw.project)
    actions.start_project(world.handler_a, pw.project)
    kinds = list(ProjectEvent.objects.filter(project=pw.project).values_list("kind", flat=True))
    assert kinds == [
        EventKind.CREATED,
        EventKind.NODE_ADDED,
        EventKind.NODE_ADDED,
        EventKind.APPROVED,
        EventKind.STARTED,
    ]


def test_transition_table_is_pure_data() -> None:
    caps = frozenset({workflow.OWNER})
    offered = [t.name for t in workflow.project_actions(ProjectStatus.APPROVED, caps)]
    assert "start" in offered
    assert "approve" not in offered
    assert workflow.node_actions(ProjectStatus.SUSPENDED, NodeStatus.PENDING, workflow.LEADERS) == []
    assert workflow.state_allows("cancel", ProjectStatus.SUSPENDED)
    assert not workflow.state_allows("cancel", ProjectStatus.COMPLETED)


def _other_action(pw: ProjectWorld, name: str, actor: object) -> object:
    import datetime as dt

    from yiwang.governance.projects.models import KpiKind

    w = pw.world
    if name == "add_node":
        return actions.add_node(
            actor,  # type: ignore[arg-type]
            pw.project,
            name="新节点",
            deadline=dt.date(2026, 4, 30),
            target_value="3",
            responsible=w.handler_a,
            responsible_department=w.dept_a,
        )
    if name == "report_progress":
        return actions.report_progress(actor, pw.project, text="本周进展")  # type: ignore[arg-type]
    if name == "supervise":
        return actions.issue_supervision(
            actor,  # type: ignore[arg-type]
            pw.project,
            notice="请加快",
            reply_due=dt.date(2026, 3, 9),
        )
    return actions.add_kpi(actor, pw.project, kind=KpiKind.TAX, name="税收", goal="10")  # type: ignore[arg-type]


OTHER_CASES: dict[str, set[str]] = {
    "add_node": {"admin", "leader", "handler_a"},
    "report_progress": {"admin", "leader", "handler_a", "handler_a_sub", "handler_b"},
    "supervise": {"admin", "leader"},
    "add_kpi": {"admin", "leader", "handler_a"},
}


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name", sorted(OTHER_CASES))
def test_other_actions_by_role(world: World, clock: object, name: str, persona: str) -> None:
    pw = _prepare(world, ProjectStatus.IN_PROGRESS)
    actor = getattr(world, persona)
    before = ProjectEvent.objects.count()
    if persona in OTHER_CASES[name]:
        assert _other_action(pw, name, actor) is not None
        assert ProjectEvent.objects.count() == before + 1
    else:
        expected = ProjectNotFound if persona in HIDDEN else ProjectForbidden
        with pytest.raises(expected):
            _other_action(pw, name, actor)
        assert ProjectEvent.objects.count() == before


def test_periodic_escalation_command_runs(world: World, clock: object) -> None:
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("projects_escalate", stdout=out)
    assert "0 个节点已升级" in out.getvalue()
