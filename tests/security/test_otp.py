"""Second factor (TOTP): enrolment, the step after sign-in, who must use it, the token endpoint."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD
from tests.security.conftest import requires_otp
from yiwang.core.models_audit import AuditRecord
from yiwang.core.security import otp

pytestmark = [pytest.mark.django_db, requires_otp]

HOME = "/"


def code_for(device: Any, ahead: int = 0) -> str:
    """The current code of ``device`` (``ahead`` steps later: a code not yet used, within tolerance)."""
    from django_otp.oath import totp

    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=ahead):06d}"


def enrolled(user: Any) -> Any:
    device = otp.pending_device(user)
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return device


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_administrator_without_device_is_sent_to_enrolment(otp_on: None, staff: Any) -> None:
    response = signed_in(staff.admin).get(HOME)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("security:otp_enrol"))


@pytest.mark.parametrize("persona", ["admin", "security_admin", "auditor", "pii_reader"])
def test_policy_covers_three_administrators_and_pii_readers(otp_on: None, staff: Any, persona: str) -> None:
    assert otp.otp_mandatory_for(getattr(staff, persona))


def test_hotline_operator_is_not_asked_for_a_code(otp_on: None, staff: Any) -> None:
    assert not otp.otp_required_for(staff.operator)
    response = signed_in(staff.operator).get(HOME)
    assert response.status_code == 200


def test_policy_off_lets_an_administrator_without_device_in(otp_on: None, staff: Any, settings: Any) -> None:
    settings.YIWANG_OTP_REQUIRED = False
    assert signed_in(staff.admin).get(HOME).status_code == 200


def test_enrolment_page_shows_secret_and_inline_svg_qr_code(otp_on: None, staff: Any) -> None:
    response = signed_in(staff.admin).get(reverse("security:otp_enrol"))
    assert response.status_code == 200
    device = otp.pending_device(staff.admin)
    page = response.content.decode()
    assert otp.secret_base32(device) in page
    uri = response.context["qr"]
    assert uri.startswith("data:image/svg+xml;base64,")
    assert b"<svg" in base64.b64decode(uri.split(",", 1)[1])


def test_enrolment_with_right_code_confirms_device_and_opens_the_site(otp_on: None, staff: Any) -> None:
    client = signed_in(staff.admin)
    client.get(reverse("security:otp_enrol"))
    device = otp.pending_device(staff.admin)
    response = client.post(reverse("security:otp_enrol"), {"code": code_for(device), "next": HOME})
    assert response.status_code == 302
    assert response["Location"] == HOME
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(HOME).status_code == 200
    assert AuditRecord.objects.filter(action=otp.OTP_ENROL, actor=staff.admin).exists()


def test_enrolment_with_wrong_code_keeps_the_account_blocked(otp_on: None, staff: Any) -> None:
    client = signed_in(staff.admin)
    response = client.post(reverse("security:otp_enrol"), {"code": "000000x"})
    assert response.status_code == 200
    assert "动态口令错误" in response.content.decode()
    assert otp.confirmed_device(staff.admin) is None
    assert client.get(HOME).status_code == 302
    assert AuditRecord.objects.filter(action=otp.OTP_FAILED, success=False).exists()


def test_enrolled_user_must_enter_a_code_after_each_sign_in(otp_on: None, staff: Any, settings: Any) -> None:
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # django-otp delays the next try after a failure; not tested here
    device = enrolled(staff.auditor)
    client = Client()
    assert client.post(reverse("web:login"), {"username": "auditor", "password": PASSWORD}).status_code == 302
    response = client.get(HOME)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("security:otp_verify"))
    assert client.post(reverse("security:otp_verify"), {"code": "123"}).status_code == 200
    response = client.post(reverse("security:otp_verify"), {"code": code_for(device, ahead=1), "next": HOME})
    assert response.status_code == 302
    assert client.get(HOME).status_code == 200


def test_voluntary_enrolment_is_honoured_when_the_policy_is_off(
    otp_on: None, staff: Any, settings: Any
) -> None:
    settings.YIWANG_OTP_REQUIRED = False
    enrolled(staff.operator)
    response = signed_in(staff.operator).get(HOME)
    assert response["Location"].startswith(reverse("security:otp_verify"))


def test_api_call_of_unverified_session_gets_403_json(otp_on: None, staff: Any) -> None:
    enrolled(staff.admin)
    response = signed_in(staff.admin).get("/api/v1/ping/")
    assert response.status_code == 403
    assert response.json()["code"] == otp.OTP_REQUIRED_CODE


def test_sign_out_stays_reachable_before_the_code(otp_on: None, staff: Any) -> None:
    client = signed_in(staff.admin)
    response = client.post(reverse("web:logout"))
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_reset_removes_the_device_and_is_audited(otp_on: None, staff: Any) -> None:
    enrolled(staff.admin)
    assert otp.reset_devices(staff.admin, actor=staff.security_admin) == 1
    assert otp.confirmed_device(staff.admin) is None
    assert AuditRecord.objects.filter(action=otp.OTP_RESET, actor=staff.security_admin).exists()


# --- the API token endpoint ------------------------------------------------------------------------

TOKEN_URL = "/api/security-test/token/"


def _token(client: Client, username: str, **extra: str) -> Any:
    return client.post(TOKEN_URL, {"username": username, "password": PASSWORD, **extra})


def test_token_without_code_is_refused_for_an_enrolled_administrator(otp_on: None, staff: Any) -> None:
    enrolled(staff.admin)
    response = _token(Client(), "admin")
    assert response.status_code == 403
    assert response.json()["code"] == otp.OTP_REQUIRED_CODE


def test_token_with_wrong_code_is_refused(otp_on: None, staff: Any) -> None:
    enrolled(staff.admin)
    response = _token(Client(), "admin", otp="000000")
    assert response.status_code == 403
    assert response.json()["code"] in (otp.OTP_INVALID_CODE,)


def test_token_with_right_code_is_issued(otp_on: None, staff: Any) -> None:
    device = enrolled(staff.admin)
    response = _token(Client(), "admin", otp=code_for(device))
    assert response.status_code == 200
    assert response.json()["token"]


def test_token_for_administrator_without_device_asks_for_enrolment(otp_on: None, staff: Any) -> None:
    response = _token(Client(), "admin", otp="123456")
    assert response.status_code == 403
    assert response.json()["code"] == otp.OTP_ENROLMENT_REQUIRED_CODE


def test_token_for_operator_needs_no_code(otp_on: None, staff: Any) -> None:
    assert _token(Client(), "operator").status_code == 200
