from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import square
from tests.grids.mapdata import COMMUNITY, STREET, division_rows
from yiwang.grids import actions
from yiwang.grids.models import Division, Grid, LocatorVersion

pytestmark = pytest.mark.django_db

MODELS = ["division", "grid", "gridlabel", "policebeat", "externalgrid", "gridstaff", "locatorversion"]


@pytest.fixture
def community() -> Division:
    assert actions.bulk_load(division_rows(), []).ok
    return Division.objects.get(code=COMMUNITY)


@pytest.mark.parametrize("model", MODELS)
def test_changelist_loads_for_superuser(admin_client: Client, community: Division, model: str) -> None:
    actions.save_grid(name="一号", community=community, boundary=square(120.0, 35.9))
    response = admin_client.get(reverse(f"admin:grids_{model}_changelist"))
    assert response.status_code == 200


@pytest.mark.parametrize("model", [m for m in MODELS if m != "locatorversion"])
def test_add_page_loads_for_superuser(admin_client: Client, model: str) -> None:
    assert admin_client.get(reverse(f"admin:grids_{model}_add")).status_code == 200


def test_locator_version_cannot_be_added_in_admin(admin_client: Client) -> None:
    assert admin_client.get(reverse("admin:grids_locatorversion_add")).status_code == 403


def grid_form(community: Division, **change: Any) -> dict[str, Any]:
    data = {
        "code": f"{COMMUNITY}001",
        "name": "一号网格",
        "community": community.pk,
        "kind": "basic",
        "dedicated_to": "",
        "boundary": json.dumps(square(120.0, 35.9)),
        "households": "12",
        "population": "30",
        "staff-TOTAL_FORMS": "0",
        "staff-INITIAL_FORMS": "0",
        "staff-MIN_NUM_FORMS": "0",
        "staff-MAX_NUM_FORMS": "1000",
    }
    data.update(change)
    return data


def test_adding_a_grid_in_admin_computes_extent_and_bumps_locator_version(
    admin_client: Client, community: Division
) -> None:
    version = LocatorVersion.current()
    response = admin_client.post(reverse("admin:grids_grid_add"), grid_form(community))
    assert response.status_code == 302, response.content.decode()[:2000]
    grid = Grid.objects.get()
    assert (grid.center_lng, grid.center_lat) == pytest.approx((120.005, 35.905))
    assert LocatorVersion.current() == version + 1


def test_moving_a_grid_in_admin_bumps_locator_version(admin_client: Client, community: Division) -> None:
    grid = actions.save_grid(
        name="一号", community=community, boundary=square(120.0, 35.9), code=f"{COMMUNITY}001"
    )
    version = LocatorVersion.current()
    url = reverse("admin:grids_grid_change", args=[grid.pk])
    response = admin_client.post(url, grid_form(community, boundary=json.dumps(square(120.0, 35.95))))
    assert response.status_code == 302
    assert LocatorVersion.current() == version + 1
    assert Grid.objects.get().min_lat == pytest.approx(35.95)


def test_admin_grid_form_shows_code_and_geometry_problems_and_saves_nothing(
    admin_client: Client, community: Division
) -> None:
    bow_tie = {
        "type": "Polygon",
        "coordinates": [[[120.0, 35.9], [120.01, 35.91], [120.01, 35.9], [120.0, 35.91], [120.0, 35.9]]],
    }
    data = grid_form(community, code="370211005002001", boundary=json.dumps(bow_tie))
    response = admin_client.post(reverse("admin:grids_grid_add"), data)
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "必须以所属社区代码 370211005001 开头" in errors["code"][0]
    assert "Self-intersection" in errors["boundary"][0]
    assert not Grid.objects.exists()


def test_admin_division_form_rejects_code_not_matching_parent(
    admin_client: Client, community: Division
) -> None:
    street = Division.objects.get(code=STREET)
    data = {
        "code": "370211006002",
        "name": "错社区",
        "level": "community",
        "kind": "社区",
        "parent": street.pk,
        "boundary": "null",
    }
    response = admin_client.post(reverse("admin:grids_division_add"), data)
    assert response.status_code == 200
    assert "必须以 370211005 开头" in response.context["adminform"].form.errors["code"][0]
    assert Division.objects.count() == 3


def test_admin_division_add_goes_through_actions(admin_client: Client, community: Division) -> None:
    street = Division.objects.get(code=STREET)
    data = {
        "code": "370211005002",
        "name": "社区二",
        "level": "community",
        "kind": "社区",
        "parent": street.pk,
        "boundary": "null",
    }
    response = admin_client.post(reverse("admin:grids_division_add"), data)
    assert response.status_code == 302
    added = Division.objects.get(code="370211005002")
    assert (added.street_id, added.district_id) == (street.pk, street.district_id)


def test_admin_lists_only_visible_grids_for_staff_who_are_not_superusers(client: Client, world: Any) -> None:
    from django.contrib.auth.models import Permission

    user = world.dispatcher_a
    user.is_staff = True
    user.save()
    user.user_permissions.add(Permission.objects.get(codename="view_grid"))
    client.force_login(user)
    response = client.get(reverse("admin:grids_grid_changelist"))
    assert response.status_code == 200
    shown = {g.code for g in response.context["cl"].result_list}
    assert shown == set(Grid.objects.visible_to(user).values_list("code", flat=True))
    assert world.grid_b1.code not in shown
