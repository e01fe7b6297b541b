"""The district's map: divisions (区/街道/社区), unit grids, police beats and other departments' grids.

Geometry is stored as GeoJSON (WGS84) in a JSON column so that the same schema runs on SQLite and
PostgreSQL without a spatial extension; spatial work (locating, overlaps, topology) is done in
process with shapely. Writes go through ``grids.actions`` which keep codes valid and bump the
locator version.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.core.models import TimeStampedModel
from yiwang.core.scoping import AreaFields, area_q, scope_of


class DivisionLevel(models.TextChoices):
    DISTRICT = "district", _("区县")
    STREET = "street", _("街道/乡镇")
    COMMUNITY = "community", _("社区/村")


# How many leading digits of the 12-digit 统计用区划代码 identify a division of each level.
SIGNIFICANT_DIGITS = {DivisionLevel.DISTRICT: 6, DivisionLevel.STREET: 9, DivisionLevel.COMMUNITY: 12}


class DivisionQuerySet(models.QuerySet["Division"]):
    def visible_to(self, user: Any) -> DivisionQuerySet:
        """Divisions inside the user's areas, plus their ancestors (so a street sees its district)."""
        scope = scope_of(user)
        if scope.everything:
            return self
        own = scope.district_ids | scope.street_ids | scope.community_ids
        inside = models.Q(pk__in=sorted(own)) | area_q(
            scope, AreaFields(district="district_id", street="street_id")
        )
        ancestors = models.Q(pk__in=[])
        lower = scope.street_ids | scope.community_ids
        if lower:
            below = Division.objects.filter(pk__in=sorted(lower))
            ancestors = models.Q(pk__in=below.values("district_id")) | models.Q(
                pk__in=below.values("street_id")
            )
        return self.filter(inside | ancestors)


class Division(TimeStampedModel):
    """An administrative division: the district, a street or town, or a community or village.

    ``district`` and ``street`` repeat the ancestors of each level (null where not applicable) so that
    scoping is a plain indexed filter rather than a tree walk.
    """

    code = models.CharField(_("统计用区划代码"), max_length=12, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    level = models.CharField(_("层级"), max_length=16, choices=DivisionLevel.choices, db_index=True)
    kind = models.CharField(_("类型"), max_length=16, blank=True, help_text=_("街道、镇、社区、村等"))
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    district = models.ForeignKey(
        "self", verbose_name=_("所属区县"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    street = models.ForeignKey(
        "self", verbose_name=_("所属街道"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    boundary = models.JSONField(_("边界 (GeoJSON, WGS84)"), null=True, blank=True)

    objects = DivisionQuerySet.as_manager()

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def prefix(self) -> str:
        """The significant leading digits of the code (6, 9 or 12)."""
        return self.code[: SIGNIFICANT_DIGITS[DivisionLevel(self.level)]]


class GridKind(models.TextChoices):
    BASIC = "basic", _("基础网格")
    DEDICATED = "dedicated", _("专属网格")


class GridLabel(models.Model):
    """A label such as 全科网格, 红色网格, 五好网格: data, so a district can add its own."""

    code = models.SlugField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=50)

    class Meta:
        verbose_name = _("网格标签")
        verbose_name_plural = _("网格标签")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


# The field paths from a grid to the divisions it lies in (for area_q).
GRID_AREA = AreaFields(
    district="community__district_id", street="community__street_id", community="community_id", grid="id"
)


class GridQuerySet(models.QuerySet["Grid"]):
    def visible_to(self, user: Any) -> GridQuerySet:
        return self.filter(area_q(scope_of(user), GRID_AREA))


class Grid(TimeStampedModel):
    """A unit grid (单元网格): the smallest area a grid worker answers for.

    Code: 15 digits = the community's 12-digit code + a 3-digit sequence numbered west→east,
    north→south inside the community.
    """

    code = models.CharField(_("网格编码"), max_length=15, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    community = models.ForeignKey(
        Division,
        verbose_name=_("所属社区/村"),
        on_delete=models.PROTECT,
        related_name="grids",
        limit_choices_to={"level": DivisionLevel.COMMUNITY},
    )
    kind = models.CharField(_("类型"), max_length=16, choices=GridKind.choices, default=GridKind.BASIC)
    dedicated_to = models.CharField(
        _("专属对象"), max_length=100, blank=True, help_text=_("学校、医院、园区等")
    )
    labels = models.ManyToManyField(GridLabel, verbose_name=_("标签"), blank=True, related_name="grids")
    boundary = models.JSONField(_("边界 (GeoJSON, WGS84)"))
    households = models.PositiveIntegerField(_("户数"), default=0)
    population = models.PositiveIntegerField(_("人口"), default=0)
    # Derived from the boundary by grids.actions; kept for bbox filters and map labels.
    min_lng = models.FloatField(_("最小经度"), default=0)
    min_lat = models.FloatField(_("最小纬度"), default=0)
    max_lng = models.FloatField(_("最大经度"), default=0)
    max_lat = models.FloatField(_("最大纬度"), default=0)
    center_lng = models.FloatField(_("中心经度"), default=0)
    center_lat = models.FloatField(_("中心纬度"), default=0)

    objects = GridQuerySet.as_manager()

    class Meta:
        verbose_name = _("单元网格")
        verbose_name_plural = _("单元网格")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class PoliceBeat(TimeStampedModel):
    """A police beat (警格) of a police station, linked to the grids it overlaps (警格 + 网格)."""

    code = models.CharField(_("警格编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    police_station = models.CharField(_("派出所"), max_length=100)
    boundary = models.JSONField(_("边界 (GeoJSON, WGS84)"))
    grids = models.ManyToManyField(
        Grid, verbose_name=_("网格"), through="GridBeatLink", related_name="police_beats", blank=True
    )

    class Meta:
        verbose_name = _("警格")
        verbose_name_plural = _("警格")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.police_station})"


class GridBeatLink(models.Model):
    """How much of a grid lies in a police beat (share of the grid's area, 0–1)."""

    grid = models.ForeignKey(Grid, verbose_name=_("网格"), on_delete=models.CASCADE)
    beat = models.ForeignKey(PoliceBeat, verbose_name=_("警格"), on_delete=models.CASCADE)
    share = models.FloatField(_("重叠比例"))

    class Meta:
        verbose_name = _("网格-警格关联")
        verbose_name_plural = _("网格-警格关联")
        constraints = [models.UniqueConstraint(fields=["grid", "beat"], name="grid_beat_unique")]

    def __str__(self) -> str:
        return f"{self.grid_id} ∩ {self.beat_id}: {self.share:.0%}"


class ExternalGridOwner(models.TextChoices):
    URBAN_MANAGEMENT = "urban", _("城管")
    EMERGENCY = "emergency", _("应急")
    MARKET = "market", _("市场监管")
    ENVIRONMENT = "environment", _("生态环境")
    OTHER = "other", _("其他")


class ExternalGrid(TimeStampedModel):
    """Another department's grid (多网融合), mapped onto base grids by share of overlap."""

    code = models.CharField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    owner = models.CharField(_("所属条线"), max_length=16, choices=ExternalGridOwner.choices)
    boundary = models.JSONField(_("边界 (GeoJSON, WGS84)"))
    grids = models.ManyToManyField(
        Grid,
        verbose_name=_("基础网格"),
        through="ExternalGridLink",
        related_name="external_grids",
        blank=True,
    )

    class Meta:
        verbose_name = _("专业网格")
        verbose_name_plural = _("专业网格")
        ordering = ["owner", "code"]

    def __str__(self) -> str:
        return f"{self.get_owner_display()} {self.name}"


class ExternalGridLink(models.Model):
    """Share of an external grid's area that falls in one base grid (0–1)."""

    external = models.ForeignKey(ExternalGrid, verbose_name=_("专业网格"), on_delete=models.CASCADE)
    grid = models.ForeignKey(Grid, verbose_name=_("基础网格"), on_delete=models.CASCADE)
    share = models.FloatField(_("重叠比例"))

    class Meta:
        verbose_name = _("专业网格映射")
        verbose_name_plural = _("专业网格映射")
        constraints = [models.UniqueConstraint(fields=["external", "grid"], name="external_grid_unique")]

    def __str__(self) -> str:
        return f"{self.external_id} ∩ {self.grid_id}: {self.share:.0%}"


class GridStaffRole(models.TextChoices):
    LEADER = "leader", _("网格长")
    FULL_TIME = "full_time", _("专职网格员")
    PART_TIME = "part_time", _("兼职网格员")
    INSTRUCTOR = "instructor", _("网格指导员")
    POLICE = "police", _("社区民警")


class GridStaff(TimeStampedModel):
    """A user attached to a grid in one of the grid roles."""

    user = models.ForeignKey(
        "people.User", verbose_name=_("人员"), on_delete=models.CASCADE, related_name="grid_posts"
    )
    grid = models.ForeignKey(Grid, verbose_name=_("网格"), on_delete=models.CASCADE, related_name="staff")
    role = models.CharField(_("岗位"), max_length=16, choices=GridStaffRole.choices)

    class Meta:
        verbose_name = _("网格人员")
        verbose_name_plural = _("网格人员")
        constraints = [models.UniqueConstraint(fields=["user", "grid", "role"], name="grid_staff_unique")]

    def __str__(self) -> str:
        return f"{self.grid} · {self.get_role_display()} · {self.user}"


class LocatorVersion(models.Model):
    """A single row whose ``version`` changes whenever any grid geometry changes.

    Every process keeps its own in-memory grid index and rebuilds it when this number moves, so all
    app and worker processes locate points against the same grids.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    version = models.PositiveBigIntegerField(_("版本"), default=0)
    changed_at = models.DateTimeField(_("变更时间"), auto_now=True)

    class Meta:
        verbose_name = _("网格索引版本")
        verbose_name_plural = _("网格索引版本")

    def __str__(self) -> str:
        return str(self.version)

    @classmethod
    def current(cls) -> int:
        row: Any = cls.objects.filter(pk=1).values_list("version", flat=True).first()
        return int(row or 0)

    @classmethod
    def stamp(cls) -> tuple[int, Any]:
        """``(version, changed_at)``: what a cached index is compared with. The moment makes two
        changes that reach the same number distinct (one rolled back, the other committed; a
        database restored from a backup)."""
        row: Any = cls.objects.filter(pk=1).values_list("version", "changed_at").first()
        return (int(row[0]), row[1]) if row else (0, None)
