"""Special campaigns (重点领域问题隐患专项治理, 民生倾听) of issue 9.

A :class:`Campaign` works one *field* (燃气安全, 消防通道, 自建房, 民生倾听 … rows of
:class:`CampaignField`, not constants) over an area (a division subtree) for a period, on targets
taken from the grid base database (``registry``). When it starts, the selection is frozen as
:class:`CampaignTarget` rows, so later registry changes do not move the goalposts. Grid workers
record :class:`CampaignInspection` rows (visited / not reachable); every hidden danger they find is
a case of the normal pipeline (``cases.Case``, channel 网格巡查) linked by :class:`CampaignFinding`:
the campaign never tracks the fixing itself, it reads the case's status and deadlines.

Only ``campaigns.actions`` writes these rows; every change of a campaign appends one
:class:`CampaignEvent` in the same transaction. Reads go through ``visible_to(user)``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.core.scoping import AreaFields, Scope, area_q, scope_of
from yiwang.grids.models import Division, Grid
from yiwang.people.models import Role

# Roles that see (and steer) campaigns by area; grid workers see only what touches their grids.
AREA_ROLES = (Role.DISPATCHER, Role.LEADER, Role.ADMINISTRATOR)


def _never() -> models.Q:
    return models.Q(pk__in=[])


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    RUNNING = "running", _("进行中")
    CLOSED = "closed", _("已结束")
    CANCELLED = "cancelled", _("已取消")


class TargetKind(models.TextChoices):
    """Which register a campaign draws its targets from."""

    KEY_SITE = "key_site", _("重点场所")
    BUILDING = "building", _("楼栋（房屋）")
    ORGANISATION = "organisation", _("单位（企业、商户）")
    RESIDENT = "resident", _("重点人群（居民标签）")


class InspectionOutcome(models.TextChoices):
    VISITED = "visited", _("已走访")
    UNREACHABLE = "unreachable", _("未能到达")


class EventKind(models.TextChoices):
    CREATED = "created", _("创建")
    STARTED = "started", _("启动")
    CLOSED = "closed", _("结束")
    CANCELLED = "cancelled", _("取消")
    INSPECTED = "inspected", _("巡查走访")
    FINDING = "finding", _("发现隐患")


# --- the field of a campaign (data, editable in the admin) ------------------------------------------


class CampaignField(models.Model):
    """A field of work (燃气安全, 消防通道 …) with what a campaign on it usually targets and the
    case category its hidden dangers are registered under."""

    code = models.SlugField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    description = models.CharField(_("说明"), max_length=300, blank=True)
    category = models.ForeignKey(
        "cases.Category",
        verbose_name=_("隐患默认案件分类"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    target_kind = models.CharField(
        _("默认目标类型"), max_length=16, choices=TargetKind.choices, default=TargetKind.KEY_SITE
    )
    is_active = models.BooleanField(_("启用"), default=True)
    sort = models.PositiveSmallIntegerField(_("排序"), default=100)

    class Meta:
        verbose_name = _("治理领域")
        verbose_name_plural = _("治理领域")
        ordering = ("sort", "code")

    def __str__(self) -> str:
        return self.name


# --- campaigns ----------------------------------------------------------------------------------------


def campaign_scope_q(scope: Scope) -> models.Q:
    """Which campaigns ``scope`` may see.

    * dispatchers, leaders and administrators: campaigns whose area lies inside one of their areas,
      or contains it (a district-wide campaign concerns every street);
    * grid workers: campaigns whose area covers one of their grids.
    """
    if scope.everything:
        return models.Q()
    q = _never()
    if scope.roles.intersection(AREA_ROLES):
        q |= area_q(
            scope,
            AreaFields(
                district="division__district_id", street="division__street_id", community="division_id"
            ),
        )
        own = sorted(scope.district_ids | scope.street_ids | scope.community_ids)
        q |= models.Q(division_id__in=own)
        lower = sorted(scope.street_ids | scope.community_ids)
        if lower:
            below = Division.objects.filter(pk__in=lower)
            q |= models.Q(division_id__in=below.values("district_id"))
            q |= models.Q(division_id__in=below.values("street_id"))
    if Role.GRID_WORKER in scope.roles and scope.grid_ids:
        grids = Grid.objects.filter(pk__in=sorted(scope.grid_ids))
        q |= (
            models.Q(division_id__in=grids.values("community_id"))
            | models.Q(division_id__in=grids.values("community__street_id"))
            | models.Q(division_id__in=grids.values("community__district_id"))
        )
    return q


class CampaignQuerySet(models.QuerySet["Campaign"]):
    def visible_to(self, user: Any) -> CampaignQuerySet:
        """The campaigns ``user`` may see (see :func:`campaign_scope_q`); outside scope means absent."""
        scope = scope_of(user)
        if scope.is_empty:
            return self.none()
        return self.filter(campaign_scope_q(scope))


class Campaign(models.Model):
    title = models.CharField(_("名称"), max_length=100)
    field = models.ForeignKey(
        CampaignField, verbose_name=_("治理领域"), on_delete=models.PROTECT, related_name="campaigns"
    )
    description = models.TextField(_("工作要求"), blank=True, max_length=2000)
    division = models.ForeignKey(
        Division, verbose_name=_("治理区域"), on_delete=models.PROTECT, related_name="+"
    )
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    # The selection of targets, applied when the campaign starts (then frozen as CampaignTarget rows).
    target_kind = models.CharField(_("目标类型"), max_length=16, choices=TargetKind.choices)
    target_filter = models.CharField(
        _("目标筛选"),
        max_length=32,
        blank=True,
        help_text=_("重点场所/单位类型，或居民标签代码；为空表示该类型全部"),
    )
    coverage_goal = models.PositiveSmallIntegerField(
        _("走访覆盖率目标（%）"), default=100, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    fix_goal = models.PositiveSmallIntegerField(
        _("隐患整改率目标（%）"), default=95, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT, db_index=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"))
    started_at = models.DateTimeField(_("启动时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    is_demo = models.BooleanField(_("演示数据（虚构）"), default=False)

    objects = CampaignQuerySet.as_manager()

    class Meta:
        verbose_name = _("专项治理行动")
        verbose_name_plural = _("专项治理行动")
        ordering = ("-starts_on", "-id")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_on__gte=models.F("starts_on")), name="campaign_period_order"
            ),
        ]

    def __str__(self) -> str:
        return self.title


# --- frozen targets -----------------------------------------------------------------------------------


def target_scope_q(scope: Scope, prefix: str = "") -> models.Q:
    """Which targets ``scope`` may see: area roles by area, grid workers their own grids.
    ``prefix`` reaches the target from another model (``"target__"``)."""
    if scope.everything:
        return models.Q()
    q = _never()
    if scope.roles.intersection(AREA_ROLES):
        q |= area_q(
            scope,
            AreaFields(
                district=f"{prefix}district_id",
                street=f"{prefix}street_id",
                community=f"{prefix}community_id",
                grid=f"{prefix}grid_id",
            ),
        )
    if Role.GRID_WORKER in scope.roles and scope.grid_ids:
        q |= models.Q(**{f"{prefix}grid_id__in": sorted(scope.grid_ids)})
    return q


class TargetQuerySet(models.QuerySet["CampaignTarget"]):
    def visible_to(self, user: Any) -> TargetQuerySet:
        scope = scope_of(user)
        if scope.is_empty:
            return self.none()
        return self.filter(target_scope_q(scope))


class CampaignTarget(models.Model):
    """One site, building, organisation or resident a running campaign must reach. The label,
    address and place are copied when the campaign starts: the register may change later."""

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("专项行动"), on_delete=models.CASCADE, related_name="targets"
    )
    kind = models.CharField(_("类型"), max_length=16, choices=TargetKind.choices)
    key_site = models.ForeignKey(
        "registry.KeySite", verbose_name=_("重点场所"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    building = models.ForeignKey(
        "registry.Building", verbose_name=_("楼栋"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    organisation = models.ForeignKey(
        "registry.Organisation", verbose_name=_("单位"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    resident = models.ForeignKey(
        "registry.Resident", verbose_name=_("居民"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip
    label = models.CharField(_("名称"), max_length=200)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    grid = models.ForeignKey(Grid, verbose_name=_("网格"), on_delete=models.PROTECT, related_name="+")
    community = models.ForeignKey(
        Division, verbose_name=_("社区"), on_delete=models.PROTECT, related_name="+"
    )
    street = models.ForeignKey(
        Division, verbose_name=_("街道"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    district = models.ForeignKey(
        Division, verbose_name=_("区县"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    covered_at = models.DateTimeField(_("首次走访时间"), null=True, blank=True)

    objects = TargetQuerySet.as_manager()

    class Meta:
        verbose_name = _("治理对象")
        verbose_name_plural = _("治理对象")
        ordering = ("campaign", "street", "community", "grid", "label", "id")
        indexes = [models.Index(fields=["campaign", "grid"], name="campaign_target_grid")]

    def __str__(self) -> str:
        return self.label


class InspectionQuerySet(models.QuerySet["CampaignInspection"]):
    def visible_to(self, user: Any) -> InspectionQuerySet:
        scope = scope_of(user)
        if scope.is_empty:
            return self.none()
        return self.filter(target_scope_q(scope, "target__"))


class CampaignInspection(models.Model):
    """One visit (or attempt) of a target by a grid worker."""

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("专项行动"), on_delete=models.CASCADE, related_name="inspections"
    )
    target = models.ForeignKey(
        CampaignTarget, verbose_name=_("治理对象"), on_delete=models.CASCADE, related_name="inspections"
    )
    outcome = models.CharField(_("结果"), max_length=16, choices=InspectionOutcome.choices)
    note = models.CharField(_("情况说明"), max_length=500, blank=True)
    inspected_at = models.DateTimeField(_("走访时间"))
    inspected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("走访人"), null=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip

    objects = InspectionQuerySet.as_manager()

    class Meta:
        verbose_name = _("巡查走访")
        verbose_name_plural = _("巡查走访")
        ordering = ("-inspected_at", "-id")

    def __str__(self) -> str:
        return f"{self.target_id} {self.outcome} {self.inspected_at:%Y-%m-%d}"


class FindingQuerySet(models.QuerySet["CampaignFinding"]):
    def visible_to(self, user: Any) -> FindingQuerySet:
        scope = scope_of(user)
        if scope.is_empty:
            return self.none()
        return self.filter(target_scope_q(scope, "target__"))


class CampaignFinding(models.Model):
    """A hidden danger (隐患) found at a target: a case of the pipeline, linked to the campaign."""

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("专项行动"), on_delete=models.CASCADE, related_name="findings"
    )
    target = models.ForeignKey(
        CampaignTarget, verbose_name=_("治理对象"), on_delete=models.CASCADE, related_name="findings"
    )
    inspection = models.ForeignKey(
        CampaignInspection, verbose_name=_("走访记录"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="findings",
    )  # fmt: skip
    case = models.OneToOneField(
        "cases.Case", verbose_name=_("案件"), on_delete=models.PROTECT, related_name="campaign_finding"
    )
    found_at = models.DateTimeField(_("发现时间"))
    found_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发现人"), null=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip

    objects = FindingQuerySet.as_manager()

    class Meta:
        verbose_name = _("隐患")
        verbose_name_plural = _("隐患")
        ordering = ("-found_at", "-id")

    def __str__(self) -> str:
        return f"{self.campaign_id}:{self.case_id}"


class CampaignEvent(models.Model):
    """Append-only history of a campaign (one row per action, written in the action's transaction)."""

    campaign = models.ForeignKey(
        Campaign, verbose_name=_("专项行动"), on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("事件"), max_length=16, choices=EventKind.choices)
    from_status = models.CharField(_("原状态"), max_length=16, blank=True)
    to_status = models.CharField(_("新状态"), max_length=16, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    at = models.DateTimeField(_("时间"))
    note = models.CharField(_("说明"), max_length=500, blank=True)
    data = models.JSONField(_("数据"), default=dict, blank=True)

    class Meta:
        verbose_name = _("专项行动记录")
        verbose_name_plural = _("专项行动记录")
        ordering = ("at", "id")

    def __str__(self) -> str:
        return f"{self.campaign_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"
