from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings as django_settings

AXES_INSTALLED = "axes" in django_settings.INSTALLED_APPS

requires_axes = pytest.mark.skipif(
    not AXES_INSTALLED, reason="django-axes is enabled by the settings patch (see docs/security.md)"
)

VALIDATORS: list[dict[str, Any]] = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "yiwang.core.security.passwords.ComplexityValidator", "OPTIONS": {"min_classes": 3}},
    {"NAME": "yiwang.core.security.passwords.PasswordHistoryValidator", "OPTIONS": {"keep": 5}},
]


@pytest.fixture
def password_policy(settings: Any) -> None:
    """The validators of the settings patch, whether or not it is applied yet."""
    settings.AUTH_PASSWORD_VALIDATORS = VALIDATORS


@pytest.fixture
def forced_change(settings: Any) -> None:
    settings.ROOT_URLCONF = "tests.security.urls"
    settings.YIWANG_PASSWORD_CHANGE_URL = "security_test_password_change"
    if "yiwang.core.security.middleware.MustChangePasswordMiddleware" not in settings.MIDDLEWARE:
        middleware = list(settings.MIDDLEWARE)
        at = middleware.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1
        middleware.insert(at, "yiwang.core.security.middleware.MustChangePasswordMiddleware")
        settings.MIDDLEWARE = middleware


OTP_INSTALLED = "django_otp.plugins.otp_totp" in django_settings.INSTALLED_APPS

requires_otp = pytest.mark.skipif(
    not OTP_INSTALLED,
    reason="django-otp is enabled by the settings patch; run with --ds=tests.security.otp_settings",
)


@pytest.fixture
def staff(world: Any) -> Any:
    from tests.security.personas import build_staff

    return build_staff(world)


@pytest.fixture
def otp_on(settings: Any) -> None:
    """The second factor required by policy, its middleware and pages wired as the patch does."""
    from tests.security.personas import insert_middleware

    settings.ROOT_URLCONF = "tests.security.otp_urls"
    settings.LOGIN_URL = "web:login"
    settings.LOGIN_REDIRECT_URL = "web:home"
    settings.YIWANG_OTP_REQUIRED = True
    insert_middleware(
        settings,
        "yiwang.core.security.otp.OTPRequiredMiddleware",
        after="django.contrib.auth.middleware.AuthenticationMiddleware",
    )
