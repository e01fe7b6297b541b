"""The demo step builds committees, mediators and a dozen disputes at every stage, and removes them."""

from __future__ import annotations

import pytest

from tests.factories import UserFactory
from tests.world import World
from yiwang.cases.models import Case
from yiwang.demo.builder import DemoContext
from yiwang.demo.gov_mediation import build_mediation, delete_mediation
from yiwang.governance.mediation.models import Committee, Dispute, DisputeStatus, Mediator
from yiwang.people.models import User

pytestmark = pytest.mark.django_db


def test_build_and_delete(world: World) -> None:
    UserFactory(username="root", is_superuser=True)
    ctx = DemoContext(log=lambda _line: None)
    summary = build_mediation(ctx)
    assert "12" in summary
    assert Committee.objects.count() == 2  # one per street of the test world
    assert Dispute.objects.count() == 12
    statuses = set(Dispute.objects.values_list("status", flat=True))
    assert statuses == set(DisputeStatus.values)
    mediator = User.objects.get(username="mediator")
    assert Dispute.objects.visible_to(mediator).count() == 8
    assert Case.objects.filter(channel="mediation", is_confidential=True).count() == 12
    assert {login.username for login in ctx.logins} >= {"mediator", "mediator_labour"}
    delete_mediation()
    assert not Dispute.objects.exists()
    assert not Committee.objects.exists()
    assert not Mediator.objects.exists()
    assert not Case.objects.filter(channel="mediation").exists()
    assert not User.objects.filter(username__startswith="mediator").exists()
