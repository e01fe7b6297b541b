"""Fixtures of the campaign tests: the world with key sites, buildings and residents, a campaign
on it, and points inside its grids."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest

from tests.world import World
from yiwang.governance.campaigns import actions
from yiwang.governance.campaigns.fields import ensure_default_fields
from yiwang.governance.campaigns.models import Campaign, CampaignField, CampaignTarget
from yiwang.registry.models import Building, KeySite

TZ = ZoneInfo("Asia/Shanghai")
IN_A1 = (120.005, 35.905)
IN_A2 = (120.015, 35.905)
IN_B1 = (120.105, 35.905)
START = dt.date(2026, 3, 1)
END = dt.date(2026, 3, 31)
# Wednesday 11 March 2026, 10:00 Beijing time: inside the period, a plain working week.
WEDNESDAY = dt.datetime(2026, 3, 11, 10, 0, tzinfo=TZ)
BEFORE = dt.datetime(2026, 2, 27, 10, 0, tzinfo=TZ)
AFTER = dt.datetime(2026, 4, 2, 10, 0, tzinfo=TZ)


@dataclass
class Sites:
    a1: list[KeySite]  # three crowded sites in grid_a1 (the grid worker's grid)
    a2: KeySite  # crowded, grid_a2 (same community, not the grid worker's)
    b1: KeySite  # crowded, grid_b1 (street B)
    small: KeySite  # a nine-small site in grid_a1: not selected by a "crowded" campaign
    building: Building  # in grid_a1, outside any estate


def _site(name: str, grid: object, point: tuple[float, float], kind: str = "crowded") -> KeySite:
    return KeySite.objects.create(name=name, kind=kind, grid=grid, lng=point[0], lat=point[1], address=name)


@pytest.fixture
def sites(world: World) -> Sites:
    ensure_default_fields()
    return Sites(
        a1=[_site(f"农贸市场{i}", world.grid_a1, IN_A1) for i in range(3)],
        a2=_site("商场A2", world.grid_a2, IN_A2),
        b1=_site("集市B1", world.grid_b1, IN_B1),
        small=_site("小餐馆", world.grid_a1, IN_A1, kind="nine_small"),
        building=Building.objects.create(
            code="B-A1-1", name="1号楼", address="长江路1号", grid=world.grid_a1, lng=IN_A1[0], lat=IN_A1[1]
        ),
    )


def gas_field() -> CampaignField:
    return CampaignField.objects.get(code="gas")


def draft(world: World, **kwargs: object) -> Campaign:
    fields: dict[str, object] = {
        "actor": world.admin,
        "field": "gas",
        "title": "燃气安全专项整治",
        "division": world.district,
        "starts_on": START,
        "ends_on": END,
        "target_kind": "key_site",
        "target_filter": "crowded",
        "at": WEDNESDAY - dt.timedelta(days=12),
    }
    fields.update(kwargs)
    return actions.create_campaign(**fields)  # type: ignore[arg-type]


def running(world: World, **kwargs: object) -> Campaign:
    campaign = draft(world, **kwargs)
    return actions.start_campaign(actor=world.admin, campaign=campaign, at=WEDNESDAY - dt.timedelta(days=10))


def target_of(campaign: Campaign, site: KeySite) -> CampaignTarget:
    return CampaignTarget.objects.get(campaign=campaign, key_site=site)


@pytest.fixture
def campaign(world: World, sites: Sites) -> Campaign:
    return running(world)
