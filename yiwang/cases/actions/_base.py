"""Shared machinery of the case actions: locking, checks, events (see ``cases.actions``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any, TypedDict, Unpack

from django.db import transaction
from django.utils import timezone

from yiwang.cases import sla, workflow
from yiwang.cases.choices import (
    AssignmentRole,
    CaseStatus,
    Channel,
    EventKind,
)
from yiwang.cases.errors import (
    ActionForbidden,
    CaseConflict,
    CaseNotFound,
    InvalidCaseInput,
)
from yiwang.cases.files import CheckedFile
from yiwang.cases.models import Assignment, Attachment, Case, CaseEvent
from yiwang.core.calendar import TimeUnit
from yiwang.core.scoping import scope_of
from yiwang.people.models import Department, User

TITLE_MAX = 200
# Channels through which a case may arrive without a signed-in staff actor (the public API
# adapters authenticate the client themselves and call create_case with actor=None).
PUBLIC_CHANNELS = frozenset({Channel.WEB, Channel.OPEN311, Channel.SENSOR, Channel.ENTERPRISE})
# Events a department should hear about at once (sent after commit by ``cases.tasks``).
NOTIFY_KINDS = frozenset({EventKind.DISPATCHED, EventKind.URGED, EventKind.SUPERVISED, EventKind.REOPENED})

CaseRef = int | Case
DepartmentRef = int | Department


class ActionOptions(TypedDict, total=False):
    """Keyword options every case action accepts besides its own input."""

    at: dt.datetime | None  # when it happened (default now); explicit for backfilled history
    expected_status: str | None  # the status the caller's form showed: CaseConflict if it moved on
    expected_version: int | None  # the version the caller's form showed: CaseConflict if it moved on


_notifications_on: ContextVar[bool] = ContextVar("case_notifications_on", default=True)


@contextmanager
def without_notifications() -> Iterator[None]:
    """Record history without telling anyone: for backfilling past events (the demo history, an
    import of another system's cases), where notifying a department of a months-old dispatch is
    noise. Events are written exactly as usual."""
    token = _notifications_on.set(False)
    try:
        yield
    finally:
        _notifications_on.reset(token)


# --- shared machinery ---------------------------------------------------------------------------------
def _roles(actor: User | None) -> frozenset[str]:
    scope = scope_of(actor)
    return workflow.ALL_ROLES if scope.everything else scope.roles


def _now(at: dt.datetime | None) -> dt.datetime:
    if at is None:
        return timezone.now()
    if timezone.is_naive(at):
        raise ValueError("at must be timezone-aware")
    return at


def _text(value: str | None, field: str, zh: str, en: str, *, required: bool = True, limit: int = 0) -> str:
    text = (value or "").strip()
    if required and not text:
        raise InvalidCaseInput(f"{zh}不能为空", f"{en} is required", field=field)
    if limit and len(text) > limit:
        raise InvalidCaseInput(
            f"{zh}不能超过 {limit} 个字符（现为 {len(text)} 个）",
            f"{en} must be at most {limit} characters (got {len(text)})",
            field=field,
        )
    return text


@dataclass
class _Step:
    case: Case
    actor: User
    transition: workflow.Transition
    from_status: str
    at: dt.datetime


def _lock(case_ref: CaseRef, actor: User | None) -> Case:
    pk = case_ref.pk if isinstance(case_ref, Case) else case_ref
    try:
        return Case.objects.visible_to(actor).select_for_update().get(pk=pk)
    except Case.DoesNotExist:
        raise CaseNotFound(f"案件不存在或不在您的权限范围内（{pk}）", f"case {pk} not found") from None


def _department_ids(actor: User) -> frozenset[int] | None:
    """The actor's department subtree; None means 'any' (superusers)."""
    scope = scope_of(actor)
    return None if scope.everything else scope.department_ids


def _require_department(case: Case, actor: User, *, assisting_too: bool) -> None:
    mine = _department_ids(actor)
    if mine is None:
        return
    if case.lead_department_id in mine:
        return
    if assisting_too and case.assignments.filter(active=True, department_id__in=sorted(mine)).exists():
        return
    raise ActionForbidden(
        "您所在单位不是本案件的" + ("承办单位" if assisting_too else "主办单位"),
        "your department is not "
        + ("a handling department" if assisting_too else "the lead department")
        + " of this case",
    )


def _begin(
    name: str,
    case_ref: CaseRef,
    actor: User,
    *,
    department: str = "",
    **expect: Unpack[ActionOptions],
) -> _Step:
    """Lock the case and run every check of an action; nothing is written here."""
    case = _lock(case_ref, actor)
    expected_status, expected_version = expect.get("expected_status"), expect.get("expected_version")
    if expected_status is not None and case.status != expected_status:
        raise CaseConflict(
            f"案件状态已被他人更新为「{CaseStatus(case.status).label}」，请刷新后重试",
            f"the case was changed by someone else (now '{case.status}'); reload and try again",
            status=case.status,
        )
    if expected_version is not None and case.version != expected_version:
        raise CaseConflict(
            "案件已被他人更新，请刷新后重试",
            "the case was changed by someone else; reload and try again",
            version=case.version,
        )
    t = workflow.check(name, case.status, _roles(actor), suspended=case.suspended_at is not None)
    if department:
        _require_department(case, actor, assisting_too=department == "any")
    return _Step(case, actor, t, case.status, _now(expect.get("at")))


def _finish(
    step: _Step,
    kind: EventKind,
    fields: Iterable[str] = (),
    *,
    note: str = "",
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    """Apply the transition's target status, save the changed fields and write the one event."""
    case = step.case
    case.status = step.transition.to_status(step.from_status)
    case.version += 1
    case.updated_at = step.at
    case.save(update_fields=sorted({*fields, "status", "version", "updated_at"}))
    event = CaseEvent.objects.create(
        case=case,
        kind=kind,
        actor=step.actor,
        at=step.at,
        from_status=step.from_status,
        to_status=case.status,
        note=note,
        data=data or {},
    )
    if kind in NOTIFY_KINDS and _notifications_on.get():
        from yiwang.cases import tasks

        transaction.on_commit(partial(tasks.enqueue_notification, event.pk))
    return event


def _save_attachments(
    case: Case, event: CaseEvent | None, checked: Sequence[CheckedFile], kind: str, actor: User | None
) -> None:
    for f in checked:
        attachment = Attachment(
            case=case,
            event=event,
            original_name=f.name[:255],
            content_type=f.content_type,
            size=f.size,
            sha256=f.sha256,
            kind=kind,
            uploaded_by=actor,
            uploaded_at=event.at if event else timezone.now(),
        )
        attachment.file.save(f.name or "attachment", f.file, save=False)
        attachment.save()


def _department(ref: DepartmentRef, field: str) -> Department:
    pk = ref.pk if isinstance(ref, Department) else ref
    dept = Department.objects.filter(pk=pk, is_active=True).first()
    if dept is None:
        raise InvalidCaseInput(
            f"承办单位不存在或已停用（{pk}）", f"unknown or inactive department {pk}", field=field
        )
    return dept


def _amount(value: Any, field: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise InvalidCaseInput("时长必须是数字", "the amount must be a number", field=field) from None
    if not amount.is_finite() or amount <= 0:
        raise InvalidCaseInput("时长必须大于零", "the amount must be greater than zero", field=field)
    return amount


def _unit(value: str | None, default: str, field: str) -> str:
    unit = value or default
    if unit not in TimeUnit.values:
        raise InvalidCaseInput(f"未知的时间单位：{unit}", f"unknown time unit: {unit}", field=field)
    return unit


def _assign(step: _Step, lead: Department, assisting: Sequence[Department]) -> dict[str, Any]:
    case = step.case
    case.assignments.filter(active=True).update(active=False)
    case.round += 1
    rows = [
        Assignment(
            case=case, department=lead, role=AssignmentRole.LEAD, round=case.round, assigned_at=step.at
        )
    ]
    rows += [
        Assignment(case=case, department=d, role=AssignmentRole.ASSIST, round=case.round, assigned_at=step.at)
        for d in assisting
    ]
    Assignment.objects.bulk_create(rows)
    case.lead_department = lead
    case.dispatched_at, case.signed_at = step.at, None
    sla.start_accept_clock(case, step.at)
    sla.stop_resolve_clock(case)
    return {
        "lead": lead.pk,
        "assisting": [d.pk for d in assisting],
        "round": case.round,
        "accept_due_at": case.accept_due_at.isoformat() if case.accept_due_at else None,
    }


_ASSIGN_FIELDS = [
    "round",
    "lead_department",
    "dispatched_at",
    "signed_at",
    "accept_started_at",
    "accept_due_at",
    "accept_breached_at",
    "resolve_due_at",
]


def _departments(
    lead: DepartmentRef, assisting: Iterable[DepartmentRef]
) -> tuple[Department, list[Department]]:
    lead_dept = _department(lead, "lead")
    helpers: list[Department] = []
    for ref in assisting:
        d = _department(ref, "assisting")
        if d.pk != lead_dept.pk and d not in helpers:
            helpers.append(d)
    return lead_dept, helpers
