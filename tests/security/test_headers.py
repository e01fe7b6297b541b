from __future__ import annotations

import re

import pytest
from django.urls import reverse

from yiwang.core.security.headers import DOCS_CSP, csp_policy, tile_origin

pytestmark = pytest.mark.django_db

CSP_MIDDLEWARE = "django.middleware.csp.ContentSecurityPolicyMiddleware"
PP_MIDDLEWARE = "yiwang.core.security.middleware.PermissionsPolicyMiddleware"


@pytest.fixture(autouse=True)
def _headers_on(settings) -> None:  # type: ignore[no-untyped-def]
    """The settings patch's header configuration, whether or not it is applied yet."""
    settings.ROOT_URLCONF = "tests.security.urls"
    settings.SECURE_CSP = csp_policy(settings.YIWANG_TILE_URL)
    settings.SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
    middleware = [m for m in settings.MIDDLEWARE if m not in (CSP_MIDDLEWARE, PP_MIDDLEWARE)]
    middleware[1:1] = [CSP_MIDDLEWARE, PP_MIDDLEWARE]
    settings.MIDDLEWARE = middleware


def directives(header: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in header.split("; ")}


def test_login_page_carries_csp_permissions_policy_and_coop(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get(reverse("web:login"))
    assert response.status_code == 200
    csp = directives(response["Content-Security-Policy"])
    assert csp["script-src"] == ["'self'"]
    assert csp["default-src"] == ["'self'"]
    assert csp["img-src"] == ["'self'", "data:", "blob:"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert "camera=()" in response["Permissions-Policy"]
    assert "geolocation=(self)" in response["Permissions-Policy"]
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_signed_in_page_has_no_inline_script(client, world) -> None:  # type: ignore[no-untyped-def]
    client.force_login(world.dispatcher_a)
    response = client.get(reverse("web:queue"))
    assert response.status_code == 200
    assert "Content-Security-Policy" in response
    html = response.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "an inline <script> would be blocked"
    assert " on" not in re.sub(r"\s+", " ", "".join(re.findall(r"<[^>]+\son\w+=", html)))


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("", ""),
        ("https://tiles.gov.example/{z}/{x}/{y}.png", "https://tiles.gov.example"),
        ("https://t{s}.tianditu.example/DataServer?x={x}", "https://*.tianditu.example"),
        ("http://10.1.2.3:8080/{z}/{x}/{y}.png", "http://10.1.2.3:8080"),
        ("/tiles/{z}/{x}/{y}.png", ""),
    ],
)
def test_tile_origin(url: str, origin: str) -> None:
    assert tile_origin(url) == origin


def test_tile_host_joins_img_src_only() -> None:
    policy = csp_policy("https://tiles.gov.example/{z}/{x}/{y}.png")
    assert "https://tiles.gov.example" in policy["img-src"]
    assert policy["script-src"] == ["'self'"]
    assert policy["connect-src"] == ["'self'"]


def test_swagger_page_works_under_its_own_policy(client, world) -> None:  # type: ignore[no-untyped-def]
    client.force_login(world.admin)
    response = client.get(reverse("security_test_swagger"))
    assert response.status_code == 200
    csp = directives(response["Content-Security-Policy"])
    assert csp["script-src"] == ["'self'"]
    html = response.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    scripts = re.findall(r'<script src="([^"]+)"', html)
    assert scripts
    assert all(src.startswith("/") for src in scripts), "every script from the own origin"
    # The initialiser is served by the view itself (static files are not served in tests).
    initialiser = [src.replace("&amp;", "&") for src in scripts if not src.startswith("/static/")]
    assert initialiser
    js = client.get(initialiser[0])
    assert js.status_code == 200
    assert "SwaggerUIBundle" in js.content.decode()


def test_redoc_page_works_under_its_own_policy(client, world) -> None:  # type: ignore[no-untyped-def]
    client.force_login(world.admin)
    response = client.get(reverse("security_test_redoc"))
    assert response.status_code == 200
    assert directives(response["Content-Security-Policy"])["style-src"] == ["'self'", "'unsafe-inline'"]
    html = response.content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)
    assert DOCS_CSP["worker-src"] == ["'self'", "blob:"]
