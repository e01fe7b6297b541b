"""Middleware: forced password change, and the Permissions-Policy header."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse

from yiwang.core.security.headers import PERMISSIONS_POLICY, permissions_policy_header

PASSWORD_CHANGE_REQUIRED_CODE = "password_change_required"  # noqa: S105
_MESSAGE = (
    "管理员重置了您的密码，请先在网页上修改密码。 / Your password was reset by an administrator: "
    "change it on the web site before using the system."
)
PASSWORD_CHANGE_REQUIRED_MESSAGE = _MESSAGE


def _api_prefix() -> str:
    return str(getattr(settings, "YIWANG_API_PREFIX", "/api/"))


def _change_url() -> str | None:
    try:
        return reverse(getattr(settings, "YIWANG_PASSWORD_CHANGE_URL", "web:password_change"))
    except NoReverseMatch:
        return None


def _exempt_paths() -> list[str]:
    """Paths a user with a pending forced change may still reach: the change page itself, sign-out,
    static files and the language switch."""
    paths = [str(settings.STATIC_URL if settings.STATIC_URL.startswith("/") else "/" + settings.STATIC_URL)]
    for name in ("web:logout", "set_language", "web:login"):
        try:
            paths.append(reverse(name))
        except NoReverseMatch:
            continue
    return paths


class MustChangePasswordMiddleware:
    """A signed-in user whose password an administrator reset can only change it: web pages redirect
    to the change page, API calls get 403 with a JSON message. Place after AuthenticationMiddleware.

    API calls authenticated by token are caught by
    :class:`yiwang.core.security.drf_auth.TokenAuthentication` (DRF authenticates inside the view).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and getattr(user, "must_change_password", False):
            blocked = self._blocked(request)
            if blocked is not None:
                return blocked
        return self.get_response(request)

    def _blocked(self, request: HttpRequest) -> HttpResponse | None:
        path = request.path_info
        change_url = _change_url()
        if change_url is not None and path == change_url:
            return None
        if any(path == p or (p.endswith("/") and path.startswith(p)) for p in _exempt_paths()):
            return None
        if path.startswith(_api_prefix()):
            return password_change_required_json()
        if change_url is None:
            # No change page is wired: refusing is safer than letting the account work unchanged.
            return HttpResponse(PASSWORD_CHANGE_REQUIRED_MESSAGE, status=403, content_type="text/plain")
        if request.method == "GET":
            return redirect(f"{change_url}?{urlencode({'next': request.get_full_path()})}")
        return redirect(change_url)


def password_change_required_json() -> JsonResponse:
    return JsonResponse(
        {"detail": PASSWORD_CHANGE_REQUIRED_MESSAGE, "code": PASSWORD_CHANGE_REQUIRED_CODE}, status=403
    )


class PermissionsPolicyMiddleware:
    """Adds ``Permissions-Policy`` (``settings.YIWANG_PERMISSIONS_POLICY``, default
    :data:`~yiwang.core.security.headers.PERMISSIONS_POLICY`) unless the response has one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        policy = getattr(settings, "YIWANG_PERMISSIONS_POLICY", PERMISSIONS_POLICY)
        self.header = permissions_policy_header(policy) if policy else ""

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if self.header and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = self.header
        return response
