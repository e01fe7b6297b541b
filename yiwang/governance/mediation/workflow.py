"""The mediation workflow as a pure transition table (no database access).

    applied ─accept→ accepted ─assign→ assigned ─session→ mediating ─agree→ agreed ─follow_up→ followed_up
                        │                  │                 │        └─fail→ failed ─close→ closed
                        └──────────────────┴─────── fail ────┘                 followed_up ─close→ closed

Scope (is the dispute one of the actor's committees?) is checked by the actions through
``Dispute.objects.visible_to``; this table only answers *may this state take this transition* and
*may these roles trigger it*. Leaders read and oversee but do not mediate.
"""

from __future__ import annotations

from collections.abc import Iterable

from yiwang.core.workflow import Transition, transition
from yiwang.governance.mediation.errors import DisputeForbidden, DisputeTransitionNotAllowed
from yiwang.governance.mediation.models import DisputeStatus
from yiwang.people.models import Role

S = DisputeStatus
NEW = ""  # a dispute that does not exist yet
MEDIATING_ROLES = frozenset({Role.MEDIATOR, Role.ADMINISTRATOR})
ALL_ROLES = frozenset(Role.values)


def _t(name: str, sources: Iterable[str], target: str | None, label: str) -> Transition:
    return transition(name, sources, target, MEDIATING_ROLES, label)


_BEFORE_OUTCOME = (S.ACCEPTED, S.ASSIGNED, S.MEDIATING)

TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        _t("register", [NEW], S.APPLIED, "登记"),
        _t("accept", [S.APPLIED], S.ACCEPTED, "受理"),
        _t("assign", [S.ACCEPTED, S.ASSIGNED], S.ASSIGNED, "指派调解员"),
        _t("session", [S.ASSIGNED, S.MEDIATING], S.MEDIATING, "记录调解会"),
        _t("agree", [S.MEDIATING], S.AGREED, "达成调解协议"),
        _t("fail", _BEFORE_OUTCOME, S.FAILED, "调解不成"),
        _t("follow_up", [S.AGREED], S.FOLLOWED_UP, "回访"),
        _t("close", [S.FOLLOWED_UP, S.FAILED], S.CLOSED, "结案"),
    )
}


def state_allows(name: str, status: str) -> bool:
    return status in TRANSITIONS[name].sources


def allowed(status: str, roles: Iterable[str]) -> list[Transition]:
    """The transitions an actor with ``roles`` may take from ``status`` (table order)."""
    have = frozenset(roles)
    return [t for t in TRANSITIONS.values() if status in t.sources and t.roles & have]


def _status_label(status: str) -> str:
    return "新纠纷" if status == NEW else str(DisputeStatus(status).label)


def check(name: str, status: str, roles: Iterable[str]) -> Transition:
    """The transition ``name`` if the state and the roles allow it (state checked first)."""
    t = TRANSITIONS.get(name)
    if t is None:
        raise DisputeTransitionNotAllowed(f"未知操作：{name}", f"unknown transition: {name}")
    if status not in t.sources:
        raise DisputeTransitionNotAllowed(
            f"纠纷当前状态为「{_status_label(status)}」，不能{t.label}",
            f"a dispute in status '{status or 'new'}' cannot take the transition '{name}'",
            transition=name,
            status=status,
        )
    if not t.roles & frozenset(roles):
        raise DisputeForbidden(
            f"您的角色无权{t.label}", f"your role may not perform '{name}'", transition=name
        )
    return t
