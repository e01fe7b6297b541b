"""Closing the loop: verification (核查/返工), call-back (回访) and the second round (二次办理)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Unpack

from django.db import transaction

from yiwang.cases import sla
from yiwang.cases.actions._base import (
    _ASSIGN_FIELDS,
    ActionOptions,
    CaseRef,
    DepartmentRef,
    _assign,
    _begin,
    _departments,
    _finish,
    _text,
)
from yiwang.cases.choices import (
    EventKind,
    Satisfaction,
)
from yiwang.cases.errors import (
    InvalidCaseInput,
    TransitionNotAllowed,
)
from yiwang.cases.models import Case
from yiwang.people.models import User


@transaction.atomic
def verify_case(
    case_id: CaseRef,
    *,
    actor: User,
    passed: bool,
    note: str = "",
    **expect: Unpack[ActionOptions],
) -> Case:
    """Verify a resolved case (核查). Passed: closed (event ``VERIFIED``). Failed: back to the lead
    department for rework (返工, counted) with a fresh resolution clock; a reason is required
    (event ``VERIFICATION_FAILED``)."""
    step = _begin(
        "verify_pass" if passed else "verify_fail",
        case_id,
        actor,
        **expect,
    )
    case = step.case
    if passed:
        case.closed_at = step.at
        _finish(step, EventKind.VERIFIED, ["closed_at"], note=(note or "").strip())
        return case
    text = _text(note, "note", "返工原因", "reason for rework", limit=1000)
    case.rework_count += 1
    sla.start_resolve_clock(case, step.at)
    _finish(
        step,
        EventKind.VERIFICATION_FAILED,
        ["rework_count", "resolve_started_at", "resolve_due_at", "resolve_breached_at"],
        note=text,
        data={"rework": case.rework_count},
    )
    return case


@transaction.atomic
def record_callback(
    case_id: CaseRef,
    *,
    actor: User,
    contacted: bool,
    solved: bool,
    satisfaction: str | None,
    note: str = "",
    **expect: Unpack[ActionOptions],
) -> Case:
    """Record the call-back (回访) of a closed case: contacted? solved? satisfaction (null when the
    citizen could not be reached). The case stays closed; 不满意 makes it eligible for
    :func:`reopen_case`. Event: ``CALLED_BACK``."""
    step = _begin("callback", case_id, actor, **expect)
    if satisfaction not in (None, "", *Satisfaction.values):
        raise InvalidCaseInput(
            f"未知的满意度：{satisfaction}", f"unknown satisfaction: {satisfaction}", field="satisfaction"
        )
    case = step.case
    case.contacted, case.solved, case.satisfaction = bool(contacted), bool(solved), satisfaction or ""
    case.called_back_at = step.at
    _finish(
        step,
        EventKind.CALLED_BACK,
        ["contacted", "solved", "satisfaction", "called_back_at"],
        note=note,
        data={"contacted": case.contacted, "solved": case.solved, "satisfaction": case.satisfaction},
    )
    return case


@transaction.atomic
def reopen_case(
    case_id: CaseRef,
    *,
    actor: User,
    lead: DepartmentRef | None = None,
    assisting: Iterable[DepartmentRef] | None = None,
    note: str = "",
    **expect: Unpack[ActionOptions],
) -> Case:
    """Send a closed case whose call-back was 不满意 for a second round (二次办理, counted),
    to the given departments or to the last round's. The call-back answers are cleared (they stay
    in the timeline) and the acceptance clock starts again. Event: ``REOPENED``."""
    step = _begin("reopen", case_id, actor, **expect)
    case = step.case
    if case.satisfaction != Satisfaction.UNSATISFIED:
        raise TransitionNotAllowed(
            "只有回访不满意的案件才能二次办理", "only a case called back as unsatisfied can be reopened"
        )
    last = list(case.assignments.filter(round=case.round).order_by("role", "id"))
    lead_ref: DepartmentRef | None = lead if lead is not None else case.lead_department_id
    if lead_ref is None:
        raise InvalidCaseInput("请指定主办单位", "a lead department is required", field="lead")
    helpers_ref = (
        assisting if assisting is not None else [a.department_id for a in last if a.role == "assist"]
    )
    lead_dept, helpers = _departments(lead_ref, helpers_ref)
    data = _assign(step, lead_dept, helpers)
    case.reopen_count += 1
    case.contacted = case.solved = None
    case.satisfaction, case.closed_at, case.resolved_at = "", None, None
    data["reopen"] = case.reopen_count
    _finish(
        step,
        EventKind.REOPENED,
        [*_ASSIGN_FIELDS, "reopen_count", "contacted", "solved", "satisfaction", "closed_at", "resolved_at"],
        note=note,
        data=data,
    )
    return case
