"""A mediation world on top of tests/world.py: two committees, three mediators, helpers to drive a
dispute to any status."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from tests.factories import UserFactory
from tests.world import World
from yiwang.governance.mediation import actions
from yiwang.governance.mediation.actions import PartyInput
from yiwang.governance.mediation.models import (
    Committee,
    Dispute,
    DisputeKind,
    DisputeStatus,
    Mediator,
    MediatorKind,
    PartyKind,
    PartySide,
    Referral,
)
from yiwang.people.models import User


@dataclass
class MedWorld:
    world: World
    committee_a: Committee  # street committee of 长江路街道 (street_a)
    committee_b: Committee  # community committee of 村B1 (in street_b)
    mediator_a: User
    labour_mediator_a: User
    mediator_b: User

    def mediator(self, user: User) -> Mediator:
        return Mediator.objects.get(user=user)


def build_med_world(world: World) -> MedWorld:
    committee_a = actions.create_committee(
        actor=world.admin, name="长江路街道人民调解委员会", division=world.street_a
    )
    committee_b = actions.create_committee(
        actor=world.admin, name="村B1人民调解委员会", division=world.community_b
    )
    mediator_a = UserFactory(username="mediator_a")
    labour_a = UserFactory(username="labour_mediator_a")
    mediator_b = UserFactory(username="mediator_b")
    actions.appoint_mediator(actor=world.admin, user=mediator_a, committee=committee_a)
    actions.appoint_mediator(
        actor=world.admin, user=labour_a, committee=committee_a, kind=MediatorKind.LABOUR
    )
    actions.appoint_mediator(actor=world.admin, user=mediator_b, committee=committee_b)
    return MedWorld(world, committee_a, committee_b, mediator_a, labour_a, mediator_b)


PARTIES = [
    PartyInput(side=PartySide.APPLICANT, name="张三丰", id_number="37021119800101123X", phone="13812341234"),
    PartyInput(side=PartySide.RESPONDENT, name="李四", phone="13912345678"),
    PartyInput(side=PartySide.RESPONDENT, name="青岛某某物业有限公司", kind=PartyKind.ORGANISATION),
]


def register(
    m: MedWorld, *, actor: User | None = None, committee: Committee | None = None, **kw: Any
) -> Dispute:
    fields: dict[str, Any] = {
        "kind": DisputeKind.NEIGHBOUR,
        "summary": "楼上漏水纠纷",
        "facts": "楼上住户卫生间漏水，损坏楼下吊顶，双方就赔偿协商未果。",
        "parties": PARTIES,
        "amount": "3500",
    }
    fields.update(kw)
    return actions.register_dispute(
        actor=actor or m.mediator_a, committee=committee or m.committee_a, **fields
    )


D = dt.date(2026, 3, 10)


def drive(m: MedWorld, dispute: Dispute, status: str) -> Dispute:
    """Move ``dispute`` (just registered) to ``status`` as its committee's mediator."""
    actor = m.mediator_a if dispute.committee_id == m.committee_a.pk else m.mediator_b
    med = m.mediator(actor)
    today = timezone.localdate()
    path: dict[str, list[str]] = {
        DisputeStatus.APPLIED: [],
        DisputeStatus.ACCEPTED: ["accept"],
        DisputeStatus.ASSIGNED: ["accept", "assign"],
        DisputeStatus.MEDIATING: ["accept", "assign", "session"],
        DisputeStatus.AGREED: ["accept", "assign", "session", "agree"],
        DisputeStatus.FAILED: ["accept", "assign", "session", "fail"],
        DisputeStatus.FOLLOWED_UP: ["accept", "assign", "session", "agree", "follow_up"],
        DisputeStatus.CLOSED: ["accept", "assign", "session", "agree", "follow_up", "close"],
    }
    for step in path[status]:
        run(step, m, dispute, actor, med=med, today=today)
    dispute.refresh_from_db()
    assert dispute.status == status
    return dispute


def run(
    name: str,
    m: MedWorld,
    dispute: Dispute,
    actor: User,
    *,
    med: Mediator | None = None,
    today: dt.date | None = None,
) -> Any:
    """Perform transition ``name`` with valid input."""
    med = med or Mediator.objects.filter(committees=dispute.committee).first()
    today = today or timezone.localdate()
    if name == "accept":
        return actions.accept_dispute(dispute.pk, actor=actor)
    if name == "assign":
        return actions.assign_mediators(dispute.pk, actor=actor, mediators=[med])
    if name == "session":
        return actions.record_session(
            dispute.pk, actor=actor, held_on=today, place="调解室", mediators=[med], notes="双方陈述"
        )
    if name == "agree":
        parties = list(dispute.parties.all())
        return actions.record_agreement(
            dispute.pk,
            actor=actor,
            signed_on=today,
            terms="赔偿 2000 元",
            parties=parties,
            amount="2000",
            due_on=today,
        )
    if name == "fail":
        return actions.record_failure(dispute.pk, actor=actor, reason="双方分歧过大", referral=Referral.COURT)
    if name == "follow_up":
        return actions.record_follow_up(dispute.pk, actor=actor, performed=True, note="已履行")
    if name == "close":
        return actions.close_dispute(dispute.pk, actor=actor)
    raise AssertionError(name)
