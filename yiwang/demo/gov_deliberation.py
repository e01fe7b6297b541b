"""The demo's 村民议事: a meeting place in a few communities of the demo street and topics at every
stage of 四议两公开, with their meetings, attendance and votes, all written through the actions
(``actor=None``: the system) and flagged ``is_demo``. Names are fictitious (our syllable lists).

The procedure's dates are spread over the past weeks afterwards (the actions stamp "now"), so that
the statistics (average days from proposal to result) look like a real year.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone
from shapely.geometry import shape

from yiwang.demo.names import SURNAMES
from yiwang.demo.people import DEMO_STREET, demo_community
from yiwang.governance.deliberation import actions, workflow
from yiwang.governance.deliberation.models import (
    Attendance,
    Meeting,
    MeetingKind,
    Topic,
    TopicEvent,
    TopicLink,
    TopicStage,
    Venue,
    Vote,
)
from yiwang.grids.models import Division, DivisionLevel, Grid

if TYPE_CHECKING:
    from yiwang.demo.builder import DemoContext

GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建"
TOPICS = [
    ("村内主干道硬化修缮", "主干道雨后积水、路面破损，群众出行不便。", TopicStage.RESULT_PUBLISHED),
    ("小区加装电梯费用分摊方案", "多栋楼居民提出加装电梯，需商定费用分摊。", TopicStage.RESULT_PUBLISHED),
    ("集体土地流转收益分配", "村集体土地流转收益如何分配，需村民代表会议决定。", TopicStage.RESOLUTION_PUBLISHED),
    ("垃圾分类投放点选址", "现有投放点离住户太近，群众反映异味。", TopicStage.RESOLVED),
    ("老年食堂运营补贴", "社区老年食堂运营困难，提议村集体补贴。", TopicStage.REVIEWED),
    ("停车位划线与收费", "小区停车难，提议统一划线并适当收费。", TopicStage.DELIBERATED),
    ("文化广场夜间照明", "广场晚上无照明，存在安全隐患。", TopicStage.PROPOSED),
    ("河道清淤与护栏", "村东河道淤积，护栏缺失。", TopicStage.COLLECTED),
    ("村内新建公厕", "提议在村西新建公厕一座。", TopicStage.REJECTED),
]  # fmt: skip
ORDER = [
    TopicStage.COLLECTED,
    TopicStage.PROPOSED,
    TopicStage.DELIBERATED,
    TopicStage.REVIEWED,
    TopicStage.RESOLVED,
    TopicStage.RESOLUTION_PUBLISHED,
    TopicStage.RESULT_PUBLISHED,
]
MEETING_FOR = {
    TopicStage.DELIBERATED: (MeetingKind.COMMITTEES, "deliberate", 7),
    TopicStage.REVIEWED: (MeetingKind.PARTY_MEMBERS, "review", 24),
    TopicStage.RESOLVED: (MeetingKind.REPRESENTATIVES, "resolve", 30),
}
FLAGS = {
    MeetingKind.COMMITTEES: "is_official",
    MeetingKind.PARTY_MEMBERS: "is_party_member",
    MeetingKind.REPRESENTATIVES: "is_representative",
}


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _communities() -> list[Division]:
    first = demo_community()
    others = list(
        Division.objects.filter(street__code=DEMO_STREET, level=DivisionLevel.COMMUNITY)
        .exclude(pk=first.pk)
        .order_by("code")[:2]
    )
    return [first, *others]


def _venue(community: Division) -> Venue:
    grid = Grid.objects.filter(community=community).order_by("code").first()
    lng: float | None = None
    lat: float | None = None
    if grid is not None and grid.center_lng:
        lng, lat = grid.center_lng, grid.center_lat
    elif grid is not None and grid.boundary:
        point = shape(grid.boundary).representative_point()
        lng, lat = round(point.x, 6), round(point.y, 6)
    return actions.create_venue(
        actor=None, community=community, name=f"{community.name}议事厅", lng=lng, lat=lat, is_demo=True
    )


def _meeting(rng: random.Random, topic: Topic, kind: MeetingKind, eligible: int, venue: Venue) -> Meeting:
    meeting = actions.schedule_meeting(
        topic.pk, actor=None, kind=kind, held_at=timezone.now(), eligible=eligible, venue=venue
    )
    present = eligible if kind == MeetingKind.COMMITTEES else rng.randint(-(-eligible * 2 // 3) + 1, eligible)
    names: set[str] = set()
    while len(names) < present:
        names.add(_name(rng))
    for i, name in enumerate(sorted(names)):
        flags = {FLAGS[kind]: True}
        if kind == MeetingKind.COMMITTEES:
            flags["is_party_member"] = i < 4
        seat = actions.add_attendee(
            meeting.pk,
            actor=None,
            name=name,
            title="村委委员" if kind == MeetingKind.COMMITTEES else "",
            **flags,
        )
        choice = "for" if rng.random() < 0.85 else rng.choice(("against", "abstain"))
        actions.cast_vote(meeting.pk, actor=None, attendance_id=seat.pk, choice=choice)
    return actions.close_meeting(
        meeting.pk, actor=None, minutes="会议讨论了议题的必要性、费用与实施方式。（演示）"
    )


def _advance(rng: random.Random, topic: Topic, target: str, venue: Venue) -> None:
    for stage in ORDER[1 : ORDER.index(TopicStage(target)) + 1]:
        if stage == TopicStage.PROPOSED:
            actions.propose(topic.pk, actor=None, proposal=f"村党组织提议：{topic.title}")
        elif stage in MEETING_FOR:
            kind, step, eligible = MEETING_FOR[stage]
            meeting = _meeting(rng, topic, kind, eligible, venue)
            if not meeting.passed:  # a rare random failure: the demo keeps the story simple
                actions.reject(topic.pk, actor=None, reason="表决未通过")
                return
            if step == "resolve":
                actions.resolve(
                    topic.pk, actor=None, resolution=f"同意实施：{topic.title}", meeting_id=meeting.pk
                )
            else:
                actions.take(step, topic.pk, actor=None, meeting_id=meeting.pk)
        elif stage == TopicStage.RESOLUTION_PUBLISHED:
            actions.publish_resolution(topic.pk, actor=None)
        elif stage == TopicStage.RESULT_PUBLISHED:
            actions.publish_result(topic.pk, actor=None, result="已按决议实施完毕，经村务监督委员会验收。")


def _backdate(rng: random.Random, topic: Topic) -> None:
    """Spread the procedure over the past weeks: one to two weeks between steps."""
    start = timezone.now() - dt.timedelta(days=rng.randint(60, 120))
    when = start
    stamps: dict[str, dt.datetime] = {}
    for event in topic.events.order_by("at", "id"):
        if event.kind in workflow.TRANSITIONS:
            when += dt.timedelta(days=rng.randint(5, 14), hours=rng.randint(0, 8))
        TopicEvent.objects.filter(pk=event.pk).update(at=when)
        stamps.setdefault(event.kind, when)
    Topic.objects.filter(pk=topic.pk).update(
        created_at=start,
        proposed_at=stamps.get("propose"),
        resolved_at=stamps.get("resolve"),
        resolution_published_at=stamps.get("publish_resolution"),
        result_published_at=stamps.get("publish_result"),
    )
    for meeting in topic.meetings.all():
        closed = (
            TopicEvent.objects.filter(meeting=meeting, kind="meeting_closed")
            .values_list("at", flat=True)
            .first()
        )
        if closed is not None:
            Meeting.objects.filter(pk=meeting.pk).update(
                held_at=closed - dt.timedelta(hours=2), closed_at=closed
            )


@transaction.atomic
def build_deliberation(ctx: DemoContext) -> str:
    rng = ctx.rng("deliberation")
    communities = _communities()
    venues = [_venue(c) for c in communities]
    for i, (title, description, target) in enumerate(TOPICS):
        venue = venues[i % len(venues)]
        topic = actions.submit_topic(
            actor=None,
            title=title,
            community=venue.community,
            description=description,
            origin=rng.choice(("resident", "grid_worker")),
            raised_by=_name(rng),
            venue=venue,
            is_demo=True,
        )
        if target == TopicStage.REJECTED:
            actions.propose(topic.pk, actor=None)
            actions.reject(topic.pk, actor=None, reason="选址涉及基本农田，不符合规划")
        else:
            _advance(rng, topic, target, venue)
        _backdate(rng, topic)
    return (
        f"{len(venues)} 议事场所, {Topic.objects.count()} 议题, {Meeting.objects.count()} 会议, "
        f"{Vote.objects.count()} 表决"
    )


@transaction.atomic
def delete_deliberation() -> None:
    """Delete every deliberation row (the demo owns them); the meeting rules stay (reference data)."""
    TopicLink.objects.all().delete()
    Vote.objects.all().delete()
    Attendance.objects.all().delete()
    TopicEvent.objects.all().delete()
    Meeting.objects.all().delete()
    Topic.objects.all().delete()
    Venue.objects.all().delete()
