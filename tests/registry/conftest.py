from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from tests.world import World
from yiwang.registry import actions
from yiwang.registry.models import Building, House, KeyGroupTag, Resident

from .helpers import make_id


@pytest.fixture(autouse=True)
def _key_group_tags(db: None) -> None:
    """The tags come from a data migration; a transactional test elsewhere may have flushed them."""
    if not KeyGroupTag.objects.exists():
        importlib.import_module("yiwang.registry.migrations.0002_seed_key_group_tags").seed(apps, None)


@pytest.fixture
def building_a1(world: World) -> Building:
    return actions.create_building(
        actor=None,
        code="B-A1-1",
        name="1号楼",
        grid=world.grid_a1,
        address="长江路1号",
        estate_name="海润小区",
    )


@pytest.fixture
def house_a1(building_a1: Building) -> House:
    return actions.create_house(actor=None, building=building_a1, unit="1单元", room="301")


@pytest.fixture
def resident_a1(world: World, house_a1: House) -> Resident:
    return actions.register_resident(
        actor=None, name="张三", id_number=make_id(), phone="13812341234", grid=world.grid_a1, house=house_a1
    )


@pytest.fixture
def resident_b1(world: World) -> Resident:
    return actions.register_resident(
        actor=None, name="李四", id_number=make_id(seq=124), phone="13900001111", grid=world.grid_b1
    )
