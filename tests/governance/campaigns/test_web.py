"""The campaign pages: list with progress, detail with role-gated action forms, the compact target
page for grid workers, errors next to the fields, 404 outside scope."""

from __future__ import annotations

import datetime as dt

from django.test import Client
from django.urls import reverse

from tests.governance.campaigns.conftest import END, START, Sites, draft, target_of
from tests.world import World
from yiwang.governance.campaigns import actions
from yiwang.governance.campaigns.models import Campaign, CampaignFinding, CampaignStatus


def login(user: object) -> Client:
    browser = Client()
    browser.force_login(user)  # type: ignore[arg-type]
    return browser


def test_index_lists_visible_campaigns_with_progress_bars(
    world: World, sites: Sites, campaign: Campaign
) -> None:
    draft(world, division=world.street_b, title="大场镇燃气专项")
    page = login(world.dispatcher_a).get(reverse("web:campaigns:index"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "燃气安全专项整治" in html
    assert "大场镇燃气专项" not in html
    assert "<progress" in html
    assert 'id="create"' in html  # a dispatcher may create


def test_index_is_not_offered_to_handlers(world: World) -> None:
    assert login(world.handler_a).get(reverse("web:campaigns:index")).status_code == 404


def test_grid_workers_get_no_create_form(world: World, sites: Sites, campaign: Campaign) -> None:
    html = login(world.grid_worker_a1).get(reverse("web:campaigns:index")).content.decode()
    assert "燃气安全专项整治" in html
    assert 'id="create"' not in html


def test_create_from_the_page(world: World, sites: Sites) -> None:
    form = {
        "title": "消防通道专项", "field": sites.building.pk and _field_pk("fire_exit"), "division": world.street_a.pk,
        "starts_on": str(START), "ends_on": str(END), "target_kind": "", "target_filter": "", "coverage_goal": "100",
        "fix_goal": "90", "description": "",
    }  # fmt: skip
    response = login(world.dispatcher_a).post(reverse("web:campaigns:create"), form)
    campaign = Campaign.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("web:campaigns:detail", args=[campaign.pk])
    assert campaign.target_kind == "building"


def _field_pk(code: str) -> int:
    from yiwang.governance.campaigns.models import CampaignField

    return CampaignField.objects.get(code=code).pk


def test_create_with_reversed_dates_shows_the_error_next_to_the_field(world: World, sites: Sites) -> None:
    form = {
        "title": "倒序", "field": _field_pk("gas"), "division": world.district.pk, "starts_on": str(END),
        "ends_on": str(START), "coverage_goal": "100", "fix_goal": "95",
    }  # fmt: skip
    response = login(world.admin).post(reverse("web:campaigns:create"), form)
    assert response.status_code == 400
    assert "早于开始日期" in response.content.decode()
    assert not Campaign.objects.exists()


def test_detail_shows_only_the_actions_the_role_allows(
    world: World, sites: Sites, campaign: Campaign
) -> None:
    url = reverse("web:campaigns:detail", args=[campaign.pk])
    leader = login(world.leader).get(url).content.decode()
    assert 'id="action-close"' in leader
    assert 'id="action-cancel"' in leader
    dispatcher = login(world.dispatcher_a).get(url).content.decode()
    assert 'id="action-close"' not in dispatcher
    assert 'id="by-street"' in dispatcher


def test_detail_outside_scope_is_404(world: World, sites: Sites) -> None:
    other = draft(world, division=world.street_b, title="大场镇")
    assert login(world.dispatcher_a).get(reverse("web:campaigns:detail", args=[other.pk])).status_code == 404


def test_start_from_the_page(world: World, sites: Sites) -> None:
    today = dt.date.today()
    campaign = draft(world, starts_on=today, ends_on=today + dt.timedelta(days=30))
    response = login(world.leader).post(
        reverse("web:campaigns:act", args=[campaign.pk, "start"]), {"start-note": ""}
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.RUNNING


def test_cancel_without_reason_is_a_400(world: World, sites: Sites, campaign: Campaign) -> None:
    response = login(world.leader).post(reverse("web:campaigns:act", args=[campaign.pk, "cancel"]), {})
    assert response.status_code == 400
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.RUNNING


def test_a_forbidden_transition_from_the_page_is_a_403(
    world: World, sites: Sites, campaign: Campaign
) -> None:
    response = login(world.dispatcher_a).post(reverse("web:campaigns:act", args=[campaign.pk, "close"]), {})
    assert response.status_code == 403


def test_grid_worker_records_a_visit_and_a_finding_on_the_compact_page(
    world: World, sites: Sites, campaign: Campaign
) -> None:
    target = target_of(campaign, sites.a1[0])
    url = reverse("web:campaigns:target", args=[campaign.pk, target.pk])
    page = login(world.grid_worker_a1).get(url)
    assert page.status_code == 200
    assert 'id="visit-form"' in page.content.decode()
    # Today is outside the campaign period (March 2026): refused next to the form, nothing written.
    refused = login(world.grid_worker_a1).post(url, {"outcome": "visited", "finding": "燃气泄漏"})
    assert refused.status_code == 400
    assert "不在专项行动期间" in refused.content.decode()
    assert not CampaignFinding.objects.exists()


def test_compact_page_works_inside_the_period(world: World, sites: Sites) -> None:
    today = dt.date.today()
    campaign = draft(world, starts_on=today - dt.timedelta(days=3), ends_on=today + dt.timedelta(days=3))
    actions.start_campaign(actor=world.admin, campaign=campaign)
    target = target_of(campaign, sites.a1[0])
    url = reverse("web:campaigns:target", args=[campaign.pk, target.pk])
    response = login(world.grid_worker_a1).post(
        url, {"outcome": "visited", "note": "已检查", "finding": "燃气软管老化"}
    )
    assert response.status_code == 302
    finding = CampaignFinding.objects.get()
    assert finding.case.category.code == "SX-01057"
    detail = (
        login(world.grid_worker_a1).get(reverse("web:campaigns:detail", args=[campaign.pk])).content.decode()
    )
    assert finding.case.number in detail
    assert reverse("web:case", args=[finding.case_id]) in detail


def test_compact_page_for_a_target_outside_the_grid_workers_grids_is_404(
    world: World, sites: Sites, campaign: Campaign
) -> None:
    url = reverse("web:campaigns:target", args=[campaign.pk, target_of(campaign, sites.b1).pk])
    assert login(world.grid_worker_a1).get(url).status_code == 404


def test_a_draft_shows_how_many_targets_it_would_freeze(world: World, sites: Sites) -> None:
    campaign = draft(world)
    html = login(world.admin).get(reverse("web:campaigns:detail", args=[campaign.pk])).content.decode()
    assert "启动后将冻结 5 个治理对象" in html
    assert 'id="action-start"' in html
