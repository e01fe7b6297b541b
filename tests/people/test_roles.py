"""Role groups give each role its admin rights; rows are still limited by visible_to."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from tests.world import World
from yiwang.people.models import Grant, Role
from yiwang.people.roles import ensure_role_groups, group_name, sync_role_groups

pytestmark = pytest.mark.django_db


def test_every_role_has_a_group_seeded_with_permissions() -> None:
    groups = ensure_role_groups()
    assert set(groups) == set(Role)
    for group in groups.values():
        assert group.permissions.exists()


def test_an_edited_group_is_not_reset_by_a_later_ensure() -> None:
    group = ensure_role_groups()[Role.DISPATCHER]
    group.permissions.clear()
    ensure_role_groups()
    assert not Group.objects.get(name=group_name(Role.DISPATCHER)).permissions.exists()


def test_sync_follows_the_grants_and_keeps_other_groups(world: World) -> None:
    other = Group.objects.create(name="值班组")
    world.dispatcher_a.groups.add(other)
    sync_role_groups(world.dispatcher_a)
    assert set(world.dispatcher_a.groups.values_list("name", flat=True)) == {"值班组", "role:dispatcher"}
    Grant.objects.filter(user=world.dispatcher_a).delete()
    sync_role_groups(world.dispatcher_a)
    assert set(world.dispatcher_a.groups.values_list("name", flat=True)) == {"值班组"}


def test_a_street_dispatcher_browses_only_its_grids_in_the_admin(world: World, client: Client) -> None:
    world.dispatcher_a.is_staff = True
    world.dispatcher_a.save()
    sync_role_groups(world.dispatcher_a)
    client.force_login(world.dispatcher_a)
    page = client.get("/admin/grids/grid/")
    assert page.status_code == 200
    assert world.grid_a1.code in page.text
    assert world.grid_b1.code not in page.text
    assert client.get(f"/admin/grids/grid/{world.grid_b1.pk}/change/").status_code in (302, 404)
    assert client.get("/admin/people/user/").status_code == 403
