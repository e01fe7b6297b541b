"""The 四议两公开 procedure as a pure transition table (no database access).

Like :mod:`yiwang.cases.workflow`: :func:`check` tells an action whether a topic in a stage may take
a transition and whether the actor's roles may trigger it; pages call :func:`allowed` to show only
the possible forms. Scope (is the topic in the actor's area?) is checked by the actions. The three
deliberative steps also need a closed meeting of the right kind that had its quorum and passed
(:data:`MEETING_KINDS`); the actions check that.
"""

from __future__ import annotations

from collections.abc import Iterable

from yiwang.core.workflow import Transition, transition
from yiwang.governance.deliberation.errors import DeliberationForbidden, StageNotAllowed
from yiwang.governance.deliberation.models import MeetingKind, TopicStage
from yiwang.people.models import Role

S = TopicStage
R = Role

NEW = ""  # a topic that does not exist yet

# Village staff record the procedure (grid workers of the community, administrators); leaders of the
# street or district oversee it and may stop a topic (乡镇党委 review of a proposal).
_RECORD = (R.GRID_WORKER, R.ADMINISTRATOR)
_OVERSIGHT = (R.GRID_WORKER, R.LEADER, R.ADMINISTRATOR)
_BEFORE_RESOLUTION = (S.COLLECTED, S.PROPOSED, S.DELIBERATED, S.REVIEWED)


_t = transition


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        _t("submit", [NEW], S.COLLECTED, _RECORD, "收集议题"),
        _t("propose", [S.COLLECTED], S.PROPOSED, _RECORD, "党组织提议"),
        _t("deliberate", [S.PROPOSED], S.DELIBERATED, _RECORD, "两委商议"),
        _t("review", [S.DELIBERATED], S.REVIEWED, _RECORD, "党员大会审议"),
        _t("resolve", [S.REVIEWED], S.RESOLVED, _RECORD, "村民(代表)会议决议"),
        _t("publish_resolution", [S.RESOLVED], S.RESOLUTION_PUBLISHED, _RECORD, "决议公开"),
        _t("publish_result", [S.RESOLUTION_PUBLISHED], S.RESULT_PUBLISHED, _RECORD, "实施结果公开"),
        _t("reject", _BEFORE_RESOLUTION, S.REJECTED, _OVERSIGHT, "不予通过"),
        _t("withdraw", [S.COLLECTED, S.PROPOSED], S.WITHDRAWN, _RECORD, "撤回"),
    )
}

# The meeting kinds that decide each deliberative step; a meeting of that kind may be scheduled only
# while the topic waits for that step (the source stage).
MEETING_KINDS: dict[str, tuple[MeetingKind, ...]] = {
    "deliberate": (MeetingKind.COMMITTEES,),
    "review": (MeetingKind.PARTY_MEMBERS,),
    "resolve": (MeetingKind.REPRESENTATIVES, MeetingKind.VILLAGERS),
}

# Who may run a meeting (schedule, attendance, votes, close) and link the cases carrying a resolution.
MEETING_ROLES = frozenset(_RECORD)
LINK_ROLES = frozenset(_RECORD)
LINK_STAGES = frozenset({S.RESOLVED, S.RESOLUTION_PUBLISHED, S.RESULT_PUBLISHED})


def step_for_kind(kind: str) -> str:
    """The transition a meeting of ``kind`` decides."""
    return next(name for name, kinds in MEETING_KINDS.items() if kind in kinds)


def meeting_stage(kind: str) -> str:
    """The stage a topic must be in for a meeting of ``kind`` to be scheduled."""
    (source,) = TRANSITIONS[step_for_kind(kind)].sources
    return source


def allowed(stage: str, roles: Iterable[str]) -> list[Transition]:
    """The transitions an actor with ``roles`` may take from ``stage`` (table order)."""
    have = frozenset(roles)
    return [t for t in TRANSITIONS.values() if stage in t.sources and t.roles & have]


def _stage_label(stage: str) -> str:
    return "新议题" if stage == NEW else str(TopicStage(stage).label)


def check(name: str, stage: str, roles: Iterable[str]) -> Transition:
    """The transition ``name`` if the stage and the roles allow it (stage checked first)."""
    t = TRANSITIONS.get(name)
    if t is None:
        raise StageNotAllowed(f"未知操作：{name}", f"unknown transition: {name}")
    if stage not in t.sources:
        raise StageNotAllowed(
            f"议题当前阶段为「{_stage_label(stage)}」，不能{t.label}",
            f"a topic at stage '{stage or 'new'}' cannot take the transition '{name}'",
            transition=name,
            stage=stage,
        )
    if not t.roles & frozenset(roles):
        raise DeliberationForbidden(
            f"您的角色无权{t.label}", f"your role may not perform '{name}'", transition=name
        )
    return t
