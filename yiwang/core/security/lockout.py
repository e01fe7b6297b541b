"""django-axes hooks: which address a request comes from, and the answer to a locked-out attempt.

Settings (see docs/security.md): ``AXES_CLIENT_IP_CALLABLE = "yiwang.core.security.lockout.client_ip"``
and ``AXES_LOCKOUT_CALLABLE = "yiwang.core.security.lockout.lockout_response"``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.html import format_html

from yiwang.core import audit

LOCKED_OUT_CODE = "account_locked"


def client_ip(request: HttpRequest) -> str:
    """The same address the audit log records (REMOTE_ADDR only; a client-set X-Forwarded-For is
    not trusted, the reverse proxy must set REMOTE_ADDR)."""
    return audit.client_ip(request) or "0.0.0.0"  # noqa: S104 - a placeholder value, not a bind address


def cooloff_minutes() -> int:
    cooloff = getattr(settings, "AXES_COOLOFF_TIME", None)
    if isinstance(cooloff, timedelta):
        return max(1, round(cooloff.total_seconds() / 60))
    if isinstance(cooloff, int | float):
        return max(1, round(cooloff * 60))  # axes reads a bare number as hours
    return 30


def lockout_message_zh() -> str:
    return f"登录失败次数过多，账户已被锁定，请 {cooloff_minutes()} 分钟后再试或联系系统管理员。"


def lockout_message_en() -> str:
    return (
        f"Too many failed sign-in attempts: this account is locked for {cooloff_minutes()} minutes."
        " Try again later or ask an administrator."
    )


def lockout_message() -> str:
    return f"{lockout_message_zh()} / {lockout_message_en()}"


def wants_json(request: HttpRequest) -> bool:
    api_prefix = str(getattr(settings, "YIWANG_API_PREFIX", "/api/"))
    return (
        request.path_info.startswith(api_prefix)
        or request.headers.get("x-requested-with") == "XMLHttpRequest"
        or "application/json" in request.headers.get("accept", "")
    )


def locked_out_json() -> JsonResponse:
    # The API's error shape (yiwang.api.v1.errors): code, detail (Chinese), detail_en.
    return JsonResponse(
        {"code": LOCKED_OUT_CODE, "detail": lockout_message_zh(), "detail_en": lockout_message_en()},
        status=403,
    )


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """403 with the bilingual message: JSON for API and script callers, a small page otherwise."""
    if wants_json(request):
        return locked_out_json()
    body = format_html(
        '<!doctype html><html lang="zh-hans"><head><meta charset="utf-8"><title>{}</title></head>'
        '<body><main><h1>{}</h1><p>{}</p><p><a href="{}">{}</a></p></main></body></html>',
        "账户已锁定 · Account locked",
        "账户已锁定 / Account locked",
        lockout_message(),
        request.path,
        "返回登录 / Back to sign-in",
    )
    return HttpResponse(body, status=403)
