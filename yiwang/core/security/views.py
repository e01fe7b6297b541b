"""The self-service password change page's behaviour (the web app wires it to a URL and template)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from yiwang.core.security.passwords import complete_password_change


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's change form (old password, new password twice, all validators), which also lifts
    ``must_change_password`` and audits the change. The session stays valid
    (``update_session_auth_hash`` in Django's view); other sessions of the user are logged out."""

    def get_success_url(self) -> str:
        target = self.request.POST.get("next") or self.request.GET.get("next") or ""
        if target and url_has_allowed_host_and_scheme(
            target, allowed_hosts={self.request.get_host()}, require_https=self.request.is_secure()
        ):
            return target
        return resolve_url(settings.LOGIN_REDIRECT_URL)

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        complete_password_change(form.user, request=self.request)
        messages.success(self.request, _("密码已修改。"))
        return response
