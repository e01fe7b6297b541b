"""Intake and the hotline's own decisions: register, 110 hand-over, direct answer, invalidate, transfer to 110."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Unpack

from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils.dateparse import parse_date, parse_datetime

from yiwang.cases import sla, workflow
from yiwang.cases.actions._base import (
    PUBLIC_CHANNELS,
    TITLE_MAX,
    ActionOptions,
    CaseRef,
    _begin,
    _finish,
    _now,
    _roles,
    _save_attachments,
    _text,
)
from yiwang.cases.choices import (
    AttachmentKind,
    CaseStatus,
    Channel,
    EventKind,
    Urgency,
)
from yiwang.cases.errors import (
    ActionForbidden,
    InvalidCaseInput,
)
from yiwang.cases.files import check_file
from yiwang.cases.location import resolve_place
from yiwang.cases.models import AttributeDatatype, Case, CaseEvent, Category, CategoryAttribute
from yiwang.cases.models.case import DESCRIPTION_MAX
from yiwang.cases.numbers import next_case_number
from yiwang.core.coords import CRS
from yiwang.core.pii import lookup_hash
from yiwang.people.models import Role, User

# Channels registered by their own roles instead of the ``register`` transition's: a dispute
# (矛盾纠纷) is registered by mediators, and the hotline never registers into it (issue 9).
CHANNEL_INTAKE_ROLES: dict[str, frozenset[str]] = {
    Channel.MEDIATION: frozenset({Role.MEDIATOR, Role.ADMINISTRATOR}),
}


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
    attributes: Mapping[str, list[str]] | None = None,
    note: str = "",
    at: dt.datetime | None = None,
) -> Case:
    """Register a case (登记) from any channel.

    Preconditions: a staff actor whose roles allow ``register`` (or no actor for a public channel),
    an active category, a location inside the district (or none), a description of at most 4000
    characters, attachments of an accepted type and size, ``attributes`` (code → submitted values)
    that answer the category's questions (:class:`CategoryAttribute`): every required one answered,
    each value of its datatype, no unknown or informational code.
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
        attributes=attributes,
        note=note,
        at=at,
    )


def receive_from_110(*, actor: User, incident_number: str, **fields: Any) -> Receipt:
    """Take over a non-emergency matter handed over by 110 (110 → 12345), with the police incident
    number; returns the receipt for 110. Same input and checks as :func:`create_case` (channel is
    ``police_110``); idempotent on the incident number. Event: ``RECEIVED_FROM_110``."""
    number = _text(incident_number, "incident_number", "110警情编号", "110 incident number", limit=60)
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
    elif channel in CHANNEL_INTAKE_ROLES and transition == "register":
        if not CHANNEL_INTAKE_ROLES[channel] & _roles(actor):
            raise ActionForbidden(
                "您的角色无权在该渠道登记", "your role may not register cases on this channel"
            )
    else:
        workflow.check(transition, workflow.NEW, _roles(actor))
    key = _text(
        f.get("idempotency_key"), "idempotency_key", "幂等键", "idempotency key", required=False, limit=64
    )
    # Optimistic: a retry is rare, so instead of looking the key up first (one more query on every
    # intake) the unique index refuses the second insert and the existing case is returned.
    try:
        return _register(transition, kind, actor=actor, key=key or None, **f)
    except IntegrityError:
        existing = _existing(key, actor) if key else None
        if existing is None:
            raise
        return existing


def _existing(key: str, actor: User | None) -> Case | None:
    # A narrow query without ORDER BY: this runs on every keyed intake and almost always misses.
    hit = list(Case.objects.filter(idempotency_key=key).order_by().values_list("pk", "created_by_id")[:1])
    if not hit:
        return None
    pk, created_by_id = hit[0]
    if created_by_id != getattr(actor, "pk", None):
        raise InvalidCaseInput(
            "幂等键已被其他用户使用", "this idempotency key was used by another user", field="idempotency_key"
        )
    return Case.objects.get(pk=pk)


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
    answers = _attributes(category, f.get("attributes"))
    place = resolve_place(f.get("lng"), f.get("lat"), f.get("crs") or CRS.WGS84)
    phone = _text(f.get("reporter_phone"), "reporter_phone", "电话", "phone", required=False, limit=32)
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
        reporter_name=_text(
            f.get("reporter_name"), "reporter_name", "诉求人", "name", required=False, limit=50
        ),
        reporter_phone=phone,
        reporter_phone_hash=lookup_hash(phone, "phone"),
        is_anonymous=bool(f.get("is_anonymous")),
        is_confidential=bool(f.get("is_confidential")) or category.is_confidential,
        external_ref=_text(
            f.get("external_ref"), "external_ref", "外部编号", "external ref", required=False, limit=64
        ),
        idempotency_key=key,
        attributes=answers,
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
        data={
            "channel": case.channel,
            "category": category.code,
            "urgency": urgency,
            "grid_id": place.grid_id,
        },
    )
    _save_attachments(case, event, checked, AttachmentKind.EVIDENCE, actor)
    return case


def _attribute_error(attr: CategoryAttribute | None, code: str, zh: str, en: str) -> InvalidCaseInput:
    label = attr.description if attr is not None else code
    return InvalidCaseInput(
        f"附加属性「{label}」{zh}", f"attribute {code!r} {en}", field=f"attribute[{code}]"
    )


def _attribute_value(attr: CategoryAttribute, raw: str) -> str:
    """One submitted value of ``attr``, checked against its datatype (returned stripped)."""
    value = raw.strip()
    kind = attr.datatype
    if kind == AttributeDatatype.STRING and ("\n" in value or len(value) > 255):
        raise _attribute_error(
            attr, attr.code, "须为不超过255字的单行文本", "must be one line of at most 255 characters"
        )
    if kind == AttributeDatatype.TEXT and len(value) > DESCRIPTION_MAX:
        raise _attribute_error(
            attr,
            attr.code,
            f"不能超过 {DESCRIPTION_MAX} 个字符",
            f"must be at most {DESCRIPTION_MAX} characters",
        )
    if kind == AttributeDatatype.NUMBER:
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number):
            raise _attribute_error(
                attr, attr.code, f"须为数字（收到 {value!r}）", f"must be a number (got {value!r})"
            )
    if kind == AttributeDatatype.DATETIME:
        try:
            parsed: object = parse_datetime(value) or parse_date(value)
        except ValueError:
            parsed = None
        if parsed is None:
            raise _attribute_error(
                attr,
                attr.code,
                "须为 ISO 8601 日期时间",
                "must be an ISO 8601 date-time (2026-03-11T10:00:00+08:00)",
            )
    if kind in (AttributeDatatype.SINGLEVALUELIST, AttributeDatatype.MULTIVALUELIST):
        keys = attr.value_keys()
        if value not in keys:
            raise _attribute_error(
                attr,
                attr.code,
                f"的取值 {value!r} 不在可选值 {keys} 中",
                f"value {value!r} is not one of {keys}",
            )
    return value


def _attributes(category: Category, submitted: Mapping[str, list[str]] | None) -> dict[str, str | list[str]]:
    """Check the answers to ``category``'s questions; returns what ``Case.attributes`` stores."""
    defined = {a.code: a for a in CategoryAttribute.objects.filter(category=category)}
    answers: dict[str, str | list[str]] = {}
    for code, raw in (submitted or {}).items():
        attr = defined.get(code)
        if attr is None or not attr.variable:
            raise _attribute_error(
                attr,
                code,
                f"不属于分类「{category.name}」的可填写属性",
                f"is not an input attribute of category {category.code}",
            )
        values = [raw] if isinstance(raw, str) else list(raw)
        values = [v for v in (str(x).strip() for x in values) if v]
        if not values:
            continue
        if attr.datatype == AttributeDatatype.MULTIVALUELIST:
            answers[code] = list(dict.fromkeys(_attribute_value(attr, v) for v in values))
        elif len(values) > 1:
            raise _attribute_error(attr, code, "只能有一个取值", "takes exactly one value")
        else:
            answers[code] = _attribute_value(attr, values[0])
    for attr in defined.values():
        if attr.variable and attr.required and attr.code not in answers:
            raise _attribute_error(attr, attr.code, "为必填项", "is required")
    return answers


# --- at the hotline -----------------------------------------------------------------------------------
@transaction.atomic
def answer_directly(
    case_id: CaseRef,
    *,
    actor: User,
    answer: str,
    **expect: Unpack[ActionOptions],
) -> Case:
    """Close a consultation answered at intake (直接答复). Needs the answer text. Event:
    ``ANSWERED_DIRECTLY``."""
    step = _begin(
        "answer_directly",
        case_id,
        actor,
        **expect,
    )
    text = _text(answer, "answer", "答复内容", "answer", limit=DESCRIPTION_MAX)
    step.case.result, step.case.closed_at = text, step.at
    _finish(step, EventKind.ANSWERED_DIRECTLY, ["result", "closed_at"], note=text)
    return step.case


@transaction.atomic
def invalidate(
    case_id: CaseRef,
    *,
    actor: User,
    reason: str,
    **expect: Unpack[ActionOptions],
) -> Case:
    """Void a registered case (作废: spam, not our business). Needs a reason. Event: ``INVALIDATED``."""
    step = _begin(
        "invalidate",
        case_id,
        actor,
        **expect,
    )
    text = _text(reason, "reason", "作废原因", "reason", limit=1000)
    step.case.closed_at = step.at
    _finish(step, EventKind.INVALIDATED, ["closed_at"], note=text)
    return step.case


@transaction.atomic
def transfer_to_110(
    case_id: CaseRef,
    *,
    actor: User,
    receipt_number: str,
    note: str = "",
    **expect: Unpack[ActionOptions],
) -> Case:
    """Hand a police matter over to 110 (12345 → 110) with 110's receipt number. Event:
    ``TRANSFERRED_TO_110``."""
    step = _begin(
        "transfer_to_110",
        case_id,
        actor,
        **expect,
    )
    receipt = _text(receipt_number, "receipt_number", "110回执编号", "110 receipt number", limit=64)
    step.case.transfer_receipt, step.case.closed_at = receipt, step.at
    _finish(
        step,
        EventKind.TRANSFERRED_TO_110,
        ["transfer_receipt", "closed_at"],
        note=note,
        data={"receipt": receipt},
    )
    return step.case
