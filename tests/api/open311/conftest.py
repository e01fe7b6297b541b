"""Fixtures of the Open311 tests: the world, an API key, a category with attributes, case builders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from tests.world import World
from yiwang.api.actions import create_api_key
from yiwang.api.models import ApiKey
from yiwang.cases import actions
from yiwang.cases.models import Case, Category, CategoryAttribute
from yiwang.grids import locator

BASE = "/open311/v2"
IN_A1 = (120.005, 35.905)  # (lng, lat) inside grid_a1 of the world
IN_B1 = (120.105, 35.905)
OUTSIDE = (121.5, 36.6)
PLAIN_CODE = "SX-06001"  # a public category without attributes
ATTR_CODE = "BJ-01001"  # a public category given attributes by the ``attributes`` fixture
FORM = "application/x-www-form-urlencoded; charset=utf-8"


@pytest.fixture(autouse=True)
def _fresh_state() -> Iterator[None]:
    # The world's grids are new rows in every test (the locator index must not be reused) and the
    # rate-limit counters live in the process-wide cache.
    locator.reset_cache()
    cache.clear()
    yield
    locator.reset_cache()
    cache.clear()


@pytest.fixture
def api_key(world: World) -> tuple[ApiKey, str]:
    return create_api_key(world.admin, "测试应用", organisation="黄岛区大数据局")


@pytest.fixture
def raw_key(api_key: tuple[ApiKey, str]) -> str:
    return api_key[1]


@pytest.fixture
def attributes(db: None) -> Category:
    """``BJ-01001`` gets one attribute of every datatype (plus an informational line)."""
    category = Category.objects.get(code=ATTR_CODE)
    rows: list[dict[str, Any]] = [
        {
            "code": "STATE",
            "datatype": "singlevaluelist",
            "required": True,
            "description": "井盖状态",
            "values": [{"key": "missing", "name": "缺失"}, {"key": "broken", "name": "破损"}],
        },
        {
            "code": "HAZARDS",
            "datatype": "multivaluelist",
            "description": "周边隐患",
            "values": [
                {"key": "traffic", "name": "车流"},
                {"key": "kids", "name": "儿童"},
                {"key": "night", "name": "夜间无照明"},
            ],
        },
        {
            "code": "DEPTH",
            "datatype": "number",
            "description": "井深（米）",
            "datatype_description": "数字，单位米",
        },
        {"code": "SEEN_AT", "datatype": "datetime", "description": "发现时间"},
        {"code": "PLACE", "datatype": "string", "description": "具体位置"},
        {"code": "DETAIL", "datatype": "text", "description": "补充说明"},
        {"code": "SAFETY", "datatype": "text", "variable": False, "description": "如有人员坠井请立即拨打110"},
    ]
    for order, row in enumerate(rows, start=1):
        CategoryAttribute.objects.create(category=category, order=order, **row)
    return category


def parse_xml(body: bytes) -> ET.Element:
    """Parse one of our own responses (trusted: the server under test wrote it)."""
    return ET.fromstring(body)  # noqa: S314


def form(pairs: dict[str, Any] | Sequence[tuple[str, str]]) -> str:
    return urlencode(pairs, doseq=True) if isinstance(pairs, dict) else urlencode(list(pairs))


def post(client: Client, fmt: str = "json", pairs: Any = (), **extra: Any) -> Any:
    return client.post(f"{BASE}/requests.{fmt}", data=form(pairs), content_type=FORM, **extra)


def report(raw_key: str, **fields: Any) -> dict[str, Any]:
    """A valid POST body for the plain category, located in grid A1."""
    data: dict[str, Any] = {
        "api_key": raw_key,
        "service_code": PLAIN_CODE,
        "lat": IN_A1[1],
        "long": IN_A1[0],
        "description": "小区门口垃圾三天没人清运。",
    }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not None}


def hotline_case(world: World, *, days_ago: float = 1, **kwargs: Any) -> Case:
    """A case registered at the hotline ``days_ago`` days ago (public unless told otherwise)."""
    fields: dict[str, Any] = {
        "actor": world.operator,
        "channel": "hotline_12345",
        "category": PLAIN_CODE,
        "title": "路边垃圾堆积",
        "description": "小区门口垃圾三天没人清运。",
        "lng": IN_A1[0],
        "lat": IN_A1[1],
        "address": "长江路街道某小区东门",
        "reporter_name": "张三",
        "reporter_phone": "13812341234",
        "at": timezone.now() - dt.timedelta(days=days_ago),
    }
    fields.update(kwargs)
    return actions.create_case(**fields)


def closed_case(world: World, **kwargs: Any) -> Case:
    case = hotline_case(world, **kwargs)
    at = case.created_at
    actions.dispatch_case(case.pk, actor=world.admin, lead=world.dept_a, at=at)
    actions.sign_case(case.pk, actor=world.handler_a, at=at + dt.timedelta(hours=1))
    actions.resolve_case(case.pk, actor=world.handler_a, result="已清运完毕", at=at + dt.timedelta(hours=2))
    return actions.verify_case(case.pk, actor=world.admin, passed=True, at=at + dt.timedelta(hours=3))
