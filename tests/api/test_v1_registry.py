"""The staff API on the grid base database and party building: scoped reads (404 outside scope),
masked personal data in every list, the audited reveal, hash lookups and registration."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from tests.registry.conftest import _key_group_tags  # noqa: F401  (re-seed tags after a flush)
from tests.registry.helpers import make_credit_code, make_id, with_full_pii
from tests.world import World
from yiwang.api.v1 import registry_views
from yiwang.core.models_audit import AuditRecord
from yiwang.party import actions as party
from yiwang.party.models import PartyMember
from yiwang.registry import actions as registry
from yiwang.registry.models import Resident

pytestmark = pytest.mark.django_db

ID_A1 = make_id()
PHONE_A1 = "13812341234"


@pytest.fixture
def base(world: World) -> dict[str, Any]:
    """One building, house, resident, organisation and key site in grid A1; a resident in B1."""
    building = registry.create_building(
        actor=None,
        code="B-A1-1",
        name="1号楼",
        grid=world.grid_a1,
        address="长江路1号",
        estate_name="海润小区",
    )
    house = registry.create_house(actor=None, building=building, unit="1单元", room="301")
    resident = registry.register_resident(
        actor=None, name="张三", id_number=ID_A1, phone=PHONE_A1, grid=world.grid_a1, house=house
    )
    registry.tag_resident(resident.pk, "elderly_alone", actor=None)
    registry.tag_resident(resident.pk, "community_correction", actor=None)
    organisation = registry.register_organisation(
        actor=None,
        name="海润物业",
        kind="enterprise",
        grid=world.grid_a1,
        credit_code=make_credit_code(),
        contact_name="王经理",
        contact_phone="13700001111",
    )
    site = registry.register_key_site(
        actor=None, name="加油站", kind="fuel", grid=world.grid_a1, manager_phone="13655556666"
    )
    other = registry.register_resident(
        actor=None, name="李四", id_number=make_id(seq=124), phone="13900001111", grid=world.grid_b1
    )
    return {
        "building": building,
        "house": house,
        "resident": resident,
        "organisation": organisation,
        "site": site,
        "other": other,
    }


@pytest.fixture
def member(world: World) -> PartyMember:
    org = party.create_party_organization(actor=world.admin, name="区城管局机关党支部", kind="党支部")
    party.report_organization(org.pk, world.community_a, actor=world.admin)
    person = party.register_party_member(
        actor=world.admin, name="周红", organization=org, kind="在职党员", phone="13611112222"
    )
    return party.report_member(person.pk, world.community_a, actor=world.admin)


def results(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.content
    return list(response.json()["results"])


def test_residents_list_only_the_users_grids_with_masked_values(
    world: World, client_for: Any, base: dict[str, Any]
) -> None:
    rows = results(client_for(world.grid_worker_a1).get("/api/v1/registry/residents/"))
    assert [row["name"] for row in rows] == ["张三"]
    row = rows[0]
    assert row["id_number"] == base["resident"].id_number_masked != ID_A1
    assert row["phone"] == "138****1234"
    assert row["masked"] is True
    # 社区矫正 is for administrators only: a grid worker sees neither the tag nor its filter hits.
    assert [tag["code"] for tag in row["tags"]] == ["elderly_alone"]
    client = client_for(world.grid_worker_a1)
    assert results(client.get("/api/v1/registry/residents/?tag=community_correction")) == []
    assert len(results(client.get("/api/v1/registry/residents/?tag=elderly_alone"))) == 1
    assert {r["name"] for r in results(client_for(world.admin).get("/api/v1/registry/residents/"))} == {
        "张三",
        "李四",
    }


@pytest.mark.parametrize("persona", ["dispatcher_b", "outsider", "operator"])
def test_a_resident_outside_scope_is_404(
    world: World, client_for: Any, base: dict[str, Any], persona: str
) -> None:
    client = client_for(getattr(world, persona))
    pk = base["resident"].pk
    assert client.get(f"/api/v1/registry/residents/{pk}/").status_code == 404
    response = client.post(
        f"/api/v1/registry/residents/{pk}/reveal/", {"field": "phone", "reason": "核实"}, format="json"
    )
    assert response.status_code == 404
    assert "张三" not in {row["name"] for row in results(client.get("/api/v1/registry/residents/"))}


def test_a_grid_worker_does_not_see_another_grid_of_the_community(
    world: World, client_for: Any, base: dict[str, Any]
) -> None:
    in_a2 = registry.register_resident(
        actor=None, name="王五", id_number=make_id(seq=125), grid=world.grid_a2
    )
    client = client_for(world.grid_worker_a1)
    assert client.get(f"/api/v1/registry/residents/{in_a2.pk}/").status_code == 404
    assert client.get(f"/api/v1/registry/residents/{base['other'].pk}/").status_code == 404


def test_resident_list_filters_by_grid_and_registration(
    world: World, client_for: Any, base: dict[str, Any]
) -> None:
    client = client_for(world.admin)
    names = {r["name"] for r in results(client.get(f"/api/v1/registry/residents/?grid={world.grid_b1.code}"))}
    assert names == {"李四"}
    assert results(client.get("/api/v1/registry/residents/?registration=floating")) == []
    assert len(results(client.get("/api/v1/registry/residents/?registration=registered"))) == 2


def test_every_register_list_masks_phone_numbers(world: World, client_for: Any, base: dict[str, Any]) -> None:
    client = client_for(world.grid_worker_a1)
    [organisation] = results(client.get("/api/v1/registry/organisations/"))
    assert organisation["contact_phone"] == "137****1111"
    [site] = results(client.get("/api/v1/registry/key-sites/"))
    assert site["manager_phone"] == "136****6666"
    [building] = results(client.get("/api/v1/registry/buildings/"))
    assert (building["code"], building["estate"]) == ("B-A1-1", "海润小区")
    [house] = results(client.get("/api/v1/registry/houses/"))
    assert (house["building_code"], house["room"]) == ("B-A1-1", "301")
    outsider = client_for(world.dispatcher_b)
    for path in ("buildings", "houses", "organisations", "key-sites"):
        assert results(outsider.get(f"/api/v1/registry/{path}/")) == []
    assert outsider.get(f"/api/v1/registry/buildings/{base['building'].pk}/").status_code == 404


def test_reveal_without_the_grant_is_403_and_audited(
    world: World, client_for: Any, base: dict[str, Any]
) -> None:
    resident = base["resident"]
    response = client_for(world.grid_worker_a1).post(
        f"/api/v1/registry/residents/{resident.pk}/reveal/",
        {"field": "id_number", "reason": "入户核查"},
        format="json",
    )
    assert response.status_code == 403
    assert ID_A1 not in response.content.decode()
    refused = AuditRecord.objects.get(action="pii.reveal", object_id=str(resident.pk))
    assert (refused.success, refused.field, refused.reason) == (False, "id_number", "入户核查")


def test_reveal_with_the_grant_gives_the_full_value_and_is_audited(
    world: World, client_for: Any, base: dict[str, Any]
) -> None:
    resident = base["resident"]
    client = client_for(with_full_pii(world.grid_worker_a1))
    response = client.post(
        f"/api/v1/registry/residents/{resident.pk}/reveal/",
        {"field": "phone", "reason": "联系走访"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json() == {"field": "phone", "value": PHONE_A1}
    entry = AuditRecord.objects.get(action="pii.reveal", object_id=str(resident.pk))
    assert (entry.success, entry.field, entry.reason, entry.actor_id) == (
        True,
        "phone",
        "联系走访",
        world.grid_worker_a1.pk,
    )


def test_reveal_needs_a_reason(world: World, client_for: Any, base: dict[str, Any]) -> None:
    client = client_for(with_full_pii(world.admin))
    response = client.post(
        f"/api/v1/registry/residents/{base['resident'].pk}/reveal/", {"field": "phone"}, format="json"
    )
    assert response.status_code == 400
    assert "reason" in response.json()["fields"]
    assert not AuditRecord.objects.filter(action="pii.reveal").exists()


def test_lookup_by_id_number_finds_the_resident_in_scope_only(
    world: World, client_for: Any, base: dict[str, Any]
) -> None:
    response = client_for(world.grid_worker_a1).post(
        "/api/v1/registry/residents/lookup/", {"id_number": ID_A1.lower()}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert body["results"][0]["id"] == base["resident"].pk
    assert body["results"][0]["id_number"] != ID_A1
    response = client_for(world.dispatcher_b).post(
        "/api/v1/registry/residents/lookup/", {"id_number": ID_A1}, format="json"
    )
    assert response.status_code == 404


def test_lookup_by_phone_and_input_errors(world: World, client_for: Any, base: dict[str, Any]) -> None:
    client = client_for(world.admin)
    response = client.post("/api/v1/registry/residents/lookup/", {"phone": "13900001111"}, format="json")
    assert [r["name"] for r in response.json()["results"]] == ["李四"]
    assert client.post("/api/v1/registry/residents/lookup/", {}, format="json").status_code == 400
    wrong = ID_A1[:-1] + ("0" if ID_A1[-1] != "0" else "1")
    response = client.post("/api/v1/registry/residents/lookup/", {"id_number": wrong}, format="json")
    assert response.status_code == 400
    assert "id_number" in response.json()["fields"]


def test_a_grid_worker_registers_a_resident_in_their_grid(world: World, client_for: Any) -> None:
    payload = {
        "name": "赵六",
        "id_number": make_id(seq=222),
        "grid": world.grid_a1.code,
        "phone": "13512345678",
    }
    response = client_for(world.grid_worker_a1).post("/api/v1/registry/residents/", payload, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["name"], body["phone"], body["masked"]) == ("赵六", "135****5678", True)
    assert Resident.objects.get(pk=body["id"]).grid_id == world.grid_a1.pk


def test_registering_with_a_wrong_check_digit_is_400_naming_id_number_and_writes_nothing(
    world: World, client_for: Any
) -> None:
    good = make_id(seq=222)
    wrong = good[:-1] + ("0" if good[-1] != "0" else "1")
    payload = {"name": "赵六", "id_number": wrong, "grid": world.grid_a1.code}
    response = client_for(world.admin).post("/api/v1/registry/residents/", payload, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body) == {"code", "detail", "detail_en", "fields"}
    assert list(body["fields"]) == ["id_number"]
    assert not Resident.objects.exists()


def test_registering_outside_the_writable_grids_is_refused(world: World, client_for: Any) -> None:
    payload = {"name": "赵六", "id_number": make_id(seq=222), "grid": world.grid_a1.code}
    response = client_for(world.dispatcher_a).post("/api/v1/registry/residents/", payload, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    payload["grid"] = world.grid_a2.code  # in the grid worker's community, not one of their grids
    response = client_for(world.grid_worker_a1).post("/api/v1/registry/residents/", payload, format="json")
    assert response.status_code == 403
    assert list(response.json()["fields"]) == ["grid"]
    payload["grid"] = world.grid_b1.code  # outside their scope altogether: an unknown grid
    response = client_for(world.grid_worker_a1).post("/api/v1/registry/residents/", payload, format="json")
    assert response.status_code == 400
    assert list(response.json()["fields"]) == ["grid"]
    assert not Resident.objects.exists()


def test_grid_counts_give_the_base_and_party_panel(
    world: World, client_for: Any, base: dict[str, Any], member: PartyMember
) -> None:
    party.assign_member(member.pk, actor=world.admin, role="grid_instructor", grid=world.grid_a1)
    response = client_for(world.grid_worker_a1).get(f"/api/v1/registry/grid-counts/{world.grid_a1.code}/")
    assert response.status_code == 200
    body = response.json()
    assert body["grid"] == world.grid_a1.code
    assert (body["base"]["residents"], body["base"]["buildings"], body["base"]["houses"]) == (1, 1, 1)
    assert "community_correction" not in body["base"]["key_groups"]
    assert body["party"]["grid_instructors"] == {"count": 1, "names": ["周红"]}
    assert body["volunteers"]["volunteers"] == 0
    assert (
        client_for(world.outsider).get(f"/api/v1/registry/grid-counts/{world.grid_a1.code}/").status_code
        == 404
    )
    assert client_for(world.admin).get("/api/v1/registry/grid-counts/999/").status_code == 404


def test_party_members_and_assignments_are_scoped_and_masked(
    world: World, client_for: Any, member: PartyMember
) -> None:
    party.assign_member(member.pk, actor=world.admin, role="grid_instructor", grid=world.grid_a1)
    [row] = results(client_for(world.dispatcher_a).get("/api/v1/party/members/"))
    assert (row["name"], row["phone"], row["community"]) == ("周红", "136****2222", world.community_a.code)
    assert "13611112222" not in str(row)
    assert results(client_for(world.dispatcher_b).get("/api/v1/party/members/")) == []
    assert client_for(world.dispatcher_b).get(f"/api/v1/party/members/{member.pk}/").status_code == 404
    [post] = results(client_for(world.grid_worker_a1).get("/api/v1/party/assignments/?active=true"))
    assert (post["member_name"], post["role"], post["grid"]) == (
        "周红",
        "grid_instructor",
        world.grid_a1.code,
    )
    assert results(client_for(world.dispatcher_b).get("/api/v1/party/assignments/")) == []
    [org] = results(client_for(world.dispatcher_a).get("/api/v1/party/organizations/"))
    assert (org["name"], org["members"]) == ("区城管局机关党支部", 1)
    assert client_for(world.outsider).get("/api/v1/party/organizations/").json()["results"] == []


def test_volunteers_activities_and_stats(world: World, client_for: Any, member: PartyMember) -> None:
    resident = registry.register_resident(
        actor=None, name="志愿者甲", id_number=make_id(seq=301), phone="13322223333", grid=world.grid_a1
    )
    volunteer = party.register_volunteer(resident.pk, actor=world.grid_worker_a1, member=member)
    start = timezone.make_aware(dt.datetime(2026, 5, 1, 9, 0))
    activity = party.publish_activity(
        actor=world.admin,
        title="清洁家园",
        community=world.community_a,
        grid=world.grid_a1,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=3),
    )
    party.sign_up(activity.pk, volunteer.pk, actor=None)
    client = client_for(world.grid_worker_a1)
    [row] = results(client.get("/api/v1/party/volunteers/"))
    assert (row["name"], row["phone"], row["is_party_member"]) == ("志愿者甲", "133****3333", True)
    [event] = results(client.get("/api/v1/party/activities/"))
    assert (event["title"], event["signups"], event["grid"]) == ("清洁家园", 1, world.grid_a1.code)
    stats = client.get(f"/api/v1/party/volunteers/stats/?grid={world.grid_a1.code}").json()
    assert (stats["volunteers"], stats["party_member_volunteers"], stats["activities"]) == (1, 1, 1)
    admin = client_for(world.admin)
    assert (
        admin.get(f"/api/v1/party/volunteers/stats/?community={world.community_a.code}").json()["volunteers"]
        == 1
    )
    assert admin.get("/api/v1/party/volunteers/stats/").status_code == 400
    outsider = client_for(world.dispatcher_b)
    assert results(outsider.get("/api/v1/party/volunteers/")) == []
    assert results(outsider.get("/api/v1/party/activities/")) == []
    assert outsider.get(f"/api/v1/party/volunteers/stats/?grid={world.grid_a1.code}").status_code == 404


@pytest.mark.parametrize(
    ("path", "shape"),
    [
        ("residents", registry_views.ResidentOut),
        ("buildings", registry_views.BuildingOut),
        ("houses", registry_views.HouseOut),
        ("organisations", registry_views.OrganisationOut),
        ("key-sites", registry_views.KeySiteOut),
    ],
)
def test_presented_rows_have_exactly_the_documented_keys(
    world: World, client_for: Any, base: dict[str, Any], path: str, shape: Any
) -> None:
    # The rows come from the registry presenters, not from the serializers that document them.
    row = results(client_for(world.admin).get(f"/api/v1/registry/{path}/"))[0]
    assert set(row) == set(shape().fields)


def test_grid_worker_gets_counts_of_own_grid_only(world: World, client_for: Any) -> None:
    client = client_for(world.grid_worker_a1)
    assert client.get(f"/api/v1/registry/grid-counts/{world.grid_a1.code}/").status_code == 200
    # grid_a2 is in the same community (visible on the map) but not the worker's grid.
    assert client.get(f"/api/v1/registry/grid-counts/{world.grid_a2.code}/").status_code == 404
