"""The write API of 政企直通车: one function per step of a demand, plus enterprise registration.

Each demand action, in one transaction: checks that the actor may see the demand (else
:class:`DemandNotFound`, the same as a missing one) and locks its row; compares
``expected_version`` if the caller's form sent it; checks the transition table (``workflow.check``:
state first, then role) and the actor's attachment (own enterprise, assigned counsellor, the
department the demand is routed to); validates its input; calls the case action that mirrors the
step on the linked case (which writes the ``CaseEvent`` and runs the case's own checks); updates the
demand and writes exactly one :class:`DemandEvent`. Any error rolls everything back.

Every action takes ``at`` (default now) so that the demo can backfill a realistic history.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from yiwang.cases import actions as case_actions
from yiwang.cases.choices import Channel, Satisfaction
from yiwang.cases.models import Category
from yiwang.core.calendar import TimeUnit, get_calendar
from yiwang.core.scoping import AreaFields, area_q, scope_of
from yiwang.governance.enterprise import workflow
from yiwang.governance.enterprise.errors import (
    DemandForbidden,
    DemandNotFound,
    DemandTransitionNotAllowed,
    EnterpriseInputError,
)
from yiwang.governance.enterprise.models import (
    Collateral,
    Demand,
    DemandEvent,
    DemandKind,
    DemandStatus,
    Enterprise,
    EnterpriseMember,
    FinancialInstitution,
    Industry,
    Matching,
    ResponseRule,
    Visit,
    VisitMode,
)
from yiwang.grids.models import Grid
from yiwang.people.models import Department, Role, User
from yiwang.registry import actions as registry_actions
from yiwang.registry.errors import RegistryError
from yiwang.registry.models import Organisation, OrganisationKind

# A sane ceiling for one demand (10 亿元); a deployment may set YIWANG_ENTERPRISE_AMOUNT_CAP.
DEFAULT_AMOUNT_CAP = Decimal("1000000000")
# Used only when no ResponseRule row exists for the kind of demand (the migration seeds them).
FALLBACK_RESPONSE_DAYS = 5
MAX_TERM_MONTHS = 360

CATEGORY_ROOT = ("ENT", "政企直通车")
CATEGORY_CODES = {
    DemandKind.FINANCING: ("ENT-FINANCING", "融资需求"),
    DemandKind.POLICY: ("ENT-POLICY", "政策咨询"),
    DemandKind.FACTORS: ("ENT-FACTORS", "要素保障"),
    DemandKind.OTHER: ("ENT-OTHER", "其他涉企诉求"),
}


# --- small validators -----------------------------------------------------------------------------


def amount_cap() -> Decimal:
    return Decimal(str(getattr(settings, "YIWANG_ENTERPRISE_AMOUNT_CAP", DEFAULT_AMOUNT_CAP)))


def parse_amount(value: Any, field: str, *, allow_zero: bool = False) -> Decimal:
    """A sum of money in yuan: a number with at most two decimals, positive (or zero when
    ``allow_zero``), at most :func:`amount_cap`."""
    if value is None or value == "" or isinstance(value, bool):
        raise EnterpriseInputError("金额不能为空", "the amount is required", field=field)
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except (InvalidOperation, ValueError):
        raise EnterpriseInputError(
            f"金额「{value}」不是有效数字", f"the amount {value!r} is not a number", field=field
        ) from None
    if not amount.is_finite():
        raise EnterpriseInputError("金额不是有效数字", "the amount is not a number", field=field)
    if amount < 0 or (amount == 0 and not allow_zero):
        raise EnterpriseInputError(
            "金额必须大于零" if not allow_zero else "金额不能为负数",
            "the amount must be greater than zero" if not allow_zero else "the amount must not be negative",
            field=field,
        )
    if amount != amount.quantize(Decimal("0.01")):
        raise EnterpriseInputError(
            "金额最多保留两位小数（分）", "the amount has at most two decimals", field=field
        )
    cap = amount_cap()
    if amount > cap:
        raise EnterpriseInputError(
            f"金额 {amount} 元超出上限 {cap} 元，请核对单位（元）",
            f"the amount {amount} yuan exceeds the ceiling of {cap} yuan; check the unit (yuan)",
            field=field,
        )
    return amount.quantize(Decimal("0.01"))


def _text(value: Any, field: str, zh: str, en: str, *, limit: int, required: bool = False) -> str:
    text = ("" if value is None else str(value)).strip()
    if required and not text:
        raise EnterpriseInputError(f"{zh}不能为空", f"{en} is required", field=field)
    if len(text) > limit:
        raise EnterpriseInputError(
            f"{zh}不能超过 {limit} 个字符", f"{en} must be at most {limit} characters", field=field
        )
    return text


def _choice(value: Any, choices: Any, field: str, zh: str, *, default: str | None = None) -> str:
    raw = "" if value is None else str(value)
    if not raw and default is not None:
        return default
    if raw not in choices.values:
        raise EnterpriseInputError(f"未知的{zh}：{raw}", f"unknown {field}: {raw}", field=field)
    return raw


def _term(value: Any) -> int:
    try:
        months = int(str(value).strip())
    except (TypeError, ValueError):
        raise EnterpriseInputError(
            "期限（月）应为整数", "the term in months is a whole number", field="term_months"
        ) from None
    if not 1 <= months <= MAX_TERM_MONTHS:
        raise EnterpriseInputError(
            f"期限应在 1 至 {MAX_TERM_MONTHS} 个月之间",
            f"the term must be between 1 and {MAX_TERM_MONTHS} months",
            field="term_months",
        )
    return months


def _now(at: dt.datetime | None) -> dt.datetime:
    return timezone.now() if at is None else at


def actor_roles(actor: Any) -> frozenset[str]:
    """The roles of ``actor`` (every role for a superuser), as the workflow table expects them."""
    scope = scope_of(actor)
    return frozenset(Role.values) if scope.everything else scope.roles


def _is_user_with_role(user: User | None, role: Role) -> bool:
    return user is not None and user.is_active and user.grants.filter(role=role).exists()


# --- categories and response rules (data, created idempotently) -----------------------------------


def ensure_categories(category_model: Any = Category) -> dict[str, Any]:
    """The case categories of enterprise demands (root 政企直通车 and one per kind), created if
    missing; returns them by demand kind. Used by the data migration."""
    root, _ = category_model.objects.get_or_create(
        code=CATEGORY_ROOT[0],
        defaults={"name": CATEGORY_ROOT[1], "kind": "demand", "demand_kind": "help", "is_public": False},
    )
    found: dict[str, Any] = {}
    for order, (kind, (code, name)) in enumerate(CATEGORY_CODES.items()):
        found[kind], _ = category_model.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "kind": "demand",
                "parent": root,
                "demand_kind": "consultation" if kind == DemandKind.POLICY else "help",
                "is_public": False,
                "sort_order": order,
            },
        )
    return found


def first_response_days(kind: str, institution: FinancialInstitution | None) -> int:
    if institution is not None and institution.first_response_days is not None:
        return institution.first_response_days
    rule = ResponseRule.objects.filter(demand_kind=kind).values_list("working_days", flat=True).first()
    return rule if rule is not None else FALLBACK_RESPONSE_DAYS


# --- enterprises ----------------------------------------------------------------------------------


def _require_area_role(actor: User | None, grid: Grid) -> None:
    if actor is None:
        return
    scope = scope_of(actor)
    if scope.everything:
        return
    if not scope.roles.intersection((Role.DISPATCHER, Role.ADMINISTRATOR)):
        raise DemandForbidden("您的角色无权登记企业", "your role may not register enterprises")
    area = AreaFields(
        district="community__district_id", street="community__street_id", community="community_id"
    )
    if not Grid.objects.filter(pk=grid.pk).filter(area_q(scope, area)).exists():
        raise DemandForbidden("该网格不在您的管辖范围内", "the grid is outside your area")


@transaction.atomic
def register_enterprise(
    *,
    actor: User | None,
    name: str,
    credit_code: str,
    grid: Grid,
    industry: str,
    address: str = "",
    lng: float | None = None,
    lat: float | None = None,
    contact_name: str = "",
    contact_phone: str = "",
    legal_representative: str = "",
    counsellor: User | None = None,
    is_demo: bool = False,
) -> Enterprise:
    """Register an enterprise of the channel (dispatchers and administrators in their areas; None:
    the system). Its identity goes to the registry: an organisation with the same credit code is
    reused, otherwise one is registered (kind 企业). The credit code is required and checked
    (GB 32100 check character)."""
    _require_area_role(actor, grid)
    industry = _choice(industry, Industry, "industry", "行业")
    if not str(credit_code or "").strip():
        raise EnterpriseInputError(
            "统一社会信用代码不能为空", "the credit code is required", field="credit_code"
        )
    try:
        organisation = Organisation.objects.filter(
            credit_code=str(credit_code).strip().upper()
        ).first() or registry_actions.register_organisation(
            actor=None,
            name=name,
            kind=OrganisationKind.ENTERPRISE,
            grid=grid,
            credit_code=credit_code,
            address=address,
            lng=lng,
            lat=lat,
            contact_name=contact_name,
            contact_phone=contact_phone,
            legal_representative=legal_representative,
            is_demo=is_demo,
        )
    except RegistryError as exc:
        raise EnterpriseInputError(exc.zh, exc.en, field=exc.field) from exc
    if Enterprise.objects.filter(organisation=organisation).exists():
        raise EnterpriseInputError(
            f"统一社会信用代码 {organisation.credit_code} 的企业已登记",
            f"an enterprise with credit code {organisation.credit_code} is already registered",
            field="credit_code",
        )
    if counsellor is not None and not _is_user_with_role(counsellor, Role.FINANCE_COUNSELLOR):
        raise EnterpriseInputError(
            "所选用户不是金融辅导员", "the user is not a finance counsellor", field="counsellor"
        )
    street = organisation.grid.community.street
    if street is None:
        raise EnterpriseInputError("网格未归属街道", "the grid belongs to no street", field="grid")
    return Enterprise.objects.create(
        organisation=organisation, industry=industry, street=street, counsellor=counsellor, is_demo=is_demo
    )


def _enterprise_for_admin(enterprise_id: int, actor: User | None) -> Enterprise:
    qs = Enterprise.objects.select_for_update()
    if actor is not None:
        if not scope_of(actor).has_role(Role.DISPATCHER, Role.ADMINISTRATOR):
            raise DemandForbidden("您的角色无权管理企业", "your role may not manage enterprises")
        if not Enterprise.objects.visible_to(actor).filter(pk=enterprise_id).exists():
            raise DemandNotFound("企业不存在或不在您的权限范围内", "enterprise not found")
    enterprise = qs.filter(pk=enterprise_id).first()
    if enterprise is None:
        raise DemandNotFound("企业不存在或不在您的权限范围内", "enterprise not found")
    return enterprise


@transaction.atomic
def assign_counsellor(enterprise_id: int, counsellor: User | None, *, actor: User | None) -> Enterprise:
    """Name (or clear, with None) the finance counsellor (金融辅导员) of an enterprise."""
    enterprise = _enterprise_for_admin(enterprise_id, actor)
    if counsellor is not None and not _is_user_with_role(counsellor, Role.FINANCE_COUNSELLOR):
        raise EnterpriseInputError(
            "所选用户不是金融辅导员", "the user is not a finance counsellor", field="counsellor"
        )
    enterprise.counsellor = counsellor
    enterprise.save(update_fields=["counsellor", "updated_at"])
    return enterprise


@transaction.atomic
def link_enterprise_user(enterprise_id: int, user: User, *, actor: User | None) -> EnterpriseMember:
    """Tie a user with the Role.ENTERPRISE grant to the enterprise they sign in for (one each)."""
    enterprise = _enterprise_for_admin(enterprise_id, actor)
    if not _is_user_with_role(user, Role.ENTERPRISE):
        raise EnterpriseInputError("该用户没有企业用户角色", "the user has no enterprise role", field="user")
    if EnterpriseMember.objects.filter(user=user).exists():
        raise EnterpriseInputError(
            "该用户已关联企业", "the user is already linked to an enterprise", field="user"
        )
    return EnterpriseMember.objects.create(enterprise=enterprise, user=user)


# --- demands: shared machinery --------------------------------------------------------------------


def _lock(demand_id: int | Demand, actor: User) -> Demand:
    pk = demand_id.pk if isinstance(demand_id, Demand) else demand_id
    if not Demand.objects.visible_to(actor).filter(pk=pk).exists():
        raise DemandNotFound(f"诉求不存在或不在您的权限范围内（{pk}）", f"demand {pk} not found")
    return Demand.objects.select_for_update().select_related("enterprise", "case").get(pk=pk)


def _begin(name: str, demand_id: int | Demand, actor: User, expected_version: int | None) -> Demand:
    demand = _lock(demand_id, actor)
    if expected_version is not None and demand.version != expected_version:
        raise DemandTransitionNotAllowed(
            "诉求已被他人更新，请刷新后重试", "the demand was changed by someone else; reload and try again"
        )
    workflow.check(name, demand.status, actor_roles(actor))
    return demand


def _require_routed_to_actor(demand: Demand, actor: User) -> None:
    """Department steps: the demand must currently be routed to the actor's department subtree."""
    scope = scope_of(actor)
    if scope.everything:
        return
    if demand.department_id is None or demand.department_id not in scope.department_ids:
        raise DemandForbidden("该诉求未派发给您所在单位", "the demand is not routed to your department")


def _require_field_actor(demand: Demand, actor: User) -> None:
    """Visits and matchings: the enterprise's counsellor, or the department the demand is routed to."""
    scope = scope_of(actor)
    if scope.everything:
        return
    if Role.FINANCE_COUNSELLOR in scope.roles and demand.enterprise.counsellor_id == actor.pk:
        return
    if Role.DEPARTMENT_HANDLER in scope.roles and demand.department_id in scope.department_ids:
        return
    raise DemandForbidden(
        "只有该企业的金融辅导员或承接单位可以记录",
        "only the enterprise's counsellor or the routed department may record this",
    )


def _finish(
    demand: Demand,
    name: str,
    actor: User | None,
    at: dt.datetime,
    fields: list[str],
    *,
    note: str = "",
    data: dict[str, Any] | None = None,
) -> DemandEvent:
    t = workflow.TRANSITIONS[name]
    from_status = demand.status
    demand.status = t.to_status(from_status)
    demand.version += 1
    demand.save(update_fields=sorted({*fields, "status", "version", "updated_at"}))
    return DemandEvent.objects.create(
        demand=demand,
        kind=name,
        actor=actor,
        at=at,
        from_status=from_status,
        to_status=demand.status,
        note=note[:1000],
        data=data or {},
    )


def _case_location(enterprise: Enterprise) -> tuple[float | None, float | None]:
    org = enterprise.organisation
    if org.lng is not None and org.lat is not None:
        return org.lng, org.lat
    grid = org.grid
    if grid.center_lng and grid.center_lat:
        return grid.center_lng, grid.center_lat
    return None, None


def _enterprise_for_filing(actor: User, enterprise_id: int | None) -> Enterprise:
    scope = scope_of(actor)
    if Role.ENTERPRISE in scope.roles and not scope.everything:
        member = EnterpriseMember.objects.filter(user=actor).select_related("enterprise").first()
        if member is None:
            raise DemandForbidden("您的账号尚未关联企业", "your account is not linked to an enterprise")
        if enterprise_id is not None and enterprise_id != member.enterprise_id:
            raise DemandNotFound("企业不存在或不在您的权限范围内", "enterprise not found")
        return member.enterprise
    if enterprise_id is None:
        raise EnterpriseInputError("请选择企业", "the enterprise is required", field="enterprise")
    enterprise = Enterprise.objects.visible_to(actor).filter(pk=enterprise_id).first()
    if enterprise is None:
        raise DemandNotFound("企业不存在或不在您的权限范围内", "enterprise not found")
    return enterprise


# --- demands: the steps ---------------------------------------------------------------------------


@transaction.atomic
def file_demand(
    *,
    actor: User,
    kind: str,
    description: str,
    enterprise_id: int | None = None,
    purpose: str = "",
    amount_requested: Any = None,
    term_months: Any = None,
    collateral: str = "",
    collateral_note: str = "",
    at: dt.datetime | None = None,
) -> Demand:
    """File a demand (提交诉求) for the actor's own enterprise (enterprise users), an assigned
    enterprise (counsellors) or any enterprise of their area (bureau staff). A financing demand
    needs an amount (positive, at most the ceiling), a purpose and a term in months. Creates the
    case (channel 政企直通车, status registered) and the demand (待派发). Events: the case's
    ``REGISTERED`` and the demand's ``file``."""
    workflow.check("file", workflow.NEW, actor_roles(actor))
    at = _now(at)
    enterprise = _enterprise_for_filing(actor, enterprise_id)
    kind = _choice(kind, DemandKind, "kind", "诉求类型")
    text = _text(description, "description", "诉求内容", "description", limit=4000, required=True)
    financing = kind == DemandKind.FINANCING
    amount = parse_amount(amount_requested, "amount_requested") if financing else None
    purpose = _text(purpose, "purpose", "资金用途", "purpose", limit=500, required=financing)
    months = _term(term_months) if financing else None
    collateral = _choice(
        collateral, Collateral, "collateral", "担保方式", default=Collateral.NONE if financing else ""
    )
    note = _text(collateral_note, "collateral_note", "担保说明", "collateral note", limit=500)
    category = CATEGORY_CODES[DemandKind(kind)][0]  # a code, seeded by the data migration
    lng, lat = _case_location(enterprise)
    org = enterprise.organisation
    case = case_actions.create_case(
        actor=None,  # the enterprise channel is public: enterprise users are not case-intake staff
        channel=Channel.ENTERPRISE,
        category=category,
        title=f"{org.name}：{DemandKind(kind).label}"[:200],
        description=text,
        lng=lng,
        lat=lat,
        address=org.address,
        reporter_name=org.contact_name or org.name[:50],
        reporter_phone=org.contact_phone or "",
        external_ref=org.credit_code,
        note=f"提交人：{actor}",
        at=at,
    )
    demand = Demand.objects.create(
        case=case,
        enterprise=enterprise,
        kind=kind,
        purpose=purpose,
        amount_requested=amount,
        term_months=months,
        collateral=collateral,
        collateral_note=note,
        filed_by=actor,
        filed_at=at,
        status=DemandStatus.SUBMITTED,
    )
    DemandEvent.objects.create(
        demand=demand,
        kind="file",
        actor=actor,
        at=at,
        from_status="",
        to_status=demand.status,
        data={"amount_requested": str(amount) if amount is not None else None, "case": case.number},
    )
    return demand


def _department(ref: int | Department) -> Department:
    pk = ref.pk if isinstance(ref, Department) else ref
    department = Department.objects.filter(pk=pk, is_active=True).first()
    if department is None:
        raise EnterpriseInputError(
            f"对接单位不存在或已停用（{pk}）", f"unknown or inactive department {pk}", field="department"
        )
    return department


@transaction.atomic
def route_demand(
    demand_id: int | Demand,
    *,
    actor: User,
    department: int | Department,
    note: str = "",
    at: dt.datetime | None = None,
    expected_version: int | None = None,
) -> Demand:
    """Route (派发) a submitted demand to a financial institution or a department through
    ``dispatch_case``; the first-response deadline runs in working days from now (the institution's
    own limit, else the :class:`ResponseRule` of the kind of demand)."""
    demand = _begin("route", demand_id, actor, expected_version)
    at = _now(at)
    target = _department(department)
    institution = FinancialInstitution.objects.filter(department=target, is_active=True).first()
    text = _text(note, "note", "派发说明", "note", limit=1000)
    case_actions.dispatch_case(demand.case_id, actor=actor, lead=target, note=text, at=at)
    days = first_response_days(demand.kind, institution)
    demand.department, demand.institution, demand.routed_at = target, institution, at
    demand.response_due_at = get_calendar().add(at, days, TimeUnit.WORK_DAYS)
    _finish(
        demand,
        "route",
        actor,
        at,
        ["department", "institution", "routed_at", "response_due_at"],
        note=text,
        data={"department": target.pk, "response_days": days},
    )
    return demand


def _stamp_first_response(demand: Demand, at: dt.datetime) -> list[str]:
    if demand.first_response_at is None and demand.routed_at is not None:
        demand.first_response_at = at
        return ["first_response_at"]
    return []


@transaction.atomic
def accept_demand(
    demand_id: int | Demand,
    *,
    actor: User,
    note: str = "",
    at: dt.datetime | None = None,
    expected_version: int | None = None,
) -> Demand:
    """The routed department accepts the demand (受理, ``sign_case``): its first response."""
    demand = _begin("accept", demand_id, actor, expected_version)
    _require_routed_to_actor(demand, actor)
    at = _now(at)
    text = _text(note, "note", "受理说明", "note", limit=1000)
    case_actions.sign_case(demand.case_id, actor=actor, note=text, at=at)
    _finish(demand, "accept", actor, at, _stamp_first_response(demand, at), note=text)
    return demand


@transaction.atomic
def decline_demand(
    demand_id: int | Demand,
    *,
    actor: User,
    reason: str,
    at: dt.datetime | None = None,
    expected_version: int | None = None,
) -> Demand:
    """The routed department sends the demand back (退回, ``return_case``) with a reason, to be
    routed elsewhere; the first-response clock is cleared."""
    demand = _begin("decline", demand_id, actor, expected_version)
    _require_routed_to_actor(demand, actor)
    at = _now(at)
    text = _text(reason, "reason", "退回原因", "reason", limit=1000, required=True)
    case_actions.return_case(demand.case_id, actor=actor, reason=text, at=at)
    department_id = demand.department_id
    demand.department = demand.institution = None
    demand.routed_at = demand.response_due_at = demand.first_response_at = None
    _finish(
        demand,
        "decline",
        actor,
        at,
        ["department", "institution", "routed_at", "response_due_at", "first_response_at"],
        note=text,
        data={"department": department_id},
    )
    return demand


@transaction.atomic
def record_visit(
    demand_id: int | Demand,
    *,
    actor: User,
    note: str,
    mode: str = VisitMode.ON_SITE,
    visited_at: dt.datetime | None = None,
    at: dt.datetime | None = None,
) -> Visit:
    """Record a visit (走访) to the enterprise about the demand: its counsellor, or the staff of the
    department it is routed to (which counts as that department's first response)."""
    demand = _begin("visit", demand_id, actor, None)
    _require_field_actor(demand, actor)
    at = _now(at)
    when = visited_at or at
    if when > timezone.now() + dt.timedelta(minutes=5):
        raise EnterpriseInputError(
            "走访时间不能晚于现在", "the visit cannot be in the future", field="visited_at"
        )
    text = _text(note, "note", "走访情况", "visit note", limit=1000, required=True)
    mode = _choice(mode, VisitMode, "mode", "走访方式", default=VisitMode.ON_SITE)
    visit = Visit.objects.create(demand=demand, visitor=actor, mode=mode, visited_at=when, note=text)
    fields: list[str] = []
    if demand.department_id is not None and demand.department_id in scope_of(actor).department_ids:
        fields = _stamp_first_response(demand, when)
    _finish(demand, "visit", actor, at, fields, note=text, data={"visit": visit.pk, "mode": mode})
    return visit


@transaction.atomic
def record_matching(
    demand_id: int | Demand,
    *,
    actor: User,
    institution: int | FinancialInstitution,
    product: str,
    proposed_amount: Any,
    note: str = "",
    at: dt.datetime | None = None,
) -> Matching:
    """Record a matching (银企对接): an institution proposes a product and an amount. Handlers may
    record only their own institution's offers; counsellors any active institution's."""
    demand = _begin("match", demand_id, actor, None)
    _require_field_actor(demand, actor)
    at = _now(at)
    pk = institution.pk if isinstance(institution, FinancialInstitution) else institution
    inst = FinancialInstitution.objects.filter(pk=pk, is_active=True).select_related("department").first()
    if inst is None:
        raise EnterpriseInputError(
            f"金融机构不存在或已停用（{pk}）", f"unknown institution {pk}", field="institution"
        )
    scope = scope_of(actor)
    if (
        not scope.everything
        and Role.FINANCE_COUNSELLOR not in scope.roles
        and inst.department_id not in scope.department_ids
    ):
        raise DemandForbidden("只能记录本机构的对接", "you may record only your own institution's offers")
    amount = parse_amount(proposed_amount, "proposed_amount")
    name = _text(product, "product", "金融产品", "product", limit=100, required=True)
    text = _text(note, "note", "对接说明", "note", limit=1000)
    matching = Matching.objects.create(
        demand=demand,
        institution=inst,
        product=name,
        proposed_amount=amount,
        note=text,
        recorded_by=actor,
        matched_at=at,
    )
    _finish(
        demand,
        "match",
        actor,
        at,
        [],
        note=text,
        data={"matching": matching.pk, "institution": inst.pk, "proposed_amount": str(amount)},
    )
    return matching


@transaction.atomic
def conclude_demand(
    demand_id: int | Demand,
    *,
    actor: User,
    amount_granted: Any,
    note: str = "",
    at: dt.datetime | None = None,
    expected_version: int | None = None,
) -> Demand:
    """The routed department concludes (办结, ``resolve_case``) with the amount granted (0 for a
    demand that got nothing, or for a non-financing demand); when nothing was granted the reason
    is mandatory."""
    demand = _begin("conclude", demand_id, actor, expected_version)
    _require_routed_to_actor(demand, actor)
    at = _now(at)
    financing = demand.kind == DemandKind.FINANCING
    granted = parse_amount(
        amount_granted if financing else (amount_granted or 0), "amount_granted", allow_zero=True
    )
    text = _text(note, "note", "办理结果说明", "outcome note", limit=1000)
    if granted == 0 and not text:
        raise EnterpriseInputError(
            "未获批任何金额时必须说明原因" if financing else "请填写办理结果",
            "a reason is required when nothing was granted" if financing else "the outcome is required",
            field="note",
        )
    result = text or f"获批金额 {granted} 元"
    case_actions.resolve_case(demand.case_id, actor=actor, result=result, at=at)
    demand.amount_granted, demand.outcome_note, demand.concluded_at = granted, text, at
    fields = ["amount_granted", "outcome_note", "concluded_at", *_stamp_first_response(demand, at)]
    _finish(demand, "conclude", actor, at, fields, note=text, data={"amount_granted": str(granted)})
    return demand


@transaction.atomic
def record_demand_callback(
    demand_id: int | Demand,
    *,
    actor: User,
    satisfaction: str,
    solved: bool = True,
    note: str = "",
    at: dt.datetime | None = None,
    expected_version: int | None = None,
) -> Demand:
    """The bureau calls the enterprise back (回访) after the conclusion: the case is verified and
    closed (``verify_case``) and the call-back recorded on it (``record_callback``) with the
    enterprise's satisfaction."""
    demand = _begin("callback", demand_id, actor, expected_version)
    at = _now(at)
    satisfaction = _choice(satisfaction, Satisfaction, "satisfaction", "满意度")
    text = _text(note, "note", "回访说明", "note", limit=1000)
    case_actions.verify_case(demand.case_id, actor=actor, passed=True, note=text, at=at)
    case_actions.record_callback(
        demand.case_id,
        actor=actor,
        contacted=True,
        solved=solved,
        satisfaction=satisfaction,
        note=text,
        at=at,
    )
    demand.satisfaction = satisfaction
    _finish(demand, "callback", actor, at, ["satisfaction"], note=text, data={"satisfaction": satisfaction})
    return demand


@transaction.atomic
def withdraw_demand(
    demand_id: int | Demand,
    *,
    actor: User,
    reason: str,
    at: dt.datetime | None = None,
    expected_version: int | None = None,
) -> Demand:
    """Withdraw (撤销) a demand not yet routed, on the enterprise's request or as a duplicate; the
    case is invalidated (作废)."""
    demand = _begin("withdraw", demand_id, actor, expected_version)
    at = _now(at)
    text = _text(reason, "reason", "撤销原因", "reason", limit=1000, required=True)
    case_actions.invalidate(demand.case_id, actor=actor, reason=text, at=at)
    _finish(demand, "withdraw", actor, at, [], note=text)
    return demand


def visible_demands(user: Any) -> Any:
    """The demands ``user`` may see, with what list pages show."""
    return Demand.objects.visible_to(user).select_related(
        "enterprise__organisation", "case", "department", "institution"
    )


__all__ = [
    "accept_demand",
    "actor_roles",
    "assign_counsellor",
    "conclude_demand",
    "decline_demand",
    "ensure_categories",
    "file_demand",
    "link_enterprise_user",
    "parse_amount",
    "record_demand_callback",
    "record_matching",
    "record_visit",
    "register_enterprise",
    "route_demand",
    "withdraw_demand",
]
