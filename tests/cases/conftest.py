"""Fixtures of the case tests: points inside the world's grids, a category, and case builders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.world import World
from yiwang.cases import actions
from yiwang.cases.models import Case, Category

TZ = ZoneInfo("Asia/Shanghai")
IN_A1 = (120.005, 35.905)
IN_A2 = (120.015, 35.905)
IN_B1 = (120.105, 35.905)
OUTSIDE = (121.5, 36.6)  # in China, far from every grid of the world
# Wednesday 11 March 2026, 10:00 Beijing time: a plain working week.
WEDNESDAY = dt.datetime(2026, 3, 11, 10, 0, tzinfo=TZ)


@pytest.fixture
def category(db: None) -> Category:
    return Category.objects.get(code="SX-06001")


def new_case(world: World, point: tuple[float, float] = IN_A1, **kwargs: Any) -> Case:
    fields: dict[str, Any] = {
        "actor": world.operator,
        "channel": "hotline_12345",
        "category": "SX-06001",
        "title": "路边垃圾堆积",
        "description": "小区门口垃圾三天没人清运。",
        "lng": point[0],
        "lat": point[1],
        "at": WEDNESDAY,
    }
    fields.update(kwargs)
    return actions.create_case(**fields)


def dispatched_case(world: World, point: tuple[float, float] = IN_A1, **kwargs: Any) -> Case:
    case = new_case(world, point, **kwargs)
    return actions.dispatch_case(
        case.pk,
        actor=world.admin,
        lead=world.dept_a,
        assisting=[world.dept_b],
        at=kwargs.get("at", WEDNESDAY),
    )


def in_progress_case(world: World, **kwargs: Any) -> Case:
    case = dispatched_case(world, **kwargs)
    return actions.sign_case(case.pk, actor=world.handler_a, at=kwargs.get("at", WEDNESDAY))


@pytest.fixture(autouse=True)
def _fresh_limits() -> Iterator[None]:
    # Policies are edited inside tests; the per-process cache must not carry answers across.
    from yiwang.cases import sla

    sla.clear_limits_cache()
    yield
    sla.clear_limits_cache()
