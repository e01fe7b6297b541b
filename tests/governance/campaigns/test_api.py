"""The campaigns API: scoped reads, one POST per action, the shared error shape."""

from __future__ import annotations

import datetime as dt

import pytest
from rest_framework.test import APIClient

from tests.governance.campaigns.conftest import END, START, WEDNESDAY, Sites, draft, target_of
from tests.world import World
from yiwang.cases.models import Case
from yiwang.governance.campaigns.models import Campaign, CampaignFinding, CampaignStatus

BASE = "/api/v1/campaigns/"
TODAY = dt.date.today()


def client(user: object) -> APIClient:
    api = APIClient()
    api.force_authenticate(user)  # type: ignore[arg-type]
    return api


def test_anonymous_calls_are_refused(world: World) -> None:
    assert APIClient().get(BASE).status_code == 401


def test_fields_are_listed(world: World, sites: Sites) -> None:
    codes = [f["code"] for f in client(world.leader).get(f"{BASE}fields/").json()]
    assert {"gas", "fire_exit", "self_built", "listening"} <= set(codes)


def test_create_start_and_close_through_the_api(world: World, sites: Sites) -> None:
    body = {
        "field": "gas", "title": "燃气安全专项", "division": world.street_a.pk, "starts_on": str(TODAY),
        "ends_on": str(TODAY + dt.timedelta(days=30)), "target_kind": "key_site", "target_filter": "crowded",
    }  # fmt: skip
    created = client(world.dispatcher_a).post(BASE, body, format="json")
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert created.json()["status"] == CampaignStatus.DRAFT
    started = client(world.dispatcher_a).post(f"{BASE}{pk}/start/", {}, format="json")
    assert started.status_code == 200
    assert started.json()["progress"]["total"]["targets"] == 4
    forbidden = client(world.dispatcher_a).post(f"{BASE}{pk}/close/", {}, format="json")
    assert forbidden.status_code == 403
    assert forbidden.json()["code"] == "campaign_forbidden"
    closed = client(world.leader).post(f"{BASE}{pk}/close/", {"note": "按期结束"}, format="json")
    assert closed.status_code == 200
    assert closed.json()["status"] == CampaignStatus.CLOSED
    again = client(world.leader).post(f"{BASE}{pk}/close/", {}, format="json")
    assert again.status_code == 409


def test_a_campaign_ending_before_it_starts_is_a_400_with_both_languages(world: World, sites: Sites) -> None:
    body = {
        "field": "gas",
        "title": "倒序",
        "division": world.district.pk,
        "starts_on": str(END),
        "ends_on": str(START),
    }
    response = client(world.admin).post(BASE, body, format="json")
    assert response.status_code == 400
    assert "早于开始日期" in response.json()["detail"]
    assert "before it starts" in response.json()["detail_en"]
    assert response.json()["fields"] == {"ends_on": [response.json()["detail"]]}
    assert not Campaign.objects.exists()


def test_cancel_needs_a_reason(world: World, sites: Sites) -> None:
    campaign = draft(world)
    assert client(world.leader).post(f"{BASE}{campaign.pk}/cancel/", {}, format="json").status_code == 400
    assert (
        client(world.leader)
        .post(f"{BASE}{campaign.pk}/cancel/", {"reason": "调整"}, format="json")
        .status_code
        == 200
    )


def test_reads_are_scoped(world: World, sites: Sites, campaign: Campaign) -> None:
    street_b = draft(world, division=world.street_b, title="大场镇专项")
    assert client(world.dispatcher_a).get(f"{BASE}{street_b.pk}/").status_code == 404
    assert client(world.handler_a).get(f"{BASE}{campaign.pk}/").status_code == 404
    titles = [c["title"] for c in client(world.dispatcher_a).get(BASE).json()["results"]]
    assert titles == ["燃气安全专项整治"]
    targets = client(world.grid_worker_a1).get(f"{BASE}{campaign.pk}/targets/").json()["results"]
    assert {t["grid"] for t in targets} == {world.grid_a1.pk}
    detail = client(world.dispatcher_a).get(f"{BASE}{campaign.pk}/").json()
    assert [s["name"] for s in detail["progress"]["by_street"]] == ["长江路街道"]


def test_a_grid_worker_records_a_visit_with_a_finding(world: World, sites: Sites, campaign: Campaign) -> None:
    target = target_of(campaign, sites.a1[0])
    body = {
        "target": target.pk, "outcome": "visited", "at": WEDNESDAY.isoformat(),
        "findings": [{"description": "燃气软管老化"}],
    }  # fmt: skip
    response = client(world.grid_worker_a1).post(f"{BASE}{campaign.pk}/inspections/", body, format="json")
    assert response.status_code == 201, response.json()
    finding = CampaignFinding.objects.get()
    assert finding.case.channel == "grid_patrol"
    listed = client(world.grid_worker_a1).get(f"{BASE}{campaign.pk}/findings/").json()["results"]
    assert [(f["case_number"], f["case_status"]) for f in listed] == [(finding.case.number, "registered")]
    progress = client(world.admin).get(f"{BASE}{campaign.pk}/").json()["progress"]["total"]
    assert (progress["covered"], progress["found"], progress["open"]) == (1, 1, 1)


def test_an_inspection_outside_the_period_is_a_400_and_writes_nothing(
    world: World, sites: Sites, campaign: Campaign
) -> None:
    body = {
        "target": target_of(campaign, sites.a1[0]).pk,
        "outcome": "visited",
        "at": "2026-05-01T10:00:00+08:00",
    }
    response = client(world.grid_worker_a1).post(f"{BASE}{campaign.pk}/inspections/", body, format="json")
    assert response.status_code == 400
    assert response.json()["fields"].keys() == {"at"}
    assert not campaign.inspections.exists()


def test_a_target_outside_the_grid_workers_grids_is_a_404(
    world: World, sites: Sites, campaign: Campaign
) -> None:
    body = {"target": target_of(campaign, sites.b1).pk, "outcome": "visited", "at": WEDNESDAY.isoformat()}
    response = client(world.grid_worker_a1).post(f"{BASE}{campaign.pk}/inspections/", body, format="json")
    assert response.status_code == 404


@pytest.mark.parametrize("status_path", ["close"])
def test_a_finding_on_a_closed_campaign_is_a_409_and_no_case(
    world: World, sites: Sites, campaign: Campaign, status_path: str
) -> None:
    client(world.leader).post(f"{BASE}{campaign.pk}/{status_path}/", {}, format="json")
    cases = Case.objects.count()
    body = {"target": target_of(campaign, sites.a1[0]).pk, "description": "隐患", "at": WEDNESDAY.isoformat()}
    response = client(world.grid_worker_a1).post(f"{BASE}{campaign.pk}/findings/", body, format="json")
    assert response.status_code == 409
    assert Case.objects.count() == cases
