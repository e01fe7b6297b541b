"""The audit log: hash chain, append-only model, PII reveal, login records, the ``audit`` command."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, models
from django.test import Client
from django.urls import reverse

from tests.core.pii_helpers import resident_model_fixture  # noqa: F401 - a fixture
from tests.factories import PASSWORD, UserFactory
from yiwang.core import audit
from yiwang.core.models_audit import AppendOnlyError, AuditAction, AuditChainHead, AuditRecord
from yiwang.people.models import User

pytestmark = pytest.mark.django_db


def _allowed_user(username: str = "reviewer") -> User:
    user: User = UserFactory(username=username)
    user.user_permissions.add(
        Permission.objects.get(codename="view_full_pii", content_type__app_label="core")
    )
    return User.objects.get(pk=user.pk)  # a fresh object: the permission cache is per instance


def _raw_sql(sql: str, params: list[object]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


# --- the chain ------------------------------------------------------------------------------------


def test_records_form_a_linear_chain_that_verifies() -> None:
    user = UserFactory(username="alice")
    first = audit.record("case.dispatch", actor=user, data={"to": "城管局"}, ip="10.0.0.1")
    second = audit.record("export", actor=None, actor_name="cli", data={"rows": 3})
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == ""
    assert second.prev_hash == first.hash
    assert first.actor_name == "alice"
    assert audit.verify_chain() == []
    head = AuditChainHead.objects.get()
    assert (head.seq, head.hash) == (2, second.hash)


def test_hash_survives_the_database_round_trip_of_json_data() -> None:
    from datetime import date

    audit.record("export", actor=None, data={"since": date(2026, 1, 1), "ids": (1, 2), "名": "张"})
    stored = AuditRecord.objects.get()
    assert stored.data == {"since": "2026-01-01", "ids": [1, 2], "名": "张"}
    assert stored.compute_hash() == stored.hash


def test_audit_records_cannot_be_updated_or_deleted_through_the_orm() -> None:
    entry = audit.record("login", actor=None)
    entry.reason = "changed"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete()
    with pytest.raises(AppendOnlyError):
        AuditRecord.objects.filter(pk=entry.pk).update(reason="x")
    with pytest.raises(AppendOnlyError):
        AuditRecord.objects.filter(pk=entry.pk).update(actor=None, reason="x")
    with pytest.raises(AppendOnlyError):
        AuditRecord.objects.all().delete()
    assert audit.verify_chain() == []


def test_deleting_a_user_keeps_their_records_and_the_chain_intact() -> None:
    user = UserFactory(username="leaver")
    audit.record("login", actor=user)
    user.delete()
    entry = AuditRecord.objects.get()
    assert entry.actor_id is None
    assert entry.actor_name == "leaver"
    assert audit.verify_chain() == []


def test_changing_a_row_with_raw_sql_is_detected() -> None:
    for n in range(3):
        audit.record("export", actor=None, data={"n": n})
    _raw_sql("UPDATE core_auditrecord SET reason = %s WHERE seq = %s", ["tampered", 2])
    problems = audit.verify_chain()
    assert [(p.seq, p.kind) for p in problems] == [(2, "content")]


def test_removing_a_middle_row_with_raw_sql_is_detected() -> None:
    for n in range(3):
        audit.record("export", actor=None, data={"n": n})
    _raw_sql("DELETE FROM core_auditrecord WHERE seq = %s", [2])
    kinds = {(p.seq, p.kind) for p in audit.verify_chain()}
    assert kinds == {(3, "gap"), (3, "link")}


def test_removing_the_last_row_is_detected_by_the_head() -> None:
    for n in range(2):
        audit.record("export", actor=None, data={"n": n})
    _raw_sql("DELETE FROM core_auditrecord WHERE seq = %s", [2])
    assert [p.kind for p in audit.verify_chain()] == ["head"]


def test_an_empty_log_verifies() -> None:
    assert audit.verify_chain() == []


# --- reveal ---------------------------------------------------------------------------------------


def test_reveal_returns_the_full_value_and_writes_exactly_one_record(
    resident_model: type[models.Model],
) -> None:
    resident = resident_model.objects.create(name="张三丰", phone="13812341234")
    reviewer = _allowed_user()
    value = audit.reveal(resident, "phone", actor=reviewer, reason="核实来电人身份", ip="10.1.2.3")
    assert value == "13812341234"
    entry = AuditRecord.objects.get()
    assert (entry.action, entry.success, entry.actor_id) == (AuditAction.PII_REVEAL, True, reviewer.pk)
    assert (entry.object_type, entry.object_id, entry.field) == ("core.resident", str(resident.pk), "phone")
    assert (entry.reason, entry.ip) == ("核实来电人身份", "10.1.2.3")
    assert "13812341234" not in str(entry.data)


def test_reveal_without_the_grant_is_refused_and_recorded_as_failed(
    resident_model: type[models.Model],
) -> None:
    resident = resident_model.objects.create(name="张三丰", phone="13812341234")
    nosy = UserFactory(username="nosy")
    with pytest.raises(PermissionDenied):
        audit.reveal(resident, "phone", actor=nosy, reason="好奇")
    entry = AuditRecord.objects.get()
    assert (entry.action, entry.success, entry.actor_name) == (AuditAction.PII_REVEAL, False, "nosy")


def test_reveal_is_allowed_for_a_superuser(resident_model: type[models.Model]) -> None:
    resident = resident_model.objects.create(name="张三丰", phone="13812341234")
    root = UserFactory(username="root", is_superuser=True)
    assert audit.reveal(resident, "name", actor=root, reason="数据核查") == "张三丰"


def test_reveal_requires_a_reason(resident_model: type[models.Model]) -> None:
    resident = resident_model.objects.create(name="张三丰", phone="13812341234")
    with pytest.raises(ValidationError):
        audit.reveal(resident, "phone", actor=_allowed_user(), reason="  ")
    assert not AuditRecord.objects.exists()


def test_reveal_refuses_a_field_that_is_not_personal_data(resident_model: type[models.Model]) -> None:
    resident = resident_model.objects.create(name="张三丰", note="hello")
    with pytest.raises(ValueError, match="not a personal-data"):
        audit.reveal(resident, "note", actor=_allowed_user(), reason="x")
    with pytest.raises(ValueError, match="no field"):
        audit.reveal(resident, "missing", actor=_allowed_user("other"), reason="x")


def test_masked_helper_masks_by_kind() -> None:
    assert audit.masked("13812341234", "phone") == "138****1234"


# --- login records --------------------------------------------------------------------------------


def test_successful_login_is_recorded_with_the_client_address() -> None:
    UserFactory(username="operator1", is_staff=True)  # the admin login form admits staff only
    client = Client(REMOTE_ADDR="10.9.8.7")
    response = client.post(reverse("admin:login"), {"username": "operator1", "password": PASSWORD})
    assert response.status_code in (200, 302)
    entry = AuditRecord.objects.get(action=AuditAction.LOGIN)
    assert (entry.actor_name, entry.ip, entry.success) == ("operator1", "10.9.8.7", True)


def test_failed_login_is_recorded_without_the_password() -> None:
    UserFactory(username="operator1")
    client = Client(REMOTE_ADDR="10.9.8.7")
    client.post(reverse("admin:login"), {"username": "operator1", "password": "wrong-password-123"})
    entry = AuditRecord.objects.get(action=AuditAction.LOGIN_FAILED)
    assert (entry.actor_id, entry.actor_name, entry.ip, entry.success) == (
        None,
        "operator1",
        "10.9.8.7",
        False,
    )
    assert "wrong-password-123" not in entry.canonical().decode()


# --- the command ----------------------------------------------------------------------------------


def test_audit_verify_reports_an_intact_chain(capsys: pytest.CaptureFixture[str]) -> None:
    audit.record("export", actor=None)
    call_command("audit", "verify")
    assert "OK" in capsys.readouterr().out


def test_audit_verify_exits_non_zero_and_names_the_broken_record(capsys: pytest.CaptureFixture[str]) -> None:
    for n in range(3):
        audit.record("export", actor=None, data={"n": n})
    _raw_sql("UPDATE core_auditrecord SET actor_name = %s WHERE seq = %s", ["mallory", 2])
    with pytest.raises(CommandError) as excinfo:
        call_command("audit", "verify")
    assert excinfo.value.returncode == 1
    assert "#2" in capsys.readouterr().out


def test_audit_export_writes_csv_and_records_the_export(tmp_path: Path) -> None:
    audit.record("case.dispatch", actor=None, reason="=HYPERLINK(1)")
    target = tmp_path / "audit.csv"
    call_command("audit", "export", "--since", "2000-01-01", str(target))
    with target.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["action"] for r in rows] == ["case.dispatch"]
    assert rows[0]["reason"] == "'=HYPERLINK(1)"  # neutralised for spreadsheet programs
    assert AuditRecord.objects.filter(action=AuditAction.EXPORT, actor_name="cli").count() == 1
    assert audit.verify_chain() == []


def test_audit_export_rejects_a_bad_date(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("audit", "export", "--since", "2026/01/01", str(tmp_path / "x.csv"))
