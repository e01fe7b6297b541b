"""The write API of the party and volunteer registers. Each action is atomic, checks the actor's
right to write (``actor=None`` is the system: demo builder, imports) and raises
:class:`yiwang.registry.errors.RegistryInputError` / ``RegistryForbidden`` with the field named."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from yiwang.core.scoping import AreaFields, area_q, scope_of
from yiwang.grids.models import Division, DivisionLevel, Grid
from yiwang.people.models import Role
from yiwang.registry.actions import check_grid_writable, pii_columns
from yiwang.registry.errors import RegistryForbidden, RegistryInputError, RegistryNotFound
from yiwang.registry.models import Household, Resident
from yiwang.registry.validation import parse_phone

from .models import (
    Activity,
    ActivityStatus,
    Assignment,
    AssignmentRole,
    CommunityReport,
    LedgerEntry,
    LedgerKind,
    MemberKind,
    OrganizationKind,
    PartyMember,
    PartyOrganization,
    Sentinel,
    SentinelOccupation,
    SignUp,
    Volunteer,
)


def check_community_writable(actor: Any, community: Division) -> None:
    """Administrators of an area containing the community (or the system) may write there."""
    if community.level != DivisionLevel.COMMUNITY:
        raise RegistryInputError(
            f"{community.name} 不是社区/村", f"{community.name} is not a community", field="community"
        )
    if actor is None:
        return
    scope = scope_of(actor)
    fields = AreaFields(district="district_id", street="street_id", community="id")
    allowed = scope.everything or (
        Role.ADMINISTRATOR in scope.roles
        and Division.objects.filter(area_q(scope, fields)).filter(pk=community.pk).exists()
    )
    if not allowed:
        raise RegistryForbidden(
            f"无权在 {community.name} 登记", f"not allowed to write in {community.name}", field="community"
        )


def _choice(value: str, choices: Any, field: str) -> str:
    for choice in choices:
        if value in (choice.value, str(choice.label)):
            return str(choice.value)
    raise RegistryInputError(f"{field}「{value}」无效", f"invalid {field} '{value}'", field=field)


# --- organisations and members --------------------------------------------------------------------


@transaction.atomic
def create_party_organization(
    *, actor: Any, name: str, kind: str, parent: PartyOrganization | None = None, unit: str = "",
    community: Division | None = None, is_demo: bool = False,
) -> PartyOrganization:  # fmt: skip
    if actor is not None and not scope_of(actor).has_role(Role.ADMINISTRATOR):
        raise RegistryForbidden("仅管理员可建立党组织", "only administrators create party organisations")
    if not name.strip():
        raise RegistryInputError("名称必填", "a name is required", field="name")
    return PartyOrganization.objects.create(
        name=name.strip()[:200], kind=_choice(kind, OrganizationKind, "kind"), parent=parent,
        unit=unit[:200], community=community, is_demo=is_demo,
    )  # fmt: skip


@transaction.atomic
def register_party_member(
    *, actor: Any, name: str, organization: PartyOrganization, kind: str, phone: str = "",
    resident: Resident | None = None, user: Any = None, is_demo: bool = False,
) -> PartyMember:  # fmt: skip
    if actor is not None and not scope_of(actor).has_role(Role.ADMINISTRATOR):
        raise RegistryForbidden("仅管理员可登记党员", "only administrators register party members")
    if not name.strip():
        raise RegistryInputError("姓名必填", "a name is required", field="name")
    value, digest, masked = pii_columns(parse_phone(phone), "phone")
    return PartyMember.objects.create(
        name=name.strip()[:50], organization=organization, kind=_choice(kind, MemberKind, "kind"),
        phone=value, phone_hash=digest, phone_masked=masked, resident=resident, user=user, is_demo=is_demo,
    )  # fmt: skip


@transaction.atomic
def report_organization(
    organization_id: int, community: Division, *, actor: Any, on: dt.date | None = None, commitment: str = ""
) -> CommunityReport:
    """双报到 of an organisation: it registers with a community and names what it will do there."""
    check_community_writable(actor, community)
    organization = PartyOrganization.objects.filter(pk=organization_id).first()
    if organization is None:
        raise RegistryNotFound("党组织不存在", "no such party organisation")
    report, _ = CommunityReport.objects.update_or_create(
        organization=organization,
        community=community,
        defaults={"reported_on": on or timezone.localdate(), "commitment": commitment[:500]},
    )
    return report


@transaction.atomic
def report_member(
    member_id: int, community: Division, *, actor: Any, on: dt.date | None = None
) -> PartyMember:
    """双报到 of an in-service member: they register with the community where they live."""
    check_community_writable(actor, community)
    member = PartyMember.objects.select_for_update().filter(pk=member_id).first()
    if member is None:
        raise RegistryNotFound("党员不存在", "no such party member")
    if member.kind != MemberKind.IN_SERVICE:
        raise RegistryInputError(
            "只有在职党员到社区双报到", "only in-service members report to a community (双报到)", field="kind"
        )
    member.community, member.reported_on = community, on or timezone.localdate()
    member.save(update_fields=["community", "reported_on", "updated_at"])
    return member


@transaction.atomic
def assign_member(
    member_id: int, *, actor: Any, role: str, grid: Grid, household: Household | None = None,
    on: dt.date | None = None,
) -> Assignment:  # fmt: skip
    """Post a reported in-service member in a grid of their community: as 网格指导员 (no household)
    or as 联系户 of one household of that grid."""
    role = _choice(role, AssignmentRole, "role")
    member = PartyMember.objects.filter(pk=member_id).first()
    if member is None:
        raise RegistryNotFound("党员不存在", "no such party member")
    if member.kind != MemberKind.IN_SERVICE or member.community_id is None:
        raise RegistryInputError(
            "须为已到社区报到的在职党员",
            "the member must be in service and reported to a community",
            field="member",
        )
    if grid.community_id != member.community_id:
        raise RegistryInputError(
            "网格不在该党员报到的社区内",
            "the grid is not in the community the member reported to",
            field="grid",
        )
    check_community_writable(actor, grid.community)
    if role == AssignmentRole.HOUSEHOLD_CONTACT:
        if household is None or household.grid_id != grid.pk:
            raise RegistryInputError(
                "联系户须为该网格内的户", "a 联系户 post needs a household of this grid", field="household"
            )
    elif household is not None:
        raise RegistryInputError(
            "网格指导员不对应具体的户", "a 网格指导员 post has no household", field="household"
        )
    assignment, _ = Assignment.objects.get_or_create(
        member=member, role=role, grid=grid, household=household, ended_on=None,
        defaults={"started_on": on or timezone.localdate()},
    )  # fmt: skip
    return assignment


@transaction.atomic
def end_assignment(assignment_id: int, *, actor: Any, on: dt.date | None = None) -> Assignment:
    assignment = (
        Assignment.objects.select_for_update()
        .select_related("grid__community")
        .filter(pk=assignment_id)
        .first()
    )
    if assignment is None:
        raise RegistryNotFound("包联记录不存在", "no such assignment")
    check_community_writable(actor, assignment.grid.community)
    assignment.ended_on = on or timezone.localdate()
    assignment.save(update_fields=["ended_on", "updated_at"])
    return assignment


@transaction.atomic
def register_sentinel(
    *, actor: Any, name: str, occupation: str, grid: Grid, company: str = "", phone: str = "",
    user: Any = None, member: PartyMember | None = None, is_demo: bool = False,
) -> Sentinel:  # fmt: skip
    """Register a 流动哨兵 (courier, rider, ride-hailing driver) who reports through the grid channel."""
    check_grid_writable(actor, grid)
    if not name.strip():
        raise RegistryInputError("姓名必填", "a name is required", field="name")
    value, digest, masked = pii_columns(parse_phone(phone), "phone")
    return Sentinel.objects.create(
        name=name.strip()[:50], occupation=_choice(occupation, SentinelOccupation, "occupation"),
        company=company[:100], phone=value, phone_hash=digest, phone_masked=masked, grid=grid,
        user=user, member=member, is_demo=is_demo,
    )  # fmt: skip


# --- volunteers -----------------------------------------------------------------------------------


@transaction.atomic
def register_volunteer(
    resident_id: int, *, actor: Any, member: PartyMember | None = None, skills: str = "",
    on: dt.date | None = None, is_demo: bool = False,
) -> Volunteer:  # fmt: skip
    resident = Resident.objects.select_related("grid").filter(pk=resident_id).first()
    if resident is None:
        raise RegistryNotFound("居民不存在", "no such resident")
    check_grid_writable(actor, resident.grid)
    if Volunteer.objects.filter(resident=resident).exists():
        raise RegistryInputError("该居民已是志愿者", "this resident is already a volunteer", field="resident")
    return Volunteer.objects.create(
        resident=resident,
        member=member,
        skills=skills[:200],
        registered_on=on or timezone.localdate(),
        is_demo=is_demo,
    )


@transaction.atomic
def publish_activity(
    *, actor: Any, title: str, community: Division, starts_at: dt.datetime, ends_at: dt.datetime,
    grid: Grid | None = None, description: str = "", capacity: int = 0, points_per_hour: int = 10,
    is_demo: bool = False,
) -> Activity:  # fmt: skip
    check_community_writable(actor, community)
    if grid is not None and grid.community_id != community.pk:
        raise RegistryInputError("网格不在该社区内", "the grid is not in this community", field="grid")
    if ends_at <= starts_at:
        raise RegistryInputError("结束时间须晚于开始时间", "the end must be after the start", field="ends_at")
    if not title.strip():
        raise RegistryInputError("标题必填", "a title is required", field="title")
    return Activity.objects.create(
        title=title.strip()[:200], description=description, community=community, grid=grid,
        starts_at=starts_at, ends_at=ends_at, capacity=capacity, points_per_hour=points_per_hour,
        published_by=actor, is_demo=is_demo,
    )  # fmt: skip


@transaction.atomic
def sign_up(activity_id: int, volunteer_id: int, *, actor: Any) -> SignUp:
    activity = Activity.objects.select_for_update().filter(pk=activity_id).first()
    volunteer = Volunteer.objects.filter(pk=volunteer_id).first()
    if activity is None or volunteer is None:
        raise RegistryNotFound("活动或志愿者不存在", "no such activity or volunteer")
    if activity.status != ActivityStatus.PUBLISHED:
        raise RegistryInputError("活动不在报名中", "the activity is not open for sign-up", field="activity")
    if activity.capacity and activity.signups.count() >= activity.capacity:
        raise RegistryInputError("报名人数已满", "the activity is full", field="activity")
    signup, _ = SignUp.objects.get_or_create(activity=activity, volunteer=volunteer)
    return signup


def _signup(signup_id: int, actor: Any) -> SignUp:
    signup = (
        SignUp.objects.select_for_update().select_related("activity__community").filter(pk=signup_id).first()
    )
    if signup is None:
        raise RegistryNotFound("报名记录不存在", "no such sign-up")
    check_community_writable(actor, signup.activity.community)
    return signup


@transaction.atomic
def check_in(signup_id: int, *, actor: Any, at: dt.datetime | None = None) -> SignUp:
    signup = _signup(signup_id, actor)
    if signup.checked_in_at is not None:
        raise RegistryInputError("已签到", "already checked in", field="checked_in_at")
    signup.checked_in_at = at or timezone.now()
    signup.save(update_fields=["checked_in_at", "updated_at"])
    return signup


@transaction.atomic
def check_out(signup_id: int, *, actor: Any, at: dt.datetime | None = None) -> LedgerEntry:
    """Check out and append the service hours (to a quarter hour) and points to the ledger."""
    signup = _signup(signup_id, actor)
    if signup.checked_in_at is None or signup.checked_out_at is not None:
        raise RegistryInputError(
            "须先签到且未签退", "check in first, and only once out", field="checked_out_at"
        )
    end = at or timezone.now()
    if end <= signup.checked_in_at:
        raise RegistryInputError(
            "签退时间须晚于签到时间", "check-out must follow check-in", field="checked_out_at"
        )
    signup.checked_out_at = end
    signup.save(update_fields=["checked_out_at", "updated_at"])
    seconds = Decimal((end - signup.checked_in_at).total_seconds())
    hours = (seconds / Decimal(900)).quantize(Decimal(1), rounding=ROUND_HALF_UP) / Decimal(4)
    points = int((hours * signup.activity.points_per_hour).to_integral_value(rounding=ROUND_HALF_UP))
    return LedgerEntry.objects.create(
        volunteer=signup.volunteer, activity=signup.activity, kind=LedgerKind.SERVICE,
        hours=hours, points=points, at=end, actor=actor,
    )  # fmt: skip


def balance(volunteer: Volunteer) -> dict[str, Any]:
    totals = volunteer.ledger.aggregate(hours=Sum("hours"), points=Sum("points"))
    return {"hours": totals["hours"] or Decimal(0), "points": totals["points"] or 0}


@transaction.atomic
def redeem_points(volunteer_id: int, points: int, *, actor: Any, note: str = "") -> LedgerEntry:
    """Spend points (积分兑换); the balance may not go below zero."""
    volunteer = (
        Volunteer.objects.select_for_update().select_related("resident__grid").filter(pk=volunteer_id).first()
    )
    if volunteer is None:
        raise RegistryNotFound("志愿者不存在", "no such volunteer")
    check_grid_writable(actor, volunteer.resident.grid)
    if points <= 0 or points > balance(volunteer)["points"]:
        raise RegistryInputError(
            "兑换积分须为正数且不超过余额", "points must be positive and within the balance", field="points"
        )
    return LedgerEntry.objects.create(
        volunteer=volunteer,
        kind=LedgerKind.REDEEM,
        points=-points,
        at=timezone.now(),
        actor=actor,
        note=note[:200],
    )
