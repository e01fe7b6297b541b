"""The demand workflow of 政企直通车 as a pure transition table (no database access).

::

    (new) ──file──▶ submitted ──route──▶ routed ──accept──▶ accepted ──conclude──▶ concluded ──callback──▶ closed
                       │   ▲                 │                 │  ▲ visit, match (stay)
                       │   └────decline──────┴─────────────────┘
                       └──withdraw──▶ withdrawn

Each step of the case pipeline is mirrored on the linked case by its own case action (route →
``dispatch_case``, accept → ``sign_case``, decline → ``return_case``, conclude → ``resolve_case``,
callback → ``verify_case`` + ``record_callback``, withdraw → ``invalidate``); visits and matchings
are the module's own steps. Roles here match the case table's, so a step the case pipeline would
refuse is refused here first, with the module's words. Scope (own enterprise, assigned counsellor,
the institution's department) is checked by the actions.
"""

from __future__ import annotations

from collections.abc import Iterable

from yiwang.core.workflow import Transition, transition
from yiwang.governance.enterprise.errors import DemandForbidden, DemandTransitionNotAllowed
from yiwang.governance.enterprise.models import DemandStatus
from yiwang.people.models import Role

S = DemandStatus
R = Role
NEW = ""


_t = transition


_BUREAU = (R.DISPATCHER, R.ADMINISTRATOR)  # the finance bureau / command center staff
_HANDLER = (R.DEPARTMENT_HANDLER,)  # the staff of the institution or department routed to
_FIELD = (R.DEPARTMENT_HANDLER, R.FINANCE_COUNSELLOR)
_OPEN = (S.SUBMITTED, S.ROUTED, S.ACCEPTED)

TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        _t("file", [NEW], S.SUBMITTED, (R.ENTERPRISE, R.FINANCE_COUNSELLOR, *_BUREAU), "提交诉求"),
        _t("route", [S.SUBMITTED], S.ROUTED, _BUREAU, "派发"),
        _t("accept", [S.ROUTED], S.ACCEPTED, _HANDLER, "受理"),
        _t("decline", [S.ROUTED, S.ACCEPTED], S.SUBMITTED, _HANDLER, "退回"),
        _t("visit", _OPEN, None, _FIELD, "记录走访"),
        _t("match", [S.ACCEPTED], None, _FIELD, "记录对接"),
        _t("conclude", [S.ACCEPTED], S.CONCLUDED, _HANDLER, "办结"),
        _t("callback", [S.CONCLUDED], S.CLOSED, _BUREAU, "回访评价"),
        _t("withdraw", [S.SUBMITTED], S.WITHDRAWN, _BUREAU, "撤销"),
    )
}


def allowed(status: str, roles: Iterable[str]) -> list[Transition]:
    """The transitions an actor with ``roles`` may take from ``status`` (table order)."""
    have = frozenset(roles)
    return [t for t in TRANSITIONS.values() if status in t.sources and t.roles & have]


def check(name: str, status: str, roles: Iterable[str]) -> Transition:
    """The transition if state and roles allow it; the state is checked first (409 before 403)."""
    t = TRANSITIONS.get(name)
    if t is None:
        raise DemandTransitionNotAllowed(f"未知操作：{name}", f"unknown transition: {name}")
    if status not in t.sources:
        label = DemandStatus(status).label if status else "新诉求"
        raise DemandTransitionNotAllowed(
            f"诉求当前状态为「{label}」，不能{t.label}",
            f"a demand in status '{status or 'new'}' cannot take the transition '{name}'",
            transition=name,
            status=status,
        )
    if not t.roles & frozenset(roles):
        raise DemandForbidden(
            f"您的角色无权{t.label}", f"your role may not perform '{name}'", transition=name
        )
    return t
