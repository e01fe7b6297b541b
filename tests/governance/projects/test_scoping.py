"""Who sees a project: leaders/admins by area, handlers by department, owner and responsibles always."""

from __future__ import annotations

import pytest

from tests.factories import DepartmentFactory, UserFactory, grant
from tests.governance.projects.conftest import ProjectWorld
from yiwang.governance.projects import actions
from yiwang.governance.projects.errors import ProjectNotFound
from yiwang.governance.projects.models import Evidence, Node, Project
from yiwang.people.models import Role


@pytest.mark.parametrize(
    ("persona", "sees"),
    [
        ("admin", True),
        ("leader", True),
        ("handler_a", True),  # owner (and owner unit)
        ("handler_a_sub", True),  # node 1 responsible
        ("handler_b", True),  # node 2 responsible
        ("dispatcher_a", False),
        ("operator", False),
        ("grid_worker_a1", False),
        ("outsider", False),
    ],
)
def test_visibility_by_persona(pw: ProjectWorld, persona: str, sees: bool) -> None:
    user = getattr(pw.world, persona)
    assert Project.objects.visible_to(user).filter(pk=pw.project.pk).exists() is sees
    assert Node.objects.visible_to(user).filter(project=pw.project).exists() is sees


def test_leader_sees_by_area_subtree(pw: ProjectWorld) -> None:
    street_a_leader = grant(UserFactory(), Role.LEADER, division=pw.world.street_a)
    street_b_leader = grant(UserFactory(), Role.LEADER, division=pw.world.street_b)
    community_leader = grant(UserFactory(), Role.LEADER, division=pw.world.community_a)
    assert Project.objects.visible_to(street_a_leader).count() == 1
    assert Project.objects.visible_to(street_b_leader).count() == 0
    # A project of the street is not inside one community's subtree.
    assert Project.objects.visible_to(community_leader).count() == 0


def test_leader_of_a_street_sees_projects_of_its_communities(pw: ProjectWorld) -> None:
    from tests.governance.projects.conftest import new_project

    new_project(pw.world, name="社区项目", division=pw.world.community_a)
    street_a_leader = grant(UserFactory(), Role.LEADER, division=pw.world.street_a)
    assert Project.objects.visible_to(street_a_leader).count() == 2


def test_handlers_see_by_department_subtree(pw: ProjectWorld) -> None:
    colleague_b = grant(UserFactory(), Role.DEPARTMENT_HANDLER, department=pw.world.dept_b)
    other = grant(UserFactory(), Role.DEPARTMENT_HANDLER, department=DepartmentFactory(code="QT"))
    assert Project.objects.visible_to(colleague_b).count() == 1  # node 2's responsible unit
    assert Project.objects.visible_to(other).count() == 0


def test_owner_without_any_grant_still_sees_the_project(pw: ProjectWorld) -> None:
    owner = UserFactory()
    project = actions.create_project(
        pw.world.leader,
        name="无授权责任人项目",
        division=pw.world.street_b,
        owner=owner,
        owner_department=pw.world.dept_b,
        start_date=pw.project.start_date,
        end_date=pw.project.end_date,
    )
    assert list(Project.objects.visible_to(owner)) == [project]


def test_inactive_and_anonymous_users_see_nothing(pw: ProjectWorld) -> None:
    from django.contrib.auth.models import AnonymousUser

    pw.world.handler_a.is_active = False
    assert Project.objects.visible_to(pw.world.handler_a).count() == 0
    assert Project.objects.visible_to(AnonymousUser()).count() == 0
    assert Evidence.objects.visible_to(AnonymousUser()).count() == 0


def test_actions_outside_scope_answer_not_found(pw: ProjectWorld) -> None:
    with pytest.raises(ProjectNotFound):
        actions.report_progress(pw.world.outsider, pw.project, text="越权")
    with pytest.raises(ProjectNotFound):
        actions.start_node(pw.world.dispatcher_a, pw.node1)


def test_leader_of_another_street_may_not_create_here(pw: ProjectWorld) -> None:
    from yiwang.governance.projects.errors import ProjectForbidden

    street_b_leader = grant(UserFactory(), Role.LEADER, division=pw.world.street_b)
    with pytest.raises(ProjectForbidden):
        actions.create_project(
            street_b_leader,
            name="跨区项目",
            division=pw.world.street_a,
            owner=pw.world.handler_a,
            owner_department=pw.world.dept_a,
            start_date=pw.project.start_date,
            end_date=pw.project.end_date,
        )
