"""The two pages of the second factor: enrol an authenticator, and enter a code after sign-in."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from yiwang.core.security import otp


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("动态口令"),
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
        help_text=_("验证器应用中显示的 6 位数字"),
    )


def _next_url(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _unavailable(request: HttpRequest) -> HttpResponse:
    return HttpResponse(
        "动态口令未启用 / one-time codes are not enabled on this installation",
        status=404,
        content_type="text/plain; charset=utf-8",
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def enrol(request: HttpRequest) -> HttpResponse:
    """Show the secret (as text and QR code) of a pending device; a correct first code confirms it.
    A user who already has an authenticator must verify with it before enrolling a new one."""
    if not otp.otp_installed():
        return _unavailable(request)
    if otp.confirmed_device(request.user) is not None and not otp.session_verified(request):
        target = otp.verify_url()
        return redirect(target) if target else _unavailable(request)
    device = otp.pending_device(request.user)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        confirmed = otp.confirm_enrolment(request.user, form.cleaned_data["code"], request=request)
        if confirmed is not None:
            otp.mark_verified(request, confirmed)
            messages.success(request, _("已启用动态口令。"))
            return redirect(_next_url(request))
        form.add_error("code", _("动态口令错误或已过期，请重试。"))
    context = {
        "form": form,
        "secret": otp.secret_base32(device),
        "qr": otp.qr_data_uri(device.config_url),
        "mandatory": otp.otp_mandatory_for(request.user),
        "next": request.POST.get("next") or request.GET.get("next", ""),
    }
    return render(request, "security/otp_enrol.html", context)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """The second step after the password: one code from the enrolled authenticator."""
    if not otp.otp_installed():
        return _unavailable(request)
    if otp.confirmed_device(request.user) is None:
        target = otp.enrol_url()
        return redirect(target) if target else _unavailable(request)
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = otp.check_token(request.user, form.cleaned_data["code"], request=request)
        if device is not None:
            otp.mark_verified(request, device)
            return redirect(_next_url(request))
        form.add_error("code", _("动态口令错误或已过期，请重试。"))
    context = {"form": form, "next": request.POST.get("next") or request.GET.get("next", "")}
    return render(request, "security/otp_verify.html", context, status=200)
