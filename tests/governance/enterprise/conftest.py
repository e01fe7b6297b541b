"""The channel on top of the shared test world: two banks, a counsellor, two enterprises (one per
street) with one signed-in user each."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from tests.factories import DepartmentFactory, UserFactory, grant
from tests.world import World
from yiwang.governance.enterprise import actions
from yiwang.governance.enterprise.models import Demand, Enterprise, FinancialInstitution
from yiwang.people.models import DepartmentKind, Role, User
from yiwang.registry.validation import uscc_check_character

IN_GRID_A1 = (120.005, 35.905)
IN_GRID_B1 = (120.105, 35.905)


def credit_code(n: int) -> str:
    """A valid unified social credit code (GB 32100 check character) for test enterprise ``n``."""
    first17 = f"91370211MA{n:07d}"
    return first17 + uscc_check_character(first17)


@dataclass
class Channel:
    world: World
    bank: FinancialInstitution
    bank2: FinancialInstitution
    banker: User
    banker2: User
    counsellor: User
    ent_a: Enterprise
    ent_b: Enterprise
    user_a: User
    user_b: User

    def personas(self) -> dict[str, User]:
        w = self.world
        return {
            "admin": w.admin,
            "leader": w.leader,
            "dispatcher_a": w.dispatcher_a,
            "dispatcher_b": w.dispatcher_b,
            "operator": w.operator,
            "handler_a": w.handler_a,
            "banker": self.banker,
            "banker2": self.banker2,
            "counsellor": self.counsellor,
            "user_a": self.user_a,
            "user_b": self.user_b,
            "outsider": w.outsider,
        }


def _institution(code: str, name: str) -> FinancialInstitution:
    dept = DepartmentFactory(code=code, name=name, kind=DepartmentKind.PUBLIC_SERVICE)
    return FinancialInstitution.objects.create(department=dept, kind="bank")


@pytest.fixture
def channel(world: World) -> Channel:
    bank = _institution("BK-ICBC", "工商银行西海岸支行")
    bank2 = _institution("BK-QD", "青岛银行西海岸支行")
    banker = grant(UserFactory(username="banker"), Role.DEPARTMENT_HANDLER, department=bank.department)
    banker2 = grant(UserFactory(username="banker2"), Role.DEPARTMENT_HANDLER, department=bank2.department)
    counsellor = grant(UserFactory(username="counsellor"), Role.FINANCE_COUNSELLOR, division=world.street_a)
    ent_a = actions.register_enterprise(
        actor=None,
        name="青岛甲制造有限公司",
        credit_code=credit_code(1),
        grid=world.grid_a1,
        industry="C",
        lng=IN_GRID_A1[0],
        lat=IN_GRID_A1[1],
        contact_name="张经理",
        contact_phone="13912345678",
        counsellor=counsellor,
    )
    ent_b = actions.register_enterprise(
        actor=None,
        name="青岛乙物流有限公司",
        credit_code=credit_code(2),
        grid=world.grid_b1,
        industry="G",
        lng=IN_GRID_B1[0],
        lat=IN_GRID_B1[1],
    )
    user_a = grant(UserFactory(username="ent_a"), Role.ENTERPRISE, division=world.street_a)
    user_b = grant(UserFactory(username="ent_b"), Role.ENTERPRISE, division=world.street_b)
    actions.link_enterprise_user(ent_a.pk, user_a, actor=None)
    actions.link_enterprise_user(ent_b.pk, user_b, actor=None)
    return Channel(world, bank, bank2, banker, banker2, counsellor, ent_a, ent_b, user_a, user_b)


def financing(actor: User, **overrides: Any) -> Demand:
    fields: dict[str, Any] = {
        "kind": "financing",
        "description": "扩大产能需要流动资金",
        "purpose": "购买原材料",
        "amount_requested": Decimal("5000000"),
        "term_months": 12,
        "collateral": "equipment",
    }
    fields.update(overrides)
    return actions.file_demand(actor=actor, **fields)


def at_stage(ch: Channel, stage: str, *, owner: User | None = None) -> Demand:
    """A demand of enterprise A (or ``owner``'s) taken to ``stage`` by the right actors."""
    demand = financing(owner or ch.user_a)
    if stage == "submitted":
        return demand
    actions.route_demand(demand.pk, actor=ch.world.admin, department=ch.bank.department)
    if stage == "routed":
        return Demand.objects.get(pk=demand.pk)
    actions.accept_demand(demand.pk, actor=ch.banker)
    if stage == "accepted":
        return Demand.objects.get(pk=demand.pk)
    actions.conclude_demand(demand.pk, actor=ch.banker, amount_granted="3000000")
    if stage == "concluded":
        return Demand.objects.get(pk=demand.pk)
    actions.record_demand_callback(demand.pk, actor=ch.world.admin, satisfaction="satisfied")
    if stage == "closed":
        return Demand.objects.get(pk=demand.pk)
    raise ValueError(stage)


@pytest.fixture
def client_for() -> Callable[[User], Client]:
    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make
