"""Abuse limits that do not depend on an account: request rate per client address on the sign-in
endpoints, and a cap on the size of any request body.

Counters live in Django's cache (fixed windows, ``cache.add`` + ``cache.incr``): each process counts
alone with the default in-process cache; pointing ``CACHES`` at Redis shares them between processes.
django-axes locks an (account, address) pair after failures; :class:`LoginRateLimitMiddleware`
limits *every* attempt from an address — success or failure, any account — which is what slows a
password-spraying client that tries one password on many accounts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import NoReverseMatch, reverse

from yiwang.core.audit import client_ip

DEFAULT_LOGIN_RATE = (20, 60)  # attempts, seconds — per client address
DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024  # above the largest attachment plus form fields
LOGIN_URL_NAMES = ("web:login", "admin:login", "v1:token", "api:v1:token")
RATE_LIMITED_CODE = "rate_limited"
BODY_TOO_LARGE_CODE = "request_too_large"


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    count: int
    limit: int
    retry_after: int  # seconds until the window ends


def hit(namespace: str, key: str, limit: int, window: int, *, now: float | None = None) -> Verdict:
    """Count one event of ``key`` in the current ``window``-second window; allowed up to ``limit``."""
    moment = time.time() if now is None else now
    slot = int(moment // window)
    name = f"rate:{namespace}:{key}:{slot}"
    cache.add(name, 0, timeout=window + 60)
    try:
        count = int(cache.incr(name))
    except ValueError:  # the entry expired between add and incr
        cache.set(name, 1, timeout=window + 60)
        count = 1
    retry_after = int((slot + 1) * window - moment) + 1
    return Verdict(count <= limit, count, limit, retry_after)


def login_rate() -> tuple[int, int]:
    """``YIWANG_LOGIN_RATE`` as ``(attempts, seconds)``, e.g. ``(20, 60)``."""
    value = getattr(settings, "YIWANG_LOGIN_RATE", DEFAULT_LOGIN_RATE)
    attempts, seconds = value
    return max(1, int(attempts)), max(1, int(seconds))


def login_paths() -> frozenset[str]:
    paths = set(getattr(settings, "YIWANG_LOGIN_PATHS", ()))
    for name in LOGIN_URL_NAMES:
        try:
            paths.add(reverse(name))
        except NoReverseMatch:
            continue
    return frozenset(paths)


def _wants_json(request: HttpRequest) -> bool:
    return request.path_info.startswith(str(getattr(settings, "YIWANG_API_PREFIX", "/api/"))) or (
        "application/json" in request.headers.get("accept", "")
    )


def too_many(request: HttpRequest, verdict: Verdict) -> HttpResponse:
    zh = f"登录尝试过于频繁，请 {verdict.retry_after} 秒后再试。"
    en = f"Too many sign-in attempts from this address; retry in {verdict.retry_after} s."
    response: HttpResponse
    if _wants_json(request):
        response = JsonResponse({"code": RATE_LIMITED_CODE, "detail": zh, "detail_en": en}, status=429)
    else:
        response = HttpResponse(f"{zh} / {en}", status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(verdict.retry_after)
    return response


def _without_language(path: str) -> str:
    """``/en/login/`` → ``/login/``: the web pages are also served under a language prefix."""
    head, sep, rest = path.lstrip("/").partition("/")
    codes = {code for code, _name in getattr(settings, "LANGUAGES", ())}
    return "/" + rest if sep and head in codes else path


class LoginRateLimitMiddleware:
    """At most ``YIWANG_LOGIN_RATE`` POSTs per client address to the sign-in endpoints (web login,
    admin login, API token), answered 429 with ``Retry-After`` beyond that. Place early (before the
    session middleware: a refused attempt costs no session or database work)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self._paths: frozenset[str] | None = None

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST":
            if self._paths is None:
                self._paths = login_paths()
            if _without_language(request.path_info) in self._paths:
                limit, window = login_rate()
                verdict = hit("login", client_ip(request) or "-", limit, window)
                if not verdict.allowed:
                    return too_many(request, verdict)
        return self.get_response(request)


def max_body_bytes() -> int:
    return int(getattr(settings, "YIWANG_MAX_REQUEST_BYTES", DEFAULT_MAX_BODY_BYTES))


class BodySizeLimitMiddleware:
    """413 for a request whose declared body (``Content-Length``) exceeds ``YIWANG_MAX_REQUEST_BYTES``
    — the cap for multipart uploads, which ``DATA_UPLOAD_MAX_MEMORY_SIZE`` does not count (it covers
    the non-file part only). A body without a length (chunked) is refused too: the WSGI servers used
    here buffer it, and a client has no reason to stream to these endpoints. Place first."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = max_body_bytes()
        declared = request.META.get("CONTENT_LENGTH") or ""
        chunked = "chunked" in str(request.META.get("HTTP_TRANSFER_ENCODING", "")).lower()
        try:
            length = int(declared) if declared else 0
        except ValueError:
            length = limit + 1  # a malformed length is treated as too large
        if length > limit or (chunked and not declared):
            zh = f"请求体过大（上限 {limit // (1024 * 1024)} MB）。"
            en = f"The request body is too large (limit {limit // (1024 * 1024)} MB)."
            if _wants_json(request):
                return JsonResponse({"code": BODY_TOO_LARGE_CODE, "detail": zh, "detail_en": en}, status=413)
            return HttpResponse(f"{zh} / {en}", status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
