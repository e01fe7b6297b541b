"""The case workflow as a pure transition table (no database access).

The table answers two questions for the UI and for every action: *may a case in this state take
this transition?* and *may an actor with these roles trigger it?* Actions in ``cases.actions`` call
:func:`check` after locking the case row; pages call :func:`allowed` to show only the possible
buttons. Scope (is the case in the actor's area / department?) is checked by the actions, not here.

Suspension (挂账/缓办) is a flag, not a state: a suspended case stays ``dispatched`` or
``in_progress`` and only its clocks stop. Each transition says whether it applies to a suspended
case (:class:`WhenSuspended`).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass

from yiwang.cases.choices import CaseStatus
from yiwang.cases.errors import ActionForbidden, TransitionNotAllowed
from yiwang.people.models import Role

S = CaseStatus
R = Role

# A case that does not exist yet: the source state of intake transitions.
NEW = ""

ALL_ROLES = frozenset(Role.values)


class WhenSuspended(enum.Enum):
    NEVER = "never"  # only while the case is not suspended (the default)
    ONLY = "only"  # only while it is suspended (resume)
    ALSO = "also"  # whether suspended or not (urge, supervise, progress reports)


@dataclass(frozen=True)
class Transition:
    """One edge of the workflow. ``target`` None means the status does not change."""

    name: str
    sources: frozenset[str]
    target: CaseStatus | None
    roles: frozenset[str]
    label: str = ""
    when_suspended: WhenSuspended = WhenSuspended.NEVER

    def to_status(self, current: str) -> str:
        return current if self.target is None else str(self.target)


def _t(
    name: str,
    sources: Iterable[str],
    target: CaseStatus | None,
    roles: Iterable[str],
    label: str,
    when_suspended: WhenSuspended = WhenSuspended.NEVER,
) -> Transition:
    return Transition(
        name, frozenset(str(s) for s in sources), target, frozenset(roles), label, when_suspended
    )


_INTAKE = (R.HOTLINE_OPERATOR, R.DISPATCHER, R.GRID_WORKER, R.ADMINISTRATOR)
_HOTLINE = (R.HOTLINE_OPERATOR, R.DISPATCHER, R.ADMINISTRATOR)
_DISPATCH = (R.DISPATCHER, R.ADMINISTRATOR)
_OVERSIGHT = (R.DISPATCHER, R.LEADER, R.ADMINISTRATOR)
_HANDLER = (R.DEPARTMENT_HANDLER,)
_VERIFY = (R.DISPATCHER, R.GRID_WORKER, R.ADMINISTRATOR)
_RUNNING = (S.DISPATCHED, S.IN_PROGRESS)

TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        _t("register", [NEW], S.REGISTERED, _INTAKE, "登记"),
        _t("receive_from_110", [NEW], S.REGISTERED, _HOTLINE, "接收110转办"),
        _t("answer_directly", [S.REGISTERED], S.CLOSED, _HOTLINE, "直接答复"),
        _t("invalidate", [S.REGISTERED], S.CANCELLED, _DISPATCH, "作废"),
        _t("transfer_to_110", [S.REGISTERED], S.TRANSFERRED, _HOTLINE, "转110"),
        _t("dispatch", [S.REGISTERED], S.DISPATCHED, _DISPATCH, "派遣"),
        _t("merge", [S.REGISTERED, *_RUNNING], S.MERGED, _DISPATCH, "并单"),
        _t("sign", [S.DISPATCHED], S.IN_PROGRESS, _HANDLER, "签收"),
        _t("return", _RUNNING, S.REGISTERED, _HANDLER, "退单"),
        _t("request_extension", [S.IN_PROGRESS], None, _HANDLER, "申请延期"),
        _t("approve_extension", [S.IN_PROGRESS], None, _DISPATCH, "同意延期"),
        _t("reject_extension", [S.IN_PROGRESS], None, _DISPATCH, "驳回延期"),
        _t("urge", _RUNNING, None, _OVERSIGHT, "催办", WhenSuspended.ALSO),
        _t("supervise", _RUNNING, None, _OVERSIGHT, "督办", WhenSuspended.ALSO),
        _t("report_progress", [S.IN_PROGRESS], None, _HANDLER, "进展反馈", WhenSuspended.ALSO),
        _t("resolve", [S.IN_PROGRESS], S.RESOLVED, _HANDLER, "办结"),
        _t("verify_pass", [S.RESOLVED], S.CLOSED, _VERIFY, "核查通过"),
        _t("verify_fail", [S.RESOLVED], S.IN_PROGRESS, _VERIFY, "核查不通过"),
        _t("callback", [S.CLOSED], None, _HOTLINE, "回访"),
        _t("reopen", [S.CLOSED], S.DISPATCHED, _DISPATCH, "二次办理"),
        _t("suspend", _RUNNING, None, _DISPATCH, "挂账"),
        _t("resume", _RUNNING, None, _DISPATCH, "恢复办理", WhenSuspended.ONLY),
    )
}


def _state_allows(t: Transition, status: str, suspended: bool) -> bool:
    if status not in t.sources:
        return False
    if t.when_suspended is WhenSuspended.NEVER:
        return not suspended
    if t.when_suspended is WhenSuspended.ONLY:
        return suspended
    return True


def state_allows(name: str, status: str, *, suspended: bool = False) -> bool:
    return _state_allows(TRANSITIONS[name], status, suspended)


def allowed(status: str, roles: Iterable[str], *, suspended: bool = False) -> list[Transition]:
    """The transitions an actor with ``roles`` may take from ``status`` (table order)."""
    have = frozenset(roles)
    return [t for t in TRANSITIONS.values() if _state_allows(t, status, suspended) and t.roles & have]


def _status_label(status: str) -> tuple[str, str]:
    if status == NEW:
        return "新案件", "new case"
    return str(CaseStatus(status).label), status


def check(name: str, status: str, roles: Iterable[str], *, suspended: bool = False) -> Transition:
    """The transition ``name`` if the state and the roles allow it.

    Raises :class:`TransitionNotAllowed` when the state does not allow it (checked first: a
    closed case cannot be dispatched by anyone) and :class:`ActionForbidden` when the roles do not.
    """
    t = TRANSITIONS.get(name)
    if t is None:
        raise TransitionNotAllowed(f"未知操作：{name}", f"unknown transition: {name}")
    if not _state_allows(t, status, suspended):
        zh_status, en_status = _status_label(status)
        if suspended and status in t.sources:
            raise TransitionNotAllowed(
                f"案件已挂账，不能{t.label}，请先恢复办理",
                f"the case is suspended; resume it before '{name}'",
                transition=name,
                status=status,
            )
        if t.when_suspended is WhenSuspended.ONLY and status in t.sources:
            raise TransitionNotAllowed(
                f"案件未挂账，不能{t.label}", f"the case is not suspended; cannot '{name}'", transition=name
            )
        raise TransitionNotAllowed(
            f"案件当前状态为「{zh_status}」，不能{t.label}",
            f"a case in status '{en_status}' cannot take the transition '{name}'",
            transition=name,
            status=status,
        )
    if not t.roles & frozenset(roles):
        raise ActionForbidden(
            f"您的角色无权{t.label}", f"your role may not perform '{name}'", transition=name
        )
    return t
