"""The demo step: projects of every colour, KPIs with monthly values, one supervision; and its undo."""

from __future__ import annotations

from tests.factories import DepartmentFactory, UserFactory, grant
from tests.governance.projects.conftest import ProjectWorld
from yiwang.demo.builder import DemoContext
from yiwang.demo.gov_projects import build_projects, delete_projects
from yiwang.governance.projects.models import KpiValue, Project, Supervision
from yiwang.governance.projects.status import dashboard
from yiwang.people.models import Role


def _demo_personas(pw: ProjectWorld) -> None:
    leader = grant(UserFactory(username="leader_demo"), Role.LEADER, division=pw.world.district)
    leader.username = "leader"
    pw.world.leader.username = "leader_world"
    pw.world.leader.save(update_fields=["username"])
    leader.save(update_fields=["username"])
    for username, code in (("handler_cg", "DCG"), ("handler_cjl", "DJD"), ("handler_water", "DGS")):
        department = DepartmentFactory(code=code)
        user = UserFactory(username=username, department=department)
        grant(user, Role.DEPARTMENT_HANDLER, department=department)


def test_demo_builds_projects_of_every_colour_and_deletes_them(pw: ProjectWorld) -> None:
    _demo_personas(pw)
    summary = build_projects(DemoContext(log=lambda _: None))
    assert summary.startswith("10 projects")
    demo = Project.objects.filter(is_demo=True)
    assert demo.count() == 10
    colours = dashboard(pw.world.admin).by_colour
    assert colours["red"] >= 2
    assert colours["yellow"] >= 2
    assert colours["green"] >= 3
    assert Supervision.objects.filter(project__is_demo=True).count() == 1
    assert KpiValue.objects.filter(indicator__project__is_demo=True).exists()
    assert demo.exclude(lng=None).exists()
    delete_projects()
    assert not Project.objects.filter(is_demo=True).exists()
    assert Project.objects.filter(pk=pw.project.pk).exists()
