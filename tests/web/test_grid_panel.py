"""The map's grid panel shows the grid's base data (registry) and party-building facts."""

from __future__ import annotations

import datetime as dt

from django.test import Client

from tests.registry.helpers import make_id
from tests.world import World
from yiwang.registry import actions


def test_grid_panel_counts_buildings_and_residents_of_that_grid_only(world: World) -> None:
    actions.create_building(actor=None, code="B-1", name="1号楼", grid=world.grid_a1, address="幸福路1号")
    actions.register_resident(actor=None, name="张三", id_number=make_id(), grid=world.grid_a1)
    actions.register_resident(
        actor=None, name="李四", id_number=make_id(dt.date(1950, 5, 5), seq=125), grid=world.grid_a1
    )
    actions.register_resident(actor=None, name="王五", id_number=make_id(seq=127), grid=world.grid_a2)
    client = Client()
    client.force_login(world.dispatcher_a)
    page = client.get(f"/map/grids/{world.grid_a1.code}/").content.decode()
    assert "<dt>楼栋</dt><dd>1</dd>" in page
    assert "<dt>实有人口</dt><dd>2</dd>" in page
    assert "<dt>60岁以上</dt><dd>1</dd>" in page
    assert "网格指导员" in page
    # Names stay off the panel except the publicised posts; ID numbers never appear.
    assert make_id() not in page
