"""Second factor: time-based one-time passwords (TOTP, RFC 6238) through django-otp.

Who must use it (:func:`otp_required_for`): when ``settings.YIWANG_OTP_REQUIRED`` is on (default: on
in production), superusers, administrators, security administrators, auditors and every holder of
``core.view_full_pii``. Anyone else may enrol voluntarily; once a user has a confirmed device the
second step is asked of them too. :class:`OTPRequiredMiddleware` sends such a user to the enrolment
or verification page before any other page; the API token endpoint asks for an ``otp`` field
(:mod:`.drf`).

django-otp's models are imported inside the functions: this module is importable (and the
middleware harmless) before ``django_otp`` and ``django_otp.plugins.otp_totp`` are installed.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse

from yiwang.core import audit
from yiwang.core.scoping import scope_of

if TYPE_CHECKING:
    from django_otp.plugins.otp_totp.models import TOTPDevice

# Role values of yiwang.people.models.Role (core never imports people): the 三员 and the auditor.
OTP_ROLES = frozenset({"administrator", "security_administrator", "auditor"})
DEVICE_NAME = "default"
SESSION_KEY = "otp_device_id"  # the same key as django_otp.DEVICE_ID_SESSION_KEY
OTP_REQUIRED_CODE = "otp_required"
OTP_ENROLMENT_REQUIRED_CODE = "otp_enrolment_required"
OTP_INVALID_CODE = "otp_invalid"
OTP_ENROL = "otp.enrol"
OTP_VERIFY = "otp.verify"
OTP_FAILED = "otp.failed"
OTP_RESET = "otp.reset"

OTP_REQUIRED_MESSAGE = "请先完成动态口令验证。 / Verify your one-time code first."
OTP_ENROLMENT_MESSAGE = (
    "您的账户须启用动态口令（双因素认证），请先在网页上绑定验证器。 / Your account must use a one-time code"
    " (two-factor authentication): enrol an authenticator on the web site first."
)
OTP_INVALID_MESSAGE = "动态口令错误或已过期。 / The one-time code is wrong or has expired."


def otp_installed() -> bool:
    return apps.is_installed("django_otp") and apps.is_installed("django_otp.plugins.otp_totp")


def otp_policy_on() -> bool:
    """``YIWANG_OTP_REQUIRED``; when the setting is absent: on in production only."""
    return bool(getattr(settings, "YIWANG_OTP_REQUIRED", getattr(settings, "PRODUCTION", False)))


def otp_mandatory_for(user: Any) -> bool:
    """The policy says this user must have a second factor (whether or not they have one yet)."""
    if user is None or not getattr(user, "is_authenticated", False) or not otp_policy_on():
        return False
    if user.is_superuser or scope_of(user).roles & OTP_ROLES:
        return True
    return bool(user.has_perm(audit.VIEW_FULL_PII))


def confirmed_device(user: Any) -> TOTPDevice | None:
    if not otp_installed() or user is None or getattr(user, "pk", None) is None:
        return None
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).order_by("pk").first()


def otp_required_for(user: Any) -> bool:
    """This user must pass the second step: the policy asks it, or they enrolled voluntarily."""
    if not otp_installed() or user is None or not getattr(user, "is_authenticated", False):
        return False
    return otp_mandatory_for(user) or confirmed_device(user) is not None


def session_verified(request: HttpRequest) -> bool:
    """The session's user passed the second step in this session (with a device still theirs)."""
    persistent_id = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    if not persistent_id or not otp_installed():
        return False
    from django_otp.models import Device

    device = Device.from_persistent_id(str(persistent_id), for_verify=False)
    user = getattr(request, "user", None)
    return bool(device is not None and user is not None and device.user_id == user.pk and device.confirmed)


def pending_device(user: Any) -> TOTPDevice:
    """The user's unconfirmed device (created with a fresh secret on first call)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user_id=user.pk, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def secret_base32(device: TOTPDevice) -> str:
    """The secret as an authenticator app expects it when typed in (RFC 4648 base32, no padding)."""
    return base64.b32encode(device.bin_key).decode("ascii").rstrip("=")


def qr_data_uri(text: str) -> str:
    """A QR code of ``text`` as an inline SVG ``data:`` URI, drawn here (no third-party service);
    the CSP allows ``data:`` images."""
    import qrcode
    from qrcode.image.svg import SvgPathImage

    image = qrcode.make(text, image_factory=SvgPathImage, box_size=8, border=2)
    svg = image.to_string(encoding="unicode")
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _clean(token: object) -> str:
    return "".join(str(token or "").split())[:16]


def check_token(user: Any, token: object, *, request: HttpRequest | None = None) -> TOTPDevice | None:
    """The user's confirmed device if ``token`` is a valid code for it (django-otp throttles repeated
    failures per device); each failure is audited."""
    device = confirmed_device(user)
    code = _clean(token)
    if device is not None and code.isdigit() and device.verify_token(code):
        return device
    audit.record(OTP_FAILED, actor=user, object=user, ip=audit.client_ip(request), success=False)
    return None


def confirm_enrolment(user: Any, token: object, *, request: HttpRequest | None = None) -> TOTPDevice | None:
    """Confirm the pending device with a first code; other devices of the user are removed (one
    authenticator per account). Returns the device, or ``None`` if the code is wrong."""
    device = pending_device(user)
    code = _clean(token)
    if not (code.isdigit() and device.verify_token(code)):
        audit.record(OTP_FAILED, actor=user, object=user, ip=audit.client_ip(request), success=False)
        return None
    from django_otp.plugins.otp_totp.models import TOTPDevice

    with transaction.atomic():
        TOTPDevice.objects.filter(user_id=user.pk).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        audit.record(OTP_ENROL, actor=user, object=user, ip=audit.client_ip(request))
    return device


def mark_verified(request: HttpRequest, device: TOTPDevice) -> None:
    """Remember in the session that its user passed the second step (what ``django_otp.login``
    stores), and audit it."""
    from django_otp import login as otp_login

    otp_login(request, device)
    user: Any = request.user
    audit.record(OTP_VERIFY, actor=user, object=user, ip=audit.client_ip(request))


def reset_devices(user: Any, *, actor: Any, request: HttpRequest | None = None) -> int:
    """A security administrator removes a user's authenticator (lost phone): the user enrols again
    at the next sign-in. Returns the number of devices removed."""
    if not otp_installed():
        return 0
    from django_otp.plugins.otp_totp.models import TOTPDevice

    with transaction.atomic():
        count, _ = TOTPDevice.objects.filter(user_id=user.pk).delete()
        audit.record(
            OTP_RESET, actor=actor, object=user, ip=audit.client_ip(request), data={"devices": count}
        )
    return count


# --- the middleware --------------------------------------------------------------------------------


def reverse_first(*names: str) -> str | None:
    """The first of ``names`` that resolves (the pages may be included inside the ``web`` namespace)."""
    for name in names:
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return None


def enrol_url() -> str | None:
    return reverse_first("security:otp_enrol", "web:security:otp_enrol")


def verify_url() -> str | None:
    return reverse_first("security:otp_verify", "web:security:otp_verify")


def _exempt_paths() -> list[str]:
    static = str(settings.STATIC_URL)
    paths = [static if static.startswith("/") else "/" + static]
    for name in ("web:logout", "set_language", "web:login"):
        found = reverse_first(name)
        if found:
            paths.append(found)
    return paths


def otp_json(code: str, message: str, status: int = 403) -> JsonResponse:
    return JsonResponse(
        {"code": code, "detail": message.split(" / ")[0], "detail_en": message}, status=status
    )


class OTPRequiredMiddleware:
    """A signed-in user who must pass the second step and has not in this session reaches only the
    enrolment/verification pages (and sign-out, static files, the language switch): web pages
    redirect there, API calls get 403 JSON. Place right after AuthenticationMiddleware, before
    MustChangePasswordMiddleware (the code comes first, then the forced password change)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not session_verified(request)
            and otp_required_for(user)
        ):
            blocked = self._blocked(request, user)
            if blocked is not None:
                return blocked
        return self.get_response(request)

    def _blocked(self, request: HttpRequest, user: Any) -> HttpResponse | None:
        path = request.path_info
        enrol, verify = enrol_url(), verify_url()
        if path in (enrol, verify):
            return None
        if any(path == p or (p.endswith("/") and path.startswith(p)) for p in _exempt_paths()):
            return None
        has_device = confirmed_device(user) is not None
        if path.startswith(str(getattr(settings, "YIWANG_API_PREFIX", "/api/"))):
            if has_device:
                return otp_json(OTP_REQUIRED_CODE, OTP_REQUIRED_MESSAGE)
            return otp_json(OTP_ENROLMENT_REQUIRED_CODE, OTP_ENROLMENT_MESSAGE)
        target = verify if has_device else enrol
        if target is None:
            # The pages are not wired: refusing is safer than letting the account in on one factor.
            return HttpResponse(OTP_ENROLMENT_MESSAGE, status=403, content_type="text/plain")
        if request.method == "GET":
            return redirect(f"{target}?{urlencode({'next': request.get_full_path()})}")
        return redirect(target)
