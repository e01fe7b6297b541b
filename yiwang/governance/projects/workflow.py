"""The workflow of key projects as pure data: which action moves which state, and who may do it.

Nothing here touches the database. ``who`` mixes roles (``leader``, ``administrator``…) with the
actor's *relations* to the project, computed by the actions: ``owner`` (the project's 责任人),
``responsible`` (a node's 责任人; for node actions, that node's), ``owner_unit`` (a department
handler of the owner unit's subtree). A leader or administrator counts only inside their area.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from yiwang.governance.projects.models import EventKind, NodeStatus, ProjectStatus
from yiwang.people.models import Role

OWNER = "owner"
RESPONSIBLE = "responsible"
OWNER_UNIT = "owner_unit"
LEADERS = frozenset({Role.LEADER.value, Role.ADMINISTRATOR.value})

P = ProjectStatus
N = NodeStatus
ACTIVE = frozenset({P.APPROVED.value, P.IN_PROGRESS.value})
OPEN = frozenset({P.DRAFT.value, P.APPROVED.value, P.IN_PROGRESS.value})


@dataclass(frozen=True)
class Transition:
    """An action: the states it starts from, the state it leads to (None: no change), who."""

    name: str
    label: Promise
    sources: frozenset[str]
    target: str | None
    who: frozenset[str]
    event: str
    danger: bool = False


def _t(
    name: str,
    label: Promise,
    sources: Iterable[str],
    target: str | None,
    who: Iterable[str],
    event: str,
    *,
    danger: bool = False,
) -> Transition:
    # str() turns a TextChoices member into its value (members hash by name, not by value).
    return Transition(
        name,
        label,
        frozenset(str(s) for s in sources),
        None if target is None else str(target),
        frozenset(str(w) for w in who),
        str(event),
        danger,
    )


PROJECT_TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        _t("approve", _("立项"), {P.DRAFT}, P.APPROVED, LEADERS, EventKind.APPROVED),
        _t("start", _("启动推进"), {P.APPROVED}, P.IN_PROGRESS, LEADERS | {OWNER}, EventKind.STARTED),
        _t("complete", _("完成项目"), {P.IN_PROGRESS}, P.COMPLETED, LEADERS, EventKind.COMPLETED),
        _t("suspend", _("暂停"), {P.IN_PROGRESS}, P.SUSPENDED, LEADERS, EventKind.SUSPENDED, danger=True),
        _t("resume", _("恢复推进"), {P.SUSPENDED}, P.IN_PROGRESS, LEADERS, EventKind.RESUMED),
        _t(
            "cancel",
            _("撤销项目"),
            {P.DRAFT, P.APPROVED, P.IN_PROGRESS, P.SUSPENDED},
            P.CANCELLED,
            LEADERS,
            EventKind.CANCELLED,
            danger=True,
        ),
    )
}

# Node transitions; the project itself must be in progress.
NODE_TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        _t(
            "start_node",
            _("节点启动"),
            {N.PENDING},
            N.IN_PROGRESS,
            LEADERS | {OWNER, RESPONSIBLE},
            EventKind.NODE_STARTED,
        ),
        _t(
            "complete_node",
            _("节点完成"),
            {N.IN_PROGRESS},
            N.DONE,
            LEADERS | {OWNER, RESPONSIBLE},
            EventKind.NODE_DONE,
        ),
    )
}
NODE_ACTIONS_NEED = frozenset({P.IN_PROGRESS.value})

# Actions that do not change the project's state: the project states they need, and who.
OTHER_ACTIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        _t("add_node", _("新增节点"), OPEN, None, LEADERS | {OWNER}, EventKind.NODE_ADDED),
        _t(
            "report_progress",
            _("报告进度"),
            ACTIVE,
            None,
            LEADERS | {OWNER, RESPONSIBLE, OWNER_UNIT},
            EventKind.PROGRESS,
        ),
        _t("supervise", _("督办"), ACTIVE | {P.SUSPENDED}, None, LEADERS, EventKind.SUPERVISED),
        _t(
            "reply_supervision",
            _("回复督办"),
            ACTIVE | {P.SUSPENDED, P.COMPLETED},
            None,
            frozenset({OWNER, RESPONSIBLE, OWNER_UNIT}),
            EventKind.SUPERVISION_REPLIED,
        ),
        _t("escalate", _("升级督办"), frozenset({P.IN_PROGRESS.value}), None, LEADERS, EventKind.ESCALATED),
        _t("add_kpi", _("新增指标"), OPEN, None, LEADERS | {OWNER}, EventKind.KPI_ADDED),
        _t(
            "record_kpi",
            _("填报指标"),
            ACTIVE | {P.COMPLETED},
            None,
            LEADERS | {OWNER, OWNER_UNIT},
            EventKind.KPI_VALUE,
        ),
    )
}

ALL_ACTIONS: dict[str, Transition] = {**PROJECT_TRANSITIONS, **NODE_TRANSITIONS, **OTHER_ACTIONS}


def state_allows(action: str, status: str) -> bool:
    """Whether ``status`` (the project's, or the node's for node transitions) allows ``action``."""
    return status in ALL_ACTIONS[action].sources


def may(action: str, capacities: frozenset[str]) -> bool:
    """Whether an actor with these roles/relations may perform ``action`` at all."""
    return bool(ALL_ACTIONS[action].who & capacities)


def project_actions(status: str, capacities: frozenset[str]) -> list[Transition]:
    """Project-level actions (transitions and others) open to the actor in this state."""
    found = [t for t in PROJECT_TRANSITIONS.values() if status in t.sources and t.who & capacities]
    found += [t for t in OTHER_ACTIONS.values() if status in t.sources and t.who & capacities]
    return found


def node_actions(project_status: str, node_status: str, capacities: frozenset[str]) -> list[Transition]:
    if project_status not in NODE_ACTIONS_NEED:
        return []
    return [t for t in NODE_TRANSITIONS.values() if node_status in t.sources and t.who & capacities]
