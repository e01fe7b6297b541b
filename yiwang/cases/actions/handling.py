"""Dispatch and handling: dispatch, sign, return, extensions, urge, supervise, progress, resolve, merge, suspension."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Unpack

from django.core.files import File
from django.db import transaction

from yiwang.cases import sla
from yiwang.cases.actions._base import (
    _ASSIGN_FIELDS,
    ActionOptions,
    CaseRef,
    DepartmentRef,
    _amount,
    _assign,
    _begin,
    _departments,
    _finish,
    _lock,
    _save_attachments,
    _text,
    _unit,
)
from yiwang.cases.choices import (
    AssignmentRole,
    AttachmentKind,
    CaseStatus,
    EventKind,
)
from yiwang.cases.errors import (
    InvalidCaseInput,
    TransitionNotAllowed,
)
from yiwang.cases.files import check_file
from yiwang.cases.models import Case
from yiwang.cases.models.case import DESCRIPTION_MAX
from yiwang.core.calendar import TimeUnit
from yiwang.people.models import User


@transaction.atomic
def dispatch_case(
    case_id: CaseRef,
    *,
    actor: User,
    lead: DepartmentRef,
    assisting: Iterable[DepartmentRef] = (),
    note: str = "",
    **expect: Unpack[ActionOptions],
) -> Case:
    """Dispatch a registered case to a lead (主办) and optional assisting (协办) departments.

    Starts the acceptance clock (签收时限) from the limits taken at intake. Event: ``DISPATCHED``;
    after commit the departments are notified. Two dispatchers at once: the second finds the case
    no longer registered (pass ``expected_status``/``expected_version`` to get :class:`CaseConflict`).
    """
    step = _begin("dispatch", case_id, actor, **expect)
    lead_dept, helpers = _departments(lead, assisting)
    data = _assign(step, lead_dept, helpers)
    _finish(step, EventKind.DISPATCHED, _ASSIGN_FIELDS, note=note, data=data)
    return step.case


@transaction.atomic
def sign_case(
    case_id: CaseRef,
    *,
    actor: User,
    note: str = "",
    **expect: Unpack[ActionOptions],
) -> Case:
    """The lead department signs for the case (签收): the acceptance clock stops, the resolution
    clock (办结时限) starts. Event: ``SIGNED``."""
    step = _begin(
        "sign",
        case_id,
        actor,
        department="lead",
        **expect,
    )
    case = step.case
    case.signed_at = step.at
    sla.stop_accept_clock(case)
    sla.start_resolve_clock(case, step.at)
    case.assignments.filter(active=True, role=AssignmentRole.LEAD).update(signed_at=step.at)
    _finish(
        step,
        EventKind.SIGNED,
        ["signed_at", "accept_due_at", "resolve_started_at", "resolve_due_at", "resolve_breached_at"],
        note=note,
        data={"resolve_due_at": case.resolve_due_at.isoformat() if case.resolve_due_at else None},
    )
    return case


@transaction.atomic
def return_case(
    case_id: CaseRef,
    *,
    actor: User,
    reason: str,
    **expect: Unpack[ActionOptions],
) -> Case:
    """The lead department returns a wrongly dispatched case to the dispatcher (退单). Needs a
    reason. The clocks stop, the round's assignments end (they stay in the history). Event:
    ``RETURNED``."""
    step = _begin(
        "return",
        case_id,
        actor,
        department="lead",
        **expect,
    )
    text = _text(reason, "reason", "退单原因", "reason", limit=1000)
    case = step.case
    returned_by = case.lead_department_id
    case.assignments.filter(active=True).update(active=False)
    case.lead_department = None
    case.return_count += 1
    case.extension_amount, case.extension_unit = None, ""
    sla.stop_clocks(case)
    _finish(
        step,
        EventKind.RETURNED,
        [
            "lead_department",
            "return_count",
            "extension_amount",
            "extension_unit",
            "accept_due_at",
            "resolve_due_at",
        ],
        note=text,
        data={"department": returned_by},
    )
    return case


@transaction.atomic
def request_extension(
    case_id: CaseRef,
    *,
    actor: User,
    reason: str,
    amount: Decimal | int | float | str,
    unit: str | None = None,
    **expect: Unpack[ActionOptions],
) -> Case:
    """The lead department asks for more time (申请延期): a reason and the extra amount (in the
    resolution clock's unit unless given). One request may be pending at a time. Event:
    ``EXTENSION_REQUESTED``."""
    step = _begin(
        "request_extension",
        case_id,
        actor,
        department="lead",
        **expect,
    )
    text = _text(reason, "reason", "延期理由", "reason", limit=1000)
    extra = _amount(amount, "amount")
    case = step.case
    if case.extension_amount is not None:
        raise TransitionNotAllowed("已有待审批的延期申请", "an extension request is already pending")
    case.extension_amount = extra
    case.extension_unit = _unit(unit, case.resolve_unit or TimeUnit.DAYS, "unit")
    _finish(
        step,
        EventKind.EXTENSION_REQUESTED,
        ["extension_amount", "extension_unit"],
        note=text,
        data={"amount": str(extra), "unit": case.extension_unit},
    )
    return case


def _pending_extension(case: Case) -> tuple[Decimal, str]:
    if case.extension_amount is None:
        raise TransitionNotAllowed("没有待审批的延期申请", "there is no pending extension request")
    return case.extension_amount, case.extension_unit or TimeUnit.DAYS


@transaction.atomic
def approve_extension(
    case_id: CaseRef,
    *,
    actor: User,
    note: str = "",
    **expect: Unpack[ActionOptions],
) -> Case:
    """Approve the pending extension: the resolution deadline moves by the requested amount.
    Event: ``EXTENSION_APPROVED``."""
    step = _begin(
        "approve_extension",
        case_id,
        actor,
        **expect,
    )
    case = step.case
    amount, unit = _pending_extension(case)
    old_due = case.resolve_due_at
    sla.extend(case, amount, unit)
    case.extension_amount, case.extension_unit = None, ""
    case.extension_count += 1
    _finish(
        step,
        EventKind.EXTENSION_APPROVED,
        ["resolve_due_at", "resolve_breached_at", "extension_amount", "extension_unit", "extension_count"],
        note=note,
        data={
            "amount": str(amount),
            "unit": unit,
            "old_due_at": old_due.isoformat() if old_due else None,
            "resolve_due_at": case.resolve_due_at.isoformat() if case.resolve_due_at else None,
        },
    )
    return case


@transaction.atomic
def reject_extension(
    case_id: CaseRef,
    *,
    actor: User,
    reason: str = "",
    **expect: Unpack[ActionOptions],
) -> Case:
    """Refuse the pending extension; the deadline stays. Event: ``EXTENSION_REJECTED``."""
    step = _begin(
        "reject_extension",
        case_id,
        actor,
        **expect,
    )
    case = step.case
    amount, unit = _pending_extension(case)
    case.extension_amount, case.extension_unit = None, ""
    _finish(
        step,
        EventKind.EXTENSION_REJECTED,
        ["extension_amount", "extension_unit"],
        note=(reason or "").strip(),
        data={"amount": str(amount), "unit": unit},
    )
    return case


@transaction.atomic
def urge_case(
    case_id: CaseRef,
    *,
    actor: User,
    note: str = "",
    **expect: Unpack[ActionOptions],
) -> Case:
    """Urge the departments (催办); counted. Event: ``URGED``; they are notified after commit."""
    step = _begin("urge", case_id, actor, **expect)
    step.case.urge_count += 1
    _finish(step, EventKind.URGED, ["urge_count"], note=note, data={"count": step.case.urge_count})
    return step.case


@transaction.atomic
def supervise_case(
    case_id: CaseRef,
    *,
    actor: User,
    level: int,
    note: str = "",
    **expect: Unpack[ActionOptions],
) -> Case:
    """Put the case under supervision (督办) at level 1–3 (3 is the highest). Event: ``SUPERVISED``."""
    step = _begin("supervise", case_id, actor, **expect)
    if level not in (1, 2, 3):
        raise InvalidCaseInput(
            "督办级别必须是 1、2 或 3", "the supervision level must be 1, 2 or 3", field="level"
        )
    step.case.supervise_level = level
    _finish(step, EventKind.SUPERVISED, ["supervise_level"], note=note, data={"level": level})
    return step.case


@transaction.atomic
def report_progress(
    case_id: CaseRef,
    *,
    actor: User,
    note: str,
    attachments: Sequence[File] = (),
    **expect: Unpack[ActionOptions],
) -> Case:
    """A lead or assisting department reports progress (进展反馈), with optional photos. Event:
    ``PROGRESS_REPORTED``."""
    step = _begin(
        "report_progress",
        case_id,
        actor,
        department="any",
        **expect,
    )
    text = _text(note, "note", "进展说明", "progress note", limit=DESCRIPTION_MAX)
    checked = [check_file(upload) for upload in attachments]
    event = _finish(step, EventKind.PROGRESS_REPORTED, note=text)
    _save_attachments(step.case, event, checked, AttachmentKind.OTHER, actor)
    return step.case


@transaction.atomic
def resolve_case(
    case_id: CaseRef,
    *,
    actor: User,
    result: str,
    photos: Sequence[File] = (),
    **expect: Unpack[ActionOptions],
) -> Case:
    """The lead department reports the case handled (办结) with the result text and photos; the
    resolution clock stops and the case waits for verification. Event: ``RESOLVED``."""
    step = _begin(
        "resolve",
        case_id,
        actor,
        department="lead",
        **expect,
    )
    text = _text(result, "result", "办理结果", "result", limit=DESCRIPTION_MAX)
    checked = [check_file(upload) for upload in photos]
    case = step.case
    case.result, case.resolved_at = text, step.at
    sla.stop_resolve_clock(case)
    event = _finish(step, EventKind.RESOLVED, ["result", "resolved_at", "resolve_due_at"], note=text)
    _save_attachments(case, event, checked, AttachmentKind.RESULT, actor)
    return case


# --- merge, suspension -------------------------------------------------------------------------------
@transaction.atomic
def merge_cases(
    case_id: CaseRef,
    *,
    actor: User,
    into: CaseRef,
    note: str = "",
    **expect: Unpack[ActionOptions],
) -> Case:
    """Merge a duplicate (并单) into another open case that the actor can see. The duplicate's
    clocks stop and its assignments end. Event: ``MERGED`` (on the duplicate)."""
    target_pk = into.pk if isinstance(into, Case) else into
    source_pk = case_id.pk if isinstance(case_id, Case) else case_id
    if target_pk == source_pk:
        raise InvalidCaseInput("不能并入案件自身", "a case cannot be merged into itself", field="into")
    # Lock both rows in primary-key order so that two opposite merges cannot deadlock.
    if target_pk < source_pk:
        target = _lock(target_pk, actor)
        step = _begin(
            "merge",
            source_pk,
            actor,
            **expect,
        )
    else:
        step = _begin(
            "merge",
            source_pk,
            actor,
            **expect,
        )
        target = _lock(target_pk, actor)
    if target.status not in (CaseStatus.REGISTERED, CaseStatus.DISPATCHED, CaseStatus.IN_PROGRESS):
        raise InvalidCaseInput(
            f"目标案件 {target.number} 已不在办理中，不能并入",
            f"target case {target.number} is not open",
            field="into",
        )
    case = step.case
    case.merged_into = target
    case.closed_at = step.at
    case.assignments.filter(active=True).update(active=False)
    sla.stop_clocks(case)
    _finish(
        step,
        EventKind.MERGED,
        ["merged_into", "closed_at", "accept_due_at", "resolve_due_at"],
        note=note,
        data={"into": target.pk, "into_number": target.number},
    )
    return case


@transaction.atomic
def suspend_case(
    case_id: CaseRef,
    *,
    actor: User,
    reason: str,
    **expect: Unpack[ActionOptions],
) -> Case:
    """Suspend a running case (挂账/缓办): its clocks stop until :func:`resume_case`. Needs a reason.
    Event: ``SUSPENDED``."""
    step = _begin("suspend", case_id, actor, **expect)
    text = _text(reason, "reason", "挂账原因", "reason", limit=1000)
    step.case.suspended_at = step.at
    _finish(step, EventKind.SUSPENDED, ["suspended_at"], note=text)
    return step.case


@transaction.atomic
def resume_case(
    case_id: CaseRef,
    *,
    actor: User,
    note: str = "",
    **expect: Unpack[ActionOptions],
) -> Case:
    """Resume a suspended case: every running clock (and its start) moves by the working time
    spent suspended. Event: ``RESUMED`` (data: how much each clock moved, in its unit)."""
    step = _begin("resume", case_id, actor, **expect)
    case = step.case
    suspended_at = case.suspended_at or step.at
    moved = sla.shift_for_suspension(case, suspended_at, step.at)
    case.suspended_at = None
    _finish(
        step,
        EventKind.RESUMED,
        ["suspended_at", "accept_started_at", "accept_due_at", "resolve_started_at", "resolve_due_at"],
        note=note,
        data={"suspended_since": suspended_at.isoformat(), "moved": moved},
    )
    return case
