"""A real third-party client, ``georeport`` 0.3.1 (PyPI), against a live server, in JSON and XML.

``georeport`` is read-only: it has no method to create a request and never sends ``api_key``. The
POST is therefore made with ``requests`` (the HTTP library georeport itself uses), and every read,
including of the new request, goes through the client.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import requests
from georeport import GeoReport

from tests.api.open311.conftest import ATTR_CODE, IN_A1, PLAIN_CODE, hotline_case
from tests.world import World
from yiwang.api.actions import create_api_key
from yiwang.cases.models import Category


def as_list(value: Any) -> list[Any]:
    """xmltodict gives a dict for one repeated element and a list for several."""
    return value if isinstance(value, list) else [value]


def post_request(root: str, fmt: str, raw_key: str, **fields: str) -> str:
    body = {
        "api_key": raw_key,
        "jurisdiction_id": "huangdao.gov.cn",
        "service_code": PLAIN_CODE,
        "lat": str(IN_A1[1]),
        "long": str(IN_A1[0]),
        "description": "路灯不亮，晚上很黑。",
        **fields,
    }
    response = requests.post(f"{root}/requests.{fmt}", data=body, timeout=30)
    response.raise_for_status()
    if fmt == "json":
        return str(response.json()[0]["service_request_id"])
    import xmltodict

    return str(xmltodict.parse(response.content)["service_requests"]["request"]["service_request_id"])


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_reads_every_endpoint(live_server: Any, world: World, fmt: str) -> None:
    from yiwang.cases.models import CategoryAttribute

    category = Category.objects.get(code=ATTR_CODE)
    CategoryAttribute.objects.create(
        category=category,
        code="STATE",
        order=1,
        datatype="singlevaluelist",
        required=True,
        description="井盖状态",
        values=[{"key": "missing", "name": "缺失"}, {"key": "broken", "name": "破损"}],
    )
    earlier = hotline_case(world, days_ago=3, category="SX-06002")
    _key, raw_key = create_api_key(world.admin, "georeport 测试")
    root = f"{live_server.url}/open311/v2/"  # the client strips the trailing slash
    client = GeoReport(root, jurisdiction="huangdao.gov.cn", output_format=fmt)

    services = as_list(client.get_service_list())
    by_code = {s["service_code"]: s for s in services}
    assert by_code[ATTR_CODE]["service_name"] == "供水井盖"
    assert str(by_code[ATTR_CODE]["metadata"]).lower() == "true"

    definition = client.get_service_definition(ATTR_CODE)
    attrs = definition["attributes"] if fmt == "json" else as_list(definition["attributes"]["attribute"])
    assert attrs[0]["code"] == "STATE"
    values = attrs[0]["values"] if fmt == "json" else as_list(attrs[0]["values"]["value"])
    assert [v["key"] for v in values] == ["missing", "broken"]

    number = post_request(root.rstrip("/"), fmt, raw_key)

    listed = as_list(client.get_service_requests())
    assert [r["service_request_id"] for r in listed] == [number, earlier.number]

    start = (dt.datetime.now(dt.UTC) - dt.timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    filtered = as_list(
        client.get_service_requests(
            service_code=f"{PLAIN_CODE},SX-06003", start_date=start, end_date=end, status="open,closed"
        )
    )
    assert [r["service_request_id"] for r in filtered] == [number]
    by_id = as_list(client.get_service_requests(service_request_id=f"{number},{earlier.number}"))
    assert {r["service_request_id"] for r in by_id} == {number, earlier.number}

    one = client.get_service_request(number)
    if fmt == "xml":
        one = one if isinstance(one, dict) and "service_request_id" in one else as_list(one)[0]
    assert one["service_request_id"] == number
    assert one["status"] == "open"
    assert one["description"] == "路灯不亮，晚上很黑。"

    with pytest.raises(requests.HTTPError) as caught:
        client.get_service_definition("NOPE-1")
    assert caught.value.response.status_code == 404
    with pytest.raises(requests.HTTPError) as caught:
        client.get_service_request("9999999999")
    assert caught.value.response.status_code == 404


def test_georeport_gets_an_empty_json_list_when_nothing_matches(live_server: Any, world: World) -> None:
    client = GeoReport(f"{live_server.url}/open311/v2", output_format="json")
    assert client.get_service_requests(status="closed") == []


def test_georeport_with_a_wrong_jurisdiction_gets_404(live_server: Any, world: World) -> None:
    client = GeoReport(f"{live_server.url}/open311/v2", jurisdiction="sfgov.org")
    with pytest.raises(requests.HTTPError) as caught:
        client.get_service_list()
    assert caught.value.response.status_code == 404
