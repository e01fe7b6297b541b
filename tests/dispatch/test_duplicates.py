"""Duplicate detection at intake: nearby, recent, open, visible and about the same matter."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from tests.world import World
from yiwang.cases import actions
from yiwang.cases.models import Case
from yiwang.dispatch.duplicates import _nearby, clear_profile_cache, distance_m, find_duplicates
from yiwang.grids import locator

TZ = ZoneInfo("Asia/Shanghai")
AT = dt.datetime(2026, 3, 11, 10, 0, tzinfo=TZ)
HERE = (120.005, 35.905)  # inside grid_a1 of the test world
NEAR = (120.005, 35.9059)  # ~100 m north
FAR = (120.015, 35.905)  # ~900 m east, in grid_a2

FUMES_TITLE = "金桂花园小区楼下烧烤店油烟扰民"
FUMES_TEXT = "金桂花园小区临街的烧烤店每天晚上油烟直排，油烟味飘进家里，窗户都不敢开。"
NEW_FUMES = "金桂花园小区底层烧烤店油烟太大\n金桂花园小区楼下烧烤店油烟直排，熏得没法开窗。"


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    locator.reset_cache()
    clear_profile_cache()
    yield
    locator.reset_cache()
    clear_profile_cache()


def make_case(world: World, point: tuple[float, float] = HERE, **kwargs: Any) -> Case:
    fields: dict[str, Any] = {
        "actor": world.operator,
        "channel": "hotline_12345",
        "category": "SX-06001",
        "title": FUMES_TITLE,
        "description": FUMES_TEXT,
        "lng": point[0],
        "lat": point[1],
        "at": AT - dt.timedelta(days=2),
    }
    fields.update(kwargs)
    return actions.create_case(**fields)


def find(**kwargs: Any) -> list[Any]:
    fields: dict[str, Any] = {"text": NEW_FUMES, "lng": NEAR[0], "lat": NEAR[1], "at": AT}
    fields.update(kwargs)
    return find_duplicates(**fields)


def test_same_matter_within_radius_and_window_is_a_likely_duplicate(world: World) -> None:
    case = make_case(world)
    found = find()
    assert [c.case_id for c in found] == [case.pk]
    assert found[0].is_likely
    assert 0 < found[0].score <= 1
    assert found[0].distance_m is not None
    assert 90 < found[0].distance_m < 110
    assert any("金桂花园" in r for r in found[0].reasons)


def test_case_outside_the_radius_is_not_offered(world: World) -> None:
    make_case(world, FAR)
    assert find() == []


def test_case_outside_the_time_window_is_not_offered(world: World) -> None:
    make_case(world, at=AT - dt.timedelta(days=40))
    assert find() == []


def test_radius_and_window_come_from_settings(world: World, settings: Any) -> None:
    make_case(world, FAR, at=AT - dt.timedelta(days=40))
    settings.YIWANG_DUPLICATE_RADIUS_M = 2000
    settings.YIWANG_DUPLICATE_WINDOW_DAYS = 60
    assert len(find()) == 1


def test_same_matter_ranks_above_another_problem_at_the_same_place(world: World) -> None:
    other = make_case(
        world,
        title="金桂花园小区路灯不亮",
        description="金桂花园小区门口的路灯坏了一个月，晚上出行很不安全。",
    )
    same = make_case(world, NEAR)
    found = find()
    assert found[0].case_id == same.pk
    assert all(c.case_id != other.pk or not c.is_likely for c in found)


def test_same_problem_at_another_named_estate_is_not_likely(world: World) -> None:
    make_case(
        world,
        title="银湖雅苑小区楼下烧烤店油烟扰民",
        description="银湖雅苑小区临街的烧烤店每天晚上油烟直排，油烟味飘进家里。",
    )
    assert all(not c.is_likely for c in find())


def test_user_without_scope_sees_no_candidates(world: World) -> None:
    make_case(world)
    assert find(user=world.outsider) == []
    assert find(user=world.dispatcher_b) == []  # another street
    assert len(find(user=world.dispatcher_a)) == 1


def test_merged_and_closed_cases_are_not_offered(world: World) -> None:
    target = make_case(world)
    merged = make_case(world, NEAR)
    actions.merge_cases(merged.pk, actor=world.dispatcher_a, into=target.pk)
    closed = make_case(world, NEAR)
    actions.answer_directly(closed.pk, actor=world.operator, answer="已答复")
    assert [c.case_id for c in find()] == [target.pk]


def test_the_case_itself_can_be_excluded(world: World) -> None:
    case = make_case(world)
    assert find(exclude_case_id=case.pk) == []


def test_without_a_location_the_same_category_is_searched(world: World) -> None:
    case = make_case(world)
    found = find(lng=None, lat=None, category=case.category)
    assert [c.case_id for c in found] == [case.pk]
    assert found[0].distance_m is None
    assert found[0].same_category


@pytest.mark.parametrize(
    "text",
    ["", "   \n\t  ", "！" * 4000, "a" * 4000, "Hello, the street light is broken 请 help 123"],
)
def test_empty_or_meaningless_text_gives_no_candidates(world: World, text: str) -> None:
    make_case(world)
    assert find(text=text) == []


def test_limit_caps_the_candidates(world: World) -> None:
    for _ in range(4):
        make_case(world)
    assert len(find(limit=2)) == 2
    assert find(limit=0) == []


def test_distance_is_about_right() -> None:
    assert 880 < distance_m(120.005, 35.905, 120.015, 35.905) < 920


def test_candidates_are_read_by_the_box_not_by_the_time_window(world: World) -> None:
    """Nearly every open case is inside the window; SQLite (no value statistics) scanned them all by
    the created_at index until the window's range was kept from its planner."""
    for n in range(30):
        make_case(world, (120.001 + n * 0.0003, 35.901 + n * 0.0002), at=AT - dt.timedelta(hours=n))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    nearby = _nearby(lng=NEAR[0], lat=NEAR[1], at=AT, category_id=None, exclude_case_id=None, user=None)
    sql, params = nearby.query.sql_with_params()  # type: ignore[attr-defined]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
            assert "USING INDEX case_open_place" in plan, plan
        else:  # PostgreSQL plans from its statistics: the column is left as it is
            assert '+"cases_case"."created_at"' not in sql
            cursor.execute(sql, params)
            assert cursor.fetchall()
