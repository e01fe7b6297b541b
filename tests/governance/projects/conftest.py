"""A key project in 长江路街道 (street_a) of the shared test world.

Owner: handler_a (城管局, dept_a). Node 1: handler_a_sub (城管执法中队); node 2: handler_b (水务集团).
The clock is fixed at Monday 2026-03-02 10:00 Beijing time: the project runs 2026-01-05 … 2026-06-30.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.world import World
from yiwang.governance.projects import actions
from yiwang.governance.projects.models import Node, Project

NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
TODAY = NOW.date()


@dataclass
class ProjectWorld:
    world: World
    project: Project
    node1: Node
    node2: Node


def new_project(world: World, *, name: str = "港区道路提升工程", division: object = None) -> Project:
    return actions.create_project(
        world.leader,
        name=name,
        division=division or world.street_a,  # type: ignore[arg-type]
        owner=world.handler_a,
        owner_department=world.dept_a,
        start_date=dt.date(2026, 1, 5),
        end_date=dt.date(2026, 6, 30),
        description="道路拓宽与管网改造",
        lng=120.01,
        lat=35.91,
    )


def build(world: World, *, started: bool = True) -> ProjectWorld:
    project = new_project(world)
    node1 = actions.add_node(
        world.leader,
        project,
        name="征迁完成",
        deadline=dt.date(2026, 3, 31),
        target_value="100",
        unit="户",
        responsible=world.handler_a_sub,
        responsible_department=world.dept_a_sub,
    )
    node2 = actions.add_node(
        world.leader,
        project,
        name="管网铺设",
        deadline=dt.date(2026, 5, 29),
        target_value="12",
        unit="公里",
        responsible=world.handler_b,
        responsible_department=world.dept_b,
    )
    if started:
        actions.approve_project(world.leader, project)
        actions.start_project(world.leader, project)
    project.refresh_from_db()
    return ProjectWorld(world, project, node1, node2)


@pytest.fixture
def clock() -> object:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def pw(world: World, clock: object) -> ProjectWorld:
    return build(world)
