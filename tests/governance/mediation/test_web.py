"""The mediation pages: role gating, scoping (404), masked parties, action forms, registration."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from tests.governance.mediation.helpers import MedWorld, drive, register
from yiwang.governance.mediation.models import Dispute, DisputeStatus

pytestmark = pytest.mark.django_db


def _client(user: object) -> Client:
    c = Client()
    c.force_login(user)  # type: ignore[arg-type]
    return c


@pytest.mark.parametrize(
    ("persona", "code"),
    [
        ("mediator_a", 200),
        ("leader", 200),
        ("admin", 200),
        ("dispatcher_a", 404),
        ("operator", 404),
        ("grid_worker_a1", 404),
    ],
)
def test_index_is_offered_to_mediators_leaders_and_admins(med: MedWorld, persona: str, code: int) -> None:
    user = getattr(med, persona, None) or getattr(med.world, persona)
    assert _client(user).get(reverse("web:mediation:index")).status_code == code


def test_index_lists_only_visible_disputes_and_stats(med: MedWorld) -> None:
    a = register(med, summary="甲纠纷")
    register(med, actor=med.mediator_b, committee=med.committee_b, summary="乙纠纷")
    page = _client(med.mediator_a).get(
        reverse("web:mediation:index"), {"start": "2000-01-01", "end": "2100-01-01"}
    )
    body = page.content.decode()
    assert "甲纠纷" in body
    assert "乙纠纷" not in body
    assert a.case.number in body
    assert "调解成功率" in body


def test_detail_masks_parties_and_offers_allowed_actions(med: MedWorld) -> None:
    d = register(med)
    body = _client(med.mediator_a).get(reverse("web:mediation:detail", args=[d.pk])).content.decode()
    assert "张*丰" in body
    assert "张三丰" not in body
    assert "13812341234" not in body
    assert 'id="action-accept"' in body
    assert 'id="action-close"' not in body
    leader_body = _client(med.world.leader).get(reverse("web:mediation:detail", args=[d.pk])).content.decode()
    assert "action-accept" not in leader_body


def test_detail_outside_scope_is_404(med: MedWorld) -> None:
    d = register(med)
    assert _client(med.mediator_b).get(reverse("web:mediation:detail", args=[d.pk])).status_code == 404
    assert (
        _client(med.world.dispatcher_a).get(reverse("web:mediation:detail", args=[d.pk])).status_code == 404
    )


def test_action_form_moves_the_dispute(med: MedWorld) -> None:
    d = register(med)
    response = _client(med.mediator_a).post(
        reverse("web:mediation:action", args=[d.pk, "accept"]), {"accept-note": "受理"}
    )
    assert response.status_code == 302
    d.refresh_from_db()
    assert d.status == DisputeStatus.ACCEPTED


def test_failure_without_referral_shows_the_error_and_writes_nothing(med: MedWorld) -> None:
    d = drive(med, register(med), DisputeStatus.MEDIATING)
    response = _client(med.mediator_a).post(
        reverse("web:mediation:action", args=[d.pk, "fail"]), {"fail-reason": "分歧大", "fail-referral": ""}
    )
    assert response.status_code == 400
    assert "引导途径" in response.content.decode()
    d.refresh_from_db()
    assert d.status == DisputeStatus.MEDIATING


def test_register_form_creates_a_dispute(med: MedWorld) -> None:
    c = _client(med.mediator_a)
    assert c.get(reverse("web:mediation:new")).status_code == 200
    response = c.post(
        reverse("web:mediation:new"),
        {
            "committee": med.committee_a.pk,
            "kind": "property",
            "summary": "物业费纠纷",
            "facts": "业主拒交物业费",
            "amount": "",
            "applicant_kind": "organisation",
            "applicant_name": "某物业公司",
            "respondent_kind": "person",
            "respondent_name": "赵六",
            "respondent_phone": "13600001234",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    d = Dispute.objects.get()
    assert d.kind == "property"
    assert d.parties.count() == 2


def test_register_form_refuses_another_committee(med: MedWorld) -> None:
    response = _client(med.mediator_a).post(
        reverse("web:mediation:new"),
        {
            "committee": med.committee_b.pk,
            "kind": "property",
            "summary": "s",
            "facts": "f",
            "applicant_kind": "person",
            "applicant_name": "甲",
            "respondent_kind": "person",
            "respondent_name": "乙",
        },
    )
    assert response.status_code == 400
    assert not Dispute.objects.exists()


def test_reveal_without_permission_is_refused_and_audited(med: MedWorld) -> None:
    from yiwang.core.models import AuditRecord

    d = register(med)
    party = d.parties.get(side="applicant")
    url = reverse("web:mediation:reveal", args=[d.pk])
    response = _client(med.mediator_a).post(url, {"party": party.pk, "field": "phone", "reason": "联系"})
    assert response.status_code == 403
    assert "13812341234" not in response.content.decode()
    assert AuditRecord.objects.filter(field="phone", success=False).exists()


def test_reveal_by_superuser_shows_the_full_value(med: MedWorld) -> None:
    from tests.factories import UserFactory

    root = UserFactory(username="root", is_superuser=True, is_staff=True)
    d = register(med)
    party = d.parties.get(side="applicant")
    response = _client(root).post(
        reverse("web:mediation:reveal", args=[d.pk]), {"party": party.pk, "field": "phone", "reason": "核实"}
    )
    assert response.status_code == 200
    assert "13812341234" in response.content.decode()


def test_reveal_without_reason_or_of_a_foreign_party_writes_no_audit_record(med: MedWorld) -> None:
    from yiwang.core.models import AuditRecord

    d = register(med)
    other = register(med, actor=med.mediator_b, committee=med.committee_b)
    url = reverse("web:mediation:reveal", args=[d.pk])
    c = _client(med.mediator_a)
    own = d.parties.get(side="applicant").pk
    assert c.post(url, {"party": own, "field": "phone", "reason": ""}).status_code == 400
    foreign = other.parties.get(side="applicant").pk
    assert c.post(url, {"party": foreign, "field": "phone", "reason": "x"}).status_code == 400
    assert not AuditRecord.objects.filter(action="pii.reveal").exists()
