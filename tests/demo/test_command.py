"""``yiwang demo``: the command, the rows it writes, and the demo logins."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import RequestFactory

from yiwang.demo.people import DEMO_PASSWORD, PERSONAS
from yiwang.grids.actions import number_grids
from yiwang.grids.models import (
    Division,
    DivisionLevel,
    ExternalGrid,
    ExternalGridLink,
    Grid,
    GridBeatLink,
    GridStaff,
    PoliceBeat,
)
from yiwang.people.models import Department, DepartmentKind, Role, User

pytestmark = pytest.mark.django_db

SCALE = 0.1


def run_demo(*args: str) -> str:
    out = StringIO()
    call_command("demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def demo_output() -> str:
    return run_demo("--scale", str(SCALE), "--days", "0")  # the case history has its own tests


def test_demo_loads_the_23_streets_under_the_district(demo_output: str) -> None:
    district = Division.objects.get(level=DivisionLevel.DISTRICT)
    streets = Division.objects.filter(level=DivisionLevel.STREET)
    assert (district.code, district.name) == ("370211000000", "黄岛区")
    assert streets.count() == 23
    assert set(streets.values_list("parent", flat=True)) == {district.pk}
    assert streets.get(code="370211005000").name == "长江路街道"
    assert streets.get(code="370211104000").name == "大场镇"
    community = Division.objects.filter(level=DivisionLevel.COMMUNITY).first()
    assert community is not None
    assert community.district == district
    assert community.street == community.parent


def test_demo_links_beats_and_external_grids_to_the_grids(demo_output: str) -> None:
    assert PoliceBeat.objects.exists()
    assert GridBeatLink.objects.exists()
    assert ExternalGrid.objects.exists()
    assert ExternalGridLink.objects.exists()
    # Every grid lies in some police beat.
    assert GridBeatLink.objects.values("grid").distinct().count() == Grid.objects.count()


def test_stored_grid_codes_follow_the_grid_numbering_rule(demo_output: str) -> None:
    community = max(Division.objects.filter(level=DivisionLevel.COMMUNITY), key=lambda c: c.grids.count())
    assert community.grids.count() >= 3
    assert all(grid.code == code for grid, code in number_grids(community))


def test_demo_creates_a_department_per_street_and_per_community(demo_output: str) -> None:
    assert Department.objects.filter(kind=DepartmentKind.STREET).count() == 23
    communities = Division.objects.filter(level=DivisionLevel.COMMUNITY).count()
    assert Department.objects.filter(kind=DepartmentKind.COMMUNITY).count() == communities
    assert Department.objects.get(code="JD370211005").name == "长江路街道办事处"
    assert Department.objects.filter(kind=DepartmentKind.COMMAND_CENTER).count() == 1
    # Besides the four utilities, the enterprise channel's banks are public-service departments.
    utilities = Department.objects.filter(
        kind=DepartmentKind.PUBLIC_SERVICE, financial_institution__isnull=True
    )
    assert utilities.count() == 4
    committee = Department.objects.filter(kind=DepartmentKind.COMMUNITY).first()
    assert committee is not None
    assert committee.parent is not None
    assert committee.parent.division == committee.division.parent


def test_every_role_has_a_demo_user_who_can_log_in(demo_output: str) -> None:
    # The co-governance roles' demo users come from their modules' demo steps.
    governance = {Role.MEDIATOR, Role.FINANCE_COUNSELLOR, Role.ENTERPRISE}
    assert {p.role for p in PERSONAS} == set(Role.values) - governance
    for role in governance:
        assert User.objects.filter(grants__role=role, is_active=True).exists(), role
    for persona in PERSONAS:
        user = User.objects.get(username=persona.username)
        assert user.is_staff
        assert not user.must_change_password
        assert user.grants.filter(role=persona.role).exists()
        # Through the real authentication backends (django-axes included, which needs a request).
        request = RequestFactory().post("/login/")
        assert authenticate(request, username=persona.username, password=DEMO_PASSWORD) == user
        assert persona.username in demo_output
    assert User.objects.get(username="admin").is_superuser
    assert DEMO_PASSWORD in demo_output
    assert "http://127.0.0.1:8000/admin/" in demo_output


def test_grid_workers_hold_posts_in_one_community_and_see_only_it(demo_output: str) -> None:
    worker = User.objects.get(username="gridworker1")
    posts = Grid.objects.filter(staff__user=worker).distinct()
    community = worker.grants.get().division
    assert posts.count() >= 1
    assert set(posts.values_list("community", flat=True)) == {community.pk}
    visible = Grid.objects.visible_to(worker)
    assert set(visible.values_list("pk", flat=True)) == set(community.grids.values_list("pk", flat=True))
    assert GridStaff.objects.filter(user__username__startswith="gridworker").count() >= 3


def test_if_empty_does_nothing_on_a_second_run(demo_output: str) -> None:
    before = (
        Division.objects.count(),
        Grid.objects.count(),
        list(Grid.objects.values_list("code", "boundary")),
    )
    output = run_demo("--if-empty", "--seed", "99")
    assert "跳过" in output
    after = (
        Division.objects.count(),
        Grid.objects.count(),
        list(Grid.objects.values_list("code", "boundary")),
    )
    assert after == before


def test_second_run_without_reset_is_refused_and_writes_nothing(demo_output: str) -> None:
    grids = Grid.objects.count()
    with pytest.raises(CommandError, match="--reset"):
        run_demo("--scale", str(SCALE))
    assert Grid.objects.count() == grids


def test_reset_rebuilds_the_demo(demo_output: str) -> None:
    first = set(Grid.objects.values_list("code", flat=True))
    output = run_demo("--reset", "--scale", "0.05", "--seed", "5")
    assert "已清除" in output
    assert set(Grid.objects.values_list("code", flat=True)) != first
    assert Division.objects.filter(level=DivisionLevel.STREET).count() == 23
    assert User.objects.filter(username="admin").count() == 1


def test_scale_must_be_positive(db: None) -> None:
    with pytest.raises(CommandError, match="scale"):
        run_demo("--scale", "0")
    assert not Division.objects.exists()
