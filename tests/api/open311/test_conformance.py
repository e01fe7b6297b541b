"""GeoReport v2 conformance, section by section of the checklist in reference/open311.md §1.8."""

from __future__ import annotations

import datetime as dt
import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from tests.api.open311.conftest import (
    ATTR_CODE,
    BASE,
    PLAIN_CODE,
    closed_case,
    hotline_case,
    parse_xml,
    post,
    report,
)
from tests.world import World
from yiwang.api.models import Open311Submission
from yiwang.cases.models import Case, Category

pytestmark = pytest.mark.django_db


def get_json(client: Client, path: str, expect: int = 200, **params: Any) -> Any:
    response = client.get(f"{BASE}/{path}", params)
    assert response.status_code == expect, response.content
    assert response["Content-Type"] == "application/json; charset=utf-8"
    return json.loads(response.content.decode("utf-8"))


def get_xml(client: Client, path: str, expect: int = 200, **params: Any) -> ET.Element:
    response = client.get(f"{BASE}/{path}", params)
    assert response.status_code == expect, response.content
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return parse_xml(response.content)


def z(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- services -----------------------------------------------------------------------------------------
def test_services_json_is_an_array_of_services_with_boolean_metadata(
    client: Client, attributes: Category
) -> None:
    services = get_json(client, "services.json")
    assert isinstance(services, list)
    by_code = {s["service_code"]: s for s in services}
    assert by_code[ATTR_CODE]["metadata"] is True
    assert by_code[PLAIN_CODE]["metadata"] is False
    assert by_code[ATTR_CODE]["type"] == "realtime"
    assert by_code[ATTR_CODE]["group"] == "市政公用设施"
    assert set(by_code[ATTR_CODE]) == {
        "service_code",
        "service_name",
        "description",
        "metadata",
        "type",
        "keywords",
        "group",
    }
    assert all(isinstance(s["service_code"], str) for s in services)


def test_services_xml_has_services_root_and_one_service_per_type(
    client: Client, attributes: Category
) -> None:
    root = get_xml(client, "services.xml")
    assert root.tag == "services"
    codes = [s.findtext("service_code") for s in root.findall("service")]
    assert len(codes) == Category.objects.public().count()
    service = next(s for s in root.findall("service") if s.findtext("service_code") == ATTR_CODE)
    assert service.findtext("metadata") == "true"
    assert service.findtext("service_name") == "供水井盖"


def test_service_list_holds_only_active_public_non_confidential_categories(client: Client, db: None) -> None:
    Category.objects.filter(code="SX-06002").update(is_public=False)
    Category.objects.filter(code="SX-06003").update(is_active=False)
    codes = {s["service_code"] for s in get_json(client, "services.json")}
    assert "SX-06002" not in codes
    assert "SX-06003" not in codes
    assert not codes & set(Category.objects.filter(is_confidential=True).values_list("code", flat=True))
    assert PLAIN_CODE in codes


# --- service definition ---------------------------------------------------------------------------------
def test_service_definition_json_is_an_object_with_attributes_in_order(
    client: Client, attributes: Category
) -> None:
    definition = get_json(client, f"services/{ATTR_CODE}.json")
    assert definition["service_code"] == ATTR_CODE
    assert [a["order"] for a in definition["attributes"]] == [1, 2, 3, 4, 5, 6, 7]
    state = definition["attributes"][0]
    assert state == {
        "variable": True,
        "code": "STATE",
        "datatype": "singlevaluelist",
        "required": True,
        "datatype_description": None,
        "order": 1,
        "description": "井盖状态",
        "values": [{"key": "missing", "name": "缺失"}, {"key": "broken", "name": "破损"}],
    }
    assert definition["attributes"][6]["variable"] is False


def test_service_definition_without_attributes_has_an_empty_attributes_array(
    client: Client, db: None
) -> None:
    assert get_json(client, f"services/{PLAIN_CODE}.json") == {"service_code": PLAIN_CODE, "attributes": []}


def test_service_definition_xml_nests_attributes_and_values(client: Client, attributes: Category) -> None:
    root = get_xml(client, f"services/{ATTR_CODE}.xml")
    assert root.tag == "service_definition"
    first = root.find("attributes/attribute")
    assert first is not None
    assert first.findtext("code") == "STATE"
    assert [v.findtext("key") for v in first.findall("values/value")] == ["missing", "broken"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_service_definition_of_unknown_code_is_404_with_error_body(
    client: Client, db: None, fmt: str
) -> None:
    response = client.get(f"{BASE}/services/NOPE-1.{fmt}")
    assert response.status_code == 404
    if fmt == "json":
        body = json.loads(response.content)
        assert body[0]["code"] == 404
        assert "NOPE-1" in body[0]["description"]
    else:
        assert parse_xml(response.content).findtext("error/code") == "404"


def test_service_definition_of_a_non_public_category_is_404(client: Client, db: None) -> None:
    Category.objects.filter(code=PLAIN_CODE).update(is_public=False)
    assert client.get(f"{BASE}/services/{PLAIN_CODE}.json").status_code == 404


# --- GET requests -----------------------------------------------------------------------------------------
def test_requests_json_items_have_id_open_closed_status_and_zoned_datetime(
    client: Client, world: World
) -> None:
    hotline_case(world)
    closed_case(world)
    items = get_json(client, "requests.json")
    assert len(items) == 2
    for item in items:
        assert isinstance(item["service_request_id"], str)
        assert item["status"] in {"open", "closed"}
        assert item["requested_datetime"].endswith("+08:00")
        assert dt.datetime.fromisoformat(item["requested_datetime"]).tzinfo is not None


def test_requests_xml_has_service_requests_root(client: Client, world: World) -> None:
    case = hotline_case(world)
    root = get_xml(client, "requests.xml")
    assert root.tag == "service_requests"
    assert [r.findtext("service_request_id") for r in root.findall("request")] == [case.number]


def test_requests_are_newest_first(client: Client, world: World) -> None:
    old = hotline_case(world, days_ago=5)
    new = hotline_case(world, days_ago=1)
    assert [i["service_request_id"] for i in get_json(client, "requests.json")] == [new.number, old.number]


def test_status_mapping_puts_the_stage_in_notes_department_and_deadline(client: Client, world: World) -> None:
    from yiwang.cases import actions

    case = hotline_case(world)
    actions.dispatch_case(case.pk, actor=world.admin, lead=world.dept_a)
    case = actions.sign_case(case.pk, actor=world.handler_a)
    item = get_json(client, f"requests/{case.number}.json")[0]
    assert item["status"] == "open"
    assert item["status_notes"] == "办理中"
    assert item["agency_responsible"] == "城管局"
    assert item["expected_datetime"] == timezone.localtime(case.resolve_due_at).isoformat(timespec="seconds")
    closed = closed_case(world)
    item = get_json(client, f"requests/{closed.number}.json")[0]
    assert (item["status"], item["status_notes"], item["expected_datetime"]) == ("closed", "已结案", None)
    assert item["updated_datetime"] == timezone.localtime(closed.closed_at).isoformat(timespec="seconds")


# --- GET one request ---------------------------------------------------------------------------------------
def test_one_request_json_is_a_one_element_array(client: Client, world: World) -> None:
    case = hotline_case(world)
    body = get_json(client, f"requests/{case.number}.json")
    assert isinstance(body, list)
    assert len(body) == 1
    assert body[0]["service_request_id"] == case.number
    assert (body[0]["lat"], body[0]["long"]) == (35.905, 120.005)


def test_one_request_xml_is_wrapped_in_service_requests(client: Client, world: World) -> None:
    case = hotline_case(world)
    root = get_xml(client, f"requests/{case.number}.xml")
    assert [r.findtext("service_request_id") for r in root.findall("request")] == [case.number]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_one_request_of_unknown_id_is_404(client: Client, db: None, fmt: str) -> None:
    assert client.get(f"{BASE}/requests/9999999999.{fmt}").status_code == 404


# --- filters --------------------------------------------------------------------------------------------
def test_service_request_id_list_overrides_every_other_filter(client: Client, world: World) -> None:
    old = hotline_case(world, days_ago=200)  # outside any date window
    other = hotline_case(world, category="SX-06002")
    items = get_json(
        client,
        "requests.json",
        service_request_id=f"{old.number},{other.number}",
        service_code="BJ-01001",
        status="closed",
        start_date="2020-01-01T00:00:00Z",
        end_date="2020-01-02T00:00:00Z",
    )
    assert {i["service_request_id"] for i in items} == {old.number, other.number}


def test_service_code_filter_takes_a_comma_list(client: Client, world: World) -> None:
    a = hotline_case(world, category="SX-06001")
    b = hotline_case(world, category="SX-06002")
    hotline_case(world, category="SX-06003")
    items = get_json(client, "requests.json", service_code="SX-06001,SX-06002")
    assert {i["service_request_id"] for i in items} == {a.number, b.number}


def test_url_encoded_commas_are_accepted(client: Client, world: World) -> None:
    a = hotline_case(world, category="SX-06001")
    b = hotline_case(world, category="SX-06002")
    response = client.get(f"{BASE}/requests.json?service_code=SX-06001%2CSX-06002&status=open%2Cclosed")
    assert {i["service_request_id"] for i in json.loads(response.content)} == {a.number, b.number}


def test_status_filter_open_closed_and_both(client: Client, world: World) -> None:
    open_case = hotline_case(world)
    done = closed_case(world)
    ids = lambda status: {i["service_request_id"] for i in get_json(client, "requests.json", status=status)}  # noqa: E731
    assert ids("open") == {open_case.number}
    assert ids("closed") == {done.number}
    assert ids("open,closed") == {open_case.number, done.number}


def test_date_window_defaults_to_the_last_90_days(client: Client, world: World) -> None:
    recent = hotline_case(world, days_ago=89)
    hotline_case(world, days_ago=91)
    assert [i["service_request_id"] for i in get_json(client, "requests.json")] == [recent.number]


def test_start_and_end_date_select_requested_datetime(client: Client, world: World) -> None:
    now = timezone.now()
    hotline_case(world, days_ago=30)
    inside = hotline_case(world, days_ago=20)
    hotline_case(world, days_ago=5)
    items = get_json(
        client,
        "requests.json",
        start_date=z(now - dt.timedelta(days=25)),
        end_date=(now - dt.timedelta(days=10)).astimezone(dt.timezone(dt.timedelta(hours=8))).isoformat(),
    )
    assert [i["service_request_id"] for i in items] == [inside.number]


def test_start_date_alone_opens_a_90_day_window_from_it(client: Client, world: World) -> None:
    now = timezone.now()
    hotline_case(world, days_ago=150)
    inside = hotline_case(world, days_ago=100)
    hotline_case(world, days_ago=5)  # more than 90 days after the start
    items = get_json(client, "requests.json", start_date=z(now - dt.timedelta(days=120)))
    assert [i["service_request_id"] for i in items] == [inside.number]


def test_a_window_over_90_days_is_400(client: Client, db: None) -> None:
    body = get_json(
        client, "requests.json", 400, start_date="2026-01-01T00:00:00Z", end_date="2026-04-02T00:00:00Z"
    )
    assert body[0]["code"] == 400
    assert "90" in body[0]["description"]


def test_start_after_end_is_400(client: Client, db: None) -> None:
    get_json(client, "requests.json", 400, start_date="2026-03-02T00:00:00Z", end_date="2026-03-01T00:00:00Z")


def test_results_are_capped_at_1000(client: Client, world: World) -> None:
    case = hotline_case(world)
    rows = []
    base = Case.objects.get(pk=case.pk)
    for n in range(1001):
        clone = Case(
            **{f.attname: getattr(base, f.attname) for f in Case._meta.concrete_fields if f.attname != "id"}
        )
        clone.number, clone.idempotency_key = f"X{n:06d}", None
        rows.append(clone)
    Case.objects.bulk_create(rows)
    assert len(get_json(client, "requests.json")) == 1000


# --- jurisdiction_id --------------------------------------------------------------------------------------
def test_jurisdiction_absent_empty_or_ours_is_accepted(client: Client, db: None) -> None:
    get_json(client, "services.json")
    get_json(client, "services.json", jurisdiction_id="")
    get_json(client, "services.json", jurisdiction_id="huangdao.gov.cn")


@pytest.mark.parametrize(
    "path", ["services.json", f"services/{PLAIN_CODE}.json", "requests.json", "discovery.json"]
)
def test_wrong_jurisdiction_is_404(client: Client, db: None, path: str) -> None:
    body = get_json(client, path, 404, jurisdiction_id="sfgov.org")
    assert "sfgov.org" in body[0]["description"]


@override_settings(YIWANG_OPEN311_REQUIRE_JURISDICTION=True)
def test_missing_jurisdiction_on_a_multi_jurisdiction_endpoint_is_400(client: Client, db: None) -> None:
    get_json(client, "services.json", 400)
    get_json(client, "services.json", jurisdiction_id="huangdao.gov.cn")


def test_wrong_jurisdiction_on_post_is_404_and_writes_nothing(
    client: Client, world: World, raw_key: str
) -> None:
    response = post(client, "json", report(raw_key, jurisdiction_id="sfgov.org"))
    assert response.status_code == 404
    assert Case.objects.count() == 0


# --- POST requests -------------------------------------------------------------------------------------------
def test_post_returns_a_one_element_array_with_id_and_no_token(
    client: Client, world: World, raw_key: str
) -> None:
    response = post(client, "json", report(raw_key))
    assert response.status_code == 200
    body = json.loads(response.content)
    assert len(body) == 1
    assert "token" not in body[0]
    case = Case.objects.get()
    assert body[0]["service_request_id"] == case.number
    assert case.channel == "open311"
    assert case.created_by is None
    assert case.grid == world.grid_a1


def test_post_xml_answers_service_requests_request(client: Client, world: World, raw_key: str) -> None:
    response = post(client, "xml", report(raw_key))
    root = parse_xml(response.content)
    assert root.tag == "service_requests"
    assert root.findtext("request/service_request_id") == Case.objects.get().number
    assert root.find("request/token") is None


def test_post_without_key_is_403(client: Client, world: World) -> None:
    response = post(client, "json", report(""))
    assert response.status_code == 403
    assert json.loads(response.content)[0]["code"] == 403
    assert Case.objects.count() == 0


def test_post_accepts_the_key_in_the_query_string(client: Client, world: World, raw_key: str) -> None:
    body = report(raw_key)
    del body["api_key"]
    response = post(client, "json", body, QUERY_STRING=f"api_key={raw_key}&jurisdiction_id=")
    assert response.status_code == 200
    assert Case.objects.count() == 1


def test_post_with_unknown_service_code_is_404(client: Client, world: World, raw_key: str) -> None:
    assert post(client, "json", report(raw_key, service_code="NOPE-1")).status_code == 404
    assert Case.objects.count() == 0


def test_post_without_location_is_400(client: Client, world: World, raw_key: str) -> None:
    response = post(client, "json", report(raw_key, lat=None, long=None))
    assert response.status_code == 400
    assert "location" in json.loads(response.content)[0]["description"]
    assert Case.objects.count() == 0


def test_post_with_address_string_only_is_accepted(client: Client, world: World, raw_key: str) -> None:
    response = post(
        client, "json", report(raw_key, lat=None, long=None, address_string="长江路街道某小区东门")
    )
    assert response.status_code == 200
    case = Case.objects.get()
    assert case.address == "长江路街道某小区东门"
    assert case.lat is None


def test_post_with_address_id_only_is_accepted(client: Client, world: World, raw_key: str) -> None:
    assert post(client, "json", report(raw_key, lat=None, long=None, address_id="A-1234")).status_code == 200
    assert Open311Submission.objects.get().address_id == "A-1234"


def test_post_parses_multivalue_attributes(
    client: Client, world: World, raw_key: str, attributes: Category
) -> None:
    pairs = [
        *report(raw_key, service_code=ATTR_CODE).items(),
        ("attribute[STATE]", "broken"),
        ("attribute[HAZARDS][]", "traffic"),
        ("attribute[HAZARDS][]", "night"),
        ("attribute[DEPTH]", "2.5"),
        ("attribute[SEEN_AT]", "2026-11-20T08:00:00+08:00"),
    ]
    response = post(client, "json", [(k, str(v)) for k, v in pairs])
    assert response.status_code == 200, response.content
    assert Case.objects.get().attributes == {
        "STATE": "broken",
        "HAZARDS": ["traffic", "night"],
        "DEPTH": "2.5",
        "SEEN_AT": "2026-11-20T08:00:00+08:00",
    }


def test_post_ignores_attributes_the_service_does_not_define(
    client: Client, world: World, raw_key: str
) -> None:
    pairs = [*report(raw_key).items(), ("attribute[COLOR]", "red"), ("deviceid", "abc"), ("title", "x")]
    assert post(client, "json", [(k, str(v)) for k, v in pairs]).status_code == 200
    assert Case.objects.get().attributes == {}


def test_post_stores_reporter_in_the_case_and_media_url_as_a_reference(
    client: Client, world: World, raw_key: str
) -> None:
    pairs = [
        *report(raw_key, first_name="三", last_name="张", phone="13812341234", email="z@example.cn").items(),
        ("media_url", "https://img.example.cn/a.jpg"),
        ("media_url", "https://img.example.cn/b.jpg"),
    ]
    assert post(client, "json", [(k, str(v)) for k, v in pairs]).status_code == 200
    case = Case.objects.get()
    assert (case.reporter_name, case.reporter_phone) == ("张三", "13812341234")
    submission = Open311Submission.objects.get()
    assert submission.media_urls == ["https://img.example.cn/a.jpg", "https://img.example.cn/b.jpg"]
    assert submission.email == "z@example.cn"
    item = get_json(client, f"requests/{case.number}.json")[0]
    assert item["media_url"] == "https://img.example.cn/a.jpg"


# --- tokens ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_token_issued_on_post_resolves_to_the_request_id(
    client: Client, world: World, raw_key: str, fmt: str
) -> None:
    response = post(client, "json", report(raw_key))
    token = response["X-Open311-Token"]
    number = Case.objects.get().number
    if fmt == "json":
        assert get_json(client, f"tokens/{token}.json") == [{"service_request_id": number, "token": token}]
    else:
        root = get_xml(client, f"tokens/{token}.xml")
        assert (root.findtext("request/service_request_id"), root.findtext("request/token")) == (
            number,
            token,
        )


def test_unknown_token_is_404(client: Client, db: None) -> None:
    get_json(client, "tokens/nope.json", 404)


# --- encoding -------------------------------------------------------------------------------------------
def test_chinese_text_round_trips_in_json_and_xml(client: Client, world: World, raw_key: str) -> None:
    text = "井盖缺失，夜间行人易坠落！「紧急」"
    post(client, "json", report(raw_key, description=text))
    number = Case.objects.get().number
    assert get_json(client, f"requests/{number}.json")[0]["description"] == text
    assert get_xml(client, f"requests/{number}.xml").findtext("request/description") == text


def test_control_characters_do_not_break_the_xml(client: Client, world: World) -> None:
    case = hotline_case(world, description="坏字符\x01\x0b在这里")
    assert get_xml(client, f"requests/{case.number}.xml").findtext("request/description") == "坏字符在这里"


# --- errors ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("services/NOPE.xml", 404),
        ("requests/1.xml", 404),
        ("nothing.xml", 404),
        ("requests.xml?status=x", 400),
    ],
)
def test_xml_errors_use_the_errors_element_with_code_and_description(
    client: Client, db: None, path: str, status: int
) -> None:
    response = client.get(f"{BASE}/{path}")
    assert response.status_code == status
    root = parse_xml(response.content)
    assert root.tag == "errors"
    assert root.findtext("error/code") == str(status)
    description = root.findtext("error/description") or ""
    assert " / " in description  # Chinese first, then English


def test_unsupported_format_is_400(client: Client, db: None) -> None:
    assert client.get(f"{BASE}/services.csv").status_code == 400


def test_wrong_method_is_405_with_an_error_body(client: Client, db: None) -> None:
    response = client.delete(f"{BASE}/requests.json")
    assert response.status_code == 405
    assert response["Allow"] == "GET, POST"
    assert json.loads(response.content)[0]["code"] == 405


# --- discovery -------------------------------------------------------------------------------------------
def test_discovery_json_lists_the_base_url_and_formats(client: Client, db: None) -> None:
    body = get_json(client, "discovery.json")
    endpoint = body["endpoints"][0]
    assert endpoint["url"] == "http://testserver/open311/v2"
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["formats"] == ["text/xml", "application/json"]
    assert dt.datetime.fromisoformat(body["changeset"]).tzinfo is not None
    assert body["key_service"]
    assert body["contact"]


def test_discovery_xml_lists_the_endpoint(client: Client, db: None) -> None:
    root = get_xml(client, "discovery.xml")
    assert root.tag == "discovery"
    assert root.findtext("endpoints/endpoint/url") == "http://testserver/open311/v2"
    assert [f.text for f in root.findall("endpoints/endpoint/formats/format")] == [
        "text/xml",
        "application/json",
    ]


# --- FixMyStreet request updates ---------------------------------------------------------------------------
def test_request_updates_list_public_timeline_steps(client: Client, world: World) -> None:
    case = closed_case(world)
    updates = get_json(client, "servicerequestupdates.json")
    assert [u["external_status_code"] for u in updates] == [
        "registered",
        "dispatched",
        "signed",
        "resolved",
        "verified",
    ]
    assert updates[-1]["status"] == "closed"
    assert updates[0]["status"] == "open"
    assert {u["service_request_id"] for u in updates} == {case.number}
    root = get_xml(client, "servicerequestupdates.xml")
    assert root.tag == "service_request_updates"
    assert len(root.findall("request_update")) == 5
