from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import PASSWORD
from tests.security.conftest import requires_axes
from yiwang.core.models_audit import AuditAction, AuditRecord
from yiwang.core.security.lockout import lockout_message

pytestmark = [pytest.mark.django_db, requires_axes]

WRONG = "Wrong-Password-1"


@pytest.fixture(autouse=True)
def _security_urls(settings) -> None:  # type: ignore[no-untyped-def]
    settings.ROOT_URLCONF = "tests.security.urls"
    settings.AXES_FAILURE_LIMIT = 5


def web_login(client, username: str, password: str):  # type: ignore[no-untyped-def]
    return client.post(reverse("web:login"), {"username": username, "password": password})


def test_five_wrong_passwords_lock_the_web_login_even_with_the_right_one(client, world) -> None:  # type: ignore[no-untyped-def]
    for _ in range(4):
        assert web_login(client, "dispatcher_a", WRONG).status_code == 200  # the form again
    fifth = web_login(client, "dispatcher_a", WRONG)
    assert fifth.status_code == 403
    response = web_login(client, "dispatcher_a", PASSWORD)
    assert response.status_code == 403
    text = response.content.decode()
    assert "账户已被锁定" in text
    assert "locked for 30 minutes" in text
    assert "_auth_user_id" not in client.session


def test_lockout_is_per_account_and_address(client, world) -> None:  # type: ignore[no-untyped-def]
    for _ in range(5):
        web_login(client, "dispatcher_a", WRONG)
    assert web_login(client, "dispatcher_b", PASSWORD).status_code == 302
    other_address = client.post(
        reverse("web:login"), {"username": "dispatcher_a", "password": PASSWORD}, REMOTE_ADDR="10.0.0.9"
    )
    assert other_address.status_code == 302


def test_fewer_failures_then_success_resets_the_count(client, world) -> None:  # type: ignore[no-untyped-def]
    for _ in range(4):
        web_login(client, "dispatcher_a", WRONG)
    assert web_login(client, "dispatcher_a", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        web_login(client, "dispatcher_a", WRONG)
    assert web_login(client, "dispatcher_a", PASSWORD).status_code == 302


def test_every_failure_and_the_refused_right_password_are_audited(client, world) -> None:  # type: ignore[no-untyped-def]
    before = AuditRecord.objects.filter(action=AuditAction.LOGIN_FAILED, actor_name="dispatcher_a").count()
    for _ in range(5):
        web_login(client, "dispatcher_a", WRONG)
    web_login(client, "dispatcher_a", PASSWORD)
    failures = AuditRecord.objects.filter(action=AuditAction.LOGIN_FAILED, actor_name="dispatcher_a")
    assert failures.count() - before == 6
    assert all(not r.success and r.ip == "127.0.0.1" for r in failures)
    assert not AuditRecord.objects.filter(action=AuditAction.LOGIN, actor=world.dispatcher_a).exists()


def test_token_endpoint_locks_after_five_failures_with_a_json_message(client, world) -> None:  # type: ignore[no-untyped-def]
    url = reverse("security_test_token")
    for _ in range(4):
        response = client.post(url, {"username": "handler_a", "password": WRONG})
        assert response.status_code == 400
    fifth = client.post(url, {"username": "handler_a", "password": WRONG})
    assert fifth.status_code == 403
    response = client.post(url, {"username": "handler_a", "password": PASSWORD})
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "account_locked"
    assert "锁定" in body["detail"]
    assert "locked" in body["detail_en"]
    assert "token" not in body


def test_token_endpoint_still_issues_tokens_normally(client, world) -> None:  # type: ignore[no-untyped-def]
    response = client.post(reverse("security_test_token"), {"username": "handler_a", "password": PASSWORD})
    assert response.status_code == 200
    assert response.json()["token"]


def test_lockout_message_is_chinese_then_english(settings) -> None:  # type: ignore[no-untyped-def]
    from datetime import timedelta

    settings.AXES_COOLOFF_TIME = timedelta(minutes=30)
    message = lockout_message()
    assert message.index("锁定") < message.index("locked")
    assert "30" in message
