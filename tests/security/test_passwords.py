from __future__ import annotations

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory
from yiwang.core.models_audit import AuditRecord
from yiwang.core.models_security import PasswordHistory
from yiwang.core.security.passwords import (
    PASSWORD_CHANGED,
    PASSWORD_RESET_BY_ADMIN,
    ComplexityValidator,
    admin_reset_password,
    character_classes,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("password_policy")]

NEW_PASSWORDS = [f"Grid-Worker-{n}x" for n in range(7)]


def codes(exc: pytest.ExceptionInfo[ValidationError]) -> set[str]:
    return {e.code for e in exc.value.error_list if e.code}


@pytest.mark.parametrize(
    ("password", "classes"),
    [
        ("abcdefghij", {"lower"}),
        ("Abcdefghij", {"upper", "lower"}),
        ("Abcdefghi1", {"upper", "lower", "digit"}),
        ("abc-def！1", {"lower", "symbol", "digit"}),
        ("网格治理网格治理12", {"digit"}),
    ],
)
def test_character_classes_counts_upper_lower_digit_symbol(password: str, classes: set[str]) -> None:
    assert character_classes(password) == classes


def test_two_character_classes_are_refused_with_a_bilingual_message() -> None:
    with pytest.raises(ValidationError) as exc:
        validate_password("abcdefgh12")
    assert "password_too_simple" in codes(exc)
    message = " ".join(exc.value.messages)
    assert "大写字母" in message
    assert "upper-case" in message


def test_three_character_classes_of_ten_characters_pass() -> None:
    validate_password("Qingdao-huangdao")  # upper, lower, symbol


def test_complexity_validator_rejects_an_impossible_setting() -> None:
    with pytest.raises(ValueError, match="min_classes"):
        ComplexityValidator(min_classes=5)


def test_the_current_password_cannot_be_set_again() -> None:
    user = UserFactory()
    with pytest.raises(ValidationError) as exc:
        validate_password(PASSWORD, user)
    assert "password_reused" in codes(exc)


def test_each_password_set_is_recorded_as_a_hash_and_only_five_are_kept() -> None:
    user = UserFactory()
    for password in NEW_PASSWORDS:
        user.set_password(password)
        user.save()
    rows = list(PasswordHistory.objects.filter(user=user))
    assert len(rows) == 5
    assert all(row.password.startswith(("md5$", "pbkdf2", "argon2")) for row in rows)
    assert all(password not in row.password for row in rows for password in NEW_PASSWORDS)


def test_the_last_five_passwords_are_refused_and_the_sixth_oldest_is_allowed() -> None:
    user = UserFactory()
    for password in NEW_PASSWORDS[:6]:
        user.set_password(password)
        user.save()
    for recent in NEW_PASSWORDS[1:6]:
        with pytest.raises(ValidationError) as exc:
            validate_password(recent, user)
        assert "password_reused" in codes(exc)
    validate_password(NEW_PASSWORDS[0], user)


def test_admin_reset_sets_the_flag_records_history_and_audits(world: object) -> None:
    admin = world.admin  # type: ignore[attr-defined]
    user = world.handler_a  # type: ignore[attr-defined]
    admin_reset_password(user, "Temp-Reset-2026", actor=admin)
    user.refresh_from_db()
    assert user.must_change_password
    assert user.check_password("Temp-Reset-2026")
    assert PasswordHistory.objects.filter(user=user).exists()
    entry = AuditRecord.objects.filter(action=PASSWORD_RESET_BY_ADMIN).latest("seq")
    assert entry.actor == admin
    assert entry.object_id == str(user.pk)


def test_admin_reset_with_a_weak_password_saves_nothing(world: object) -> None:
    user = world.handler_a  # type: ignore[attr-defined]
    with pytest.raises(ValidationError):
        admin_reset_password(user, "short", actor=world.admin)  # type: ignore[attr-defined]
    user.refresh_from_db()
    assert not user.must_change_password
    assert user.check_password(PASSWORD)


@pytest.mark.usefixtures("forced_change")
class TestForcedChange:
    @pytest.fixture
    def reset_user(self, world: object) -> object:
        user = world.handler_a  # type: ignore[attr-defined]
        admin_reset_password(user, "Temp-Reset-2026", actor=world.admin)  # type: ignore[attr-defined]
        return user

    def test_web_page_redirects_to_the_change_page(self, client, reset_user) -> None:  # type: ignore[no-untyped-def]
        client.force_login(reset_user)
        response = client.get(reverse("web:inbox"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("security_test_password_change"))

    def test_api_call_gets_403_json(self, client, reset_user) -> None:  # type: ignore[no-untyped-def]
        client.force_login(reset_user)
        response = client.get("/api/v1/cases/")
        assert response.status_code == 403
        body = response.json()
        assert body["code"] == "password_change_required"
        assert "修改密码" in body["detail"]
        assert "change it" in body["detail"]

    def test_api_token_of_a_user_who_must_change_is_refused(self, reset_user) -> None:  # type: ignore[no-untyped-def]
        # DRF binds authentication classes when the views are defined, so the class is exercised
        # directly here; the settings patch makes it the API's token authentication.
        from rest_framework.authtoken.models import Token
        from rest_framework.request import Request
        from rest_framework.test import APIRequestFactory

        from yiwang.core.security.drf_auth import PasswordChangeRequired, TokenAuthentication

        token = Token.objects.create(user=reset_user)
        request = Request(APIRequestFactory().get("/api/v1/cases/", HTTP_AUTHORIZATION=f"Token {token.key}"))
        with pytest.raises(PasswordChangeRequired) as exc:
            TokenAuthentication().authenticate(request)
        assert exc.value.status_code == 403
        assert exc.value.get_codes() == "password_change_required"

    def test_changing_the_password_clears_the_flag_and_unblocks(self, client, reset_user) -> None:  # type: ignore[no-untyped-def]
        client.force_login(reset_user)
        page = client.get(reverse("security_test_password_change"))
        assert page.status_code == 200
        response = client.post(
            reverse("security_test_password_change"),
            {
                "old_password": "Temp-Reset-2026",
                "new_password1": "Own-Choice-2026",
                "new_password2": "Own-Choice-2026",
            },
        )
        assert response.status_code == 302
        reset_user.refresh_from_db()
        assert not reset_user.must_change_password
        assert reset_user.check_password("Own-Choice-2026")
        assert AuditRecord.objects.filter(action=PASSWORD_CHANGED, actor=reset_user).exists()
        assert client.get(reverse("web:inbox")).status_code == 200

    def test_the_change_page_refuses_the_reset_password_as_the_new_one(self, client, reset_user) -> None:  # type: ignore[no-untyped-def]
        client.force_login(reset_user)
        response = client.post(
            reverse("security_test_password_change"),
            {
                "old_password": "Temp-Reset-2026",
                "new_password1": "Temp-Reset-2026",
                "new_password2": "Temp-Reset-2026",
            },
        )
        assert response.status_code == 200
        reset_user.refresh_from_db()
        assert reset_user.must_change_password

    def test_logout_stays_reachable(self, client, reset_user) -> None:  # type: ignore[no-untyped-def]
        client.force_login(reset_user)
        response = client.post(reverse("web:logout"))
        assert response.status_code == 302
        assert "_auth_user_id" not in client.session
