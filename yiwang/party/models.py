"""Party-building-led grids: party organisations and members, 双报到 (organisations and in-service
members registering with the community where they live or serve), members assigned to grids as
网格指导员 or to households as 联系户, 流动哨兵 of the new employment groups, and volunteers with
their activities and an append-only service-hour and points ledger.

Writes go through ``party.actions``; reads through ``visible_to(user)`` (area of the community or
grid, the same roles as the registers: see ``registry.scope``).
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.core.fields import EncryptedCharField
from yiwang.core.models import TimeStampedModel
from yiwang.core.scoping import AreaFields, area_q, scope_of
from yiwang.people.models import Role
from yiwang.registry.scope import READ_AREA_ROLES, read_q


def community_q(user: Any, path: str = "community") -> models.Q:
    """Rows whose community (through ``path``) lies in the user's areas, for the area roles."""
    scope = scope_of(user)
    if scope.everything:
        return models.Q()
    if not scope.roles.intersection(READ_AREA_ROLES):
        return models.Q(pk__in=[])
    return area_q(
        scope,
        AreaFields(district=f"{path}__district_id", street=f"{path}__street_id", community=f"{path}_id"),
    )


class OrganizationKind(models.TextChoices):
    COMMITTEE = "committee", _("党委")
    GENERAL_BRANCH = "general_branch", _("党总支")
    BRANCH = "branch", _("党支部")


class PartyOrganizationQuerySet(models.QuerySet["PartyOrganization"]):
    def visible_to(self, user: Any) -> Self:
        """The organisation tree is not personal data: every active user with a scope sees it."""
        return self.none() if scope_of(user).is_empty else self


class PartyOrganization(TimeStampedModel):
    """A party organisation (党组织): a committee, general branch or branch, in a tree. ``unit`` is
    the workplace it belongs to (机关、企业、学校…), ``community`` its territorial community if any."""

    name = models.CharField(_("名称"), max_length=200)
    kind = models.CharField(_("类型"), max_length=16, choices=OrganizationKind.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级党组织"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    unit = models.CharField(_("所在单位"), max_length=200, blank=True)
    community = models.ForeignKey(
        "grids.Division",
        verbose_name=_("属地社区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    is_demo = models.BooleanField(_("演示数据（虚构）"), default=False)

    objects = PartyOrganizationQuerySet.as_manager()

    class Meta:
        verbose_name = _("党组织")
        verbose_name_plural = _("党组织")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CommunityReport(TimeStampedModel):
    """双报到 of an organisation: a party organisation registers with a community (单位报到)."""

    organization = models.ForeignKey(
        PartyOrganization, verbose_name=_("党组织"), on_delete=models.CASCADE, related_name="reports"
    )
    community = models.ForeignKey(
        "grids.Division", verbose_name=_("报到社区"), on_delete=models.PROTECT, related_name="+"
    )
    reported_on = models.DateField(_("报到日期"))
    commitment = models.CharField(_("认领服务项目"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("单位双报到")
        verbose_name_plural = _("单位双报到")
        constraints = [
            models.UniqueConstraint(fields=["organization", "community"], name="party_report_unique")
        ]

    def __str__(self) -> str:
        return f"{self.organization} → {self.community}"


class MemberKind(models.TextChoices):
    IN_SERVICE = "in_service", _("在职党员")
    FLOATING = "floating", _("流动党员")
    RETIRED = "retired", _("离退休党员")
    OTHER = "other", _("其他")


class PartyMemberQuerySet(models.QuerySet["PartyMember"]):
    def visible_to(self, user: Any) -> Self:
        """Members reported to a community in the user's areas; grid workers see the members
        assigned to their own grids."""
        q = community_q(user)
        scope = scope_of(user)
        if Role.GRID_WORKER in scope.roles and scope.grid_ids:
            q |= models.Q(
                pk__in=Assignment.objects.filter(grid_id__in=sorted(scope.grid_ids)).values("member_id")
            )
        return self.filter(q)


class PartyMember(TimeStampedModel):
    """A party member (党员): a person (optionally linked to their resident record and their login),
    their organisation and kind. ``community``/``reported_on`` record their 双报到."""

    name = models.CharField(_("姓名"), max_length=50)
    resident = models.ForeignKey(
        "registry.Resident",
        verbose_name=_("居民档案"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="party_memberships",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("系统账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    organization = models.ForeignKey(
        PartyOrganization, verbose_name=_("所在党组织"), on_delete=models.PROTECT, related_name="members"
    )
    kind = models.CharField(_("党员类型"), max_length=16, choices=MemberKind.choices, db_index=True)
    phone = EncryptedCharField(_("联系电话"), max_length=20, blank=True, pii_kind="phone")
    phone_hash = models.CharField(
        _("联系电话检索码"), max_length=64, blank=True, db_index=True, editable=False
    )
    phone_masked = models.CharField(_("联系电话（脱敏）"), max_length=20, blank=True, editable=False)
    community = models.ForeignKey(
        "grids.Division",
        verbose_name=_("报到社区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    reported_on = models.DateField(_("报到日期"), null=True, blank=True)
    is_demo = models.BooleanField(_("演示数据（虚构）"), default=False)

    objects = PartyMemberQuerySet.as_manager()

    class Meta:
        verbose_name = _("党员")
        verbose_name_plural = _("党员")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AssignmentRole(models.TextChoices):
    GRID_INSTRUCTOR = "grid_instructor", _("网格指导员")
    HOUSEHOLD_CONTACT = "household_contact", _("联系户")


class Assignment(TimeStampedModel):
    """An in-service member's post in a grid: 网格指导员 of the grid, or 联系户 of one household."""

    member = models.ForeignKey(
        PartyMember, verbose_name=_("党员"), on_delete=models.CASCADE, related_name="assignments"
    )
    role = models.CharField(_("岗位"), max_length=24, choices=AssignmentRole.choices)
    grid = models.ForeignKey(
        "grids.Grid", verbose_name=_("网格"), on_delete=models.PROTECT, related_name="party_assignments"
    )
    household = models.ForeignKey(
        "registry.Household",
        verbose_name=_("联系户"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="party_contacts",
    )
    started_on = models.DateField(_("开始日期"))
    ended_on = models.DateField(_("结束日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("党员包联")
        verbose_name_plural = _("党员包联")
        constraints = [
            models.UniqueConstraint(
                fields=["member", "role", "grid", "household"],
                condition=models.Q(ended_on__isnull=True),
                name="party_assignment_open_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} · {self.get_role_display()} · {self.grid_id}"


class SentinelOccupation(models.TextChoices):
    COURIER = "courier", _("快递员")
    RIDER = "rider", _("外卖骑手")
    RIDE_HAILING = "ride_hailing", _("网约车司机")
    OTHER = "other", _("其他新就业群体")


class SentinelQuerySet(models.QuerySet["Sentinel"]):
    def visible_to(self, user: Any) -> Self:
        return self.filter(read_q(user, "grid"))


class Sentinel(TimeStampedModel):
    """A 流动哨兵: a courier, delivery rider or ride-hailing driver who reports what they see through
    the grid channel. ``user`` is their login, if they have one (reports then carry it)."""

    name = models.CharField(_("姓名"), max_length=50)
    occupation = models.CharField(_("职业"), max_length=16, choices=SentinelOccupation.choices)
    company = models.CharField(_("所属平台/公司"), max_length=100, blank=True)
    phone = EncryptedCharField(_("联系电话"), max_length=20, blank=True, pii_kind="phone")
    phone_hash = models.CharField(
        _("联系电话检索码"), max_length=64, blank=True, db_index=True, editable=False
    )
    phone_masked = models.CharField(_("联系电话（脱敏）"), max_length=20, blank=True, editable=False)
    grid = models.ForeignKey(
        "grids.Grid", verbose_name=_("常驻网格"), on_delete=models.PROTECT, related_name="sentinels"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("系统账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    member = models.ForeignKey(
        PartyMember,
        verbose_name=_("党员身份"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    is_active = models.BooleanField(_("在岗"), default=True)
    is_demo = models.BooleanField(_("演示数据（虚构）"), default=False)

    objects = SentinelQuerySet.as_manager()

    class Meta:
        verbose_name = _("流动哨兵")
        verbose_name_plural = _("流动哨兵")
        ordering = ["grid", "name"]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_occupation_display()}）"


# --- volunteers -----------------------------------------------------------------------------------


class VolunteerQuerySet(models.QuerySet["Volunteer"]):
    def visible_to(self, user: Any) -> Self:
        return self.filter(read_q(user, "resident__grid"))


class Volunteer(TimeStampedModel):
    """A registered volunteer: always a resident, possibly a party member."""

    resident = models.OneToOneField(
        "registry.Resident", verbose_name=_("居民"), on_delete=models.PROTECT, related_name="volunteer"
    )
    member = models.ForeignKey(
        PartyMember,
        verbose_name=_("党员身份"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="volunteers",
    )
    skills = models.CharField(_("特长"), max_length=200, blank=True)
    registered_on = models.DateField(_("注册日期"))
    is_demo = models.BooleanField(_("演示数据（虚构）"), default=False)

    objects = VolunteerQuerySet.as_manager()

    class Meta:
        verbose_name = _("志愿者")
        verbose_name_plural = _("志愿者")

    def __str__(self) -> str:
        return self.resident.name


class ActivityStatus(models.TextChoices):
    PUBLISHED = "published", _("已发布")
    CANCELLED = "cancelled", _("已取消")
    FINISHED = "finished", _("已结束")


class ActivityQuerySet(models.QuerySet["Activity"]):
    def visible_to(self, user: Any) -> Self:
        scope = scope_of(user)
        q = community_q(user)
        if Role.GRID_WORKER in scope.roles and scope.grid_ids:
            q |= models.Q(grid_id__in=sorted(scope.grid_ids))
        return self.filter(q)


class Activity(TimeStampedModel):
    """A volunteer activity published by a community (optionally in one grid)."""

    title = models.CharField(_("标题"), max_length=200)
    description = models.TextField(_("内容"), blank=True)
    community = models.ForeignKey(
        "grids.Division", verbose_name=_("社区"), on_delete=models.PROTECT, related_name="+"
    )
    grid = models.ForeignKey(
        "grids.Grid",
        verbose_name=_("网格"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    starts_at = models.DateTimeField(_("开始时间"))
    ends_at = models.DateTimeField(_("结束时间"))
    capacity = models.PositiveIntegerField(_("招募人数"), default=0, help_text=_("0 表示不限"))
    points_per_hour = models.PositiveIntegerField(_("每小时积分"), default=10)
    status = models.CharField(
        _("状态"), max_length=16, choices=ActivityStatus.choices, default=ActivityStatus.PUBLISHED
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发布人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    is_demo = models.BooleanField(_("演示数据（虚构）"), default=False)

    objects = ActivityQuerySet.as_manager()

    class Meta:
        verbose_name = _("志愿活动")
        verbose_name_plural = _("志愿活动")
        ordering = ["-starts_at"]

    def __str__(self) -> str:
        return self.title


class SignUp(TimeStampedModel):
    """A volunteer's sign-up for an activity, with check-in and check-out times."""

    activity = models.ForeignKey(
        Activity, verbose_name=_("活动"), on_delete=models.CASCADE, related_name="signups"
    )
    volunteer = models.ForeignKey(
        Volunteer, verbose_name=_("志愿者"), on_delete=models.CASCADE, related_name="signups"
    )
    checked_in_at = models.DateTimeField(_("签到时间"), null=True, blank=True)
    checked_out_at = models.DateTimeField(_("签退时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("活动报名")
        verbose_name_plural = _("活动报名")
        constraints = [models.UniqueConstraint(fields=["activity", "volunteer"], name="party_signup_unique")]

    def __str__(self) -> str:
        return f"{self.volunteer} @ {self.activity}"


class LedgerKind(models.TextChoices):
    SERVICE = "service", _("服务时长")
    REDEEM = "redeem", _("积分兑换")
    CORRECTION = "correction", _("更正")


class AppendOnlyQuerySet(models.QuerySet["LedgerEntry"]):
    def update(self, **kwargs: Any) -> int:
        raise PermissionError("积分台账只能追加 / the ledger is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("积分台账只能追加 / the ledger is append-only")


class LedgerEntry(models.Model):
    """One line of the service-hour and points ledger (志愿服务积分). Append-only: a mistake is
    fixed by a ``correction`` line, never by editing; balances are sums."""

    volunteer = models.ForeignKey(
        Volunteer, verbose_name=_("志愿者"), on_delete=models.PROTECT, related_name="ledger"
    )
    activity = models.ForeignKey(
        Activity, verbose_name=_("活动"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("类型"), max_length=16, choices=LedgerKind.choices)
    hours = models.DecimalField(_("时长（小时）"), max_digits=7, decimal_places=2, default=0)
    points = models.IntegerField(_("积分"), default=0)
    at = models.DateTimeField(_("时间"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("经办人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)

    objects: ClassVar[models.Manager[LedgerEntry]] = AppendOnlyQuerySet.as_manager()

    class Meta:
        verbose_name = _("志愿服务台账")
        verbose_name_plural = _("志愿服务台账")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.volunteer_id} {self.kind} {self.hours}h {self.points:+d}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Integrity, not domain logic: an existing line is never rewritten.
        if self.pk is not None and not self._state.adding:
            raise PermissionError("积分台账只能追加 / the ledger is append-only")
        super().save(*args, **kwargs)
