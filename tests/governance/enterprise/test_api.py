"""/api/v1/enterprise/: filing, scoped reads, one POST per step, error statuses and the figures."""

from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient

from tests.governance.enterprise.conftest import Channel, at_stage, financing
from yiwang.governance.enterprise.models import Demand
from yiwang.people.models import User

BASE = "/api/v1/enterprise"


def api(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _payload(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "financing",
        "description": "订单增长，需要流动资金",
        "purpose": "购买原材料",
        "amount_requested": "3000000",
        "term_months": "12",
        "collateral": "receivables",
    }
    body.update(overrides)
    return body


def test_an_enterprise_user_files_a_demand_for_its_own_enterprise(channel: Channel) -> None:
    response = api(channel.user_a).post(f"{BASE}/demands/", _payload(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["enterprise"] == channel.ent_a.pk
    assert body["status"] == "submitted"
    assert body["amount_requested"] == "3000000.00"
    assert body["case_number"]
    assert body["allowed_actions"] == []


def test_a_negative_amount_is_a_400_naming_the_field(channel: Channel) -> None:
    response = api(channel.user_a).post(f"{BASE}/demands/", _payload(amount_requested=-5), format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert "amount_requested" in body["fields"]
    assert body["detail_en"]
    assert not Demand.objects.exists()


def test_an_absurd_amount_is_a_400(channel: Channel) -> None:
    response = api(channel.user_a).post(
        f"{BASE}/demands/", _payload(amount_requested="99999999999"), format="json"
    )
    assert response.status_code == 400
    assert "上限" in response.json()["detail"]


def test_reads_are_scoped_and_another_enterprise_gets_404(channel: Channel) -> None:
    a = financing(channel.user_a)
    b = financing(channel.user_b)
    listed = api(channel.user_a).get(f"{BASE}/demands/").json()
    assert [row["id"] for row in listed["results"]] == [a.pk]
    assert api(channel.user_a).get(f"{BASE}/demands/{b.pk}/").status_code == 404
    assert (
        api(channel.user_a).post(f"{BASE}/demands/{b.pk}/visit/", {"note": "x"}, format="json").status_code
        == 404
    )
    assert api(channel.world.leader).get(f"{BASE}/demands/").json()["count"] == 2


def test_steps_through_the_api_with_their_statuses(channel: Channel) -> None:
    demand = financing(channel.user_a)
    admin, banker = api(channel.world.admin), api(channel.banker)
    dept = channel.bank.department.pk
    routed = admin.post(f"{BASE}/demands/{demand.pk}/route/", {"department": dept}, format="json")
    assert routed.status_code == 200
    assert routed.json()["status"] == "routed"
    assert (
        admin.post(f"{BASE}/demands/{demand.pk}/route/", {"department": dept}, format="json").status_code
        == 409
    )
    assert (
        api(channel.counsellor).post(f"{BASE}/demands/{demand.pk}/accept/", {}, format="json").status_code
        == 403
    )
    assert (
        api(channel.banker2).post(f"{BASE}/demands/{demand.pk}/accept/", {}, format="json").status_code == 404
    )
    assert (
        banker.post(f"{BASE}/demands/{demand.pk}/accept/", {}, format="json").json()["status"] == "accepted"
    )
    visit = banker.post(
        f"{BASE}/demands/{demand.pk}/visit/", {"note": "走访", "mode": "phone"}, format="json"
    )
    assert len(visit.json()["visits"]) == 1
    match = banker.post(
        f"{BASE}/demands/{demand.pk}/match/",
        {"institution": channel.bank.pk, "product": "科技贷", "proposed_amount": "2000000"},
        format="json",
    )
    assert match.json()["matchings"][0]["proposed_amount"] == "2000000.00"
    no_reason = banker.post(f"{BASE}/demands/{demand.pk}/conclude/", {"amount_granted": "0"}, format="json")
    assert no_reason.status_code == 400
    done = banker.post(f"{BASE}/demands/{demand.pk}/conclude/", {"amount_granted": "2000000"}, format="json")
    assert done.json()["status"] == "concluded"
    called = admin.post(f"{BASE}/demands/{demand.pk}/callback/", {"satisfaction": "satisfied"}, format="json")
    assert called.json()["status"] == "closed"
    assert [e["kind"] for e in called.json()["events"]] == [
        "file",
        "route",
        "accept",
        "visit",
        "match",
        "conclude",
        "callback",
    ]


def test_enterprises_institutions_and_stats(channel: Channel) -> None:
    at_stage(channel, "concluded")
    enterprises = api(channel.counsellor).get(f"{BASE}/enterprises/").json()
    assert [e["name"] for e in enterprises["results"]] == ["青岛甲制造有限公司"]
    institutions = api(channel.user_a).get(f"{BASE}/institutions/").json()
    assert institutions["count"] == 2
    stats = api(channel.world.leader).get(f"{BASE}/stats/").json()
    assert stats["total"]["granted"] == "3000000.00"
    assert stats["total"]["grant_rate"] == 1.0
    assert api(channel.world.leader).get(f"{BASE}/stats/?start=nope").status_code == 400


def test_anonymous_callers_are_refused(channel: Channel) -> None:
    assert APIClient().get(f"{BASE}/demands/").status_code in (401, 403)


def test_bureau_staff_register_an_enterprise_and_name_its_people(channel: Channel) -> None:
    from tests.factories import UserFactory, grant
    from tests.governance.enterprise.conftest import credit_code
    from yiwang.people.models import Role

    admin = api(channel.world.admin)
    body = {
        "name": "青岛丙科技有限公司",
        "credit_code": credit_code(3),
        "grid": channel.world.grid_a2.pk,
        "industry": "I",
    }
    created = admin.post(f"{BASE}/enterprises/", body, format="json")
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert created.json()["street"] == channel.world.street_a.name
    bad = admin.post(f"{BASE}/enterprises/", {**body, "credit_code": "91370211MA00000019"}, format="json")
    assert bad.status_code == 400
    assert "credit_code" in bad.json()["fields"]
    named = admin.post(
        f"{BASE}/enterprises/{pk}/counsellor/", {"counsellor": channel.counsellor.pk}, format="json"
    )
    assert named.json()["counsellor"] == channel.counsellor.display_name
    not_a_counsellor = admin.post(
        f"{BASE}/enterprises/{pk}/counsellor/", {"counsellor": channel.banker.pk}, format="json"
    )
    assert not_a_counsellor.status_code == 400
    owner = grant(UserFactory(username="ent_c"), Role.ENTERPRISE, division=channel.world.street_a)
    assert (
        admin.post(f"{BASE}/enterprises/{pk}/members/", {"user": owner.pk}, format="json").status_code == 200
    )
    assert [e["id"] for e in api(owner).get(f"{BASE}/enterprises/").json()["results"]] == [pk]


def test_an_enterprise_user_cannot_register_enterprises(channel: Channel) -> None:
    from tests.governance.enterprise.conftest import credit_code

    body = {
        "name": "冒名公司",
        "credit_code": credit_code(4),
        "grid": channel.world.grid_a1.pk,
        "industry": "C",
    }
    assert api(channel.user_a).post(f"{BASE}/enterprises/", body, format="json").status_code == 403
    assert (
        api(channel.world.dispatcher_b).post(f"{BASE}/enterprises/", body, format="json").status_code == 403
    )
