"""Abuse limits: sign-in attempts per address, Open311 POSTs per address, body size, page size."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from tests.factories import PASSWORD
from tests.security.personas import insert_middleware
from yiwang.core.security import limits

pytestmark = pytest.mark.django_db

TOKEN = "/api/security-test/token/"
# The start of a minute: the sign-in counters' 60-second windows are fixed, so a test whose posts
# straddled a window's end (a slow run) would see its count reset. The clock stands still here.
WINDOW_START = dt.datetime(2026, 3, 2, 10, 0, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _clean_cache(settings: Any) -> Iterator[None]:
    # The counters in a cache of this test's own: with Redis (CI), the cache is shared by the parallel
    # test workers, and another test's cache.clear() would reset a window half-way through this one.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "limits"}
    }
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def login_limit(settings: Any) -> Iterator[None]:
    settings.ROOT_URLCONF = "tests.security.otp_urls"
    settings.YIWANG_LOGIN_RATE = (3, 60)
    settings.YIWANG_LOGIN_PATHS = [TOKEN]
    insert_middleware(
        settings,
        "yiwang.core.security.limits.LoginRateLimitMiddleware",
        after="django.middleware.csp.ContentSecurityPolicyMiddleware",
    )
    with time_machine.travel(WINDOW_START, tick=False):
        yield


def test_login_attempts_per_address_are_limited_whatever_the_account(login_limit: None, world: Any) -> None:
    client = Client(REMOTE_ADDR="10.1.1.1")
    for name in ("operator", "leader", "admin"):
        assert client.post("/login/", {"username": name, "password": "wrong-Pass-1"}).status_code == 200
    refused = client.post("/login/", {"username": "handler_a", "password": PASSWORD})
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "登录尝试过于频繁" in refused.content.decode()


def test_successful_sign_ins_count_too(login_limit: None, world: Any) -> None:
    client = Client(REMOTE_ADDR="10.1.1.2")
    for _ in range(3):
        assert client.post("/login/", {"username": "operator", "password": PASSWORD}).status_code == 302
    assert client.post("/login/", {"username": "operator", "password": PASSWORD}).status_code == 429


def test_another_address_is_not_slowed_down(login_limit: None, world: Any) -> None:
    for _ in range(4):
        Client(REMOTE_ADDR="10.1.1.3").post("/login/", {"username": "x", "password": "y"})
    assert (
        Client(REMOTE_ADDR="10.1.1.4")
        .post("/login/", {"username": "operator", "password": PASSWORD})
        .status_code
        == 302
    )


def test_token_endpoint_answers_429_as_json(login_limit: None, world: Any) -> None:
    client = Client(REMOTE_ADDR="10.1.1.5")
    for _ in range(3):
        client.post(TOKEN, {"username": "operator", "password": "nope"})
    response = client.post(TOKEN, {"username": "operator", "password": PASSWORD})
    assert response.status_code == 429
    assert response.json()["code"] == limits.RATE_LIMITED_CODE


def test_page_views_are_not_counted_as_attempts(login_limit: None, world: Any) -> None:
    client = Client(REMOTE_ADDR="10.1.1.6")
    for _ in range(10):
        client.get("/login/")
    assert client.post("/login/", {"username": "operator", "password": PASSWORD}).status_code == 302


def test_rate_counter_starts_afresh_in_the_next_window() -> None:
    for _ in range(2):
        limits.hit("t", "k", 2, 60, now=120.0)
    assert not limits.hit("t", "k", 2, 60, now=150.0).allowed
    assert limits.hit("t", "k", 2, 60, now=181.0).allowed


# --- body size ------------------------------------------------------------------------------------


@pytest.fixture
def body_limit(settings: Any) -> None:
    settings.ROOT_URLCONF = "tests.security.otp_urls"
    settings.YIWANG_MAX_REQUEST_BYTES = 4096
    middleware = list(settings.MIDDLEWARE)
    settings.MIDDLEWARE = ["yiwang.core.security.limits.BodySizeLimitMiddleware", *middleware]


def test_a_body_over_the_cap_is_refused_with_413_before_any_view(body_limit: None) -> None:
    response = Client().post("/api/v1/ping/", data=b"x" * 5000, content_type="application/octet-stream")
    assert response.status_code == 413
    assert response.json()["code"] == limits.BODY_TOO_LARGE_CODE


def test_a_multipart_upload_over_the_cap_is_refused(body_limit: None) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("big.jpg", b"\xff" * 6000, content_type="image/jpeg")
    assert Client().post("/login/", {"file": upload}).status_code == 413


def test_a_body_under_the_cap_passes(body_limit: None) -> None:
    response = Client().post("/api/v1/ping/", data=b"x" * 100, content_type="application/octet-stream")
    assert response.status_code == 200


def test_settings_cap_form_data_and_attachments() -> None:
    from django.conf import settings

    assert 0 < settings.DATA_UPLOAD_MAX_MEMORY_SIZE <= 10 * 1024 * 1024
    assert 0 < settings.YIWANG_ATTACHMENT_MAX_BYTES <= 50 * 1024 * 1024


def test_oversized_open311_form_is_a_clear_400(settings: Any, world: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    body = "api_key=x&description=" + "长" * 2000
    response = Client().post(
        "/open311/v2/requests.json",
        data=body,
        content_type="application/x-www-form-urlencoded; charset=utf-8",
    )
    assert response.status_code == 400
    assert "too large" in response.content.decode()


def test_oversized_staff_api_json_is_a_client_error_not_a_crash(settings: Any, world: Any) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    client = Client()
    client.force_login(world.operator)
    response = client.post(
        "/api/v1/cases/", data={"description": "长" * 4000}, content_type="application/json"
    )
    assert 400 <= response.status_code < 500


# --- pagination caps ------------------------------------------------------------------------------


def _api_views(patterns: list[URLPattern | URLResolver], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _api_views(entry.url_patterns, prefix + str(entry.pattern))
        else:
            cls = getattr(entry.callback, "cls", None)
            if cls is not None:
                yield prefix + str(entry.pattern), cls


def test_every_paginated_api_list_caps_the_page_size() -> None:
    checked = 0
    for route, cls in _api_views(get_resolver("yiwang.api.urls").url_patterns):
        paginator = getattr(cls, "pagination_class", None)
        if paginator is None:
            continue
        checked += 1
        assert getattr(paginator, "max_page_size", None) or getattr(paginator, "max_limit", None), route
        assert (getattr(paginator, "max_page_size", None) or paginator.max_limit) <= 500, route
    assert checked > 5


@pytest.mark.parametrize("param", ["page_size", "limit"])
def test_a_huge_page_request_is_capped(world: Any, param: str) -> None:
    from tests.api.open311.conftest import hotline_case

    for _ in range(3):
        hotline_case(world)
    client = Client()
    client.force_login(world.leader)
    response = client.get(f"/api/v1/cases/?{param}=100000")
    assert response.status_code == 200
    from yiwang.api.v1.pagination import MAX_PAGE_SIZE, CaseCursorPagination, PagePagination

    assert MAX_PAGE_SIZE <= 200
    request = type("R", (), {"query_params": {"page_size": "100000"}})()
    assert PagePagination().get_page_size(request) == MAX_PAGE_SIZE  # type: ignore[arg-type]
    assert CaseCursorPagination().get_page_size(request) == MAX_PAGE_SIZE  # type: ignore[arg-type]


# --- Open311 POSTs per address ---------------------------------------------------------------------


def _open311_post(address: str, raw_key: str) -> Any:
    from tests.api.open311.conftest import post, report

    return post(Client(REMOTE_ADDR=address), "json", report(raw_key))


def test_open311_posts_per_address_are_limited_across_keys(settings: Any, world: Any) -> None:
    from yiwang.api.actions import create_api_key
    from yiwang.cases.models import Case

    settings.YIWANG_OPEN311_ADDRESS_RATE = 2
    first = create_api_key(world.admin, "应用一")[1]
    second = create_api_key(world.admin, "应用二")[1]
    assert _open311_post("10.2.2.2", first).status_code == 200
    assert _open311_post("10.2.2.2", second).status_code == 200
    refused = _open311_post("10.2.2.2", first)
    assert refused.status_code == 429
    assert "每个地址" in refused.content.decode()
    assert Case.objects.count() == 2
    assert _open311_post("10.2.2.3", first).status_code == 200


def test_open311_address_limit_counts_before_the_key_is_checked(settings: Any, world: Any) -> None:
    settings.YIWANG_OPEN311_ADDRESS_RATE = 1
    assert _open311_post("10.2.2.4", "bad-key").status_code == 403
    assert _open311_post("10.2.2.4", "another-guess").status_code == 429


def test_language_prefixed_login_path_is_counted_as_the_same_endpoint(settings: Any) -> None:
    settings.LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
    assert limits._without_language("/en/login/") == "/login/"
    assert limits._without_language("/login/") == "/login/"
    assert limits._without_language("/api/v1/auth/token/") == "/api/v1/auth/token/"
