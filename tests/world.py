"""A small district with one persona per role, shared by the scoping and workflow tests.

    黄岛区 (370211)
    ├── 长江路街道 (street_a) ── 社区A1 (community_a) ── grid_a1, grid_a2
    └── 大场镇     (street_b) ── 村B1   (community_b) ── grid_b1

Departments: 城管局 (dept_a) with a sub-unit 城管执法中队 (dept_a_sub); 水务集团 (dept_b).
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.factories import (
    DepartmentFactory,
    DivisionFactory,
    GridFactory,
    UserFactory,
    attach_to_grid,
    grant,
    make_community,
    make_street,
    square,
)
from yiwang.grids.models import Division, Grid
from yiwang.people.models import Department, DepartmentKind, Role, User


@dataclass
class World:
    district: Division
    street_a: Division
    street_b: Division
    community_a: Division
    community_b: Division
    grid_a1: Grid
    grid_a2: Grid
    grid_b1: Grid
    dept_a: Department
    dept_a_sub: Department
    dept_b: Department
    admin: User
    leader: User
    operator: User
    dispatcher_a: User
    dispatcher_b: User
    handler_a: User
    handler_a_sub: User
    handler_b: User
    grid_worker_a1: User
    outsider: User

    def personas(self) -> dict[str, User]:
        return {
            name: getattr(self, name)
            for name in (
                "admin",
                "leader",
                "operator",
                "dispatcher_a",
                "dispatcher_b",
                "handler_a",
                "handler_a_sub",
                "handler_b",
                "grid_worker_a1",
                "outsider",
            )
        }


def build_world() -> World:
    district = DivisionFactory(boundary=square(119.9, 35.8, 0.4))
    street_a = make_street(district, 5, "长江路街道")
    street_b = make_street(district, 104, "大场镇")
    community_a = make_community(street_a, 1, "社区A1")
    community_b = make_community(street_b, 201, "村B1")
    grid_a1 = GridFactory(
        community=community_a, code=f"{community_a.code}001", boundary=square(120.00, 35.90)
    )
    grid_a2 = GridFactory(
        community=community_a, code=f"{community_a.code}002", boundary=square(120.01, 35.90)
    )
    grid_b1 = GridFactory(
        community=community_b, code=f"{community_b.code}001", boundary=square(120.10, 35.90)
    )
    dept_a = DepartmentFactory(code="CG", name="城管局")
    dept_a_sub = DepartmentFactory(code="CG-01", name="城管执法中队", parent=dept_a)
    dept_b = DepartmentFactory(code="SW", name="水务集团", kind=DepartmentKind.PUBLIC_SERVICE)
    grid_worker = grant(UserFactory(username="grid_worker_a1"), Role.GRID_WORKER, division=community_a)
    attach_to_grid(grid_worker, grid_a1)
    return World(
        district=district,
        street_a=street_a,
        street_b=street_b,
        community_a=community_a,
        community_b=community_b,
        grid_a1=grid_a1,
        grid_a2=grid_a2,
        grid_b1=grid_b1,
        dept_a=dept_a,
        dept_a_sub=dept_a_sub,
        dept_b=dept_b,
        admin=grant(UserFactory(username="admin"), Role.ADMINISTRATOR, division=district),
        leader=grant(UserFactory(username="leader"), Role.LEADER, division=district),
        operator=grant(UserFactory(username="operator"), Role.HOTLINE_OPERATOR, division=district),
        dispatcher_a=grant(UserFactory(username="dispatcher_a"), Role.DISPATCHER, division=street_a),
        dispatcher_b=grant(UserFactory(username="dispatcher_b"), Role.DISPATCHER, division=street_b),
        handler_a=grant(UserFactory(username="handler_a"), Role.DEPARTMENT_HANDLER, department=dept_a),
        handler_a_sub=grant(
            UserFactory(username="handler_a_sub"), Role.DEPARTMENT_HANDLER, department=dept_a_sub
        ),
        handler_b=grant(UserFactory(username="handler_b"), Role.DEPARTMENT_HANDLER, department=dept_b),
        grid_worker_a1=grid_worker,
        outsider=UserFactory(username="outsider"),
    )
