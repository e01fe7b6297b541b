"""三员分立 in the user and grant admin (the yiwang/people/admin.py patch of docs/security.md):
refused grants, audited grants, superuser-only fields. Skipped until that patch is applied."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.factories import UserFactory
from yiwang.core.models_audit import AuditRecord
from yiwang.core.security import separation
from yiwang.people.admin import UserAdmin
from yiwang.people.models import Grant, Role

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(
        not hasattr(UserAdmin, "SUPERUSER_ONLY_FIELDS"),
        reason="the yiwang/people/admin.py patch is not applied",
    ),
]


@pytest.fixture
def admin_urls(settings: Any) -> None:
    settings.ROOT_URLCONF = "tests.security.otp_urls"


def _grant_form(staff: Any, target: Any, role: str) -> dict[str, Any]:
    return {
        "username": target.username,
        "display_name": target.display_name,
        "is_active": "on",
        "grants-TOTAL_FORMS": "1",
        "grants-INITIAL_FORMS": "0",
        "grants-MIN_NUM_FORMS": "0",
        "grants-MAX_NUM_FORMS": "1000",
        "grants-0-role": role,
        "grants-0-division": str(staff.world.district.pk),
        "grants-0-user": str(target.pk),
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }


def _post_as(user: Any, target: Any, staff: Any, role: str) -> Any:
    client = Client()
    client.force_login(user)
    return client.post(f"/admin/people/user/{target.pk}/change/", _grant_form(staff, target, role))


def test_administrator_cannot_grant_the_auditor_role_in_the_user_admin(admin_urls: None, staff: Any) -> None:
    target = UserFactory(username="newcomer")
    response = _post_as(staff.admin, target, staff, Role.AUDITOR)
    assert response.status_code == 200  # the form again, with the error
    assert "三员分立" in response.content.decode()
    assert not Grant.objects.filter(user=target).exists()


def test_security_administrator_grants_the_auditor_role_and_it_is_audited(
    admin_urls: None, staff: Any
) -> None:
    target = UserFactory(username="newcomer")
    response = _post_as(staff.security_admin, target, staff, Role.AUDITOR)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Grant.objects.filter(user=target, role=Role.AUDITOR).exists()
    assert AuditRecord.objects.filter(action=separation.GRANT_ADDED, actor=staff.security_admin).exists()


def test_administrator_cannot_make_themselves_superuser(admin_urls: None, staff: Any) -> None:
    from django.contrib import admin
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.user = staff.admin
    readonly = admin.site.get_model_admin(type(staff.admin)).get_readonly_fields(request, staff.admin)
    assert {"is_superuser", "groups", "user_permissions"} <= set(readonly)
