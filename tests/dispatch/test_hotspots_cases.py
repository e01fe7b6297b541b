"""Hotspots among cases: the map/report entry point reads a scoped queryset."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tests.world import World
from yiwang.cases import actions
from yiwang.cases.models import Case
from yiwang.dispatch.hotspots import hotspots_for_cases

TZ = ZoneInfo("Asia/Shanghai")
AT = dt.datetime(2026, 3, 11, 10, 0, tzinfo=TZ)


def report(world: World, title: str, description: str, phone: str, days: int) -> Case:
    return actions.create_case(
        actor=world.operator,
        channel="hotline_12345",
        category="SX-06001",
        title=title,
        description=description,
        lng=120.005,
        lat=35.905,
        reporter_phone=phone,
        at=AT - dt.timedelta(days=days),
    )


def test_cases_about_one_estate_make_one_hotspot_within_the_period(world: World) -> None:
    a = report(world, "翠湖花园小区楼下餐馆油烟扰民", "翠湖花园小区餐馆油烟直排。", "13800000001", 3)
    b = report(world, "翠湖花园小区夜宵摊油烟噪音", "翠湖花园小区楼下夜宵摊油烟大还吵。", "13800000002", 2)
    report(world, "咨询社保卡补办", "社保卡丢了怎么补办？", "13800000003", 1)
    old = report(world, "翠湖花园小区餐馆油烟扰民", "翠湖花园小区餐馆油烟。", "13800000004", 200)
    hotspots = hotspots_for_cases(
        Case.objects.visible_to(world.dispatcher_a), start=AT - dt.timedelta(days=30), end=AT
    )
    assert [set(h.message_ids) for h in hotspots] == [{a.number, b.number}]
    assert old.number not in hotspots[0].message_ids
    assert hotspots[0].reporters == 2
    assert hotspots[0].center == pytest.approx((120.005, 35.905))


def test_out_of_scope_cases_make_no_hotspot(world: World) -> None:
    report(world, "翠湖花园小区楼下餐馆油烟扰民", "翠湖花园小区餐馆油烟直排。", "13800000001", 3)
    report(world, "翠湖花园小区夜宵摊油烟噪音", "翠湖花园小区楼下夜宵摊油烟大还吵。", "13800000002", 2)
    assert hotspots_for_cases(Case.objects.visible_to(world.dispatcher_b)) == []
