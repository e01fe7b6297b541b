"""Progress on a hand-computed fixture, and progress following the status of the finding cases."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.governance.campaigns.conftest import WEDNESDAY, Sites, target_of
from tests.world import World
from yiwang.cases import actions as case_actions
from yiwang.governance.campaigns import actions
from yiwang.governance.campaigns.actions import FindingInput
from yiwang.governance.campaigns.models import Campaign, CampaignFinding
from yiwang.governance.campaigns.progress import Tally, campaign_progress

LATER = WEDNESDAY + dt.timedelta(hours=1)
MUCH_LATER = WEDNESDAY + dt.timedelta(days=60)


def _visit(
    world: World, actor: object, campaign: Campaign, site: object, outcome: str = "visited", *found: str
) -> None:
    actions.record_inspection(
        actor=actor, campaign=campaign, target=target_of(campaign, site), outcome=outcome,  # type: ignore[arg-type]
        findings=[FindingInput(text) for text in found], at=WEDNESDAY,
    )  # fmt: skip


def _case(campaign: Campaign, text: str) -> int:
    return CampaignFinding.objects.get(campaign=campaign, case__description__contains=text).case_id


def _fix(world: World, case_id: int) -> None:
    case_actions.dispatch_case(case_id, actor=world.admin, lead=world.dept_a, at=LATER)
    case_actions.sign_case(case_id, actor=world.handler_a, at=LATER)
    case_actions.resolve_case(case_id, actor=world.handler_a, result="已更换燃气软管", at=LATER)
    case_actions.verify_case(case_id, actor=world.admin, passed=True, at=LATER)


@pytest.fixture
def worked(world: World, sites: Sites, campaign: Campaign) -> Campaign:
    """5 targets (a1 ×3, a2, b1). Visits: a1[0] visited with F1, a1[1] unreachable, a1[2] visited,
    b1 visited with F2 and F3; F4 reported at a2 without a visit. F1 fixed (closed), F2 dispatched
    and overdue by ``MUCH_LATER``, F3 invalidated (void), F4 registered (open, no clock)."""
    _visit(world, world.grid_worker_a1, campaign, sites.a1[0], "visited", "F1软管老化")
    _visit(world, world.grid_worker_a1, campaign, sites.a1[1], "unreachable")
    _visit(world, world.grid_worker_a1, campaign, sites.a1[2], "visited")
    _visit(world, world.dispatcher_b, campaign, sites.b1, "visited", "F2未装报警器", "F3重复上报")
    actions.report_finding(
        actor=world.admin, campaign=campaign, target=target_of(campaign, sites.a2), description="F4气瓶露天存放",
        at=WEDNESDAY,
    )  # fmt: skip
    _fix(world, _case(campaign, "F1"))
    case_actions.dispatch_case(_case(campaign, "F2"), actor=world.admin, lead=world.dept_a, at=LATER)
    case_actions.invalidate(_case(campaign, "F3"), actor=world.admin, reason="重复上报", at=LATER)
    return campaign


def test_progress_on_the_hand_computed_fixture(world: World, worked: Campaign) -> None:
    progress = campaign_progress(worked, now=MUCH_LATER)
    assert progress.total == Tally(targets=5, covered=3, found=4, fixed=1, open=2, overdue=1, void=1)
    assert progress.total.coverage_pct == 60.0
    assert progress.total.fix_pct == 33.3  # 1 fixed of 3 real dangers
    assert not progress.coverage_met
    assert not progress.fix_met
    assert not progress.goal_met
    streets = {a.name: a.tally for a in progress.by_street}
    assert streets == {
        "长江路街道": Tally(targets=4, covered=2, found=2, fixed=1, open=1, overdue=0, void=0),
        "大场镇": Tally(targets=1, covered=1, found=2, fixed=0, open=1, overdue=1, void=1),
    }
    communities = {a.name: a.tally.targets for a in progress.by_community}
    assert communities == {"社区A1": 4, "村B1": 1}


def test_progress_for_a_street_dispatcher_counts_their_street_only(world: World, worked: Campaign) -> None:
    progress = campaign_progress(worked, user=world.dispatcher_a, now=MUCH_LATER)
    assert progress.total == Tally(targets=4, covered=2, found=2, fixed=1, open=1, overdue=0, void=0)
    assert [a.name for a in progress.by_street] == ["长江路街道"]


def test_nothing_is_overdue_right_after_dispatch(world: World, worked: Campaign) -> None:
    assert campaign_progress(worked, now=LATER + dt.timedelta(minutes=5)).total.overdue == 0


def test_progress_follows_the_case_through_the_pipeline(
    world: World, sites: Sites, campaign: Campaign
) -> None:
    finding = actions.report_finding(
        actor=world.grid_worker_a1, campaign=campaign, target=target_of(campaign, sites.a1[0]),
        description="燃气管道锈蚀", at=WEDNESDAY,
    )  # fmt: skip
    states = []
    for step in ("registered", "dispatched", "closed"):
        if step == "dispatched":
            case_actions.dispatch_case(finding.case_id, actor=world.admin, lead=world.dept_a, at=LATER)
        if step == "closed":
            case_actions.sign_case(finding.case_id, actor=world.handler_a, at=LATER)
            case_actions.resolve_case(finding.case_id, actor=world.handler_a, result="已整改", at=LATER)
            case_actions.verify_case(finding.case_id, actor=world.dispatcher_a, passed=True, at=LATER)
        total = campaign_progress(campaign, now=LATER).total
        states.append((total.open, total.fixed))
    assert states == [(1, 0), (1, 0), (0, 1)]


def test_goals_are_met_when_every_target_is_covered_and_dangers_fixed(world: World, sites: Sites) -> None:
    from tests.governance.campaigns.conftest import running

    campaign = running(world, division=world.street_b, coverage_goal=100, fix_goal=95)
    _visit(world, world.admin, campaign, sites.b1, "visited", "F5灭火器过期")
    _fix(world, _case(campaign, "F5"))
    progress = campaign_progress(campaign, now=LATER)
    assert progress.total.coverage_pct == 100.0
    assert progress.total.fix_pct == 100.0
    assert progress.goal_met


def test_a_campaign_without_dangers_meets_its_fix_goal(world: World, campaign: Campaign) -> None:
    progress = campaign_progress(campaign)
    assert progress.total.fix_pct is None
    assert progress.fix_met
    assert not progress.coverage_met
