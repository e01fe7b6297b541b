"""The demo step fills the sample grids with fictitious, valid, flagged data and can be reset."""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest

from tests.world import World
from yiwang.demo.registry import build_registry, delete_registry
from yiwang.party.models import Assignment, PartyMember
from yiwang.party.queries import party_panel
from yiwang.registry.models import Organisation, Resident
from yiwang.registry.queries import grid_counts
from yiwang.registry.validation import parse_credit_code, parse_id_number

pytestmark = pytest.mark.django_db


def test_the_demo_registry_is_valid_fictitious_and_resettable(world: World) -> None:
    for grid in (world.grid_a1, world.grid_a2, world.grid_b1):
        grid.center_lng, grid.center_lat = 120.005, 35.905
        grid.save()
    ctx = SimpleNamespace(rng=lambda key: random.Random(f"1:{key}"), scale=0.4)
    summary = build_registry(ctx)
    assert "实有人口" in summary
    residents = list(Resident.objects.all())
    assert residents
    assert all(r.is_demo for r in residents)
    assert {r.grid_id for r in residents} <= {world.grid_a1.pk, world.grid_a2.pk}  # the demo street only
    for resident in residents[:50]:
        assert parse_id_number(resident.id_number).sex == resident.sex
    assert all(parse_credit_code(o.credit_code) for o in Organisation.objects.exclude(credit_code=""))
    panel = party_panel(world.grid_a1)
    assert panel["grid_instructors"]["count"] == 1
    assert panel["sentinels"]["count"] == 3
    assert panel["property_companies"]
    assert grid_counts(world.grid_a1)["residents"] > 0
    delete_registry()
    assert not Resident.objects.exists()
    assert not PartyMember.objects.exists()
    assert not Assignment.objects.exists()
