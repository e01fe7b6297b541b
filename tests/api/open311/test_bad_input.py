"""Bad input: the right status code, a bilingual message in the requested format, nothing written."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from tests.api.open311.conftest import ATTR_CODE, BASE, FORM, IN_A1, OUTSIDE, form, parse_xml, post, report
from tests.world import World
from yiwang.api.models import Open311Submission
from yiwang.cases.models import Case, CaseEvent, Category

pytestmark = pytest.mark.django_db


def assert_refused(response: Any, status: int, *words: str) -> None:
    """``status``, an Open311 error body (Chinese / English), and no case, event or submission."""
    assert response.status_code == status, response.content
    if response["Content-Type"].startswith("application/json"):
        description = json.loads(response.content)[0]["description"]
    else:
        description = parse_xml(response.content).findtext("error/description") or ""
    assert " / " in description
    for word in words:
        assert word in description
    assert Case.objects.count() == 0
    assert CaseEvent.objects.count() == 0
    assert Open311Submission.objects.count() == 0


@pytest.mark.parametrize(
    ("fields", "status", "word"),
    [
        ({"service_code": None}, 400, "service_code"),
        ({"service_code": "NOPE-1"}, 404, "NOPE-1"),
        ({"service_code": "a b/c"}, 400, "service_code"),
        ({"lat": None}, 400, "lat"),
        ({"long": None}, 400, "lat"),
        ({"lat": "abc"}, 400, "lat"),
        ({"long": "nan"}, 400, "long"),
        ({"lat": "95"}, 400, "lat"),
        ({"lat": OUTSIDE[1], "long": OUTSIDE[0]}, 400, "outside"),
        ({"description": "长" * 4001}, 400, "4000"),
        ({"email": "not-an-email"}, 400, "email"),
        ({"media_url": "javascript:alert(1)"}, 400, "media_url"),
        ({"media_url": "file:///etc/passwd"}, 400, "media_url"),
        ({"first_name": "名" * 51}, 400, "first_name"),
        ({"phone": "1" * 33}, 400, "phone"),
    ],
)
def test_bad_post_fields_are_refused(
    client: Client, world: World, raw_key: str, fields: dict[str, Any], status: int, word: str
) -> None:
    assert_refused(post(client, "json", report(raw_key, **fields)), status, word)


def test_errors_come_in_xml_for_xml_posts(client: Client, world: World, raw_key: str) -> None:
    assert_refused(post(client, "xml", report(raw_key, lat="abc")), 400, "lat")


def test_description_of_exactly_4000_characters_is_accepted(
    client: Client, world: World, raw_key: str
) -> None:
    assert post(client, "json", report(raw_key, description="长" * 4000)).status_code == 200


def test_invalid_utf8_in_the_body_is_400(client: Client, world: World, raw_key: str) -> None:
    body = form(report(raw_key)) + "&description=%FF%FE"
    assert_refused(client.post(f"{BASE}/requests.json", data=body, content_type=FORM), 400, "UTF-8")


def test_raw_non_utf8_bytes_are_400(client: Client, world: World, raw_key: str) -> None:
    body = form(report(raw_key)).encode() + "&description=井盖".encode("gbk")
    assert_refused(client.post(f"{BASE}/requests.json", data=body, content_type=FORM), 400, "UTF-8")


def test_a_json_body_is_400(client: Client, world: World, raw_key: str) -> None:
    response = client.post(
        f"{BASE}/requests.json", data=json.dumps(report(raw_key)), content_type="application/json"
    )
    assert_refused(response, 400, "x-www-form-urlencoded")


def test_a_non_utf8_charset_is_400(client: Client, world: World, raw_key: str) -> None:
    response = client.post(
        f"{BASE}/requests.json",
        data=form(report(raw_key)),
        content_type="application/x-www-form-urlencoded; charset=gbk",
    )
    assert_refused(response, 400, "UTF-8")


def test_an_over_long_api_key_is_403(client: Client, world: World) -> None:
    assert_refused(post(client, "json", report("x" * 5000)), 403)


def test_a_wrong_key_is_403(client: Client, world: World, raw_key: str) -> None:
    assert_refused(post(client, "json", report(raw_key + "x")), 403, "api_key")


@pytest.mark.parametrize(
    ("attrs", "word"),
    [
        ([], "STATE"),  # required, missing
        ([("attribute[STATE]", "")], "STATE"),  # required, empty
        ([("attribute[STATE]", "gone")], "gone"),  # not one of the values
        ([("attribute[STATE]", "missing"), ("attribute[STATE]", "broken")], "one value"),
        ([("attribute[STATE]", "missing"), ("attribute[HAZARDS][]", "fire")], "fire"),
        ([("attribute[STATE]", "missing"), ("attribute[DEPTH]", "deep")], "number"),
        ([("attribute[STATE]", "missing"), ("attribute[DEPTH]", "inf")], "number"),
        ([("attribute[STATE]", "missing"), ("attribute[SEEN_AT]", "yesterday")], "ISO 8601"),
        ([("attribute[STATE]", "missing"), ("attribute[PLACE]", "a\nb")], "one line"),
        ([("attribute[STATE]", "missing"), ("attribute[DETAIL]", "长" * 4001)], "4000"),
    ],
)
def test_bad_attributes_are_400(
    client: Client, world: World, raw_key: str, attributes: Category, attrs: list[tuple[str, str]], word: str
) -> None:
    pairs = [(k, str(v)) for k, v in report(raw_key, service_code=ATTR_CODE).items()] + attrs
    assert_refused(post(client, "json", pairs), 400, word)


@pytest.mark.parametrize(
    "query",
    [
        "start_date=yesterday",
        "end_date=2026-13-01T00:00:00Z",
        "start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z",
        "status=pending",
        "service_code=a%20b",
        "service_request_id=1%3B2",
    ],
)
def test_bad_query_parameters_are_400(client: Client, db: None, query: str) -> None:
    for fmt in ("json", "xml"):
        response = client.get(f"{BASE}/requests.{fmt}?{query}")
        assert response.status_code == 400, (query, response.content)


def test_request_id_that_is_not_url_safe_is_400(client: Client, db: None) -> None:
    response = client.get(f"{BASE}/requests/a%20b.json")
    assert response.status_code == 400
    assert "service_request_id" in json.loads(response.content)[0]["description"]


def test_unknown_get_parameters_are_ignored(client: Client, world: World) -> None:
    response = client.get(f"{BASE}/requests.json?page=2&extensions=true&bbox=1,2,3,4&api_key=whatever")
    assert response.status_code == 200


def test_get_on_the_post_only_fields_writes_nothing(client: Client, world: World) -> None:
    query = f"service_code=SX-06001&lat={IN_A1[1]}&long={IN_A1[0]}"
    assert client.get(f"{BASE}/requests.json?{query}").status_code == 200
    assert Case.objects.count() == 0
