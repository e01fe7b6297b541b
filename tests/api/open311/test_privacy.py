"""The public API never shows personal data nor confidential, 110-linked or mediation cases."""

from __future__ import annotations

import json

import pytest
from django.test import Client, override_settings

from tests.api.open311.conftest import BASE, PLAIN_CODE, closed_case, hotline_case, post, report
from tests.world import World
from yiwang.api.open311.mapping import redact
from yiwang.cases import actions
from yiwang.cases.models import Case, Category

pytestmark = pytest.mark.django_db

PUBLIC_PATHS = ["requests.json", "requests.xml", "servicerequestupdates.json", "servicerequestupdates.xml"]


def everything_public(client: Client, case: Case) -> str:
    """Every GET body that could show ``case``, concatenated (a 404 error body echoes the id asked
    for, so the single-request paths count only when they answer 200)."""
    bodies = [client.get(f"{BASE}/{p}") for p in PUBLIC_PATHS]
    bodies += [client.get(f"{BASE}/requests/{case.number}.{fmt}") for fmt in ("json", "xml")]
    return "".join(r.content.decode() for r in bodies if r.status_code == 200)


def numbers_listed(client: Client) -> set[str]:
    return {i["service_request_id"] for i in json.loads(client.get(f"{BASE}/requests.json").content)}


def test_reporter_name_phone_email_and_account_never_appear_in_any_get(
    client: Client, world: World, raw_key: str
) -> None:
    body = report(
        raw_key,
        first_name="三丰",
        last_name="张",
        phone="13912345678",
        email="zhang@example.cn",
        account_id="acct-778899",
        device_id="device-445566",
    )
    assert post(client, "json", body).status_code == 200
    case = Case.objects.get()
    text = everything_public(client, case)
    for secret in ("张三丰", "三丰", "13912345678", "zhang@example.cn", "acct-778899", "device-445566"):
        assert secret not in text
    for field in ("first_name", "last_name", "phone", "email", "account_id", "device_id", "reporter"):
        assert f'"{field}"' not in text
        assert f"<{field}>" not in text


def test_phone_id_and_email_in_a_description_are_masked(client: Client, world: World) -> None:
    case = hotline_case(
        world,
        description="联系我13812341234或0532-86881234，身份证370211198001011234，邮箱 a.b@qq.com",
    )
    item = json.loads(client.get(f"{BASE}/requests/{case.number}.json").content)[0]
    assert "13812341234" not in item["description"]
    assert "138****1234" in item["description"]
    assert "86881234" not in item["description"]
    assert "198001011234" not in item["description"]
    assert "a.b@qq.com" not in item["description"]


def test_redact_keeps_ordinary_numbers() -> None:
    assert redact("3号楼2单元，井深2.5米，编号20261125") == "3号楼2单元，井深2.5米，编号20261125"


def test_confidential_case_never_appears(client: Client, world: World) -> None:
    case = hotline_case(world, is_confidential=True)
    assert case.number not in numbers_listed(client)
    assert client.get(f"{BASE}/requests/{case.number}.json").status_code == 404
    assert case.number not in everything_public(client, case)


def test_cases_of_a_confidential_or_non_public_category_never_appear(client: Client, world: World) -> None:
    hidden = hotline_case(world, category="SX-06002")
    secret = hotline_case(world, category="SX-06003")
    Category.objects.filter(code="SX-06002").update(is_public=False)
    Category.objects.filter(code="SX-06003").update(is_confidential=True)
    shown = hotline_case(world)
    assert numbers_listed(client) == {shown.number}
    for case in (hidden, secret):
        assert client.get(f"{BASE}/requests/{case.number}.json").status_code == 404


def test_a_whistle_blowing_category_is_confidential_and_absent(client: Client, world: World) -> None:
    confidential = Category.objects.filter(is_confidential=True, is_active=True).first()
    assert confidential is not None
    case = hotline_case(world, category=confidential.code)
    assert case.number not in numbers_listed(client)
    services = {s["service_code"] for s in json.loads(client.get(f"{BASE}/services.json").content)}
    assert confidential.code not in services


def test_110_handed_over_cases_never_appear(client: Client, world: World) -> None:
    receipt = actions.receive_from_110(
        actor=world.operator,
        incident_number="JJ20261125001",
        category=PLAIN_CODE,
        title="噪音扰民",
        description="楼上装修噪音",
        lng=120.005,
        lat=35.905,
    )
    case = Case.objects.get(pk=receipt.case_id)
    assert client.get(f"{BASE}/requests/{case.number}.json").status_code == 404
    assert case.number not in everything_public(client, case)


def test_cases_transferred_to_110_or_voided_never_appear(client: Client, world: World) -> None:
    moved = actions.transfer_to_110(hotline_case(world).pk, actor=world.operator, receipt_number="R-1")
    voided = actions.invalidate(hotline_case(world).pk, actor=world.admin, reason="骚扰电话")
    listed = numbers_listed(client)
    assert moved.number not in listed
    assert voided.number not in listed


@override_settings(YIWANG_OPEN311_HIDDEN_CHANNELS=("police_110", "leader"))
def test_hidden_channels_are_a_setting(client: Client, world: World) -> None:
    case = hotline_case(world, channel="leader", actor=world.admin)
    assert case.number not in numbers_listed(client)


def test_staff_notes_never_appear_in_request_updates(client: Client, world: World) -> None:
    case = hotline_case(world)
    actions.dispatch_case(case.pk, actor=world.admin, lead=world.dept_a, note="联系人张三 13812341234")
    text = client.get(f"{BASE}/servicerequestupdates.json").content.decode()
    assert "张三" not in text
    assert "13812341234" not in text


def test_token_of_a_case_made_confidential_later_is_404(client: Client, world: World, raw_key: str) -> None:
    token = post(client, "json", report(raw_key))["X-Open311-Token"]
    Case.objects.update(is_confidential=True)
    assert client.get(f"{BASE}/tokens/{token}.json").status_code == 404


def test_reporter_phone_is_encrypted_at_rest(client: Client, world: World, raw_key: str) -> None:
    from django.db import connection

    post(client, "json", report(raw_key, phone="13912345678"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT reporter_phone FROM cases_case")
        (stored,) = cursor.fetchone()
    assert stored
    assert "13912345678" not in stored


def test_closed_case_updated_datetime_is_the_close_time(client: Client, world: World) -> None:
    case = closed_case(world)
    assert json.loads(client.get(f"{BASE}/requests/{case.number}.json").content)[0]["status"] == "closed"
