"""Every change of a case, one function per workflow transition (issue 3).

Each action, in one transaction:

1. locks the case row (``select_for_update`` through the actor's scoped queryset: a case outside the
   actor's scope is :class:`CaseNotFound`, the same as a missing one);
2. compares ``expected_status`` / ``expected_version`` from the caller's form, if given
   (:class:`CaseConflict` when someone acted first);
3. checks the transition table for the state and the actor's roles (``workflow.check``) and, for
   department actions, that the actor's department subtree holds the lead (or an assignment);
4. validates its input, mutates the case, writes exactly one :class:`CaseEvent`;
5. schedules side effects (notifications) with ``transaction.on_commit``.

Every action takes ``at`` (default: now) so that history can be backfilled with real moments
(the demo year). Any error is a :class:`CaseError` subclass with a Chinese and an English message,
raised before anything is written or rolling back what was.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone

from yiwang.cases import sla, workflow
from yiwang.cases.choices import (
    AssignmentRole,
    AttachmentKind,
    CaseStatus,
    Channel,
    EventKind,
    Satisfaction,
    Urgency,
)
from yiwang.cases.errors import (
    ActionForbidden,
    CaseConflict,
    CaseNotFound,
    InvalidCaseInput,
    TransitionNotAllowed,
)
from yiwang.cases.files import CheckedFile, check_file
from yiwang.cases.location import resolve_place
from yiwang.cases.models import Assignment, Attachment, Case, CaseEvent, Category
from yiwang.cases.models.case import DESCRIPTION_MAX
from yiwang.cases.numbers import next_case_number
from yiwang.core.calendar import TimeUnit
from yiwang.core.coords import CRS
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
        "your department is not " + ("a handling department" if assisting_too else "the lead department")
        + " of this case",
    )


def _begin(
    name: str,
    case_ref: CaseRef,
    actor: User,
    *,
    at: dt.datetime | None,
    expected_status: str | None = None,
    expected_version: int | None = None,
    department: str = "",
) -> _Step:
    """Lock the case and run every check of an action; nothing is written here."""
    case = _lock(case_ref, actor)
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
    return _Step(case, actor, t, case.status, _now(at))


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
    if kind in NOTIFY_KINDS:
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
        raise InvalidCaseInput(f"承办单位不存在或已停用（{pk}）", f"unknown or inactive department {pk}", field=field)
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


# --- intake -----------------------------------------------------------------------------------------
def _category(ref: Category | int | str) -> Category:
    if isinstance(ref, Category):
        found: Category | None = ref if ref.is_active else None
    elif isinstance(ref, int):
        found = Category.objects.filter(pk=ref, is_active=True).first()
    else:
        found = Category.objects.filter(code=ref, is_active=True).first()
    if found is None:
        raise InvalidCaseInput(f"未知的案件分类：{ref}", f"unknown case category: {ref}", field="category")
    return found


@dataclass(frozen=True)
class Receipt:
    """What the hotline answers to 110 for a hand-over (回执)."""

    case_id: int
    case_number: str
    incident_number: str
    received_at: dt.datetime


def create_case(
    *,
    actor: User | None,
    channel: str,
    category: Category | int | str,
    title: str,
    description: str,
    lng: float | None = None,
    lat: float | None = None,
    crs: CRS | str = CRS.WGS84,
    address: str = "",
    urgency: str | None = None,
    demand_kind: str = "",
    reporter_name: str = "",
    reporter_phone: str = "",
    is_anonymous: bool = False,
    is_confidential: bool = False,
    external_ref: str = "",
    idempotency_key: str | None = None,
    attachments: Sequence[File] = (),
    note: str = "",
    at: dt.datetime | None = None,
) -> Case:
    """Register a case (登记) from any channel.

    Preconditions: a staff actor whose roles allow ``register`` (or no actor for a public channel),
    an active category, a location inside the district (or none), a description of at most 4000
    characters, attachments of an accepted type and size.
    Changes: creates the case (status ``registered``) with its number, place and deadline limits, and
    its attachments. Event: ``REGISTERED``. Idempotent: a retry with the same ``idempotency_key``
    by the same actor returns the existing case and writes nothing.
    """
    return _intake(
        "register",
        EventKind.REGISTERED,
        actor=actor,
        channel=channel,
        category=category,
        title=title,
        description=description,
        lng=lng,
        lat=lat,
        crs=crs,
        address=address,
        urgency=urgency,
        demand_kind=demand_kind,
        reporter_name=reporter_name,
        reporter_phone=reporter_phone,
        is_anonymous=is_anonymous,
        is_confidential=is_confidential,
        external_ref=external_ref,
        idempotency_key=idempotency_key,
        attachments=attachments,
        note=note,
        at=at,
    )


def receive_from_110(*, actor: User, incident_number: str, **fields: Any) -> Receipt:
    """Take over a non-emergency matter handed over by 110 (110 → 12345), with the police incident
    number; returns the receipt for 110. Same input and checks as :func:`create_case` (channel is
    ``police_110``); idempotent on the incident number. Event: ``RECEIVED_FROM_110``."""
    number = _text(incident_number, "incident_number", "110警情编号", "110 incident number", limit=64)
    fields.setdefault("idempotency_key", f"110:{number}")
    case = _intake(
        "receive_from_110",
        EventKind.RECEIVED_FROM_110,
        actor=actor,
        channel=Channel.POLICE_110,
        external_ref=number,
        **fields,
    )
    return Receipt(case.pk, case.number, number, case.created_at)


def _intake(transition: str, kind: EventKind, *, actor: User | None, **f: Any) -> Case:
    channel = f["channel"]
    if channel not in Channel.values:
        raise InvalidCaseInput(f"未知的来源渠道：{channel}", f"unknown channel: {channel}", field="channel")
    if actor is None:
        if channel not in PUBLIC_CHANNELS or transition != "register":
            raise ActionForbidden("该渠道需要登录后登记", "this channel needs a signed-in staff actor")
    else:
        workflow.check(transition, workflow.NEW, _roles(actor))
    key = (f.get("idempotency_key") or "").strip() or None
    if key is not None:
        existing = _existing(key, actor)
        if existing is not None:
            return existing
    try:
        return _register(transition, kind, actor=actor, key=key, **f)
    except IntegrityError:
        # Two retries raced past the check above: the loser's insert hit the unique key.
        existing = _existing(key, actor) if key else None
        if existing is None:
            raise
        return existing


def _existing(key: str, actor: User | None) -> Case | None:
    case = Case.objects.filter(idempotency_key=key).first()
    if case is not None and case.created_by_id != getattr(actor, "pk", None):
        raise InvalidCaseInput("幂等键已被其他用户使用", "this idempotency key was used by another user", field="idempotency_key")
    return case


@transaction.atomic
def _register(transition: str, kind: EventKind, *, actor: User | None, key: str | None, **f: Any) -> Case:
    at = _now(f.get("at"))
    title = _text(f["title"], "title", "标题", "title", limit=TITLE_MAX)
    description = _text(f["description"], "description", "描述", "description", limit=DESCRIPTION_MAX)
    category = _category(f["category"])
    urgency = f.get("urgency") or category.default_urgency
    if urgency not in Urgency.values:
        raise InvalidCaseInput(f"未知的紧急程度：{urgency}", f"unknown urgency: {urgency}", field="urgency")
    checked = [check_file(upload) for upload in f.get("attachments") or ()]
    place = resolve_place(f.get("lng"), f.get("lat"), f.get("crs") or CRS.WGS84)
    case = Case(
        number=next_case_number(at),
        channel=f["channel"],
        category=category,
        demand_kind=f.get("demand_kind") or category.demand_kind,
        title=title,
        description=description,
        lng=place.lng,
        lat=place.lat,
        address=_text(f.get("address"), "address", "地址", "address", required=False, limit=255),
        grid_id=place.grid_id,
        community_id=place.community_id,
        street_id=place.street_id,
        district_id=place.district_id,
        urgency=urgency,
        reporter_name=_text(f.get("reporter_name"), "reporter_name", "诉求人", "name", required=False, limit=50),
        reporter_phone=_text(f.get("reporter_phone"), "reporter_phone", "电话", "phone", required=False, limit=32),
        is_anonymous=bool(f.get("is_anonymous")),
        is_confidential=bool(f.get("is_confidential")) or category.is_confidential,
        external_ref=_text(f.get("external_ref"), "external_ref", "外部编号", "external ref", required=False, limit=64),
        idempotency_key=key,
        status=CaseStatus.REGISTERED,
        created_by=actor,
        created_at=at,
        updated_at=at,
    )
    sla.apply_limits(case, sla.limits_for(category, urgency))
    case.save(force_insert=True)
    event = CaseEvent.objects.create(
        case=case,
        kind=kind,
        actor=actor,
        at=at,
        from_status="",
        to_status=case.status,
        note=f.get("note") or "",
        data={"channel": case.channel, "category": category.code, "urgency": urgency, "grid_id": place.grid_id},
    )
    _save_attachments(case, event, checked, AttachmentKind.EVIDENCE, actor)
    return case


# --- at the hotline -----------------------------------------------------------------------------------
@transaction.atomic
def answer_directly(
    case_id: CaseRef, *, actor: User, answer: str, at: dt.datetime | None = None, **expect: Any
) -> Case:
    """Close a consultation answered at intake (直接答复). Needs the answer text. Event:
    ``ANSWERED_DIRECTLY``."""
    step = _begin("answer_directly", case_id, actor, at=at, **expect)
    text = _text(answer, "answer", "答复内容", "answer", limit=DESCRIPTION_MAX)
    step.case.result, step.case.closed_at = text, step.at
    _finish(step, EventKind.ANSWERED_DIRECTLY, ["result", "closed_at"], note=text)
    return step.case


@transaction.atomic
def invalidate(case_id: CaseRef, *, actor: User, reason: str, at: dt.datetime | None = None, **expect: Any) -> Case:
    """Void a registered case (作废: spam, not our business). Needs a reason. Event: ``INVALIDATED``."""
    step = _begin("invalidate", case_id, actor, at=at, **expect)
    text = _text(reason, "reason", "作废原因", "reason", limit=1000)
    step.case.closed_at = step.at
    _finish(step, EventKind.INVALIDATED, ["closed_at"], note=text)
    return step.case


@transaction.atomic
def transfer_to_110(
    case_id: CaseRef, *, actor: User, receipt_number: str, note: str = "", at: dt.datetime | None = None, **expect: Any
) -> Case:
    """Hand a police matter over to 110 (12345 → 110) with 110's receipt number. Event:
    ``TRANSFERRED_TO_110``."""
    step = _begin("transfer_to_110", case_id, actor, at=at, **expect)
    receipt = _text(receipt_number, "receipt_number", "110回执编号", "110 receipt number", limit=64)
    step.case.transfer_receipt, step.case.closed_at = receipt, step.at
    _finish(step, EventKind.TRANSFERRED_TO_110, ["transfer_receipt", "closed_at"], note=note, data={"receipt": receipt})
    return step.case


# --- dispatch and handling ------------------------------------------------------------------------------
def _assign(step: _Step, lead: Department, assisting: Sequence[Department]) -> dict[str, Any]:
    case = step.case
    case.assignments.filter(active=True).update(active=False)
    case.round += 1
    rows = [Assignment(case=case, department=lead, role=AssignmentRole.LEAD, round=case.round, assigned_at=step.at)]
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


def _departments(lead: DepartmentRef, assisting: Iterable[DepartmentRef]) -> tuple[Department, list[Department]]:
    lead_dept = _department(lead, "lead")
    helpers: list[Department] = []
    for ref in assisting:
        d = _department(ref, "assisting")
        if d.pk != lead_dept.pk and d not in helpers:
            helpers.append(d)
    return lead_dept, helpers


@transaction.atomic
def dispatch_case(
    case_id: CaseRef,
    *,
    actor: User,
    lead: DepartmentRef,
    assisting: Iterable[DepartmentRef] = (),
    note: str = "",
    at: dt.datetime | None = None,
    **expect: Any,
) -> Case:
    """Dispatch a registered case to a lead (主办) and optional assisting (协办) departments.

    Starts the acceptance clock (签收时限) from the limits taken at intake. Event: ``DISPATCHED``;
    after commit the departments are notified. Two dispatchers at once: the second finds the case
    no longer registered (pass ``expected_status``/``expected_version`` to get :class:`CaseConflict`).
    """
    step = _begin("dispatch", case_id, actor, at=at, **expect)
    lead_dept, helpers = _departments(lead, assisting)
    data = _assign(step, lead_dept, helpers)
    _finish(step, EventKind.DISPATCHED, _ASSIGN_FIELDS, note=note, data=data)
    return step.case


@transaction.atomic
def sign_case(case_id: CaseRef, *, actor: User, note: str = "", at: dt.datetime | None = None, **expect: Any) -> Case:
    """The lead department signs for the case (签收): the acceptance clock stops, the resolution
    clock (办结时限) starts. Event: ``SIGNED``."""
    step = _begin("sign", case_id, actor, at=at, department="lead", **expect)
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
def return_case(case_id: CaseRef, *, actor: User, reason: str, at: dt.datetime | None = None, **expect: Any) -> Case:
    """The lead department returns a wrongly dispatched case to the dispatcher (退单). Needs a
    reason. The clocks stop, the round's assignments end (they stay in the history). Event:
    ``RETURNED``."""
    step = _begin("return", case_id, actor, at=at, department="lead", **expect)
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
        ["lead_department", "return_count", "extension_amount", "extension_unit", "accept_due_at", "resolve_due_at"],
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
    at: dt.datetime | None = None,
    **expect: Any,
) -> Case:
    """The lead department asks for more time (申请延期): a reason and the extra amount (in the
    resolution clock's unit unless given). One request may be pending at a time. Event:
    ``EXTENSION_REQUESTED``."""
    step = _begin("request_extension", case_id, actor, at=at, department="lead", **expect)
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
    case_id: CaseRef, *, actor: User, note: str = "", at: dt.datetime | None = None, **expect: Any
) -> Case:
    """Approve the pending extension: the resolution deadline moves by the requested amount.
    Event: ``EXTENSION_APPROVED``."""
    step = _begin("approve_extension", case_id, actor, at=at, **expect)
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
    case_id: CaseRef, *, actor: User, reason: str = "", at: dt.datetime | None = None, **expect: Any
) -> Case:
    """Refuse the pending extension; the deadline stays. Event: ``EXTENSION_REJECTED``."""
    step = _begin("reject_extension", case_id, actor, at=at, **expect)
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
def urge_case(case_id: CaseRef, *, actor: User, note: str = "", at: dt.datetime | None = None, **expect: Any) -> Case:
    """Urge the departments (催办); counted. Event: ``URGED``; they are notified after commit."""
    step = _begin("urge", case_id, actor, at=at, **expect)
    step.case.urge_count += 1
    _finish(step, EventKind.URGED, ["urge_count"], note=note, data={"count": step.case.urge_count})
    return step.case


@transaction.atomic
def supervise_case(
    case_id: CaseRef, *, actor: User, level: int, note: str = "", at: dt.datetime | None = None, **expect: Any
) -> Case:
    """Put the case under supervision (督办) at level 1–3 (3 is the highest). Event: ``SUPERVISED``."""
    step = _begin("supervise", case_id, actor, at=at, **expect)
    if level not in (1, 2, 3):
        raise InvalidCaseInput("督办级别必须是 1、2 或 3", "the supervision level must be 1, 2 or 3", field="level")
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
    at: dt.datetime | None = None,
    **expect: Any,
) -> Case:
    """A lead or assisting department reports progress (进展反馈), with optional photos. Event:
    ``PROGRESS_REPORTED``."""
    step = _begin("report_progress", case_id, actor, at=at, department="any", **expect)
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
    at: dt.datetime | None = None,
    **expect: Any,
) -> Case:
    """The lead department reports the case handled (办结) with the result text and photos; the
    resolution clock stops and the case waits for verification. Event: ``RESOLVED``."""
    step = _begin("resolve", case_id, actor, at=at, department="lead", **expect)
    text = _text(result, "result", "办理结果", "result", limit=DESCRIPTION_MAX)
    checked = [check_file(upload) for upload in photos]
    case = step.case
    case.result, case.resolved_at = text, step.at
    sla.stop_resolve_clock(case)
    event = _finish(step, EventKind.RESOLVED, ["result", "resolved_at", "resolve_due_at"], note=text)
    _save_attachments(case, event, checked, AttachmentKind.RESULT, actor)
    return case


@transaction.atomic
def verify_case(
    case_id: CaseRef, *, actor: User, passed: bool, note: str = "", at: dt.datetime | None = None, **expect: Any
) -> Case:
    """Verify a resolved case (核查). Passed: closed (event ``VERIFIED``). Failed: back to the lead
    department for rework (返工, counted) with a fresh resolution clock; a reason is required
    (event ``VERIFICATION_FAILED``)."""
    step = _begin("verify_pass" if passed else "verify_fail", case_id, actor, at=at, **expect)
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
    at: dt.datetime | None = None,
    **expect: Any,
) -> Case:
    """Record the call-back (回访) of a closed case: contacted? solved? satisfaction (null when the
    citizen could not be reached). The case stays closed; 不满意 makes it eligible for
    :func:`reopen_case`. Event: ``CALLED_BACK``."""
    step = _begin("callback", case_id, actor, at=at, **expect)
    if satisfaction not in (None, "", *Satisfaction.values):
        raise InvalidCaseInput(f"未知的满意度：{satisfaction}", f"unknown satisfaction: {satisfaction}", field="satisfaction")
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
    at: dt.datetime | None = None,
    **expect: Any,
) -> Case:
    """Send a closed case whose call-back was 不满意 for a second round (二次办理, counted),
    to the given departments or to the last round's. The call-back answers are cleared (they stay
    in the timeline) and the acceptance clock starts again. Event: ``REOPENED``."""
    step = _begin("reopen", case_id, actor, at=at, **expect)
    case = step.case
    if case.satisfaction != Satisfaction.UNSATISFIED:
        raise TransitionNotAllowed(
            "只有回访不满意的案件才能二次办理", "only a case called back as unsatisfied can be reopened"
        )
    last = list(case.assignments.filter(round=case.round).order_by("role", "id"))
    lead_ref: DepartmentRef | None = lead if lead is not None else case.lead_department_id
    if lead_ref is None:
        raise InvalidCaseInput("请指定主办单位", "a lead department is required", field="lead")
    helpers_ref = assisting if assisting is not None else [a.department_id for a in last if a.role == "assist"]
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


# --- merge, suspension -------------------------------------------------------------------------------
@transaction.atomic
def merge_cases(
    case_id: CaseRef, *, actor: User, into: CaseRef, note: str = "", at: dt.datetime | None = None, **expect: Any
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
        step = _begin("merge", source_pk, actor, at=at, **expect)
    else:
        step = _begin("merge", source_pk, actor, at=at, **expect)
        target = _lock(target_pk, actor)
    if target.status not in (CaseStatus.REGISTERED, CaseStatus.DISPATCHED, CaseStatus.IN_PROGRESS):
        raise InvalidCaseInput(
            f"目标案件 {target.number} 已不在办理中，不能并入", f"target case {target.number} is not open", field="into"
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
def suspend_case(case_id: CaseRef, *, actor: User, reason: str, at: dt.datetime | None = None, **expect: Any) -> Case:
    """Suspend a running case (挂账/缓办): its clocks stop until :func:`resume_case`. Needs a reason.
    Event: ``SUSPENDED``."""
    step = _begin("suspend", case_id, actor, at=at, **expect)
    text = _text(reason, "reason", "挂账原因", "reason", limit=1000)
    step.case.suspended_at = step.at
    _finish(step, EventKind.SUSPENDED, ["suspended_at"], note=text)
    return step.case


@transaction.atomic
def resume_case(case_id: CaseRef, *, actor: User, note: str = "", at: dt.datetime | None = None, **expect: Any) -> Case:
    """Resume a suspended case: every running clock (and its start) moves by the working time
    spent suspended. Event: ``RESUMED`` (data: how much each clock moved, in its unit)."""
    step = _begin("resume", case_id, actor, at=at, **expect)
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
