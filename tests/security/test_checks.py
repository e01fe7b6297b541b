from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from yiwang.core.security import checks
from yiwang.core.security.headers import csp_policy

SECURE_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    checks.CSP_MIDDLEWARE,
    checks.PERMISSIONS_POLICY_MIDDLEWARE,
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    checks.OTP_MIDDLEWARE,
    checks.FORCED_CHANGE_MIDDLEWARE,
    checks.AXES_MIDDLEWARE,
]


@pytest.fixture
def hardened(settings, tmp_path: Path, monkeypatch):  # type: ignore[no-untyped-def]
    """Settings as the production patch leaves them, with keys of its own."""
    settings.DATA_DIR = tmp_path
    settings.DEBUG = False
    settings.YIWANG_PII_KEYS = [Fernet.generate_key().decode()]
    settings.YIWANG_PII_HASH_KEY = "h" * 40
    settings.SECURE_CSP = csp_policy()
    settings.MIDDLEWARE = SECURE_MIDDLEWARE
    # The app list and the database are not overridden (that would reload apps / connections).
    monkeypatch.setattr(checks, "_axes_installed", lambda: True)
    monkeypatch.setattr(checks, "_database_engine", lambda: "django.db.backends.postgresql")
    settings.AUTHENTICATION_BACKENDS = [
        checks.AXES_BACKEND_NAMES[1],
        "django.contrib.auth.backends.ModelBackend",
    ]
    settings.AXES_FAILURE_LIMIT = 5
    settings.AUTH_PASSWORD_VALIDATORS = [{"NAME": name} for name in checks.REQUIRED_VALIDATORS]
    settings.REST_FRAMEWORK = {"DEFAULT_AUTHENTICATION_CLASSES": [checks.TOKEN_AUTH]}
    settings.SESSION_SAVE_EVERY_REQUEST = True
    settings.SESSION_COOKIE_AGE = 1800
    settings.YIWANG_OTP_REQUIRED = True
    return settings


def ids(messages: list) -> set[str]:  # type: ignore[type-arg]
    return {m.id for m in messages}


ALL_CHECKS = [
    checks.check_debug,
    checks.check_pii_keys,
    checks.check_secret_key,
    checks.check_csp,
    checks.check_lockout,
    checks.check_identity,
    checks.check_database,
]


def run_all() -> set[str]:
    found: set[str] = set()
    for check in ALL_CHECKS:
        found |= ids(check())
    return found


def test_hardened_settings_pass_every_project_check(hardened) -> None:  # type: ignore[no-untyped-def]
    assert run_all() == set()


def test_generated_pii_key_and_secret_key_are_errors(hardened, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "pii_key").write_text(hardened.YIWANG_PII_KEYS[0])
    (tmp_path / "secret_key").write_text(hardened.SECRET_KEY)
    assert {"yiwang.E004", "yiwang.E006"} <= run_all()


def test_missing_keys_debug_csp_and_lockout_are_errors(hardened) -> None:  # type: ignore[no-untyped-def]
    hardened.DEBUG = True
    hardened.YIWANG_PII_KEYS = []
    hardened.SECURE_CSP = {}
    hardened.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
    hardened.AUTH_PASSWORD_VALIDATORS = []
    assert {"yiwang.E001", "yiwang.E002", "yiwang.E010", "yiwang.E020", "yiwang.E030"} <= run_all()


def test_weak_settings_give_warnings(hardened, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    hardened.YIWANG_PII_HASH_KEY = ""
    hardened.SECURE_CSP = {**csp_policy(), "script-src": ["'self'", "'unsafe-inline'"]}
    hardened.SESSION_COOKIE_AGE = 8 * 3600
    hardened.YIWANG_OTP_REQUIRED = False
    monkeypatch.setattr(checks, "_database_engine", lambda: "django.db.backends.sqlite3")
    hardened.REST_FRAMEWORK = {
        "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.TokenAuthentication"]
    }
    assert {
        "yiwang.W005",
        "yiwang.W011",
        "yiwang.W033",
        "yiwang.W034",
        "yiwang.W040",
        "yiwang.W032",
    } <= run_all()


def test_a_malformed_pii_key_is_an_error(hardened) -> None:  # type: ignore[no-untyped-def]
    hardened.YIWANG_PII_KEYS = ["too-short"]
    assert "yiwang.E003" in run_all()


def test_checks_are_registered_as_deploy_security_checks() -> None:
    from django.core.checks import registry

    deploy = registry.registry.get_checks(include_deployment_checks=True)
    assert set(ALL_CHECKS) <= set(deploy)
    assert all("security" in check.tags for check in ALL_CHECKS)
