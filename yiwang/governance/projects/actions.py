"""Every write of key projects: one function per action, atomic, the row locked, one
:class:`ProjectEvent` appended in the same transaction. An action that raises has written nothing.

Errors subclass the case errors (see ``errors.py``): not found / out of scope → 404, not allowed in
this state → 409, not allowed for this actor → 403, bad input → 400.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.files import File
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from yiwang.cases.files import CheckedFile, check_file
from yiwang.core.calendar import get_calendar
from yiwang.core.scoping import Scope, scope_of
from yiwang.governance.projects import workflow
from yiwang.governance.projects.errors import (
    ProjectForbidden,
    ProjectInputError,
    ProjectNotFound,
    ProjectTransitionNotAllowed,
)
from yiwang.governance.projects.models import (
    Colour,
    Escalation,
    EscalationLevel,
    EventKind,
    Evidence,
    KpiIndicator,
    KpiKind,
    KpiValue,
    Node,
    NodeStatus,
    PeriodKind,
    ProgressReport,
    Project,
    ProjectEvent,
    ProjectStatus,
    Supervision,
    SupervisionStatus,
)
from yiwang.governance.projects.status import (
    active_rule,
    node_colour,
    period_end,
    period_start,
    today,
)
from yiwang.grids.models import Division
from yiwang.people.models import Department, Role, User

MAX_TEXT = 4000
MAX_FILES = 9

# --- who is the actor to this project -----------------------------------------------------------------


def _in_area(scope: Scope, division: Division) -> bool:
    ids = scope.district_ids | scope.street_ids | scope.community_ids
    return bool(ids & {division.pk, division.district_id, division.street_id, division.parent_id} - {None})


def capacities(user: Any, project: Project, node: Node | None = None) -> frozenset[str]:
    """The roles and relations through which ``user`` acts on ``project`` (see ``workflow``)."""
    scope = scope_of(user)
    if scope.everything:
        return workflow.LEADERS | {workflow.OWNER, workflow.RESPONSIBLE, workflow.OWNER_UNIT}
    caps: set[str] = set()
    if scope.has_role(Role.LEADER, Role.ADMINISTRATOR) and _in_area(scope, project.division):
        caps |= set(scope.roles) & workflow.LEADERS
    uid = getattr(user, "pk", None)
    if uid is not None and project.owner_id == uid:
        caps.add(workflow.OWNER)
    if uid is not None:
        if node is not None:
            if node.responsible_id == uid:
                caps.add(workflow.RESPONSIBLE)
        elif any(n.responsible_id == uid for n in project.nodes.all()):  # uses a prefetch if any
            caps.add(workflow.RESPONSIBLE)
    if scope.has_role(Role.DEPARTMENT_HANDLER) and project.owner_department_id in scope.department_ids:
        caps.add(workflow.OWNER_UNIT)
    return frozenset(caps)


def _require(action: str, caps: frozenset[str]) -> None:
    if not workflow.may(action, caps):
        label = workflow.ALL_ACTIONS[action].label
        raise ProjectForbidden(f"您无权执行「{label}」", f"you may not perform '{action}'", action=action)


def _require_state(action: str, status: str, label: str) -> None:
    if not workflow.state_allows(action, status):
        name = workflow.ALL_ACTIONS[action].label
        raise ProjectTransitionNotAllowed(
            f"{label}当前状态不允许「{name}」",
            f"the current state ({status}) does not allow '{action}'",
            action=action,
            status=status,
        )


def _lock_project(actor: Any, project: Project | int) -> Project:
    """The project locked for update, or 404 when it is absent or outside the actor's scope."""
    pk = project.pk if isinstance(project, Project) else project
    visible = Project.objects.visible_to(actor).filter(pk=pk).exists()
    if not visible:
        raise ProjectNotFound("项目不存在", "no such project", pk=pk)
    return Project.objects.select_for_update().select_related("division").get(pk=pk)


def _lock_node(actor: Any, node: Node | int) -> tuple[Project, Node]:
    pk = node.pk if isinstance(node, Node) else node
    project_id = Node.objects.filter(pk=pk).values_list("project_id", flat=True).first()
    if project_id is None:
        raise ProjectNotFound("节点不存在", "no such node", pk=pk)
    try:
        project = _lock_project(actor, project_id)
    except ProjectNotFound as exc:
        raise ProjectNotFound("节点不存在", "no such node", pk=pk) from exc
    return project, Node.objects.select_for_update().get(pk=pk)


def _event(
    project: Project,
    kind: str,
    actor: Any,
    *,
    node: Node | None = None,
    from_status: str = "",
    to_status: str = "",
    note: str = "",
    **data: Any,
) -> ProjectEvent:
    now = timezone.now()
    Project.objects.filter(pk=project.pk).update(updated_at=now)
    return ProjectEvent.objects.create(
        project=project,
        node=node,
        kind=kind,
        actor=actor if getattr(actor, "pk", None) else None,
        at=now,
        from_status=from_status,
        to_status=to_status,
        note=note,
        data=data,
    )


# --- input checks --------------------------------------------------------------------------------


def _text(value: str, field: str, zh: str, *, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ProjectInputError(f"请填写{zh}", f"{field} is required", field=field)
    if len(value) > MAX_TEXT:
        raise ProjectInputError(
            f"{zh}过长（最多 {MAX_TEXT} 字）", f"{field} is too long (max {MAX_TEXT})", field=field
        )
    return value


def _decimal(value: Any, field: str, zh: str, *, positive: bool = False) -> Decimal:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as exc:
        raise ProjectInputError(f"{zh}不是有效数字", f"{field} is not a number", field=field) from exc
    if not number.is_finite() or abs(number) >= Decimal("1e14"):
        raise ProjectInputError(f"{zh}不是有效数字", f"{field} is not a valid number", field=field)
    if number < 0:
        raise ProjectInputError(f"{zh}不能为负数", f"{field} must not be negative", field=field)
    if positive and number == 0:
        raise ProjectInputError(f"{zh}必须大于 0", f"{field} must be greater than zero", field=field)
    return number.quantize(Decimal("0.01"))


def _check_files(files: Sequence[File]) -> list[CheckedFile]:
    if len(files) > MAX_FILES:
        raise ProjectInputError(
            f"附件最多 {MAX_FILES} 个", f"at most {MAX_FILES} attachments", field="attachments"
        )
    try:
        return [check_file(f) for f in files]
    except ProjectInputError:
        raise
    except Exception as exc:  # InvalidCaseInput from cases.files: re-raise as ours, same message
        zh, en = getattr(exc, "zh", str(exc)), getattr(exc, "en", str(exc))
        raise ProjectInputError(zh, en, field="attachments") from exc


def _check_location(lng: float | None, lat: float | None) -> None:
    if (lng is None) != (lat is None):
        raise ProjectInputError("经度和纬度须同时填写", "give both longitude and latitude", field="lng")
    if lng is not None and lat is not None and not (-180 <= lng <= 180 and -90 <= lat <= 90):
        raise ProjectInputError("坐标超出范围", "coordinates out of range", field="lng")


def _next_code(on: dt.date) -> str:
    prefix = f"GJ{on:%Y}"
    last = (
        Project.objects.filter(code__startswith=prefix)
        .order_by("-code")
        .values_list("code", flat=True)
        .first()
    )
    n = int(last[len(prefix) :]) + 1 if last and last[len(prefix) :].isdigit() else 1
    return f"{prefix}{n:04d}"


# --- projects --------------------------------------------------------------------------------------


@transaction.atomic
def create_project(
    actor: User,
    *,
    name: str,
    division: Division,
    owner: User,
    owner_department: Department,
    start_date: dt.date,
    end_date: dt.date,
    description: str = "",
    lng: float | None = None,
    lat: float | None = None,
    code: str = "",
    is_demo: bool = False,
) -> Project:
    """A new project in draft, by a leader or administrator whose area contains ``division``."""
    scope = scope_of(actor)
    if not scope.everything and not (
        scope.has_role(Role.LEADER, Role.ADMINISTRATOR) and _in_area(scope, division)
    ):
        raise ProjectForbidden(
            "仅辖区领导或管理员可以创建攻坚项目",
            "only a leader or administrator of the area may create a project",
        )
    name = _text(name, "name", "项目名称")
    if len(name) > 200:
        raise ProjectInputError("项目名称过长（最多 200 字）", "name is too long (max 200)", field="name")
    description = _text(description, "description", "项目内容", required=False)
    if end_date < start_date:
        raise ProjectInputError(
            "完成时限不能早于开始日期", "the end date is before the start date", field="end_date"
        )
    if not owner.is_active:
        raise ProjectInputError("责任人账号已停用", "the owner's account is inactive", field="owner")
    _check_location(lng, lat)
    code = code.strip() or _next_code(start_date)
    if Project.objects.filter(code=code).exists():
        raise ProjectInputError(f"项目编号「{code}」已存在", f"project code '{code}' exists", field="code")
    project = Project.objects.create(
        code=code,
        name=name,
        description=description,
        division=division,
        owner=owner,
        owner_department=owner_department,
        lng=lng,
        lat=lat,
        start_date=start_date,
        end_date=end_date,
        created_by=actor,
        is_demo=is_demo,
    )
    _event(project, EventKind.CREATED, actor, to_status=project.status)
    return project


def _transition(actor: User, project: Project | int, action: str, note: str) -> Project:
    t = workflow.PROJECT_TRANSITIONS[action]
    locked = _lock_project(actor, project)
    _require(action, capacities(actor, locked))
    _require_state(action, locked.status, "项目")
    note = _text(note, "note", "说明", required=False)
    if action == "complete":
        open_nodes = locked.nodes.exclude(status=NodeStatus.DONE).count()
        if open_nodes:
            raise ProjectTransitionNotAllowed(
                f"还有 {open_nodes} 个节点未完成，不能完成项目",
                f"{open_nodes} node(s) are not done yet",
                open_nodes=open_nodes,
            )
        locked.completed_at = timezone.now()
    before = locked.status
    assert t.target is not None
    locked.status = t.target
    locked.save(update_fields=["status", "completed_at"])
    _event(locked, t.event, actor, from_status=before, to_status=t.target, note=note)
    return locked


@transaction.atomic
def approve_project(actor: User, project: Project | int, *, note: str = "") -> Project:
    return _transition(actor, project, "approve", note)


@transaction.atomic
def start_project(actor: User, project: Project | int, *, note: str = "") -> Project:
    return _transition(actor, project, "start", note)


@transaction.atomic
def complete_project(actor: User, project: Project | int, *, note: str = "") -> Project:
    return _transition(actor, project, "complete", note)


@transaction.atomic
def suspend_project(actor: User, project: Project | int, *, note: str = "") -> Project:
    return _transition(actor, project, "suspend", note)


@transaction.atomic
def resume_project(actor: User, project: Project | int, *, note: str = "") -> Project:
    return _transition(actor, project, "resume", note)


@transaction.atomic
def cancel_project(actor: User, project: Project | int, *, note: str = "") -> Project:
    return _transition(actor, project, "cancel", note)


PROJECT_ACTIONS = {
    "approve": approve_project,
    "start": start_project,
    "complete": complete_project,
    "suspend": suspend_project,
    "resume": resume_project,
    "cancel": cancel_project,
}


# --- nodes -------------------------------------------------------------------------------------------


@transaction.atomic
def add_node(
    actor: User,
    project: Project | int,
    *,
    name: str,
    deadline: dt.date,
    target_value: Any,
    responsible: User,
    unit: str = "",
    responsible_department: Department | None = None,
    current_value: Any = 0,
) -> Node:
    """A node with its deadline (within the project's dates), a positive target and a responsible."""
    locked = _lock_project(actor, project)
    _require("add_node", capacities(actor, locked))
    _require_state("add_node", locked.status, "项目")
    name = _text(name, "name", "节点名称")[:200]
    if deadline > locked.end_date:
        raise ProjectInputError(
            f"节点时限（{deadline}）不能晚于项目完成时限（{locked.end_date}）",
            f"the node deadline {deadline} is after the project's end {locked.end_date}",
            field="deadline",
        )
    if deadline < locked.start_date:
        raise ProjectInputError(
            f"节点时限（{deadline}）不能早于项目开始日期（{locked.start_date}）",
            f"the node deadline {deadline} is before the project's start {locked.start_date}",
            field="deadline",
        )
    target = _decimal(target_value, "target_value", "目标值", positive=True)
    current = _decimal(current_value, "current_value", "当前值")
    department = responsible_department or responsible.department
    if department is None:
        raise ProjectInputError(
            "请指定节点责任单位", "the node's responsible unit is required", field="responsible_department"
        )
    if not responsible.is_active:
        raise ProjectInputError(
            "节点责任人账号已停用", "the responsible's account is inactive", field="responsible"
        )
    seq = locked.nodes.count() + 1
    node = Node.objects.create(
        project=locked,
        seq=seq,
        name=name,
        deadline=deadline,
        target_value=target,
        current_value=current,
        unit=(unit or "").strip()[:20],
        responsible=responsible,
        responsible_department=department,
    )
    _event(locked, EventKind.NODE_ADDED, actor, node=node, to_status=node.status, note=name)
    return node


def _node_transition(actor: User, node: Node | int, action: str, note: str) -> Node:
    t = workflow.NODE_TRANSITIONS[action]
    project, locked = _lock_node(actor, node)
    _require(action, capacities(actor, project, locked))
    if project.status not in workflow.NODE_ACTIONS_NEED:
        raise ProjectTransitionNotAllowed(
            "项目未在推进中，不能办理节点", "the project is not in progress", status=project.status
        )
    _require_state(action, locked.status, "节点")
    before = locked.status
    assert t.target is not None
    locked.status = t.target
    if t.target == NodeStatus.DONE:
        locked.completed_at = timezone.now()
    locked.save(update_fields=["status", "completed_at"])
    _event(project, t.event, actor, node=locked, from_status=before, to_status=t.target, note=note.strip())
    return locked


@transaction.atomic
def start_node(actor: User, node: Node | int, *, note: str = "") -> Node:
    return _node_transition(actor, node, "start_node", note)


@transaction.atomic
def complete_node(actor: User, node: Node | int, *, note: str = "") -> Node:
    return _node_transition(actor, node, "complete_node", note)


NODE_ACTIONS = {"start_node": start_node, "complete_node": complete_node}


# --- progress ---------------------------------------------------------------------------------------


@transaction.atomic
def report_progress(
    actor: User,
    project: Project | int,
    *,
    text: str,
    node: Node | int | None = None,
    value: Any = None,
    files: Sequence[File] = (),
) -> ProgressReport:
    """A progress report with evidence; ``value`` (on a node) becomes the node's current value."""
    locked = _lock_project(actor, project)
    locked_node: Node | None = None
    if node is not None:
        node_pk = node.pk if isinstance(node, Node) else node
        locked_node = Node.objects.select_for_update().filter(pk=node_pk, project=locked).first()
        if locked_node is None:
            raise ProjectInputError(
                "该节点不属于此项目", "the node is not part of this project", field="node"
            )
    _require("report_progress", capacities(actor, locked, locked_node))
    if not workflow.state_allows("report_progress", locked.status):
        raise ProjectTransitionNotAllowed(
            f"项目{locked.get_status_display()}，不能报告进度",
            f"the project is {locked.status}: no progress reports",
            status=locked.status,
        )
    text = _text(text, "text", "进展情况")
    number: Decimal | None = None
    if value not in (None, ""):
        if locked_node is None:
            raise ProjectInputError("填报完成值须指定节点", "a value needs a node", field="node")
        number = _decimal(value, "value", "完成值")
    if locked_node is not None and locked_node.status == NodeStatus.DONE:
        raise ProjectTransitionNotAllowed("节点已完成，不能再报告进度", "the node is done", field="node")
    checked = _check_files(files)
    report = ProgressReport.objects.create(
        project=locked, node=locked_node, value=number, text=text, reported_by=actor
    )
    for item in checked:
        Evidence.objects.create(
            report=report,
            file=item.file,
            original_name=item.name,
            content_type=item.content_type,
            size=item.size,
            sha256=item.sha256,
        )
    if locked_node is not None and number is not None:
        locked_node.current_value = number
        locked_node.save(update_fields=["current_value"])
    _event(
        locked,
        EventKind.PROGRESS,
        actor,
        node=locked_node,
        note=text,
        value=None if number is None else str(number),
        files=len(checked),
    )
    return report


# --- supervision and escalation -----------------------------------------------------------------


@transaction.atomic
def issue_supervision(
    actor: User,
    project: Project | int,
    *,
    notice: str,
    reply_due: dt.date,
    node: Node | int | None = None,
) -> Supervision:
    """A leader's supervision notice (督办) with a reply deadline."""
    locked = _lock_project(actor, project)
    _require("supervise", capacities(actor, locked))
    _require_state("supervise", locked.status, "项目")
    notice = _text(notice, "notice", "督办意见")
    if reply_due < today():
        raise ProjectInputError(
            "回复期限不能早于今天", "the reply deadline is in the past", field="reply_due"
        )
    locked_node = None
    if node is not None:
        node_pk = node.pk if isinstance(node, Node) else node
        locked_node = Node.objects.filter(pk=node_pk, project=locked).first()
        if locked_node is None:
            raise ProjectInputError(
                "该节点不属于此项目", "the node is not part of this project", field="node"
            )
    supervision = Supervision.objects.create(
        project=locked, node=locked_node, notice=notice, reply_due=reply_due, issued_by=actor
    )
    _event(locked, EventKind.SUPERVISED, actor, node=locked_node, note=notice, reply_due=str(reply_due))
    return supervision


@transaction.atomic
def reply_supervision(actor: User, supervision: Supervision | int, *, reply: str) -> Supervision:
    """The owner's (or the node responsible's) reply to an open supervision notice."""
    pk = supervision.pk if isinstance(supervision, Supervision) else supervision
    project_id = Supervision.objects.filter(pk=pk).values_list("project_id", flat=True).first()
    if project_id is None or not Project.objects.visible_to(actor).filter(pk=project_id).exists():
        raise ProjectNotFound("督办不存在", "no such supervision", pk=pk)
    project = _lock_project(actor, project_id)
    locked = Supervision.objects.select_for_update(of=("self",)).select_related("node").get(pk=pk)
    _require("reply_supervision", capacities(actor, project, locked.node))
    _require_state("reply_supervision", project.status, "项目")
    if locked.status != SupervisionStatus.OPEN:
        raise ProjectTransitionNotAllowed("该督办已回复", "the supervision was already replied to")
    locked.reply = _text(reply, "reply", "回复内容")
    locked.status = SupervisionStatus.REPLIED
    locked.replied_by = actor
    locked.replied_at = timezone.now()
    locked.save(update_fields=["reply", "status", "replied_by", "replied_at"])
    _event(project, EventKind.SUPERVISION_REPLIED, actor, node=locked.node, note=locked.reply)
    return locked


def _escalation_basis(node: Node, on: dt.date) -> Supervision | None:
    """The latest supervision of the node (or of its whole project) whose reply deadline has
    passed and that has not already led to an escalation of this node."""
    used = Escalation.objects.filter(node=node, supervision__isnull=False).values("supervision_id")
    return (
        Supervision.objects.filter(project_id=node.project_id, reply_due__lt=on)
        .filter(Q(node=node) | Q(node__isnull=True))
        .exclude(pk__in=used)
        .order_by("-issued_at", "-pk")
        .first()
    )


def _escalate(actor: User | None, project: Project, node: Node, reason: str, on: dt.date) -> Escalation:
    if node_colour(node, on, active_rule(), get_calendar()) != Colour.RED:
        raise ProjectTransitionNotAllowed("节点不是红灯，无需升级", "the node is not red")
    basis = _escalation_basis(node, on)
    if basis is None:
        raise ProjectTransitionNotAllowed(
            "须先督办且回复期限届满后仍未恢复，才能升级",
            "escalation needs an earlier supervision whose reply deadline has passed",
        )
    if node.escalation_level >= EscalationLevel.DISTRICT_HEAD:
        raise ProjectTransitionNotAllowed("已升级至最高层级", "already at the highest level")
    level = node.escalation_level + 1
    node.escalation_level = level
    node.save(update_fields=["escalation_level"])
    escalation = Escalation.objects.create(
        node=node, supervision=basis, level=level, reason=reason, escalated_by=actor
    )
    _event(
        project,
        EventKind.ESCALATED,
        actor,
        node=node,
        note=reason,
        level=level,
        supervision=basis.pk,
    )
    return escalation


@transaction.atomic
def escalate_node(actor: User, node: Node | int, *, reason: str = "") -> Escalation:
    """A leader raises a red node that did not recover after supervision to the next level."""
    project, locked = _lock_node(actor, node)
    _require("escalate", capacities(actor, project, locked))
    _require_state("escalate", project.status, "项目")
    reason = _text(reason, "reason", "原因", required=False)
    return _escalate(actor, project, locked, reason, today())


def escalate_unrecovered(on: dt.date | None = None) -> list[Escalation]:
    """The periodic check (no actor): escalate every red node of a project in progress whose
    supervision reply deadline has passed without recovery. Each node in its own transaction."""
    on = on or today()
    done: list[Escalation] = []
    rule, cal = active_rule(), get_calendar()
    candidates = Node.objects.filter(
        project__status=ProjectStatus.IN_PROGRESS,
        deadline__lt=on,
        escalation_level__lt=EscalationLevel.DISTRICT_HEAD,
    ).exclude(status=NodeStatus.DONE)
    for node in candidates:
        if node_colour(node, on, rule, cal) != Colour.RED or _escalation_basis(node, on) is None:
            continue
        with transaction.atomic():
            project = Project.objects.select_for_update().get(pk=node.project_id)
            locked = Node.objects.select_for_update().get(pk=node.pk)
            done.append(_escalate(None, project, locked, "回复期限届满仍为红灯，系统自动升级", on))
    return done


# --- KPIs --------------------------------------------------------------------------------------------


@transaction.atomic
def add_kpi(
    actor: User,
    project: Project | int,
    *,
    kind: str,
    name: str,
    goal: Any,
    unit: str = "",
    period_kind: str = PeriodKind.MONTH,
) -> KpiIndicator:
    locked = _lock_project(actor, project)
    _require("add_kpi", capacities(actor, locked))
    _require_state("add_kpi", locked.status, "项目")
    if kind not in KpiKind.values:
        raise ProjectInputError("未知的指标类型", f"unknown KPI kind '{kind}'", field="kind")
    if period_kind not in PeriodKind.values:
        raise ProjectInputError("未知的填报周期", f"unknown period '{period_kind}'", field="period_kind")
    name = _text(name, "name", "指标名称")[:100]
    indicator = KpiIndicator.objects.create(
        project=locked,
        kind=kind,
        name=name,
        unit=(unit or "").strip()[:20],
        goal=_decimal(goal, "goal", "目标值", positive=True),
        period_kind=period_kind,
    )
    _event(locked, EventKind.KPI_ADDED, actor, note=name, goal=str(indicator.goal))
    return indicator


@transaction.atomic
def record_kpi_value(actor: User, indicator: KpiIndicator | int, *, period: dt.date, value: Any) -> KpiValue:
    """The value of one month/quarter (any day of it); recording a period again corrects it."""
    pk = indicator.pk if isinstance(indicator, KpiIndicator) else indicator
    project_id = KpiIndicator.objects.filter(pk=pk).values_list("project_id", flat=True).first()
    if project_id is None or not Project.objects.visible_to(actor).filter(pk=project_id).exists():
        raise ProjectNotFound("指标不存在", "no such KPI", pk=pk)
    project = _lock_project(actor, project_id)
    locked = KpiIndicator.objects.select_for_update().get(pk=pk)
    _require("record_kpi", capacities(actor, project))
    _require_state("record_kpi", project.status, "项目")
    start = period_start(period, locked.period_kind)
    end = period_end(start, locked.period_kind)
    if end < project.start_date or start > project.end_date:
        raise ProjectInputError(
            f"周期 {start:%Y-%m} 不在项目期限（{project.start_date} 至 {project.end_date}）内",
            f"the period {start:%Y-%m} lies outside the project ({project.start_date} – {project.end_date})",
            field="period",
        )
    number = _decimal(value, "value", "完成值")
    row, created = KpiValue.objects.update_or_create(
        indicator=locked,
        period_start=start,
        defaults={"value": number, "recorded_by": actor, "recorded_at": timezone.now()},
    )
    _event(
        project,
        EventKind.KPI_VALUE,
        actor,
        note=locked.name,
        indicator=locked.pk,
        period=str(start),
        value=str(number),
        corrected=not created,
    )
    return row
