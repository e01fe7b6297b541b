"""Every register's admin list opens and shows phone numbers masked only."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.world import World
from yiwang.party import actions as party
from yiwang.registry import actions
from yiwang.registry.models import Resident

from .helpers import make_id

pytestmark = pytest.mark.django_db
PHONE = "13812345678"
PAGES = [
    "registry/resident", "registry/building", "registry/house", "registry/estate", "registry/household",
    "registry/organisation", "registry/keysite", "registry/keygrouptag",
    "party/partyorganization", "party/partymember", "party/communityreport", "party/assignment",
    "party/sentinel", "party/volunteer", "party/activity", "party/signup", "party/ledgerentry",
]  # fmt: skip


def test_every_admin_list_opens_with_phones_masked(world: World, house_a1: object, client: Client) -> None:
    resident = actions.register_resident(
        actor=None, name="张三", id_number=make_id(), phone=PHONE, grid=world.grid_a1
    )
    actions.register_organisation(
        actor=None, name="物业", kind="property", grid=world.grid_a1, contact_phone=PHONE
    )
    actions.register_key_site(
        actor=None, name="市场", kind="crowded", grid=world.grid_a1, manager_phone=PHONE
    )
    org = party.create_party_organization(actor=None, name="支部", kind="branch")
    party.register_party_member(actor=None, name="周红", organization=org, kind="in_service", phone=PHONE)
    party.register_sentinel(actor=None, name="骑手", occupation="rider", grid=world.grid_a1, phone=PHONE)
    party.register_volunteer(resident.pk, actor=None)
    world.admin.is_staff = world.admin.is_superuser = True
    world.admin.save()
    client.force_login(world.admin)
    for page in PAGES:
        response = client.get(f"/admin/{page}/")
        assert response.status_code == 200, page
        assert PHONE not in response.text, page
        assert make_id() not in response.text, page
    assert "138****5678" in client.get("/admin/registry/resident/").text
    change = client.get(f"/admin/registry/resident/{Resident.objects.get().pk}/change/")
    assert change.status_code == 200
    assert PHONE not in change.text


def test_a_resident_added_in_the_admin_goes_through_the_action(world: World, client: Client) -> None:
    world.admin.is_staff = world.admin.is_superuser = True
    world.admin.save()
    client.force_login(world.admin)
    bad = make_id()[:17] + ("0" if make_id()[17] != "0" else "1")
    form = {"name": "王五", "id_number_input": bad, "phone_input": "", "registration": "registered",
            "status": "active", "grid": world.grid_a1.pk, "house": "", "relation_to_head": ""}  # fmt: skip
    client.post("/admin/registry/resident/add/", form)
    assert not Resident.objects.exists()
    client.post("/admin/registry/resident/add/", {**form, "id_number_input": make_id()})
    assert Resident.objects.get().id_number_masked.startswith("370211")
