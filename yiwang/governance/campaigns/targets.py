"""Which registry rows a campaign targets, and their frozen copies (:class:`CampaignTarget`).

A selection is a target kind plus an optional filter (a key-site or organisation kind, a
resident tag code, ``no_estate`` for buildings outside any estate: the self-built houses), applied
to the campaign's division subtree when the campaign starts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import Q

from yiwang.core.pii import mask_name
from yiwang.governance.campaigns.errors import InvalidCampaignInput
from yiwang.governance.campaigns.models import Campaign, CampaignTarget, TargetKind
from yiwang.grids.models import Division, DivisionLevel, Grid
from yiwang.registry.models import (
    Building,
    KeyGroupTag,
    KeySite,
    KeySiteKind,
    Organisation,
    OrganisationKind,
    Resident,
    ResidentStatus,
    visible_tag_ids,
)

NO_ESTATE = "no_estate"


def filter_choices(kind: str) -> list[tuple[str, str]]:
    """The filters a selection of ``kind`` accepts (value, label); "" always means all."""
    if kind == TargetKind.KEY_SITE:
        return [(str(v), str(label)) for v, label in KeySiteKind.choices]
    if kind == TargetKind.ORGANISATION:
        return [(str(v), str(label)) for v, label in OrganisationKind.choices]
    if kind == TargetKind.BUILDING:
        return [(NO_ESTATE, "小区外楼栋（自建房）")]
    if kind == TargetKind.RESIDENT:
        return [(t.code, t.name) for t in KeyGroupTag.objects.all()]
    return []


def check_selection(kind: str, target_filter: str, actor: Any) -> None:
    """Refuse an unknown kind or filter; a resident selection needs a tag the actor may see."""
    if kind not in TargetKind.values:
        raise InvalidCampaignInput(
            f"未知的目标类型：{kind}", f"unknown target kind: {kind}", field="target_kind"
        )
    if kind == TargetKind.RESIDENT:
        tag = KeyGroupTag.objects.filter(code=target_filter).first()
        if tag is None or (actor is not None and tag.pk not in visible_tag_ids(actor)):
            raise InvalidCampaignInput(
                "走访重点人群须选择一个可见的居民标签",
                "a resident campaign needs a resident tag you may see",
                field="target_filter",
            )
        return
    if target_filter and target_filter not in {v for v, _ in filter_choices(kind)}:
        raise InvalidCampaignInput(
            f"目标筛选“{target_filter}”不适用于该目标类型",
            f"filter '{target_filter}' does not apply to target kind {kind}",
            field="target_filter",
        )


def _area(division: Division, grid_path: str) -> Q:
    level = division.level
    if level == DivisionLevel.DISTRICT:
        return Q(**{f"{grid_path}__community__district_id": division.pk})
    if level == DivisionLevel.STREET:
        return Q(**{f"{grid_path}__community__street_id": division.pk})
    return Q(**{f"{grid_path}__community_id": division.pk})


def _target(campaign: Campaign, grid: Grid, **values: Any) -> CampaignTarget:
    community = grid.community
    return CampaignTarget(
        campaign=campaign,
        kind=campaign.target_kind,
        grid=grid,
        community=community,
        street_id=community.street_id,
        district_id=community.district_id,
        **values,
    )


def _key_sites(campaign: Campaign) -> Iterator[CampaignTarget]:
    rows = KeySite.objects.filter(_area(campaign.division, "grid")).select_related("grid__community")
    if campaign.target_filter:
        rows = rows.filter(kind=campaign.target_filter)
    for site in rows.order_by("pk"):
        yield _target(
            campaign,
            site.grid,
            key_site=site,
            label=site.name,
            address=site.address,
            lng=site.lng,
            lat=site.lat,
        )


def _buildings(campaign: Campaign) -> Iterator[CampaignTarget]:
    rows = Building.objects.filter(_area(campaign.division, "grid")).select_related(
        "grid__community", "estate"
    )
    if campaign.target_filter == NO_ESTATE:
        rows = rows.filter(estate__isnull=True)
    for building in rows.order_by("pk"):
        yield _target(
            campaign, building.grid, building=building, label=str(building), address=building.address,
            lng=building.lng, lat=building.lat,
        )  # fmt: skip


def _organisations(campaign: Campaign) -> Iterator[CampaignTarget]:
    rows = Organisation.objects.filter(_area(campaign.division, "grid")).select_related("grid__community")
    if campaign.target_filter:
        rows = rows.filter(kind=campaign.target_filter)
    for org in rows.order_by("pk"):
        yield _target(
            campaign,
            org.grid,
            organisation=org,
            label=org.name,
            address=org.address,
            lng=org.lng,
            lat=org.lat,
        )


def _residents(campaign: Campaign) -> Iterator[CampaignTarget]:
    rows = (
        Resident.objects.filter(_area(campaign.division, "grid"), status=ResidentStatus.ACTIVE)
        .filter(tags__code=campaign.target_filter)
        .select_related("grid__community", "house__building")
        .distinct()
    )
    for person in rows.order_by("pk"):
        building = person.house.building if person.house_id and person.house else None
        # A person is shown by masked name only: the campaign pages are not the register.
        yield _target(
            campaign, person.grid, resident=person, label=mask_name(person.name),
            address=str(building) if building else "", lng=building.lng if building else None,
            lat=building.lat if building else None,
        )  # fmt: skip


_SELECTORS = {
    TargetKind.KEY_SITE: _key_sites,
    TargetKind.BUILDING: _buildings,
    TargetKind.ORGANISATION: _organisations,
    TargetKind.RESIDENT: _residents,
}


def select_targets(campaign: Campaign) -> list[CampaignTarget]:
    """The (unsaved) targets of ``campaign``'s selection in its area, in a stable order."""
    return list(_SELECTORS[TargetKind(campaign.target_kind)](campaign))


def count_targets(campaign: Campaign) -> int:
    """How many targets the selection would freeze now (shown on a draft)."""
    return len(select_targets(campaign))
