"""Fixtures of the web page tests: a signed-in test client per persona, and cases in each state."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.test import Client

from tests.world import World
from yiwang.cases import actions
from yiwang.cases.models import Case
from yiwang.people.models import User

# Inside grid_a1 of the test world (a 0.01° square with its south-west corner at 120.00, 35.90).
IN_GRID_A1 = (120.005, 35.905)


@pytest.fixture
def client_for(world: World) -> Callable[[User], Client]:
    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


def new_case(world: World, *, title: str = "路灯不亮", description: str = "小区门口路灯坏了三天") -> Case:
    return actions.create_case(
        actor=world.operator,
        channel="hotline_12345",
        category=first_category(),
        title=title,
        description=description,
        lng=IN_GRID_A1[0],
        lat=IN_GRID_A1[1],
        reporter_phone="13812345678",
    )


def first_category() -> str:
    from yiwang.cases.models import Category

    code: str = (
        Category.objects.filter(is_active=True, kind="demand", is_confidential=False)
        .order_by("code")
        .values_list("code", flat=True)[0]
    )
    return code


@pytest.fixture
def registered(world: World) -> Case:
    return new_case(world)


@pytest.fixture
def dispatched(world: World, registered: Case) -> Case:
    return actions.dispatch_case(registered, actor=world.dispatcher_a, lead=world.dept_a)


@pytest.fixture
def in_progress(world: World, dispatched: Case) -> Case:
    return actions.sign_case(dispatched, actor=world.handler_a)


@pytest.fixture(autouse=True)
def _chinese_by_default() -> Iterator[None]:
    # reverse() follows the active language; a test that opened an /en/ page must not leak it.
    from django.utils import translation

    translation.activate("zh-hans")
    yield
    translation.activate("zh-hans")
