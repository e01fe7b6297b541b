"""三员分立 as a persona matrix: who reads the audit log, who grants which role, who manages
accounts, and that permission changes are audited."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.messages.storage.cookie import CookieStorage
from django.test import Client, RequestFactory

from tests.factories import UserFactory
from yiwang.core.models_audit import AuditRecord
from yiwang.core.security import admin_actions, separation
from yiwang.people.models import Grant, Role, User

pytestmark = pytest.mark.django_db

AUDIT_LOG = "/admin/core/auditrecord/"


@pytest.fixture
def admin_urls(settings: Any) -> None:
    settings.ROOT_URLCONF = "tests.security.otp_urls"


def superuser() -> User:
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def persona(staff: Any, name: str) -> User:
    return superuser() if name == "superuser" else getattr(staff, name)


@pytest.mark.parametrize(
    ("name", "status"),
    [("auditor", 200), ("admin", 403), ("security_admin", 403), ("operator", 403), ("superuser", 403)],
)
def test_only_the_auditor_reads_the_audit_log(admin_urls: None, staff: Any, name: str, status: int) -> None:
    client = Client()
    client.force_login(persona(staff, name))
    assert client.get(AUDIT_LOG).status_code == status


def test_auditor_cannot_change_or_delete_audit_records(staff: Any) -> None:
    from django.contrib import admin

    model_admin = admin.site.get_model_admin(AuditRecord)
    request = RequestFactory().get(AUDIT_LOG)
    request.user = staff.auditor
    assert model_admin.has_view_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert not model_admin.has_add_permission(request)


def test_auditor_export_action_writes_csv_and_is_audited(admin_urls: None, staff: Any) -> None:
    client = Client()
    client.force_login(staff.auditor)
    seqs = list(AuditRecord.objects.values_list("pk", flat=True))
    response = client.post(AUDIT_LOG, {"action": "export_csv", "_selected_action": seqs})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "seq,at,actor_name" in response.content.decode("utf-8-sig")
    assert AuditRecord.objects.filter(action="export", actor=staff.auditor).exists()


@pytest.mark.parametrize(
    ("actor", "role", "allowed"),
    [
        ("admin", Role.DISPATCHER, True),
        ("admin", Role.AUDITOR, False),
        ("admin", Role.SECURITY_ADMINISTRATOR, False),
        ("admin", Role.ADMINISTRATOR, False),
        ("security_admin", Role.AUDITOR, True),
        ("security_admin", Role.ADMINISTRATOR, True),
        ("superuser", Role.AUDITOR, True),
        ("auditor", Role.AUDITOR, False),
    ],
)
def test_separated_roles_are_granted_by_the_security_administrator_only(
    staff: Any, actor: str, role: str, allowed: bool
) -> None:
    target = UserFactory(username="newcomer")
    assert (separation.grant_problem(persona(staff, actor), target, role) is None) is allowed


@pytest.mark.parametrize("name", ["admin", "security_admin"])
def test_nobody_grants_a_role_to_themselves(staff: Any, name: str) -> None:
    user = persona(staff, name)
    assert separation.grant_problem(user, user, Role.AUDITOR) is not None
    assert separation.grant_problem(user, user, Role.DISPATCHER) is not None


@pytest.mark.parametrize(
    "permission",
    ["grids.change_division", "cases.change_case", "cases.add_category", "people.change_department"],
)
def test_security_administrator_cannot_change_domain_data(staff: Any, permission: str) -> None:
    assert not staff.security_admin.has_perm(permission)
    assert not staff.auditor.has_perm(permission)


def test_security_administrator_manages_users_and_grants(staff: Any) -> None:
    for permission in ("people.change_user", "people.add_grant", "people.delete_grant"):
        assert staff.security_admin.has_perm(permission)


def test_system_administrator_has_no_audit_log_permission(staff: Any) -> None:
    assert not separation.can_read_audit_log(staff.admin)
    assert not staff.admin.has_perm("core.view_auditrecord")


def test_grant_changes_are_audited_one_record_each(staff: Any) -> None:
    target = UserFactory(username="newcomer")
    before = separation.grant_keys(target)
    Grant.objects.create(user=target, role=Role.AUDITOR, division=staff.world.district)
    after = separation.grant_keys(target)
    assert separation.record_grant_changes(staff.security_admin, target, before, after, request=None) == 1
    entry = AuditRecord.objects.get(action=separation.GRANT_ADDED)
    assert entry.data["role"] == Role.AUDITOR
    assert entry.object_id == str(target.pk)
    Grant.objects.filter(user=target).delete()
    separation.record_grant_changes(staff.security_admin, target, after, set(), request=None)
    assert AuditRecord.objects.filter(action=separation.GRANT_REMOVED).count() == 1


def test_group_permission_change_in_admin_is_audited(admin_urls: None) -> None:
    group = Group.objects.create(name="temp")
    permission = Permission.objects.get(codename="view_case")
    client = Client()
    client.force_login(superuser())
    response = client.post(
        f"/admin/auth/group/{group.pk}/change/", {"name": "temp", "permissions": [permission.pk]}
    )
    assert response.status_code == 302
    entry = AuditRecord.objects.get(action=separation.GROUP_PERMISSIONS_CHANGED)
    assert entry.data == {"added": ["cases.view_case"], "removed": []}


# --- the security administrator's account actions ------------------------------------------------------


def _request(user: User) -> Any:
    request = RequestFactory().post("/admin/people/user/")
    request.user = user
    request._messages = CookieStorage(request)
    return request


def test_password_reset_action_forces_a_change_and_shows_the_password_once(staff: Any) -> None:
    target = staff.world.handler_a
    request = _request(staff.security_admin)
    admin_actions.reset_passwords(None, request, User.objects.filter(pk=target.pk))
    target.refresh_from_db()
    assert target.must_change_password
    shown = [str(m) for m in request._messages._queued_messages]
    assert any("临时密码" in m for m in shown)
    password = shown[0].split("：", 1)[1].split("（", 1)[0]
    assert target.check_password(password)
    assert AuditRecord.objects.filter(action="password.admin_reset", actor=staff.security_admin).exists()


def test_unlock_action_clears_axes_failures_and_is_audited(staff: Any) -> None:
    from axes.models import AccessAttempt

    target = staff.world.handler_a
    AccessAttempt.objects.create(
        username=target.username, ip_address="10.0.0.1", user_agent="x", failures_since_start=9
    )
    admin_actions.unlock_accounts(None, _request(staff.security_admin), User.objects.filter(pk=target.pk))
    assert not AccessAttempt.objects.filter(username=target.username).exists()
    assert AuditRecord.objects.filter(action=admin_actions.ACCOUNT_UNLOCKED).exists()


@pytest.mark.parametrize("name", ["admin", "auditor", "operator"])
def test_account_actions_refuse_everyone_but_the_security_administrator(staff: Any, name: str) -> None:
    from django.core.exceptions import PermissionDenied

    target = User.objects.filter(pk=staff.world.handler_a.pk)
    for action in admin_actions.SECURITY_ACTIONS:
        with pytest.raises(PermissionDenied):
            action(None, _request(persona(staff, name)), target)
    assert not User.objects.get(pk=staff.world.handler_a.pk).must_change_password


def test_temporary_passwords_pass_the_complexity_rule() -> None:
    from yiwang.core.security.passwords import character_classes

    for _ in range(20):
        assert len(character_classes(admin_actions.temporary_password())) == 4
