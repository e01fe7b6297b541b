"""The demo step builds a lived-in channel on the test world and deletes it again."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from tests.factories import UserFactory
from tests.world import World
from yiwang.demo.builder import DemoContext
from yiwang.demo.cases import DEFAULT_DAYS
from yiwang.demo.gov_enterprise import build_enterprise, delete_enterprise
from yiwang.governance.enterprise.models import (
    Demand,
    DemandEvent,
    DemandStatus,
    Enterprise,
    FinancialInstitution,
)
from yiwang.people.models import User


def test_demo_builds_demands_at_every_stage_and_deletes_them(world: World) -> None:
    UserFactory(username="dispatcher", is_superuser=True)
    ctx = DemoContext(seed=7, log=lambda _: None)
    summary = build_enterprise(ctx)
    assert "20 企业" in summary
    assert Enterprise.objects.count() == 20
    assert FinancialInstitution.objects.count() == 5
    statuses = set(Demand.objects.values_list("status", flat=True))
    assert statuses == set(DemandStatus.values)
    assert Demand.objects.filter(status=DemandStatus.CLOSED, case__status="closed").exists()
    assert {x.username for x in ctx.logins} >= {"enterprise", "counsellor", "banker1"}
    owner = User.objects.get(username="enterprise")
    assert (
        Demand.objects.visible_to(owner).count()
        == Demand.objects.filter(enterprise__members__user=owner).count()
    )
    # Inside the days built at once: the background history jobs never touch these cases.
    oldest = Demand.objects.order_by("filed_at").values_list("filed_at", flat=True).first()
    assert oldest is not None
    assert oldest.date() > (timezone.now() - dt.timedelta(days=DEFAULT_DAYS)).date()
    assert not DemandEvent.objects.filter(at__gt=timezone.now()).exists()
    delete_enterprise()
    assert not Demand.objects.exists()
    assert not Enterprise.objects.exists()
    assert not User.objects.filter(username="counsellor").exists()
