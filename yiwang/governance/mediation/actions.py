"""Every change of a dispute, one function per workflow transition (issue 9).

Each action, in one transaction: locks the dispute through the actor's scoped queryset (outside
scope = :class:`DisputeNotFound`), checks ``expected_version`` if given, checks the transition table
(``workflow.check``), validates its input, changes the dispute and writes exactly one
:class:`DisputeEvent`. Any error is an :class:`~yiwang.cases.errors.CaseError` subclass with a
Chinese and an English message, raised before anything is written (or rolling it back).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone

from yiwang.cases.actions import create_case
from yiwang.cases.choices import CategoryKind, Channel
from yiwang.cases.errors import CaseConflict
from yiwang.cases.models import Category
from yiwang.core.calendar import TimeUnit, get_calendar
from yiwang.core.scoping import scope_of
from yiwang.governance.mediation import workflow
from yiwang.governance.mediation.errors import DisputeForbidden, DisputeNotFound, InvalidDisputeInput
from yiwang.governance.mediation.models import (
    CATEGORY_BY_KIND,
    CATEGORY_ROOT,
    Agreement,
    Committee,
    CommitteeLevel,
    Dispute,
    DisputeEvent,
    DisputeKind,
    DisputeStatus,
    Mediator,
    MediatorKind,
    Outcome,
    Party,
    PartyKind,
    PartySide,
    Referral,
    Session,
    TimeLimit,
)
from yiwang.grids.models import Division, DivisionLevel
from yiwang.people.models import Grant, Role, User
from yiwang.people.roles import sync_role_groups

TEXT_MAX = 4000
# Used only when the TimeLimit table has no row at all (it is seeded by migration 0002).
FALLBACK_LIMIT = (Decimal(30), TimeUnit.DAYS)

DisputeRef = int | Dispute


@dataclass(frozen=True)
class PartyInput:
    """One party as entered on the registration form (plain values; stored encrypted)."""

    side: str
    name: str
    kind: str = PartyKind.PERSON
    id_number: str = ""
    phone: str = ""


# --- helpers -------------------------------------------------------------------------------------------
def actor_roles(actor: Any) -> frozenset[str]:
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
        raise InvalidDisputeInput(f"{zh}不能为空", f"{en} is required", field=field)
    if limit and len(text) > limit:
        raise InvalidDisputeInput(
            f"{zh}不能超过 {limit} 个字符（现为 {len(text)} 个）",
            f"{en} must be at most {limit} characters (got {len(text)})",
            field=field,
        )
    return text


def _amount(value: Any, field: str, zh: str, en: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e12"):
        raise InvalidDisputeInput(
            f"{zh}须为不小于 0 的金额（收到 {value!r}）", f"{en} must be a non-negative amount", field=field
        )
    return amount.quantize(Decimal("0.01"))


def _choice(value: str, choices: Any, field: str, zh: str, en: str) -> str:
    if value not in choices.values:
        raise InvalidDisputeInput(f"未知的{zh}：{value or '（空）'}", f"unknown {en}: {value!r}", field=field)
    return str(value)


def _lock(ref: DisputeRef, actor: Any) -> Dispute:
    pk = ref.pk if isinstance(ref, Dispute) else ref
    try:
        return Dispute.objects.visible_to(actor).select_for_update().get(pk=pk)
    except Dispute.DoesNotExist:
        raise DisputeNotFound(f"纠纷不存在或不在您的权限范围内（{pk}）", f"dispute {pk} not found") from None


@dataclass
class _Step:
    dispute: Dispute
    actor: User
    transition: workflow.Transition
    from_status: str
    at: dt.datetime


def _begin(name: str, ref: DisputeRef, actor: User, at: dt.datetime | None, version: int | None) -> _Step:
    dispute = _lock(ref, actor)
    if version is not None and dispute.version != version:
        raise CaseConflict(
            "纠纷已被他人更新，请刷新后重试", "the dispute was changed by someone else; reload and try again"
        )
    t = workflow.check(name, dispute.status, actor_roles(actor))
    return _Step(dispute, actor, t, dispute.status, _now(at))


def _finish(step: _Step, *, note: str = "", data: dict[str, Any] | None = None) -> DisputeEvent:
    dispute = step.dispute
    dispute.status = step.transition.to_status(dispute.status)
    dispute.version += 1
    dispute.save()
    return DisputeEvent.objects.create(
        dispute=dispute,
        kind=step.transition.name,
        actor=step.actor,
        at=step.at,
        from_status=step.from_status,
        to_status=dispute.status,
        note=note,
        data=data or {},
    )


def _mediators(dispute: Dispute, refs: Iterable[int | Mediator], *, field: str) -> list[Mediator]:
    ids = sorted({m.pk if isinstance(m, Mediator) else int(m) for m in refs})
    if not ids:
        raise InvalidDisputeInput("请至少选择一名调解员", "choose at least one mediator", field=field)
    found = list(dispute.committee.members.filter(pk__in=ids, is_active=True))
    if len(found) != len(ids):
        raise InvalidDisputeInput(
            "所选调解员不属于本纠纷的调解委员会",
            "a chosen mediator is not a member of the committee",
            field=field,
        )
    return found


# --- reference data --------------------------------------------------------------------------------------
def ensure_categories(category_model: Any = Category) -> dict[str, Any]:
    """The confidential dispute categories (矛盾纠纷 and one child per kind), created if missing;
    returns kind → category. Run by the data migration ``0003_dispute_categories``."""
    root_code, root_name = CATEGORY_ROOT
    confidential = {"kind": CategoryKind.MATTER, "is_public": False, "is_confidential": True}
    root, _ = category_model.objects.get_or_create(
        code=root_code, defaults={"name": root_name, **confidential}
    )
    out: dict[str, Any] = {}
    for order, (kind, (code, name)) in enumerate(CATEGORY_BY_KIND.items(), start=1):
        out[kind], _ = category_model.objects.get_or_create(
            code=code, defaults={"name": name, "parent": root, "sort_order": order, **confidential}
        )
    return out


def limit_for(kind: str) -> tuple[Decimal, str]:
    """The mediation time limit of ``kind`` (its own row, else the default row)."""
    rows = {row.kind: row for row in TimeLimit.objects.filter(kind__in=[kind, ""])}
    row = rows.get(kind) or rows.get("")
    return (row.amount, row.unit) if row is not None else FALLBACK_LIMIT


def due_moment(kind: str, accepted_at: dt.datetime) -> dt.datetime:
    amount, unit = limit_for(kind)
    return get_calendar().add(accepted_at, amount, unit)


# --- committees and mediators -----------------------------------------------------------------------------
def _require_admin(actor: Any) -> None:
    if not scope_of(actor).has_role(Role.ADMINISTRATOR):
        raise DisputeForbidden(
            "仅系统管理员可维护调解组织", "only administrators maintain mediation committees"
        )


@transaction.atomic
def create_committee(*, actor: Any, name: str, division: Division) -> Committee:
    """A committee of a street or community division (level follows the division)."""
    _require_admin(actor)
    levels: dict[str, str] = {
        DivisionLevel.STREET: CommitteeLevel.STREET,
        DivisionLevel.COMMUNITY: CommitteeLevel.COMMUNITY,
    }
    if division.level not in levels:
        raise InvalidDisputeInput(
            "调解委员会须设在街道（镇）或社区（村）",
            "a committee belongs to a street or a community",
            field="division",
        )
    return Committee.objects.create(
        name=_text(name, "name", "名称", "name", limit=100), level=levels[division.level], division=division
    )


@transaction.atomic
def appoint_mediator(
    *, actor: Any, user: User, committee: Committee, kind: str = MediatorKind.PEOPLE
) -> Mediator:
    """Make ``user`` a mediator of ``committee``: the Mediator row, the membership, and a MEDIATOR
    grant over the committee's division (idempotent)."""
    _require_admin(actor)
    kind = _choice(kind, MediatorKind, "kind", "调解员类型", "mediator kind")
    mediator, created = Mediator.objects.get_or_create(user=user, defaults={"kind": kind})
    if not created and mediator.kind != kind:
        mediator.kind = kind
        mediator.save(update_fields=["kind", "updated_at"])
    committee.members.add(mediator)
    Grant.objects.get_or_create(user=user, role=Role.MEDIATOR, division=committee.division, department=None)
    sync_role_groups(user)
    return mediator


# --- intake ------------------------------------------------------------------------------------------------
def _parties(parties: Sequence[PartyInput]) -> list[PartyInput]:
    clean: list[PartyInput] = []
    for i, p in enumerate(parties):
        side = _choice(p.side, PartySide, f"parties[{i}].side", "当事人身份", "party side")
        kind = _choice(p.kind, PartyKind, f"parties[{i}].kind", "当事人类型", "party kind")
        clean.append(
            PartyInput(
                side=side,
                kind=kind,
                name=_text(p.name, f"parties[{i}].name", "当事人姓名/名称", "party name", limit=100),
                id_number=_text(
                    p.id_number, f"parties[{i}].id_number", "证件号码", "ID number", required=False, limit=32
                ).upper(),
                phone=_text(p.phone, f"parties[{i}].phone", "联系电话", "phone", required=False, limit=32),
            )
        )
    sides = {p.side for p in clean}
    if PartySide.APPLICANT not in sides or PartySide.RESPONDENT not in sides:
        raise InvalidDisputeInput(
            "须至少有一名申请人和一名被申请人",
            "at least one applicant and one respondent are required",
            field="parties",
        )
    return clean


@transaction.atomic
def register_dispute(
    *,
    actor: User,
    committee: Committee | int,
    kind: str,
    summary: str,
    facts: str,
    parties: Sequence[PartyInput],
    amount: Decimal | str | None = None,
    at: dt.datetime | None = None,
) -> Dispute:
    """Register a dispute (申请登记) with a committee the actor belongs to (or administers).

    Creates the confidential ``cases.Case`` (channel ``mediation``, no location, a title without
    names) through ``cases.actions.create_case``, the dispute, its parties and a ``register`` event.
    """
    workflow.check("register", workflow.NEW, actor_roles(actor))
    pk = committee.pk if isinstance(committee, Committee) else committee
    found = (
        Committee.objects.visible_to(actor).filter(pk=pk, is_active=True).select_related("division").first()
    )
    if found is None:
        raise InvalidDisputeInput(
            "调解委员会不存在或不在您的权限范围内",
            "unknown committee or outside your scope",
            field="committee",
        )
    kind = _choice(kind, DisputeKind, "kind", "纠纷类型", "dispute kind")
    summary = _text(summary, "summary", "纠纷概要", "summary", limit=200)
    facts = _text(facts, "facts", "纠纷事实", "facts", limit=TEXT_MAX)
    clean = _parties(parties)
    money = _amount(amount, "amount", "争议金额", "amount in dispute")
    moment = _now(at)
    category = CATEGORY_BY_KIND[kind][0]  # a code: create_case refuses it clearly if missing
    # The case carries no names, no facts and no place: it only anchors the dispute in the case
    # register; the details stay behind the mediation scoping.
    case = create_case(
        actor=actor,
        channel=Channel.MEDIATION,
        category=category,
        title=f"矛盾纠纷调解（{DisputeKind(kind).label}）",
        description="保密案件：详情见矛盾纠纷调解模块。",
        is_confidential=True,
        at=moment,
    )
    division = found.division
    dispute = Dispute.objects.create(
        case=case,
        kind=kind,
        committee=found,
        summary=summary,
        facts=facts,
        amount=money,
        status=DisputeStatus.APPLIED,
        district_id=division.district_id
        or (division.pk if division.level == DivisionLevel.DISTRICT else None),
        street_id=division.pk if division.level == DivisionLevel.STREET else division.street_id,
        community_id=division.pk if division.level == DivisionLevel.COMMUNITY else None,
        applied_at=moment,
        created_by=actor,
    )
    Party.objects.bulk_create(Party(dispute=dispute, **vars(p)) for p in clean)
    DisputeEvent.objects.create(
        dispute=dispute,
        kind="register",
        actor=actor,
        at=moment,
        to_status=dispute.status,
        data={"kind": kind, "committee": found.pk, "case": case.pk, "parties": len(clean)},
    )
    return dispute


# --- the workflow -----------------------------------------------------------------------------------------
@transaction.atomic
def accept_dispute(
    dispute: DisputeRef,
    *,
    actor: User,
    note: str = "",
    at: dt.datetime | None = None,
    version: int | None = None,
) -> Dispute:
    """受理: starts the mediation time limit of the dispute's kind (``TimeLimit``)."""
    step = _begin("accept", dispute, actor, at, version)
    d = step.dispute
    d.accepted_at = step.at
    d.due_at = due_moment(d.kind, step.at)
    _finish(
        step,
        note=_text(note, "note", "说明", "note", required=False, limit=TEXT_MAX),
        data={"due_at": d.due_at.isoformat()},
    )
    return d


@transaction.atomic
def assign_mediators(
    dispute: DisputeRef,
    *,
    actor: User,
    mediators: Sequence[int | Mediator],
    at: dt.datetime | None = None,
    version: int | None = None,
) -> Dispute:
    """指派: the committee's mediators in charge (replaces any earlier choice)."""
    step = _begin("assign", dispute, actor, at, version)
    chosen = _mediators(step.dispute, mediators, field="mediators")
    step.dispute.mediators.set(chosen)
    _finish(step, data={"mediators": [m.pk for m in chosen]})
    return step.dispute


@transaction.atomic
def record_session(
    dispute: DisputeRef,
    *,
    actor: User,
    held_on: dt.date,
    place: str,
    mediators: Sequence[int | Mediator],
    notes: str = "",
    at: dt.datetime | None = None,
    version: int | None = None,
) -> Session:
    """调解会: date, place, the mediators present and the notes."""
    step = _begin("session", dispute, actor, at, version)
    if not isinstance(held_on, dt.date):
        raise InvalidDisputeInput("请填写调解日期", "the session date is required", field="held_on")
    applied = timezone.localdate(step.dispute.applied_at)
    if held_on < applied:
        raise InvalidDisputeInput(
            f"调解日期不能早于申请日期（{applied}）",
            f"the session cannot precede the application ({applied})",
            field="held_on",
        )
    present = _mediators(step.dispute, mediators, field="mediators")
    session = Session.objects.create(
        dispute=step.dispute,
        held_on=held_on,
        place=_text(place, "place", "调解地点", "place", limit=200),
        notes=_text(notes, "notes", "调解记录", "notes", required=False, limit=TEXT_MAX),
        created_at=step.at,
    )
    session.mediators.set(present)
    _finish(step, data={"session": session.pk, "held_on": held_on.isoformat()})
    return session


@transaction.atomic
def record_agreement(
    dispute: DisputeRef,
    *,
    actor: User,
    signed_on: dt.date,
    terms: str,
    parties: Sequence[int | Party],
    amount: Decimal | str | None = None,
    due_on: dt.date | None = None,
    at: dt.datetime | None = None,
    version: int | None = None,
) -> Agreement:
    """达成调解协议: terms, amount, performance due date, and the parties who signed — at least one
    applicant and one respondent of this dispute."""
    step = _begin("agree", dispute, actor, at, version)
    d = step.dispute
    if not isinstance(signed_on, dt.date):
        raise InvalidDisputeInput("请填写协议签订日期", "the agreement date is required", field="signed_on")
    if due_on is not None and due_on < signed_on:
        raise InvalidDisputeInput(
            "履行期限不能早于协议签订日期",
            "the performance due date cannot precede the agreement date",
            field="due_on",
        )
    ids = sorted({p.pk if isinstance(p, Party) else int(p) for p in parties})
    signed = list(d.parties.filter(pk__in=ids))
    sides = {p.side for p in signed}
    if len(signed) != len(ids) or PartySide.APPLICANT not in sides or PartySide.RESPONDENT not in sides:
        raise InvalidDisputeInput(
            "调解协议须由本纠纷至少一名申请人和一名被申请人签订",
            "an agreement needs at least one applicant and one respondent of this dispute",
            field="parties",
        )
    agreement = Agreement.objects.create(
        dispute=d,
        signed_on=signed_on,
        terms=_text(terms, "terms", "协议内容", "terms", limit=TEXT_MAX),
        amount=_amount(amount, "amount", "协议金额", "amount"),
        due_on=due_on,
    )
    agreement.parties.set(signed)
    d.outcome, d.outcome_at = Outcome.AGREEMENT, step.at
    _finish(step, data={"signed_on": signed_on.isoformat(), "parties": ids})
    return agreement


@transaction.atomic
def record_failure(
    dispute: DisputeRef,
    *,
    actor: User,
    reason: str,
    referral: str,
    at: dt.datetime | None = None,
    version: int | None = None,
) -> Dispute:
    """调解不成: the reason, and where the parties are referred (仲裁, 诉讼 or 信访)."""
    step = _begin("fail", dispute, actor, at, version)
    d = step.dispute
    reason = _text(reason, "reason", "调解不成原因", "reason", limit=TEXT_MAX)
    if not referral:
        raise InvalidDisputeInput(
            "调解不成须写明引导途径（仲裁、诉讼或信访）",
            "a failed mediation needs a referral target (arbitration, court or petition)",
            field="referral",
        )
    d.referral = _choice(referral, Referral, "referral", "引导途径", "referral target")
    d.failure_reason = reason
    d.outcome, d.outcome_at = Outcome.FAILURE, step.at
    _finish(step, note=reason, data={"referral": d.referral})
    return d


@transaction.atomic
def record_follow_up(
    dispute: DisputeRef,
    *,
    actor: User,
    performed: bool,
    note: str = "",
    at: dt.datetime | None = None,
    version: int | None = None,
) -> Dispute:
    """回访: whether the agreement was performed."""
    step = _begin("follow_up", dispute, actor, at, version)
    d = step.dispute
    if not isinstance(performed, bool):
        raise InvalidDisputeInput(
            "请选择协议是否履行", "say whether the agreement was performed", field="performed"
        )
    d.performed, d.followed_up_at = performed, step.at
    d.follow_up_note = _text(note, "note", "回访情况", "note", required=False, limit=TEXT_MAX)
    _finish(step, note=d.follow_up_note, data={"performed": performed})
    return d


@transaction.atomic
def close_dispute(
    dispute: DisputeRef,
    *,
    actor: User,
    note: str = "",
    at: dt.datetime | None = None,
    version: int | None = None,
) -> Dispute:
    """结案 (after the follow-up visit, or after a failure with its referral)."""
    step = _begin("close", dispute, actor, at, version)
    step.dispute.closed_at = step.at
    _finish(step, note=_text(note, "note", "说明", "note", required=False, limit=TEXT_MAX))
    return step.dispute


ACTIONS = {
    "accept": accept_dispute,
    "assign": assign_mediators,
    "session": record_session,
    "agree": record_agreement,
    "fail": record_failure,
    "follow_up": record_follow_up,
    "close": close_dispute,
}

__all__ = [
    "ACTIONS",
    "PartyInput",
    "accept_dispute",
    "appoint_mediator",
    "assign_mediators",
    "close_dispute",
    "create_committee",
    "due_moment",
    "ensure_categories",
    "limit_for",
    "record_agreement",
    "record_failure",
    "record_follow_up",
    "record_session",
    "register_dispute",
]
