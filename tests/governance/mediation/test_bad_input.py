"""Bad input: a clear bilingual message with the field, and nothing written."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.governance.mediation.helpers import PARTIES, MedWorld, drive, register
from yiwang.cases.errors import InvalidCaseInput
from yiwang.cases.models import Case
from yiwang.governance.mediation import actions
from yiwang.governance.mediation.actions import PartyInput
from yiwang.governance.mediation.models import Agreement, Dispute, DisputeStatus, Session

pytestmark = pytest.mark.django_db


def _mediating(med: MedWorld) -> Dispute:
    return drive(med, register(med), DisputeStatus.MEDIATING)


def test_agreement_without_parties_is_refused(med: MedWorld) -> None:
    dispute = _mediating(med)
    with pytest.raises(InvalidCaseInput) as info:
        actions.record_agreement(
            dispute.pk, actor=med.mediator_a, signed_on=timezone.localdate(), terms="赔偿", parties=[]
        )
    assert info.value.field == "parties"
    assert "申请人" in info.value.zh
    assert "applicant" in info.value.en
    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.MEDIATING
    assert not Agreement.objects.exists()


def test_agreement_with_one_side_only_is_refused(med: MedWorld) -> None:
    dispute = _mediating(med)
    applicants = list(dispute.parties.filter(side="applicant"))
    with pytest.raises(InvalidCaseInput):
        actions.record_agreement(
            dispute.pk, actor=med.mediator_a, signed_on=timezone.localdate(), terms="赔偿", parties=applicants
        )
    assert not Agreement.objects.exists()


def test_agreement_with_another_disputes_party_is_refused(med: MedWorld) -> None:
    dispute = _mediating(med)
    other = register(med)
    mixed = [*dispute.parties.filter(side="applicant"), *other.parties.filter(side="respondent")]
    with pytest.raises(InvalidCaseInput):
        actions.record_agreement(
            dispute.pk, actor=med.mediator_a, signed_on=timezone.localdate(), terms="x", parties=mixed
        )


def test_due_date_before_agreement_date_is_refused(med: MedWorld) -> None:
    dispute = _mediating(med)
    signed = timezone.localdate()
    with pytest.raises(InvalidCaseInput) as info:
        actions.record_agreement(
            dispute.pk,
            actor=med.mediator_a,
            signed_on=signed,
            terms="赔偿",
            parties=list(dispute.parties.all()),
            due_on=signed - dt.timedelta(days=1),
        )
    assert info.value.field == "due_on"
    assert "履行期限" in info.value.zh
    assert not Agreement.objects.exists()


@pytest.mark.parametrize("referral", ["", "moon"])
def test_failure_without_a_valid_referral_is_refused(med: MedWorld, referral: str) -> None:
    dispute = _mediating(med)
    with pytest.raises(InvalidCaseInput) as info:
        actions.record_failure(dispute.pk, actor=med.mediator_a, reason="分歧大", referral=referral)
    assert info.value.field == "referral"
    dispute.refresh_from_db()
    assert dispute.status == DisputeStatus.MEDIATING
    assert dispute.outcome == ""


def test_registration_without_a_respondent_writes_no_case(med: MedWorld) -> None:
    cases = Case.objects.count()
    with pytest.raises(InvalidCaseInput) as info:
        register(med, parties=[PARTIES[0]])
    assert info.value.field == "parties"
    assert Case.objects.count() == cases
    assert not Dispute.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "war"}, "kind"),
        ({"summary": "  "}, "summary"),
        ({"amount": "-5"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"parties": [PartyInput(side="judge", name="x"), PARTIES[1]]}, "parties[0].side"),
        ({"parties": [PartyInput(side="applicant", name=""), PARTIES[1]]}, "parties[0].name"),
    ],
)
def test_registration_input_errors_name_the_field(
    med: MedWorld, changes: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidCaseInput) as info:
        register(med, **changes)
    assert info.value.field == field
    assert not Dispute.objects.exists()


def test_session_with_a_mediator_of_another_committee_is_refused(med: MedWorld) -> None:
    dispute = drive(med, register(med), DisputeStatus.ASSIGNED)
    with pytest.raises(InvalidCaseInput) as info:
        actions.record_session(
            dispute.pk,
            actor=med.mediator_a,
            held_on=timezone.localdate(),
            place="调解室",
            mediators=[med.mediator(med.mediator_b)],
        )
    assert info.value.field == "mediators"
    assert not Session.objects.exists()


def test_assign_without_mediators_is_refused(med: MedWorld) -> None:
    dispute = drive(med, register(med), DisputeStatus.ACCEPTED)
    with pytest.raises(InvalidCaseInput):
        actions.assign_mediators(dispute.pk, actor=med.mediator_a, mediators=[])
