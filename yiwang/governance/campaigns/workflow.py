"""The campaign workflow as a pure transition table (no database access).

    draft ──start──▶ running ──close──▶ closed
      │                 │
      └────cancel───────┴──▶ cancelled

``inspect`` and ``report_finding`` do not change the status; they are in the table so that one
place says which roles may do what in which state. Actions call :func:`check` after locking the
campaign row; pages call :func:`allowed` to offer only the possible forms.
"""

from __future__ import annotations

from collections.abc import Iterable

from yiwang.core.workflow import Transition, transition
from yiwang.governance.campaigns.errors import CampaignForbidden, CampaignTransitionNotAllowed
from yiwang.governance.campaigns.models import CampaignStatus
from yiwang.people.models import Role

S = CampaignStatus
R = Role

NEW = ""  # a campaign that does not exist yet

_STEER = (R.DISPATCHER, R.LEADER, R.ADMINISTRATOR)
_DECIDE = (R.LEADER, R.ADMINISTRATOR)
_FIELD_WORK = (R.GRID_WORKER, R.DISPATCHER, R.ADMINISTRATOR)


_t = transition


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        _t("create", [NEW], S.DRAFT, _STEER, "创建"),
        _t("start", [S.DRAFT], S.RUNNING, _STEER, "启动"),
        _t("close", [S.RUNNING], S.CLOSED, _DECIDE, "结束"),
        _t("cancel", [S.DRAFT, S.RUNNING], S.CANCELLED, _DECIDE, "取消"),
        _t("inspect", [S.RUNNING], None, _FIELD_WORK, "巡查走访"),
        _t("report_finding", [S.RUNNING], None, _FIELD_WORK, "上报隐患"),
    )
}

# Transitions offered as forms on the campaign page (field work has its own forms).
STATUS_ACTIONS = ("start", "close", "cancel")


def _label(status: str) -> str:
    return str(S(status).label) if status in S.values else status


def check(name: str, status: str, roles: Iterable[str]) -> Transition:
    """The transition ``name`` from ``status`` for an actor with ``roles``, or the error saying why not.
    The state is checked first: a finished campaign answers 409 to everyone."""
    transition = TRANSITIONS[name]
    if status not in transition.sources:
        raise CampaignTransitionNotAllowed(
            f"专项行动当前状态为“{_label(status)}”，不能{transition.label}",
            f"the campaign is {status or 'new'}; '{name}' is not allowed",
            status=status,
        )
    if not transition.roles.intersection(roles):
        raise CampaignForbidden(
            f"当前角色无权{transition.label}专项行动", f"your role may not {name} a campaign"
        )
    return transition


def allowed(status: str, roles: Iterable[str], names: Iterable[str] = STATUS_ACTIONS) -> list[str]:
    """The transitions among ``names`` an actor with ``roles`` may take from ``status``."""
    have = frozenset(roles)
    return [n for n in names if status in TRANSITIONS[n].sources and TRANSITIONS[n].roles & have]
