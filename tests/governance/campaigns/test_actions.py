"""The campaign actions: transitions by role, targets frozen at start, inspections, findings as
cases of the pipeline, and bad input that writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.governance.campaigns.conftest import (
    AFTER,
    BEFORE,
    END,
    START,
    WEDNESDAY,
    Sites,
    draft,
    running,
    target_of,
)
from tests.world import World
from yiwang.cases.choices import CaseStatus, Channel
from yiwang.cases.errors import InvalidCaseInput
from yiwang.cases.models import Case
from yiwang.governance.campaigns import actions
from yiwang.governance.campaigns.actions import FindingInput
from yiwang.governance.campaigns.errors import (
    CampaignForbidden,
    CampaignNotFound,
    CampaignTransitionNotAllowed,
    InvalidCampaignInput,
)
from yiwang.governance.campaigns.models import (
    Campaign,
    CampaignEvent,
    CampaignFinding,
    CampaignInspection,
    CampaignStatus,
    CampaignTarget,
    EventKind,
)
from yiwang.registry import actions as registry_actions
from yiwang.registry.models import Resident

LATER = WEDNESDAY + dt.timedelta(hours=2)


# --- create -------------------------------------------------------------------------------------------


def test_create_makes_a_draft_with_one_event(world: World, sites: Sites) -> None:
    campaign = draft(world, actor=world.dispatcher_a, division=world.street_a)
    assert campaign.status == CampaignStatus.DRAFT
    assert campaign.targets.count() == 0
    assert list(campaign.events.values_list("kind", "to_status")) == [
        (EventKind.CREATED, CampaignStatus.DRAFT)
    ]


def test_create_takes_the_fields_usual_target_kind_when_none_is_given(world: World, sites: Sites) -> None:
    campaign = draft(world, field="fire_exit", target_kind="", target_filter="")
    assert campaign.target_kind == "building"


def test_a_campaign_ending_before_it_starts_is_refused_and_nothing_is_written(
    world: World, sites: Sites
) -> None:
    with pytest.raises(InvalidCampaignInput) as raised:
        draft(world, starts_on=END, ends_on=START)
    assert raised.value.field == "ends_on"
    assert "早于开始日期" in raised.value.zh
    assert "before it starts" in raised.value.en
    assert not Campaign.objects.exists()
    assert not CampaignEvent.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"field": "no-such-field"}, "field"),
        ({"title": "  "}, "title"),
        ({"coverage_goal": 0}, "coverage_goal"),
        ({"fix_goal": 101}, "fix_goal"),
        ({"target_kind": "planet"}, "target_kind"),
        ({"target_filter": "hospital"}, "target_filter"),  # an organisation kind, not a key-site kind
        ({"target_kind": "resident", "target_filter": ""}, "target_filter"),
    ],
)
def test_bad_campaign_input_names_the_field(world: World, sites: Sites, changes: dict, field: str) -> None:
    with pytest.raises(InvalidCampaignInput) as raised:
        draft(world, **changes)
    assert raised.value.field == field
    assert not Campaign.objects.exists()


def test_a_street_dispatcher_cannot_create_a_campaign_for_another_street_or_the_district(
    world: World, sites: Sites
) -> None:
    for area in (world.street_b, world.district):
        with pytest.raises(InvalidCampaignInput) as raised:
            draft(world, actor=world.dispatcher_a, division=area)
        assert raised.value.field == "division"


@pytest.mark.parametrize("persona", ["grid_worker_a1", "operator", "handler_a", "outsider"])
def test_roles_without_steering_cannot_create(world: World, sites: Sites, persona: str) -> None:
    with pytest.raises(CampaignForbidden):
        draft(world, actor=getattr(world, persona))


# --- start / close / cancel × role ------------------------------------------------------------------

# persona → expected outcome of start / close / cancel on a district campaign (None: allowed).
MATRIX: dict[str, dict[str, type[Exception] | None]] = {
    "admin": {"start": None, "close": None, "cancel": None},
    "leader": {"start": None, "close": None, "cancel": None},
    "dispatcher_a": {"start": None, "close": CampaignForbidden, "cancel": CampaignForbidden},
    "dispatcher_b": {"start": None, "close": CampaignForbidden, "cancel": CampaignForbidden},
    "grid_worker_a1": {"start": CampaignForbidden, "close": CampaignForbidden, "cancel": CampaignForbidden},
    "operator": {"start": CampaignNotFound, "close": CampaignNotFound, "cancel": CampaignNotFound},
    "handler_a": {"start": CampaignNotFound, "close": CampaignNotFound, "cancel": CampaignNotFound},
    "outsider": {"start": CampaignNotFound, "close": CampaignNotFound, "cancel": CampaignNotFound},
}


def _run(name: str, actor: object, campaign: Campaign) -> Campaign:
    if name == "start":
        return actions.start_campaign(actor=actor, campaign=campaign, at=WEDNESDAY)  # type: ignore[arg-type]
    if name == "close":
        return actions.close_campaign(actor=actor, campaign=campaign, at=LATER)  # type: ignore[arg-type]
    return actions.cancel_campaign(actor=actor, campaign=campaign, reason="上级统一部署调整", at=LATER)  # type: ignore[arg-type]


@pytest.mark.parametrize("persona", sorted(MATRIX))
@pytest.mark.parametrize("name", ["start", "close", "cancel"])
def test_every_transition_by_every_role(world: World, sites: Sites, persona: str, name: str) -> None:
    campaign = draft(world) if name == "start" else running(world)
    before = campaign.status
    events = campaign.events.count()
    expected = MATRIX[persona][name]
    if expected is None:
        changed = _run(name, getattr(world, persona), campaign)
        target = {"start": CampaignStatus.RUNNING, "close": CampaignStatus.CLOSED, "cancel": "cancelled"}[
            name
        ]
        assert changed.status == target
        last = changed.events.last()
        assert last is not None
        assert (last.from_status, last.to_status) == (before, target)
        assert last.actor == getattr(world, persona)
    else:
        with pytest.raises(expected):
            _run(name, getattr(world, persona), campaign)
        campaign.refresh_from_db()
        assert campaign.status == before
        assert campaign.events.count() == events


def test_start_freezes_the_selected_targets_of_the_area(world: World, sites: Sites) -> None:
    campaign = running(world, division=world.street_a)
    frozen = set(campaign.targets.values_list("key_site_id", flat=True))
    assert frozen == {s.pk for s in sites.a1} | {sites.a2.pk}  # not street B, not the nine-small site
    target = target_of(campaign, sites.a2)
    assert (target.grid_id, target.community_id, target.street_id) == (
        world.grid_a2.pk,
        world.community_a.pk,
        world.street_a.pk,
    )
    started = campaign.events.get(kind=EventKind.STARTED)
    assert started.data == {"targets": 4}


def test_targets_stay_frozen_when_the_register_changes(
    world: World, sites: Sites, campaign: Campaign
) -> None:
    sites.a1[0].name = "改名后的市场"
    sites.a1[0].save()
    assert target_of(campaign, sites.a1[0]).label == "农贸市场0"


def test_a_selection_without_targets_is_not_started(world: World, sites: Sites) -> None:
    campaign = draft(world, target_filter="fuel")
    with pytest.raises(InvalidCampaignInput):
        actions.start_campaign(actor=world.admin, campaign=campaign, at=WEDNESDAY)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT
    assert not campaign.targets.exists()


def test_a_campaign_whose_period_is_over_cannot_start(world: World, sites: Sites) -> None:
    with pytest.raises(InvalidCampaignInput):
        actions.start_campaign(actor=world.admin, campaign=draft(world), at=AFTER)


def test_self_built_house_campaign_targets_buildings_outside_estates(world: World, sites: Sites) -> None:
    campaign = running(world, field="self_built", target_kind="building", target_filter="no_estate")
    assert list(campaign.targets.values_list("building_id", flat=True)) == [sites.building.pk]


def test_listening_campaign_targets_tagged_residents_by_masked_name(world: World, sites: Sites) -> None:
    resident = registry_actions.register_resident(
        actor=None, name="王小明", id_number="370211195001010013", grid=world.grid_a1
    )
    registry_actions.tag_resident(resident.pk, "elderly_alone", actor=None)
    campaign = running(world, field="listening", target_kind="resident", target_filter="elderly_alone")
    target = campaign.targets.get()
    assert target.resident_id == resident.pk
    assert "小明" not in target.label
    assert target.label.startswith("王")
    assert Resident.objects.count() == 1


def test_cancel_needs_a_reason(world: World, sites: Sites) -> None:
    campaign = draft(world)
    with pytest.raises(InvalidCampaignInput):
        actions.cancel_campaign(actor=world.admin, campaign=campaign, reason=" ")
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


def test_closing_records_the_figures_in_the_event(world: World, campaign: Campaign, sites: Sites) -> None:
    actions.record_inspection(
        actor=world.grid_worker_a1, campaign=campaign, target=target_of(campaign, sites.a1[0]),
        outcome="visited", at=WEDNESDAY,
    )  # fmt: skip
    closed = actions.close_campaign(actor=world.leader, campaign=campaign, at=LATER)
    event = closed.events.get(kind=EventKind.CLOSED)
    assert event.data == {"targets": 5, "covered": 1, "found": 0, "fixed": 0}


# --- inspections ------------------------------------------------------------------------------------


def test_a_visit_covers_the_target_and_is_logged(world: World, campaign: Campaign, sites: Sites) -> None:
    target = target_of(campaign, sites.a1[0])
    inspection = actions.record_inspection(
        actor=world.grid_worker_a1,
        campaign=campaign,
        target=target,
        outcome="visited",
        note="已检查",
        at=WEDNESDAY,
    )
    target.refresh_from_db()
    assert target.covered_at == WEDNESDAY
    assert inspection.inspected_by == world.grid_worker_a1
    assert campaign.events.filter(kind=EventKind.INSPECTED).count() == 1


def test_an_unreachable_target_is_not_covered(world: World, campaign: Campaign, sites: Sites) -> None:
    target = target_of(campaign, sites.a1[1])
    actions.record_inspection(
        actor=world.grid_worker_a1, campaign=campaign, target=target, outcome="unreachable", at=WEDNESDAY
    )
    target.refresh_from_db()
    assert target.covered_at is None


@pytest.mark.parametrize("moment", [BEFORE, AFTER])
def test_an_inspection_outside_the_period_is_refused_and_nothing_is_written(
    world: World, campaign: Campaign, sites: Sites, moment: dt.datetime
) -> None:
    events = CampaignEvent.objects.count()
    with pytest.raises(InvalidCampaignInput) as raised:
        actions.record_inspection(
            actor=world.grid_worker_a1, campaign=campaign, target=target_of(campaign, sites.a1[0]),
            outcome="visited", at=moment,
        )  # fmt: skip
    assert raised.value.field == "at"
    assert "不在专项行动期间" in raised.value.zh
    assert not CampaignInspection.objects.exists()
    assert CampaignEvent.objects.count() == events


def test_an_inspection_on_a_target_of_another_campaign_is_refused(
    world: World, campaign: Campaign, sites: Sites
) -> None:
    other = running(world, title="另一个专项")
    with pytest.raises(InvalidCampaignInput) as raised:
        actions.record_inspection(
            actor=world.admin, campaign=campaign, target=target_of(other, sites.a1[0]), outcome="visited",
            at=WEDNESDAY,
        )  # fmt: skip
    assert raised.value.field == "target"
    assert "不属于本专项行动" in raised.value.zh
    assert not CampaignInspection.objects.exists()


def test_a_grid_worker_cannot_inspect_a_target_outside_their_grids(
    world: World, campaign: Campaign, sites: Sites
) -> None:
    with pytest.raises(CampaignNotFound):
        actions.record_inspection(
            actor=world.grid_worker_a1, campaign=campaign, target=target_of(campaign, sites.a2),
            outcome="visited", at=WEDNESDAY,
        )  # fmt: skip


def test_a_future_inspection_is_refused(world: World, sites: Sites) -> None:
    today = dt.date.today()
    campaign = running(world, starts_on=today - dt.timedelta(days=40), ends_on=today + dt.timedelta(days=30))
    with pytest.raises(InvalidCampaignInput):
        actions.record_inspection(
            actor=world.admin, campaign=campaign, target=target_of(campaign, sites.a1[0]), outcome="visited",
            at=dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
        )  # fmt: skip


def test_leaders_do_not_do_field_work(world: World, campaign: Campaign, sites: Sites) -> None:
    with pytest.raises(CampaignForbidden):
        actions.record_inspection(
            actor=world.leader, campaign=campaign, target=target_of(campaign, sites.a1[0]), outcome="visited",
            at=WEDNESDAY,
        )  # fmt: skip


# --- findings are cases -----------------------------------------------------------------------------


def test_a_finding_registers_a_grid_patrol_case_at_the_target(
    world: World, campaign: Campaign, sites: Sites
) -> None:
    target = target_of(campaign, sites.a1[0])
    finding = actions.report_finding(
        actor=world.grid_worker_a1,
        campaign=campaign,
        target=target,
        description="燃气软管老化开裂",
        at=WEDNESDAY,
    )
    case = finding.case
    assert case.channel == Channel.GRID_PATROL
    assert case.status == CaseStatus.REGISTERED
    assert case.category.code == "SX-01057"  # the gas field's default category
    assert case.grid_id == world.grid_a1.pk
    assert case.created_by == world.grid_worker_a1
    assert "燃气安全专项整治" in case.description
    assert "燃气软管老化开裂" in case.description
    assert case.events.count() == 1  # REGISTERED, by the normal pipeline
    assert campaign.events.filter(kind=EventKind.FINDING, data__case=case.number).exists()
    assert Case.objects.visible_to(world.grid_worker_a1).filter(pk=case.pk).exists()


def test_an_inspection_with_findings_registers_one_case_each(
    world: World, campaign: Campaign, sites: Sites
) -> None:
    inspection = actions.record_inspection(
        actor=world.grid_worker_a1, campaign=campaign, target=target_of(campaign, sites.a1[0]), outcome="visited",
        findings=[FindingInput("燃气报警器缺失"), FindingInput("通道堆放杂物", category="SX-09012")], at=WEDNESDAY,
    )  # fmt: skip
    codes = sorted(f.case.category.code for f in inspection.findings.all())
    assert codes == ["SX-01057", "SX-09012"]


def test_a_bad_finding_rolls_back_the_whole_visit(world: World, campaign: Campaign, sites: Sites) -> None:
    cases = Case.objects.count()
    with pytest.raises(InvalidCaseInput):  # the pipeline's own refusal of the category
        actions.record_inspection(
            actor=world.grid_worker_a1, campaign=campaign, target=target_of(campaign, sites.a1[0]),
            outcome="visited", findings=[FindingInput("ok"), FindingInput("bad", category="NO-SUCH")],
            at=WEDNESDAY,
        )  # fmt: skip
    assert Case.objects.count() == cases
    assert not CampaignInspection.objects.exists()
    assert not CampaignFinding.objects.exists()
    assert target_of(campaign, sites.a1[0]).covered_at is None


def test_findings_need_a_visit_that_reached_the_target(
    world: World, campaign: Campaign, sites: Sites
) -> None:
    with pytest.raises(InvalidCampaignInput):
        actions.record_inspection(
            actor=world.grid_worker_a1, campaign=campaign, target=target_of(campaign, sites.a1[0]),
            outcome="unreachable", findings=[FindingInput("隐患")], at=WEDNESDAY,
        )  # fmt: skip


def test_a_finding_on_a_closed_campaign_is_refused_and_no_case_is_registered(
    world: World, campaign: Campaign, sites: Sites
) -> None:
    target = target_of(campaign, sites.a1[0])
    actions.close_campaign(actor=world.leader, campaign=campaign, at=LATER)
    cases = Case.objects.count()
    with pytest.raises(CampaignTransitionNotAllowed) as raised:
        actions.report_finding(
            actor=world.grid_worker_a1, campaign=campaign, target=target, description="燃气泄漏", at=LATER
        )
    assert "已结束" in raised.value.zh
    assert Case.objects.count() == cases
    assert not CampaignFinding.objects.exists()


def test_a_field_without_default_category_needs_one_per_finding(world: World, sites: Sites) -> None:
    resident = registry_actions.register_resident(
        actor=None, name="李四", id_number="370211195001010013", grid=world.grid_a1
    )
    registry_actions.tag_resident(resident.pk, "elderly_alone", actor=None)
    campaign = running(world, field="listening", target_kind="resident", target_filter="elderly_alone")
    target = campaign.targets.get()
    with pytest.raises(InvalidCampaignInput) as raised:
        actions.report_finding(
            actor=world.admin, campaign=campaign, target=target, description="屋顶漏雨", at=WEDNESDAY
        )
    assert raised.value.field == "category"
    finding = actions.report_finding(
        actor=world.admin, campaign=campaign, target=target, description="屋顶漏雨", category="SX-06001",
        at=WEDNESDAY,
    )  # fmt: skip
    # No coordinates on the resident: the case is placed at the centre of the target's grid.
    assert finding.case.grid_id == world.grid_a1.pk


def test_targets_keep_their_place_in_the_order_of_the_register(world: World, campaign: Campaign) -> None:
    labels = list(
        CampaignTarget.objects.filter(campaign=campaign, grid=world.grid_a1).values_list("label", flat=True)
    )
    assert labels == ["农贸市场0", "农贸市场1", "农贸市场2"]
