"""The write API of village deliberation: every change goes through one of these functions.

Each action runs in one transaction, finds the topic through the actor's scope (absent: 404),
locks it (``select_for_update``), checks the workflow table (stage, then role), validates its input
and writes one append-only :class:`TopicEvent` with its change. ``actor=None`` is the system itself
(the demo builder): no role or scope check. Errors are bilingual (``errors``); nothing is
half-written.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone

from yiwang.cases.models import Case
from yiwang.core.scoping import scope_of
from yiwang.governance.deliberation import workflow
from yiwang.governance.deliberation.errors import (
    DeliberationForbidden,
    DeliberationNotFound,
    InvalidDeliberationInput,
    StageNotAllowed,
)
from yiwang.governance.deliberation.models import (
    Attendance,
    EventKind,
    Meeting,
    MeetingKind,
    MeetingRule,
    MeetingStatus,
    PassBase,
    Topic,
    TopicEvent,
    TopicLink,
    TopicOrigin,
    TopicStage,
    Venue,
    Vote,
    VoteChoice,
)
from yiwang.governance.deliberation.scope import read_q
from yiwang.grids.models import Division, DivisionLevel
from yiwang.people.models import Role, User
from yiwang.registry.models import Resident

ALL_ROLES = frozenset(Role.values)


def roles_of(actor: User | None) -> frozenset[str]:
    """The actor's roles (every role for the system and for a district-wide 'everything' scope)."""
    if actor is None:
        return ALL_ROLES
    scope = scope_of(actor)
    return ALL_ROLES if scope.everything else frozenset(scope.roles)


# --- input helpers -----------------------------------------------------------------------------------


def _text(value: object, field: str, label: str, *, max_length: int, required: bool = False) -> str:
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise InvalidDeliberationInput(f"请填写{label}", f"{field} is required", field=field)
    if len(text) > max_length:
        raise InvalidDeliberationInput(
            f"{label}不能超过 {max_length} 个字符",
            f"{field} must be at most {max_length} characters",
            field=field,
        )
    return text


def _event(
    topic: Topic,
    kind: str,
    actor: User | None,
    *,
    before: str = "",
    meeting: Meeting | None = None,
    note: str = "",
) -> TopicEvent:
    return TopicEvent.objects.create(
        topic=topic,
        kind=kind,
        from_stage=before,
        to_stage=topic.stage,
        meeting=meeting,
        actor=actor,
        note=note,
    )


def _visible(qs: models.QuerySet[Any], actor: User | None, path: str) -> models.QuerySet[Any]:
    return qs if actor is None else qs.filter(read_q(actor, path))


def _locked_topic(topic_id: int, actor: User | None) -> Topic:
    """The topic, locked, if ``actor`` may see it; out of scope looks like missing."""
    if not _visible(Topic.objects.filter(pk=topic_id), actor, "community").exists():
        raise DeliberationNotFound("议题不存在", "no such topic", topic=topic_id)
    return Topic.objects.select_for_update().select_related("community").get(pk=topic_id)


def _locked_meeting(meeting_id: int, actor: User | None) -> tuple[Topic, Meeting]:
    """The meeting and its topic, both locked (topic first, as every topic action does)."""
    topic_id = _visible(Meeting.objects.filter(pk=meeting_id), actor, "topic__community").values_list(
        "topic_id", flat=True
    )
    found = list(topic_id)
    if not found:
        raise DeliberationNotFound("会议不存在", "no such meeting", meeting=meeting_id)
    topic = Topic.objects.select_for_update().get(pk=found[0])
    return topic, Meeting.objects.select_for_update().get(pk=meeting_id)


def _require_meeting_role(actor: User | None, label: str, name: str) -> None:
    if not workflow.MEETING_ROLES & roles_of(actor):
        raise DeliberationForbidden(f"您的角色无权{label}", f"your role may not {name}")


def _community(division: Division | int, actor: User | None) -> Division:
    pk = division.pk if isinstance(division, Division) else division
    found = _visible(Division.objects.filter(pk=pk, level=DivisionLevel.COMMUNITY), actor, "").first()
    if found is None:
        raise InvalidDeliberationInput(
            "社区/村不存在或不在您的管辖范围内", "no such community in your area", field="community"
        )
    return found


def _venue(venue: Venue | int | None, community: Division) -> Venue | None:
    if venue is None:
        return None
    pk = venue.pk if isinstance(venue, Venue) else venue
    found = Venue.objects.filter(pk=pk, community=community).first()
    if found is None:
        raise InvalidDeliberationInput(
            "议事场所不存在或不属于该社区/村", "no such venue in this community", field="venue"
        )
    return found


# --- venues ------------------------------------------------------------------------------------------


@transaction.atomic
def create_venue(
    *,
    actor: User | None,
    community: Division | int,
    name: str,
    lng: float | None = None,
    lat: float | None = None,
    address: str = "",
    is_demo: bool = False,
) -> Venue:
    """A meeting place (议事场所) of a community; shown on the map when it has coordinates."""
    _require_meeting_role(actor, "登记议事场所", "register a venue")
    where = _community(community, actor)
    name = _text(name, "name", "场所名称", max_length=100, required=True)
    if (lng is None) != (lat is None):
        raise InvalidDeliberationInput("经纬度须同时填写", "give both longitude and latitude", field="lng")
    if lng is not None and lat is not None and not (73 <= lng <= 136 and 3 <= lat <= 54):
        raise InvalidDeliberationInput("坐标不在中国境内", "coordinates outside China", field="lng")
    if Venue.objects.filter(community=where, name=name).exists():
        raise InvalidDeliberationInput(
            "该社区/村已有同名议事场所", "a venue of that name exists", field="name"
        )
    return Venue.objects.create(
        community=where,
        name=name,
        lng=lng,
        lat=lat,
        address=_text(address, "address", "地址", max_length=200),
        is_demo=is_demo,
    )


# --- topics ------------------------------------------------------------------------------------------


@transaction.atomic
def submit_topic(
    *,
    actor: User | None,
    title: str,
    community: Division | int | None = None,
    origin: str = TopicOrigin.GRID_WORKER,
    description: str = "",
    raised_by: str = "",
    source_case: Case | int | None = None,
    venue: Venue | int | None = None,
    is_demo: bool = False,
) -> Topic:
    """Collect a topic (议题) from a resident, a grid worker or a case, in one community or village."""
    workflow.check("submit", workflow.NEW, roles_of(actor))
    if origin not in TopicOrigin.values:
        raise InvalidDeliberationInput("来源不正确", "unknown origin", field="origin")
    case = None
    if source_case is not None:
        case_pk = source_case.pk if isinstance(source_case, Case) else source_case
        cases = Case.objects.all() if actor is None else Case.objects.visible_to(actor)
        case = cases.filter(pk=case_pk).first()
        if case is None:
            raise InvalidDeliberationInput("来源案件不存在", "no such case", field="source_case")
    if origin == TopicOrigin.CASE and case is None:
        raise InvalidDeliberationInput(
            "案件转化的议题须指明来源案件", "a case topic needs its case", field="source_case"
        )
    if community is None and case is not None and case.community_id is not None:
        community = case.community_id
    if community is None:
        raise InvalidDeliberationInput("请选择社区/村", "community is required", field="community")
    where = _community(community, actor)
    topic = Topic.objects.create(
        title=_text(title, "title", "议题", max_length=200, required=True),
        description=_text(description, "description", "内容", max_length=5000),
        origin=origin,
        raised_by=_text(raised_by, "raised_by", "提出人", max_length=50),
        source_case=case,
        community=where,
        venue=_venue(venue, where),
        stage=TopicStage.COLLECTED,
        submitted_by=actor,
        is_demo=is_demo,
    )
    _event(topic, EventKind.SUBMIT, actor, note=topic.get_origin_display())
    return topic


def _advance(
    topic: Topic, name: str, actor: User | None, *, meeting: Meeting | None = None, note: str = ""
) -> Topic:
    before = topic.stage
    topic.stage = workflow.TRANSITIONS[name].to_status(topic.stage)
    topic.save()
    _event(topic, name, actor, before=before, meeting=meeting, note=note)
    return topic


def _start(topic_id: int, name: str, actor: User | None) -> Topic:
    topic = _locked_topic(topic_id, actor)
    workflow.check(name, topic.stage, roles_of(actor))
    return topic


def _fraction(num: int, den: int, inclusive: bool) -> str:
    return f"{'不少于' if inclusive else '超过'}{num}/{den}"


def quorum_text(meeting: Meeting) -> str:
    """The meeting's quorum rule in words, e.g. 「应到人数的不少于2/3」."""
    return f"应到人数的{_fraction(meeting.quorum_num, meeting.quorum_den, meeting.quorum_inclusive)}"


def pass_text(meeting: Meeting) -> str:
    base = "到会人数" if meeting.pass_base == PassBase.PRESENT else "应到人数"
    return f"赞成票{_fraction(meeting.pass_num, meeting.pass_den, meeting.pass_inclusive)}{base}"


def _decisive_meeting(topic: Topic, name: str, meeting_id: int | None) -> Meeting:
    """The closed meeting that decides step ``name``: it must have had its quorum and passed."""
    kinds = workflow.MEETING_KINDS[name]
    label = workflow.TRANSITIONS[name].label
    kind_label = "或".join(str(MeetingKind(k).label) for k in kinds)
    meetings = topic.meetings.filter(kind__in=kinds)
    if meeting_id is not None:
        meeting = meetings.filter(pk=meeting_id).first()
    else:
        meeting = meetings.filter(status=MeetingStatus.CLOSED).order_by("-closed_at", "-id").first()
    if meeting is None:
        raise InvalidDeliberationInput(
            f"尚无已结束的{kind_label}记录，不能{label}",
            f"no closed meeting of kind {'/'.join(kinds)} for '{name}'",
            field="meeting",
        )
    if meeting.status != MeetingStatus.CLOSED:
        raise InvalidDeliberationInput(
            "会议尚未结束，请先结束会议并统计表决结果",
            "close the meeting and count the votes first",
            field="meeting",
        )
    if not meeting.quorum_met:
        raise InvalidDeliberationInput(
            f"会议未达到法定人数（应到 {meeting.eligible} 人，实到 {meeting.present} 人，须{quorum_text(meeting)}），"
            f"不能{label}",
            f"the meeting had no quorum ({meeting.present} of {meeting.eligible} present)",
            field="meeting",
        )
    if not meeting.passed:
        raise InvalidDeliberationInput(
            f"表决未通过（赞成 {meeting.votes_for} 票，须{pass_text(meeting)}），不能{label}",
            f"the vote did not pass ({meeting.votes_for} for)",
            field="meeting",
        )
    return meeting


@transaction.atomic
def propose(topic_id: int, *, actor: User | None, proposal: str = "") -> Topic:
    """党组织提议: the village party organisation puts the topic forward (with its proposal)."""
    topic = _start(topic_id, "propose", actor)
    topic.proposal = _text(proposal, "proposal", "提议内容", max_length=5000) or topic.description
    topic.proposed_at = timezone.now()
    return _advance(topic, "propose", actor, note=topic.proposal)


def _meeting_step(topic_id: int, name: str, actor: User | None, meeting_id: int | None, note: str) -> Topic:
    topic = _start(topic_id, name, actor)
    meeting = _decisive_meeting(topic, name, meeting_id)
    return _advance(topic, name, actor, meeting=meeting, note=_text(note, "note", "说明", max_length=2000))


@transaction.atomic
def deliberate(topic_id: int, *, actor: User | None, meeting_id: int | None = None, note: str = "") -> Topic:
    """两委商议: recorded from a closed 两委联席会议 that had its quorum and passed."""
    return _meeting_step(topic_id, "deliberate", actor, meeting_id, note)


@transaction.atomic
def review(topic_id: int, *, actor: User | None, meeting_id: int | None = None, note: str = "") -> Topic:
    """党员大会审议: recorded from a closed 党员大会 that had its quorum and passed."""
    return _meeting_step(topic_id, "review", actor, meeting_id, note)


@transaction.atomic
def resolve(topic_id: int, *, actor: User | None, resolution: str, meeting_id: int | None = None) -> Topic:
    """村民(代表)会议决议: the resolution, from a closed 村民代表会议 or 村民会议 that passed it."""
    topic = _start(topic_id, "resolve", actor)
    text = _text(resolution, "resolution", "决议内容", max_length=5000, required=True)
    meeting = _decisive_meeting(topic, "resolve", meeting_id)
    topic.resolution = text
    topic.resolved_at = timezone.now()
    return _advance(topic, "resolve", actor, meeting=meeting, note=text)


@transaction.atomic
def publish_resolution(topic_id: int, *, actor: User | None, note: str = "") -> Topic:
    """决议公开: the resolution appears on the public notice pages."""
    topic = _start(topic_id, "publish_resolution", actor)
    topic.resolution_published_at = timezone.now()
    return _advance(topic, "publish_resolution", actor, note=_text(note, "note", "说明", max_length=2000))


@transaction.atomic
def publish_result(topic_id: int, *, actor: User | None, result: str) -> Topic:
    """实施结果公开: what was done, published with the resolution."""
    topic = _start(topic_id, "publish_result", actor)
    topic.result = _text(result, "result", "实施结果", max_length=5000, required=True)
    topic.result_published_at = timezone.now()
    return _advance(topic, "publish_result", actor, note=topic.result)


@transaction.atomic
def reject(topic_id: int, *, actor: User | None, reason: str) -> Topic:
    """The topic does not go on (a vote failed, it breaks a law or policy…); a reason is required."""
    topic = _start(topic_id, "reject", actor)
    topic.closing_reason = _text(reason, "reason", "原因", max_length=500, required=True)
    return _advance(topic, "reject", actor, note=topic.closing_reason)


@transaction.atomic
def withdraw(topic_id: int, *, actor: User | None, reason: str) -> Topic:
    """The topic is withdrawn before the committees deliberate it; a reason is required."""
    topic = _start(topic_id, "withdraw", actor)
    topic.closing_reason = _text(reason, "reason", "原因", max_length=500, required=True)
    return _advance(topic, "withdraw", actor, note=topic.closing_reason)


# The topic actions by transition name, with the input fields each takes (pages and the API use it).
TOPIC_ACTIONS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "propose": (propose, ("proposal",)),
    "deliberate": (deliberate, ("meeting_id", "note")),
    "review": (review, ("meeting_id", "note")),
    "resolve": (resolve, ("resolution", "meeting_id")),
    "publish_resolution": (publish_resolution, ("note",)),
    "publish_result": (publish_result, ("result",)),
    "reject": (reject, ("reason",)),
    "withdraw": (withdraw, ("reason",)),
}


def take(name: str, topic_id: int, *, actor: User | None, **data: Any) -> Topic:
    """Run the topic action ``name`` with the fields it takes from ``data`` (others are ignored)."""
    if name not in TOPIC_ACTIONS:
        raise StageNotAllowed(f"未知操作：{name}", f"unknown action: {name}")
    func, fields = TOPIC_ACTIONS[name]
    kwargs = {f: data[f] for f in fields if f in data and data[f] not in (None, "")}
    result: Topic = func(topic_id, actor=actor, **kwargs)
    return result


# --- meetings ----------------------------------------------------------------------------------------


@transaction.atomic
def schedule_meeting(
    topic_id: int,
    *,
    actor: User | None,
    kind: str,
    held_at: dt.datetime,
    eligible: int,
    venue: Venue | int | None = None,
) -> Meeting:
    """Call a meeting of ``kind`` on the topic, under the current rule of that kind (copied)."""
    topic = _locked_topic(topic_id, actor)
    _require_meeting_role(actor, "召集会议", "schedule a meeting")
    if kind not in MeetingKind.values:
        raise InvalidDeliberationInput("会议类型不正确", "unknown meeting kind", field="kind")
    kind_label = MeetingKind(kind).label
    if topic.stage != workflow.meeting_stage(kind):
        raise StageNotAllowed(
            f"议题当前阶段为「{topic.get_stage_display()}」，不能召开{kind_label}",
            f"a topic at stage '{topic.stage}' cannot have a '{kind}' meeting",
        )
    if topic.meetings.filter(status=MeetingStatus.OPEN).exists():
        raise StageNotAllowed("该议题已有进行中的会议，请先结束", "the topic already has an open meeting")
    if not isinstance(held_at, dt.datetime):
        raise InvalidDeliberationInput("请填写召开时间", "held_at is required", field="held_at")
    try:
        eligible = int(eligible)
    except (TypeError, ValueError):
        eligible = 0
    if not 1 <= eligible <= 100_000:
        raise InvalidDeliberationInput(
            "应到人数须为正整数", "eligible must be a positive number", field="eligible"
        )
    rule = MeetingRule.objects.filter(kind=kind).first()
    if rule is None:
        raise InvalidDeliberationInput(
            f"未配置{kind_label}的表决规则，请联系管理员", f"no rule configured for '{kind}'", field="kind"
        )
    meeting = Meeting.objects.create(
        topic=topic,
        kind=kind,
        held_at=held_at,
        venue=_venue(venue, topic.community),
        eligible=eligible,
        voter_flag=rule.voter_flag,
        quorum_num=rule.quorum_num,
        quorum_den=rule.quorum_den,
        quorum_inclusive=rule.quorum_inclusive,
        pass_num=rule.pass_num,
        pass_den=rule.pass_den,
        pass_inclusive=rule.pass_inclusive,
        pass_base=rule.pass_base,
    )
    _event(
        topic, EventKind.MEETING_SCHEDULED, actor, meeting=meeting, note=f"{kind_label}，应到 {eligible} 人"
    )
    return meeting


def _open(meeting: Meeting, what: str, name: str) -> None:
    if meeting.status != MeetingStatus.OPEN:
        raise StageNotAllowed(f"会议已结束，不能再{what}", f"the meeting is closed; cannot {name}")


@transaction.atomic
def add_attendee(
    meeting_id: int,
    *,
    actor: User | None,
    name: str = "",
    resident_id: int | None = None,
    title: str = "",
    is_official: bool = False,
    is_party_member: bool = False,
    is_representative: bool = False,
) -> Attendance:
    """Record one person present: a registered resident (``resident_id``) or a free ``name``."""
    topic, meeting = _locked_meeting(meeting_id, actor)
    _require_meeting_role(actor, "登记到会人员", "record attendance")
    _open(meeting, "登记到会人员", "record attendance")
    resident = None
    if resident_id is not None:
        residents = Resident.objects.all() if actor is None else Resident.objects.visible_to(actor)
        resident = residents.filter(pk=resident_id).first()
        if resident is None:
            raise InvalidDeliberationInput("实有人口不存在", "no such resident", field="resident_id")
        name = name or resident.name
    name = _text(name, "name", "姓名", max_length=50, required=True)
    attendance = Attendance(
        meeting=meeting,
        resident=resident,
        name=name,
        title=_text(title, "title", "职务", max_length=50),
        is_official=bool(is_official),
        is_party_member=bool(is_party_member),
        is_representative=bool(is_representative),
    )
    present = meeting.attendances.all()
    if present.filter(name=name).exists() or (
        resident is not None and present.filter(resident=resident).exists()
    ):
        raise InvalidDeliberationInput(
            f"{name} 已登记到会，不能重复登记", f"{name} is already recorded", field="name"
        )
    voters = sum(1 for a in present if a.votes_at(meeting.voter_flag))
    if attendance.votes_at(meeting.voter_flag) and voters >= meeting.eligible:
        raise InvalidDeliberationInput(
            f"到会表决人数不能超过应到人数（{meeting.eligible} 人）",
            f"more voters present than eligible ({meeting.eligible})",
            field="name",
        )
    attendance.save()
    _event(topic, EventKind.ATTENDANCE, actor, meeting=meeting, note=name)
    return attendance


@transaction.atomic
def cast_vote(meeting_id: int, *, actor: User | None, attendance_id: int, choice: str) -> Vote:
    """Record one attendee's vote (赞成/反对/弃权); once per attendee, while the meeting is open."""
    topic, meeting = _locked_meeting(meeting_id, actor)
    _require_meeting_role(actor, "登记表决", "record votes")
    _open(meeting, "表决", "vote")
    if choice not in VoteChoice.values:
        raise InvalidDeliberationInput(
            "表决意见须为赞成、反对或弃权", "choice must be for/against/abstain", field="choice"
        )
    attendance = meeting.attendances.filter(pk=attendance_id).first()
    if attendance is None:
        raise InvalidDeliberationInput(
            "该人员未登记到会，不能表决", "the voter is not in the meeting's attendance", field="attendance"
        )
    if not attendance.votes_at(meeting.voter_flag):
        raise InvalidDeliberationInput(
            f"{attendance.name} 在本次会议无表决权（列席）",
            f"{attendance.name} has no vote here",
            field="attendance",
        )
    if Vote.objects.filter(attendance=attendance).exists():
        raise InvalidDeliberationInput(
            f"{attendance.name} 已表决，不能重复投票",
            f"{attendance.name} has already voted",
            field="attendance",
        )
    vote = Vote.objects.create(meeting=meeting, attendance=attendance, choice=choice)
    _event(
        topic, EventKind.VOTE, actor, meeting=meeting, note=f"{attendance.name}：{vote.get_choice_display()}"
    )
    return vote


def _meets(count: int, base: int, num: int, den: int, inclusive: bool) -> bool:
    """count/base ≥ num/den (inclusive) or > num/den, in integers (no rounding of 2/3)."""
    return count * den >= num * base if inclusive else count * den > num * base


def outcome(meeting: Meeting) -> dict[str, Any]:
    """Present voters, tally, quorum and pass of ``meeting`` as recorded so far (no writes)."""
    voters = [a for a in meeting.attendances.all() if a.votes_at(meeting.voter_flag)]
    tally = dict.fromkeys(VoteChoice.values, 0)
    for choice in Vote.objects.filter(meeting=meeting).values_list("choice", flat=True):
        tally[choice] += 1
    present = len(voters)
    quorum = present > 0 and _meets(
        present, meeting.eligible, meeting.quorum_num, meeting.quorum_den, meeting.quorum_inclusive
    )
    base = present if meeting.pass_base == PassBase.PRESENT else meeting.eligible
    passed = quorum and _meets(
        tally[VoteChoice.FOR], base, meeting.pass_num, meeting.pass_den, meeting.pass_inclusive
    )
    return {
        "present": present,
        "for": tally[VoteChoice.FOR],
        "against": tally[VoteChoice.AGAINST],
        "abstain": tally[VoteChoice.ABSTAIN],
        "quorum_met": quorum,
        "passed": passed,
    }


@transaction.atomic
def close_meeting(meeting_id: int, *, actor: User | None, minutes: str = "") -> Meeting:
    """End the meeting: record the minutes, count the voters present and the votes, and store
    whether the quorum was met and the motion passed (the topic's next step reads that)."""
    topic, meeting = _locked_meeting(meeting_id, actor)
    _require_meeting_role(actor, "结束会议", "close a meeting")
    _open(meeting, "结束", "close it")
    result = outcome(meeting)
    meeting.minutes = _text(minutes, "minutes", "会议记录", max_length=20000)
    meeting.present = result["present"]
    meeting.votes_for = result["for"]
    meeting.votes_against = result["against"]
    meeting.votes_abstain = result["abstain"]
    meeting.quorum_met = result["quorum_met"]
    meeting.passed = result["passed"]
    meeting.status = MeetingStatus.CLOSED
    meeting.closed_at = timezone.now()
    meeting.save()
    verdict = "通过" if meeting.passed else ("未达法定人数" if not meeting.quorum_met else "未通过")
    note = (
        f"{meeting.get_kind_display()}：应到 {meeting.eligible} 人，实到 {meeting.present} 人；"
        f"赞成 {meeting.votes_for}，反对 {meeting.votes_against}，弃权 {meeting.votes_abstain}；{verdict}"
    )
    _event(topic, EventKind.MEETING_CLOSED, actor, meeting=meeting, note=note)
    return meeting


# --- links to what carries a resolution out ----------------------------------------------------------


def _check_linkable(topic: Topic, actor: User | None) -> None:
    if topic.stage not in workflow.LINK_STAGES:
        raise StageNotAllowed(
            "只有已形成决议的议题才能关联落实事项",
            "only a resolved topic can be linked to its implementation",
        )
    if not workflow.LINK_ROLES & roles_of(actor):
        raise DeliberationForbidden("您的角色无权关联落实事项", "your role may not link implementation items")


def _link(topic: Topic, actor: User | None, target: models.Model, label: str) -> TopicLink:
    _check_linkable(topic, actor)
    content_type = ContentType.objects.get_for_model(target)
    if TopicLink.objects.filter(topic=topic, content_type=content_type, object_id=target.pk).exists():
        raise InvalidDeliberationInput("已关联，不能重复关联", "already linked", field="target")
    link = TopicLink.objects.create(
        topic=topic,
        content_type=content_type,
        object_id=target.pk,
        label=_text(label, "label", "名称", max_length=250),
    )
    _event(topic, EventKind.LINK, actor, note=link.label)
    return link


@transaction.atomic
def link_case(topic_id: int, *, actor: User | None, case_id: int) -> TopicLink:
    """Link a case (cases.Case, visible to the actor) that carries out the topic's resolution."""
    topic = _locked_topic(topic_id, actor)
    _check_linkable(topic, actor)
    cases = Case.objects.all() if actor is None else Case.objects.visible_to(actor)
    case = cases.filter(pk=case_id).first()
    if case is None:
        raise InvalidDeliberationInput(
            "案件不存在或不在您的范围内", "no such case in your scope", field="case_id"
        )
    return _link(topic, actor, case, f"{case.number} {case.title}")


@transaction.atomic
def link_object(topic_id: int, *, actor: User | None, target: models.Model, label: str) -> TopicLink:
    """Link any row (e.g. a ``governance.projects`` project) that carries out the resolution. The
    caller fetched ``target`` through its own ``visible_to(actor)``: this app does not know it."""
    topic = _locked_topic(topic_id, actor)
    return _link(topic, actor, target, label or str(target))
