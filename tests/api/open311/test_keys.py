"""API keys: issued by administrators only, stored hashed, revocable, rate-limited, logged."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from tests.api.open311.conftest import BASE, post, report
from tests.world import World
from yiwang.api.actions import ApiKeyError, create_api_key, hash_key, revoke_api_key, update_api_key
from yiwang.api.models import ApiKey, ApiKeyUse
from yiwang.api.open311 import ratelimit
from yiwang.cases.models import Case
from yiwang.core.models_audit import AuditRecord

pytestmark = pytest.mark.django_db


def test_create_api_key_stores_only_the_hash_and_returns_the_raw_key_once(world: World) -> None:
    key, raw = create_api_key(world.admin, "市民App", organisation="大数据局", rate_limit_per_hour=50)
    assert raw.startswith(key.prefix + ".")
    stored = ApiKey.objects.get(pk=key.pk)
    assert stored.key_hash == hash_key(raw)
    assert raw not in stored.key_hash
    assert raw not in {getattr(stored, f.attname) for f in ApiKey._meta.concrete_fields}
    assert (stored.created_by, stored.rate_limit_per_hour, stored.organisation) == (
        world.admin,
        50,
        "大数据局",
    )
    assert AuditRecord.objects.filter(action="api_key.create", object_id=str(key.pk)).exists()


@pytest.mark.parametrize("persona", ["dispatcher_a", "operator", "handler_a", "leader", "outsider"])
def test_only_administrators_may_create_or_revoke_keys(world: World, persona: str) -> None:
    actor = getattr(world, persona)
    with pytest.raises(ApiKeyError):
        create_api_key(actor, "x")
    key, _raw = create_api_key(world.admin, "y")
    with pytest.raises(ApiKeyError):
        revoke_api_key(actor, key)
    assert ApiKey.objects.get(pk=key.pk).revoked_at is None
    assert ApiKey.objects.count() == 1


@pytest.mark.parametrize(("name", "limit"), [("", 10), ("x" * 101, 10), ("ok", 0), ("ok", -5)])
def test_bad_key_settings_are_refused(world: World, name: str, limit: int) -> None:
    with pytest.raises(ApiKeyError):
        create_api_key(world.admin, name, rate_limit_per_hour=limit)
    assert ApiKey.objects.count() == 0


def test_revoked_key_is_403_and_writes_no_case(
    client: Client, world: World, api_key: tuple[ApiKey, str]
) -> None:
    key, raw = api_key
    assert post(client, "json", report(raw)).status_code == 200
    revoke_api_key(world.admin, key.prefix)
    response = post(client, "json", report(raw))
    assert response.status_code == 403
    assert "revoked" in json.loads(response.content)[0]["description"]
    assert Case.objects.count() == 1


def test_revoking_twice_keeps_the_first_moment(world: World, api_key: tuple[ApiKey, str]) -> None:
    first = revoke_api_key(world.admin, api_key[0]).revoked_at
    assert revoke_api_key(world.admin, api_key[0]).revoked_at == first


def test_revoking_an_unknown_prefix_is_an_error(world: World) -> None:
    with pytest.raises(ApiKeyError):
        revoke_api_key(world.admin, "deadbeef")


def test_update_changes_name_and_limit_but_not_the_secret(world: World, api_key: tuple[ApiKey, str]) -> None:
    key, _raw = api_key
    updated = update_api_key(world.admin, key, name="新名字", organisation="", rate_limit_per_hour=7)
    assert (updated.name, updated.rate_limit_per_hour, updated.key_hash) == ("新名字", 7, key.key_hash)


def test_rate_limit_answers_429_over_the_hourly_limit_and_writes_nothing(
    client: Client, world: World, api_key: tuple[ApiKey, str]
) -> None:
    key, raw = api_key
    update_api_key(world.admin, key, name=key.name, organisation="", rate_limit_per_hour=2)
    assert [post(client, "json", report(raw)).status_code for _ in range(2)] == [200, 200]
    response = post(client, "xml", report(raw))
    assert response.status_code == 429
    assert "429" in response.content.decode()
    assert "2" in response.content.decode()
    assert Case.objects.count() == 2


def test_rate_limit_is_per_key(client: Client, world: World, api_key: tuple[ApiKey, str]) -> None:
    key, raw = api_key
    update_api_key(world.admin, key, name=key.name, organisation="", rate_limit_per_hour=1)
    _other, other_raw = create_api_key(world.admin, "另一个应用", rate_limit_per_hour=1)
    assert post(client, "json", report(raw)).status_code == 200
    assert post(client, "json", report(raw)).status_code == 429
    assert post(client, "json", report(other_raw)).status_code == 200


def test_rate_limit_window_resets_each_hour() -> None:
    start = 3600 * 1000.0
    assert ratelimit.hit("k", 1, now=start).allowed
    assert not ratelimit.hit("k", 1, now=start + 10).allowed
    assert ratelimit.hit("k", 1, now=start + 3600).allowed


def test_every_post_with_a_known_key_is_logged(
    client: Client, world: World, api_key: tuple[ApiKey, str]
) -> None:
    key, raw = api_key
    post(client, "json", report(raw))
    post(client, "json", report(raw, lat="abc"))
    uses = list(ApiKeyUse.objects.filter(key=key).order_by("id"))
    assert [(u.method, u.path, u.status_code) for u in uses] == [
        ("POST", f"{BASE}/requests.json", 200),
        ("POST", f"{BASE}/requests.json", 400),
    ]
    assert uses[0].remote_addr == "127.0.0.1"
    assert ApiKey.objects.get(pk=key.pk).last_used_at is not None


def test_gets_need_no_key(client: Client, world: World) -> None:
    assert client.get(f"{BASE}/requests.json").status_code == 200


def test_posts_are_not_subject_to_csrf(world: World, raw_key: str) -> None:
    strict = Client(enforce_csrf_checks=True)
    assert post(strict, "json", report(raw_key)).status_code == 200


def test_apikey_command_creates_lists_and_revokes(world: World) -> None:
    out = StringIO()
    call_command(
        "apikey", "create", "命令行应用", "--rate-limit", "5", "--by", "admin", stdout=out, stderr=StringIO()
    )
    key = ApiKey.objects.get()
    assert f"prefix: {key.prefix}" in out.getvalue()
    assert "api_key: " in out.getvalue()
    raw = out.getvalue().split("api_key: ")[1].strip()
    assert hash_key(raw) == key.key_hash
    assert key.created_by == world.admin
    listing = StringIO()
    call_command("apikey", "list", stdout=listing)
    assert key.prefix in listing.getvalue()
    assert "active" in listing.getvalue()
    call_command("apikey", "revoke", key.prefix, stdout=StringIO())
    assert ApiKey.objects.get().revoked_at is not None


def test_admin_creates_a_key_and_shows_it_once(client: Client, world: World) -> None:
    from django.contrib.auth.models import Permission

    world.admin.is_staff = True
    world.admin.save()
    world.admin.user_permissions.add(*Permission.objects.filter(content_type__app_label="api"))
    client.force_login(world.admin)
    response = client.post(
        "/admin/api/apikey/add/",
        {"name": "后台应用", "organisation": "", "rate_limit_per_hour": "30"},
        follow=True,
    )
    assert response.status_code == 200
    key = ApiKey.objects.get()
    shown = [str(m) for m in response.context["messages"]]
    assert any(key.prefix in m for m in shown)
    raw = next(m for m in shown if key.prefix in m).split("：")[-1].strip()
    assert hash_key(raw) == key.key_hash
    page = client.get(f"/admin/api/apikey/{key.pk}/change/").content.decode()
    assert raw not in page
    client.post("/admin/api/apikey/", {"action": "revoke", "_selected_action": [key.pk]}, follow=True)
    assert ApiKey.objects.get().revoked_at is not None
