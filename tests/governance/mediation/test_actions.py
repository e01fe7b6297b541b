"""The mediation actions: the happy path, events, time limits, confidentiality of the case."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.governance.mediation.helpers import MedWorld, drive, register
from yiwang.cases.choices import Channel
from yiwang.cases.models import Case
from yiwang.governance.mediation import actions
from yiwang.governance.mediation.models import DisputeEvent, DisputeKind, DisputeStatus, Outcome, TimeLimit

pytestmark = pytest.mark.django_db


def test_register_creates_a_confidential_case_without_names_or_place(med: MedWorld) -> None:
    dispute = register(med)
    case = Case.objects.get(pk=dispute.case_id)
    assert case.channel == Channel.MEDIATION
    assert case.is_confidential
    assert case.category.is_confidential
    assert not case.category.is_public
    assert case.street_id is None
    assert case.grid_id is None
    assert "张三丰" not in case.title + case.description
    assert "漏水" not in case.title + case.description
    assert dispute.status == DisputeStatus.APPLIED
    assert dispute.street_id == med.world.street_a.pk
    assert dispute.parties.count() == 3
    assert list(dispute.events.values_list("kind", flat=True)) == ["register"]


def test_parties_are_stored_encrypted_and_shown_masked(med: MedWorld) -> None:
    dispute = register(med)
    applicant = dispute.parties.get(side="applicant")
    assert applicant.masked_name == "张*丰"
    assert applicant.masked_id_number == "370211********123X"
    assert applicant.masked_phone == "138****1234"
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT name, phone FROM mediation_party WHERE id = %s", [applicant.pk])
        raw_name, raw_phone = cursor.fetchone()
    assert "张三丰" not in raw_name
    assert "13812341234" not in raw_phone


def test_organisation_party_name_is_not_masked(med: MedWorld) -> None:
    org = register(med).parties.get(kind="organisation")
    assert org.masked_name == "青岛某某物业有限公司"


def test_full_flow_to_closed_writes_one_event_per_action(med: MedWorld) -> None:
    dispute = drive(med, register(med), DisputeStatus.CLOSED)
    kinds = list(DisputeEvent.objects.filter(dispute=dispute).values_list("kind", flat=True))
    assert kinds == ["register", "accept", "assign", "session", "agree", "follow_up", "close"]
    assert dispute.outcome == Outcome.AGREEMENT
    assert dispute.performed is True
    assert dispute.closed_at is not None
    assert dispute.agreement.amount == Decimal("2000.00")
    assert dispute.agreement.parties.count() == 3


def test_failure_records_the_referral_and_can_be_closed(med: MedWorld) -> None:
    dispute = drive(med, register(med), DisputeStatus.FAILED)
    assert dispute.referral == "court"
    assert dispute.outcome == Outcome.FAILURE
    closed = actions.close_dispute(dispute.pk, actor=med.mediator_a)
    assert closed.status == DisputeStatus.CLOSED


def test_accept_sets_the_default_30_day_limit(med: MedWorld) -> None:
    dispute = register(med)
    at = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    accepted = actions.accept_dispute(dispute.pk, actor=med.mediator_a, at=at)
    assert accepted.due_at == at + dt.timedelta(days=30)


def test_labour_disputes_get_15_days(med: MedWorld) -> None:
    dispute = register(med, actor=med.labour_mediator_a, kind=DisputeKind.LABOUR)
    at = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    accepted = actions.accept_dispute(dispute.pk, actor=med.labour_mediator_a, at=at)
    assert accepted.due_at == at + dt.timedelta(days=15)


def test_time_limit_in_working_days_uses_the_calendar(med: MedWorld) -> None:
    TimeLimit.objects.update_or_create(kind=DisputeKind.FAMILY, defaults={"amount": 5, "unit": "work_days"})
    dispute = register(med, kind=DisputeKind.FAMILY)
    friday = dt.datetime(2026, 3, 6, 10, 0, tzinfo=timezone.get_current_timezone())
    accepted = actions.accept_dispute(dispute.pk, actor=med.mediator_a, at=friday)
    assert accepted.due_at is not None
    assert timezone.localtime(accepted.due_at).date() == dt.date(2026, 3, 13)


def test_overdue_flag_after_the_limit(med: MedWorld) -> None:
    dispute = register(med)
    at = timezone.now() - dt.timedelta(days=31)
    accepted = actions.accept_dispute(dispute.pk, actor=med.mediator_a, at=at)
    assert accepted.is_overdue()
    from yiwang.governance.mediation.models import Dispute

    assert list(Dispute.objects.overdue(timezone.now())) == [accepted]
    drive_to_fail = actions.record_failure(
        dispute.pk, actor=med.mediator_a, reason="拒绝调解", referral="petition"
    )
    assert not drive_to_fail.is_overdue()


def test_appoint_mediator_grants_the_mediator_role(med: MedWorld) -> None:
    assert med.mediator_a.grants.filter(role="mediator", division=med.world.street_a).exists()
    assert med.mediator_a.groups.filter(name="role:mediator").exists()


def test_dispute_categories_are_seeded_confidential_and_a_missing_one_is_a_clear_error(med: MedWorld) -> None:
    from yiwang.cases.errors import CaseError
    from yiwang.cases.models import Category

    land = Category.objects.get(code="MD-05")
    assert land.is_confidential
    assert not land.is_public
    assert register(med, kind=DisputeKind.NEIGHBOUR).case.category.code == "MD-01"
    land.delete()
    before = Case.objects.count()
    with pytest.raises(CaseError):
        register(med, kind=DisputeKind.LAND)
    assert Case.objects.count() == before
