"""Who sees which campaigns, targets and findings: area roles by area subtree (a campaign that
covers their area included), grid workers by their grids, everyone else nothing."""

from __future__ import annotations

import pytest

from tests.governance.campaigns.conftest import Sites, running
from tests.world import World
from yiwang.governance.campaigns.models import Campaign, CampaignTarget

VISIBLE = {
    "admin": {"district", "street_a", "street_b", "community_a"},
    "leader": {"district", "street_a", "street_b", "community_a"},
    "dispatcher_a": {"district", "street_a", "community_a"},
    "dispatcher_b": {"district", "street_b"},
    "grid_worker_a1": {"district", "street_a", "community_a"},
    "operator": set(),
    "handler_a": set(),
    "outsider": set(),
}


@pytest.fixture
def campaigns(world: World, sites: Sites) -> dict[str, Campaign]:
    return {
        area: running(world, division=getattr(world, area), title=f"专项-{area}")
        for area in ("district", "street_a", "street_b", "community_a")
    }


@pytest.mark.parametrize("persona", sorted(VISIBLE))
def test_campaigns_visible_by_persona(world: World, campaigns: dict[str, Campaign], persona: str) -> None:
    seen = set(Campaign.objects.visible_to(getattr(world, persona)).values_list("title", flat=True))
    assert seen == {f"专项-{area}" for area in VISIBLE[persona]}


def test_a_grid_worker_sees_only_the_targets_of_their_grids(
    world: World, campaigns: dict[str, Campaign]
) -> None:
    grids = set(
        CampaignTarget.objects.visible_to(world.grid_worker_a1)
        .filter(campaign=campaigns["district"])
        .values_list("grid_id", flat=True)
    )
    assert grids == {world.grid_a1.pk}


def test_a_street_dispatcher_sees_the_targets_of_their_street(
    world: World, campaigns: dict[str, Campaign]
) -> None:
    targets = CampaignTarget.objects.visible_to(world.dispatcher_a).filter(campaign=campaigns["district"])
    assert set(targets.values_list("street_id", flat=True)) == {world.street_a.pk}
    assert targets.count() == 4


def test_a_grid_worker_of_another_community_does_not_see_a_community_campaign(
    world: World, campaigns: dict[str, Campaign]
) -> None:
    from tests.factories import UserFactory, attach_to_grid, grant
    from yiwang.people.models import Role

    other = grant(UserFactory(username="gw_b1"), Role.GRID_WORKER, division=world.community_b)
    attach_to_grid(other, world.grid_b1)
    seen = set(Campaign.objects.visible_to(other).values_list("title", flat=True))
    assert seen == {"专项-district", "专项-street_b"}
