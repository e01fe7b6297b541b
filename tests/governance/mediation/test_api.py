"""The mediation API: scoped reads, one POST per action, error codes, masked parties, reveal."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from rest_framework.test import APIClient

from tests.governance.mediation.helpers import MedWorld, drive, register
from yiwang.core.models import AuditRecord
from yiwang.governance.mediation.models import Dispute, DisputeStatus

pytestmark = pytest.mark.django_db
BASE = "/api/v1/mediation"


def _client(user: object) -> APIClient:
    c = APIClient()
    c.force_authenticate(user)  # type: ignore[arg-type]
    return c


def test_list_and_detail_are_scoped(med: MedWorld) -> None:
    a = register(med)
    b = register(med, actor=med.mediator_b, committee=med.committee_b)
    rows = _client(med.mediator_a).get(f"{BASE}/disputes/").json()["results"]
    assert [r["id"] for r in rows] == [a.pk]
    assert _client(med.mediator_a).get(f"{BASE}/disputes/{b.pk}/").status_code == 404
    assert _client(med.world.dispatcher_a).get(f"{BASE}/disputes/{a.pk}/").status_code == 404
    assert _client(med.world.operator).get(f"{BASE}/disputes/").json()["results"] == []
    assert len(_client(med.world.leader).get(f"{BASE}/disputes/").json()["results"]) == 2


def test_detail_masks_parties(med: MedWorld) -> None:
    a = register(med)
    body = _client(med.mediator_a).get(f"{BASE}/disputes/{a.pk}/").json()
    names = {p["name"] for p in body["parties"]}
    assert "张*丰" in names
    assert "张三丰" not in str(body)
    assert "13812341234" not in str(body)
    assert body["allowed_actions"] == ["accept"]


def test_register_through_the_api(med: MedWorld) -> None:
    payload = {
        "committee": med.committee_a.pk,
        "kind": "labour",
        "summary": "拖欠工资",
        "facts": "某公司拖欠三个月工资",
        "amount": "18000.00",
        "parties": [
            {"side": "applicant", "name": "王五", "phone": "13700001111"},
            {"side": "respondent", "kind": "organisation", "name": "青岛某某建筑公司"},
        ],
    }
    response = _client(med.labour_mediator_a).post(f"{BASE}/disputes/", payload, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["kind"] == "labour"
    assert Dispute.objects.get().case.channel == "mediation"


def test_register_without_respondent_is_400(med: MedWorld) -> None:
    payload = {
        "committee": med.committee_a.pk,
        "kind": "neighbour",
        "summary": "s",
        "facts": "f",
        "parties": [{"side": "applicant", "name": "王五"}],
    }
    response = _client(med.mediator_a).post(f"{BASE}/disputes/", payload, format="json")
    assert response.status_code == 400
    assert response.json()["fields"] == {"parties": [response.json()["detail"]]}
    assert not Dispute.objects.exists()


def test_the_whole_flow_through_the_api(med: MedWorld) -> None:
    d = register(med)
    c = _client(med.mediator_a)
    mediator = med.mediator(med.mediator_a).pk
    parties = list(d.parties.values_list("pk", flat=True))
    steps = [
        ("accept", {}),
        ("assign", {"mediators": [mediator]}),
        ("session", {"held_on": "2030-01-05", "place": "调解室", "mediators": [mediator], "notes": "n"}),
        ("agree", {"signed_on": "2030-01-06", "terms": "赔偿", "parties": parties, "due_on": "2030-02-01"}),
        ("follow-up", {"performed": True, "note": "已履行"}),
        ("close", {}),
    ]
    for name, payload in steps:
        response = c.post(f"{BASE}/disputes/{d.pk}/{name}/", payload, format="json")
        assert response.status_code == 200, (name, response.content)
    assert response.json()["status"] == DisputeStatus.CLOSED
    assert [e["kind"] for e in response.json()["events"]][-1] == "close"


def test_error_codes(med: MedWorld) -> None:
    d = drive(med, register(med), DisputeStatus.MEDIATING)
    # 409: wrong state
    assert (
        _client(med.mediator_a).post(f"{BASE}/disputes/{d.pk}/accept/", {}, format="json").status_code == 409
    )
    # 403: a leader sees the dispute but does not mediate
    payload = {"reason": "r", "referral": "court"}
    assert (
        _client(med.world.leader).post(f"{BASE}/disputes/{d.pk}/fail/", payload, format="json").status_code
        == 403
    )
    # 404: another committee's mediator
    assert (
        _client(med.mediator_b)
        .post(f"{BASE}/disputes/{d.pk}/fail/", {"reason": "r"}, format="json")
        .status_code
        == 404
    )
    # 400: a failure without referral
    response = _client(med.mediator_a).post(f"{BASE}/disputes/{d.pk}/fail/", {"reason": "r"}, format="json")
    assert response.status_code == 400
    assert "referral" in response.json()["fields"]
    # 400: due date before the agreement date
    payload = {
        "signed_on": "2030-01-06",
        "terms": "t",
        "parties": list(d.parties.values_list("pk", flat=True)),
        "due_on": "2030-01-01",
    }
    assert (
        _client(med.mediator_a).post(f"{BASE}/disputes/{d.pk}/agree/", payload, format="json").status_code
        == 400
    )
    d.refresh_from_db()
    assert d.status == DisputeStatus.MEDIATING


def test_reveal_needs_the_permission_and_is_audited(med: MedWorld) -> None:
    d = register(med)
    party = d.parties.get(side="applicant")
    url = f"{BASE}/disputes/{d.pk}/parties/{party.pk}/reveal/"
    refused = _client(med.mediator_a).post(url, {"field": "phone", "reason": "联系当事人"}, format="json")
    assert refused.status_code == 403
    med.mediator_a.user_permissions.add(Permission.objects.get(codename="view_full_pii"))
    from yiwang.people.models import User

    user = User.objects.get(pk=med.mediator_a.pk)
    ok = _client(user).post(url, {"field": "phone", "reason": "联系当事人"}, format="json")
    assert ok.status_code == 200
    assert ok.json()["value"] == "13812341234"
    assert AuditRecord.objects.filter(object_id=str(party.pk), field="phone").count() == 2


def test_stats_and_committees(med: MedWorld) -> None:
    register(med)
    body = _client(med.world.leader).get(f"{BASE}/stats/?start=2000-01-01&end=2100-01-01").json()
    assert body["total"]["disputes"] == 1
    assert _client(med.world.leader).get(f"{BASE}/stats/?start=bad").status_code == 400
    committees = _client(med.mediator_a).get(f"{BASE}/committees/").json()
    assert [c["id"] for c in committees] == [med.committee_a.pk]
    assert _client(med.world.dispatcher_a).get(f"{BASE}/committees/").json() == []
