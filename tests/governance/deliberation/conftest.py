"""Personas and helpers of the deliberation tests, on top of the shared ``world``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.utils import timezone

from tests.factories import UserFactory, grant
from tests.world import World
from yiwang.governance.deliberation import actions
from yiwang.governance.deliberation.models import Meeting, MeetingKind, Topic, TopicStage
from yiwang.people.models import Role, User


@dataclass
class Delib:
    world: World
    gw_a: User  # grid worker of 社区A1 (community grant)
    gw_b: User  # grid worker of 村B1
    leader: User  # district leader
    leader_b: User  # leader of 大场镇 (street_b) only
    admin: User
    dispatcher: User  # no deliberation role
    outsider: User


@pytest.fixture
def delib(world: World) -> Delib:
    return Delib(
        world=world,
        gw_a=world.grid_worker_a1,
        gw_b=grant(UserFactory(username="gw_b"), Role.GRID_WORKER, division=world.community_b),
        leader=world.leader,
        leader_b=grant(UserFactory(username="leader_b"), Role.LEADER, division=world.street_b),
        admin=world.admin,
        dispatcher=world.dispatcher_a,
        outsider=world.outsider,
    )


def new_topic(community_pk: int, actor: User | None = None, title: str = "修缮村内道路") -> Topic:
    return actions.submit_topic(actor=actor, title=title, community=community_pk, description="村内主路破损")


def run_meeting(
    topic: Topic,
    kind: str,
    *,
    eligible: int = 3,
    voters: int = 3,
    votes_for: int | None = None,
    actor: User | None = None,
) -> Meeting:
    """Schedule a meeting, seat ``voters`` voters (flags matching the kind), record ``votes_for``
    votes in favour (default: all) and the rest against, and close it."""
    meeting = actions.schedule_meeting(
        topic.pk, actor=actor, kind=kind, held_at=timezone.now() - dt.timedelta(hours=1), eligible=eligible
    )
    flags = {
        MeetingKind.COMMITTEES: {"is_official": True},
        MeetingKind.PARTY_MEMBERS: {"is_party_member": True},
        MeetingKind.REPRESENTATIVES: {"is_representative": True},
        MeetingKind.VILLAGERS: {},
    }[MeetingKind(kind)]
    in_favour = voters if votes_for is None else votes_for
    for i in range(voters):
        seat = actions.add_attendee(meeting.pk, actor=actor, name=f"代表{i}", **flags)
        actions.cast_vote(
            meeting.pk, actor=actor, attendance_id=seat.pk, choice="for" if i < in_favour else "against"
        )
    return actions.close_meeting(meeting.pk, actor=actor, minutes="会议记录")


def advance_to(topic: Topic, stage: str) -> Topic:
    """Move a topic (as the system) through the procedure up to ``stage``."""
    order = [
        TopicStage.COLLECTED,
        TopicStage.PROPOSED,
        TopicStage.DELIBERATED,
        TopicStage.REVIEWED,
        TopicStage.RESOLVED,
        TopicStage.RESOLUTION_PUBLISHED,
        TopicStage.RESULT_PUBLISHED,
    ]
    steps = {
        TopicStage.PROPOSED: lambda: actions.propose(topic.pk, actor=None, proposal="提议修路"),
        TopicStage.DELIBERATED: lambda: (
            run_meeting(topic, MeetingKind.COMMITTEES),
            actions.deliberate(topic.pk, actor=None),
        ),
        TopicStage.REVIEWED: lambda: (
            run_meeting(topic, MeetingKind.PARTY_MEMBERS),
            actions.review(topic.pk, actor=None),
        ),
        TopicStage.RESOLVED: lambda: (
            run_meeting(topic, MeetingKind.REPRESENTATIVES),
            actions.resolve(topic.pk, actor=None, resolution="同意修缮主路 800 米"),
        ),
        TopicStage.RESOLUTION_PUBLISHED: lambda: actions.publish_resolution(topic.pk, actor=None),
        TopicStage.RESULT_PUBLISHED: lambda: actions.publish_result(topic.pk, actor=None, result="已完工"),
    }
    for target in order[1 : order.index(TopicStage(stage)) + 1]:
        steps[target]()
    topic.refresh_from_db()
    return topic
