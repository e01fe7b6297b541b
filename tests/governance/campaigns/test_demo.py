"""The demo step of the campaigns: built on a small demo, through the actions, and deleted again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.reference_data import reseed_reference_data
from yiwang.cases.choices import Channel
from yiwang.demo.builder import GOVERNANCE_STEPS, build_demo, reset_demo
from yiwang.demo.gov_campaigns import build_campaigns, delete_campaigns
from yiwang.governance.campaigns.models import Campaign, CampaignFinding, CampaignStatus
from yiwang.governance.campaigns.progress import campaign_progress


@pytest.fixture(scope="module")
def demo(django_db_setup: None, django_db_blocker: pytest.FixtureRequest) -> Iterator[str]:
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        reseed_reference_data()  # an earlier transactional test may have flushed them
        ctx = build_demo(seed=5, scale=0.3, days=0, log=lambda line: None, skip=GOVERNANCE_STEPS)
        summary = build_campaigns(ctx)
        yield summary
        delete_campaigns()
        reset_demo(log=lambda line: None)


def test_demo_builds_running_and_closed_campaigns_on_the_demo_street(demo: str, db: None) -> None:
    statuses = dict(Campaign.objects.values_list("field__code", "status"))
    assert statuses["gas"] == CampaignStatus.RUNNING
    assert statuses["fire_exit"] == CampaignStatus.RUNNING
    assert statuses["listening"] in {CampaignStatus.CLOSED, CampaignStatus.DRAFT}
    assert Campaign.objects.filter(is_demo=True).count() == 3


def test_demo_findings_are_grid_patrol_cases_and_progress_follows_them(demo: str, db: None) -> None:
    findings = CampaignFinding.objects.select_related("case")
    assert findings.exists(), demo
    assert {f.case.channel for f in findings} == {Channel.GRID_PATROL}
    running = Campaign.objects.get(field__code="gas")
    progress = campaign_progress(running)
    assert progress.total.targets > 0
    assert 0 < progress.total.covered <= progress.total.targets
    assert progress.total.found == running.findings.count()


def test_deleting_the_demo_campaigns_leaves_none(demo: str, db: None) -> None:
    delete_campaigns()
    assert not Campaign.objects.exists()
