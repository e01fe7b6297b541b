"""The grid base database (人·房·企·事·物): estates, buildings, houses, households, residents,
key-group tags, organisations and key sites, each located in one unit grid.

Personal values (ID numbers, phone numbers) are stored three times, each for one purpose:
``EncryptedCharField`` (the value, Fernet-encrypted at rest), ``*_hash`` (a keyed HMAC for exact
lookup and duplicate detection) and ``*_masked`` (the display form every list, export and admin
page shows, so those paths never need to decrypt). Only ``registry.actions`` writes them, keeping
the three in step. Reads go through ``Model.objects.visible_to(user)`` (see ``registry.scope``).

Key rotation: put the new key first in ``YIWANG_PII_KEYS`` and run ``core.pii.reencrypt`` for every
encrypted column — ``(Resident, "id_number")``, ``(Resident, "phone")``,
``(Organisation, "contact_phone")``, ``(KeySite, "manager_phone")``, and in ``party``
``(PartyMember, "phone")``, ``(Sentinel, "phone")`` — then drop the old key. Changing
``YIWANG_PII_HASH_KEY`` invalidates every ``*_hash`` column: they must be recomputed from the
decrypted values (no helper for that yet), so that key is meant to stay fixed.
"""

from __future__ import annotations

from typing import Any, Self

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.core.fields import EncryptedCharField
from yiwang.core.models import TimeStampedModel
from yiwang.core.scoping import scope_of
from yiwang.registry.scope import read_q


class ScopedQuerySet[M: models.Model](models.QuerySet[M]):
    """A queryset whose rows are located by a grid reached through :attr:`grid_path`."""

    grid_path = "grid"

    def visible_to(self, user: Any) -> Self:
        """The rows ``user`` may see (see :mod:`yiwang.registry.scope`); outside scope means absent."""
        return self.filter(read_q(user, self.grid_path))


class BuildingQuerySet(ScopedQuerySet["Building"]):
    pass


class HouseQuerySet(ScopedQuerySet["House"]):
    grid_path = "building__grid"


class HouseholdQuerySet(ScopedQuerySet["Household"]):
    pass


class ResidentQuerySet(ScopedQuerySet["Resident"]):
    def active(self) -> Self:
        return self.filter(status=ResidentStatus.ACTIVE)


class OrganisationQuerySet(ScopedQuerySet["Organisation"]):
    pass


class KeySiteQuerySet(ScopedQuerySet["KeySite"]):
    pass


# --- vocabularies -------------------------------------------------------------------------------


class HouseUse(models.TextChoices):
    RESIDENTIAL = "residential", _("住宅")
    COMMERCIAL = "commercial", _("商铺")
    OFFICE = "office", _("办公")
    MIXED = "mixed", _("商住两用")
    OTHER = "other", _("其他")


class Occupancy(models.TextChoices):
    OWNER = "owner", _("自住")
    RENTED = "rented", _("出租")
    VACANT = "vacant", _("空置")


class Sex(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")


class Registration(models.TextChoices):
    REGISTERED = "registered", _("户籍人口")
    FLOATING = "floating", _("流动人口")
    OVERSEAS = "overseas", _("境外人员")


class ResidentStatus(models.TextChoices):
    ACTIVE = "active", _("在册")
    MOVED_OUT = "moved_out", _("已迁出")
    DECEASED = "deceased", _("已故")


class OrganisationKind(models.TextChoices):
    ENTERPRISE = "enterprise", _("企业")
    INDIVIDUAL = "individual", _("个体工商户")
    PROPERTY = "property", _("物业服务企业")
    SOCIAL = "social", _("社会组织")
    SCHOOL = "school", _("学校")
    HOSPITAL = "hospital", _("医院")
    GOVERNMENT = "government", _("机关事业单位")
    OTHER = "other", _("其他")


class KeySiteKind(models.TextChoices):
    CROWDED = "crowded", _("人员密集场所")
    NINE_SMALL = "nine_small", _("九小场所")
    HAZARDOUS = "hazardous", _("危险化学品场所")
    FUEL = "fuel", _("加油加气站")
    CONSTRUCTION = "construction", _("建筑工地")
    WATERSIDE = "waterside", _("涉水危险区域")
    OTHER = "other", _("其他")


class RiskLevel(models.TextChoices):
    LOW = "low", _("低")
    MEDIUM = "medium", _("中")
    HIGH = "high", _("高")


# --- places -------------------------------------------------------------------------------------


class EstateQuerySet(models.QuerySet["Estate"]):
    def visible_to(self, user: Any) -> EstateQuerySet:
        """Estates with at least one visible grid."""
        links = Estate.grids.through.objects.filter(read_q(user, "grid"))
        return self.filter(pk__in=links.values("estate_id"))


class Estate(TimeStampedModel):
    """A residential compound (小区) in one community, possibly spanning several grids, with the
    property-service company (物业服务企业) that manages it."""

    name = models.CharField(_("小区名称"), max_length=100)
    community = models.ForeignKey(
        "grids.Division", verbose_name=_("所属社区"), on_delete=models.PROTECT, related_name="estates"
    )
    grids = models.ManyToManyField(
        "grids.Grid", verbose_name=_("涉及网格"), related_name="estates", blank=True
    )
    property_company = models.ForeignKey(
        "registry.Organisation",
        verbose_name=_("物业服务企业"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_estates",
    )
    address = models.CharField(_("地址"), max_length=200, blank=True)

    objects = EstateQuerySet.as_manager()

    class Meta:
        verbose_name = _("小区")
        verbose_name_plural = _("小区")
        ordering = ["community", "name"]
        constraints = [models.UniqueConstraint(fields=["community", "name"], name="estate_unique_name")]

    def __str__(self) -> str:
        return self.name


class Building(TimeStampedModel):
    """A building (楼栋) with its address, grid and map position."""

    code = models.CharField(_("楼栋编码"), max_length=32, unique=True)
    name = models.CharField(_("楼栋名称"), max_length=100, help_text=_("如 3号楼"))
    estate = models.ForeignKey(
        Estate,
        verbose_name=_("小区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="buildings",
    )
    address = models.CharField(_("地址"), max_length=200)
    grid = models.ForeignKey(
        "grids.Grid", verbose_name=_("网格"), on_delete=models.PROTECT, related_name="buildings"
    )
    lng = models.FloatField(_("经度"), null=True, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    floors = models.PositiveSmallIntegerField(_("层数"), default=1)
    is_demo = models.BooleanField(_("演示数据（虚构）"), default=False)

    objects = BuildingQuerySet.as_manager()

    class Meta:
        verbose_name = _("楼栋")
        verbose_name_plural = _("楼栋")
        ordering = ["code"]

    def __str__(self) -> str:
        estate = f"{self.estate.name} " if self.estate_id and self.estate else ""
        return f"{estate}{self.name}"


class House(TimeStampedModel):
    """A house or flat (房屋) in a building: its use and whether it is lived in by the owner,
    rented out or vacant. Its grid is its building's grid."""

    building = models.ForeignKey(
        Building, verbose_name=_("楼栋"), on_delete=models.PROTECT, related_name="houses"
    )
    unit = models.CharField(_("单元"), max_length=16, blank=True)
    floor = models.SmallIntegerField(_("楼层"), null=True, blank=True)
    room = models.CharField(_("房号"), max_length=16)
    use = models.CharField(_("用途"), max_length=16, choices=HouseUse.choices, default=HouseUse.RESIDENTIAL)
    occupancy = models.CharField(
        _("居住状态"), max_length=16, choices=Occupancy.choices, default=Occupancy.OWNER, db_index=True
    )
    area = models.DecimalField(_("面积（平方米）"), max_digits=8, decimal_places=2, null=True, blank=True)
    is_demo = models.BooleanField(_("演示数据（虚构）"), default=False)

    objects = HouseQuerySet.as_manager()

    class Meta:
        verbose_name = _("房屋")
        verbose_name_plural = _("房屋")
        ordering = ["building", "unit", "room"]
        constraints = [models.UniqueConstraint(fields=["building", "unit", "room"], name="house_unique_room")]

    def __str__(self) -> str:
        unit = f"{self.unit}" if self.unit else ""
        return f"{self.building.name}{unit}{self.room}"


class Household(TimeStampedModel):
    """A household (户): people registered or living together, with a head (户主)."""

    number = models.CharField(_("户号"), max_length=32, blank=True, db_index=True)
    grid = models.ForeignKey(
        "grids.Grid", verbose_name=_("网格"), on_delete=models.PROTECT, related_name="registry_households"
    )
    house = models.ForeignKey(
        House,
        verbose_name=_("房屋"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="households",
    )
    head = models.ForeignKey(
        "registry.Resident",
        verbose_name=_("户主"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    is_demo = models.BooleanField(_("演示数据（虚构）"), default=False)

    objects = HouseholdQuerySet.as_manager()

    class Meta:
        verbose_name = _("户")
        verbose_name_plural = _("户")
        ordering = ["grid", "number"]

    def __str__(self) -> str:
        return self.number or f"#{self.pk}"


# --- people -------------------------------------------------------------------------------------


class KeyGroupTag(models.Model):
    """A key group (重点人群) such as 独居老人, 残疾人, 低保, 留守儿童, 重点关注.

    Data, not code: a district adds its own. ``roles`` lists the roles (``people.Role`` values) that
    may see the tag and filter by it; an empty list means every role that may see the resident.
    Superusers see every tag. Sensitive tags (PIPL art. 28: 特定身份, 医疗健康) should name roles.
    """

    code = models.SlugField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    description = models.CharField(_("说明"), max_length=200, blank=True)
    roles = models.JSONField(
        _("可见角色"), default=list, blank=True, help_text=_("为空表示所有可查看该居民的角色")
    )
    is_sensitive = models.BooleanField(_("敏感个人信息"), default=False)
    sort = models.PositiveSmallIntegerField(_("排序"), default=100)

    class Meta:
        verbose_name = _("重点人群标签")
        verbose_name_plural = _("重点人群标签")
        ordering = ["sort", "code"]

    def __str__(self) -> str:
        return self.name

    def visible_for(self, user: Any) -> bool:
        scope = scope_of(user)
        if scope.everything:
            return True
        if scope.is_empty:
            return False
        return not self.roles or bool(scope.roles.intersection(self.roles))


def visible_tag_ids(user: Any) -> frozenset[int]:
    """The key-group tags ``user`` may see (the tag table is small: filtered in Python)."""
    return frozenset(t.pk for t in KeyGroupTag.objects.all() if t.visible_for(user))


class Resident(TimeStampedModel):
    """A person living in the grid (实有人口): registered (户籍) or floating (流动) population.

    Sex and birth date are derived from the ID number by the actions (never entered separately).
    """

    name = models.CharField(_("姓名"), max_length=50)
    id_number = EncryptedCharField(_("身份证号码"), max_length=18, pii_kind="id_number")
    id_number_hash = models.CharField(_("身份证号码检索码"), max_length=64, editable=False)
    id_number_masked = models.CharField(_("身份证号码（脱敏）"), max_length=18, editable=False)
    phone = EncryptedCharField(_("联系电话"), max_length=20, blank=True, pii_kind="phone")
    phone_hash = models.CharField(
        _("联系电话检索码"), max_length=64, blank=True, db_index=True, editable=False
    )
    phone_masked = models.CharField(_("联系电话（脱敏）"), max_length=20, blank=True, editable=False)
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices, editable=False)
    birth_date = models.DateField(_("出生日期"), editable=False)
    registration = models.CharField(
        _("人口类型"),
        max_length=16,
        choices=Registration.choices,
        default=Registration.REGISTERED,
        db_index=True,
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=ResidentStatus.choices, default=ResidentStatus.ACTIVE, db_index=True
    )
    grid = models.ForeignKey(
        "grids.Grid", verbose_name=_("网格"), on_delete=models.PROTECT, related_name="residents"
    )
    house = models.ForeignKey(
        House,
        verbose_name=_("房屋"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="residents",
    )
    household = models.ForeignKey(
        Household,
        verbose_name=_("户"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
    )
    relation_to_head = models.CharField(_("与户主关系"), max_length=16, blank=True)
    tags = models.ManyToManyField(
        KeyGroupTag,
        verbose_name=_("重点人群标签"),
        through="ResidentTag",
        related_name="residents",
        blank=True,
    )
    is_demo = models.BooleanField(_("演示数据（虚构）"), default=False)

    objects = ResidentQuerySet.as_manager()

    class Meta:
        verbose_name = _("实有人口")
        verbose_name_plural = _("实有人口")
        ordering = ["grid", "name"]
        constraints = [
            models.UniqueConstraint(fields=["id_number_hash"], name="resident_unique_id_number"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.id_number_masked}"


class ResidentTag(models.Model):
    """A resident's membership of a key group, with who recorded it and when."""

    resident = models.ForeignKey(Resident, verbose_name=_("居民"), on_delete=models.CASCADE)
    tag = models.ForeignKey(KeyGroupTag, verbose_name=_("标签"), on_delete=models.PROTECT)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    added_at = models.DateTimeField(_("标记时间"), auto_now_add=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("标记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("重点人群标记")
        verbose_name_plural = _("重点人群标记")
        constraints = [models.UniqueConstraint(fields=["resident", "tag"], name="resident_tag_unique")]

    def __str__(self) -> str:
        return f"{self.resident_id} · {self.tag}"


# --- organisations and sites --------------------------------------------------------------------


class Organisation(TimeStampedModel):
    """An organisation located in a grid: enterprise, 个体户, property-service company, social
    organisation, school, hospital… identified by its unified social credit code (GB 32100)."""

    name = models.CharField(_("名称"), max_length=200)
    kind = models.CharField(_("类型"), max_length=16, choices=OrganisationKind.choices, db_index=True)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    grid = models.ForeignKey(
        "grids.Grid", verbose_name=_("网格"), on_delete=models.PROTECT, related_name="organisations"
    )
    address = models.CharField(_("地址"), max_length=200, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    legal_representative = models.CharField(_("法定代表人/负责人"), max_length=50, blank=True)
    contact_name = models.CharField(_("联系人"), max_length=50, blank=True)
    contact_phone = EncryptedCharField(_("联系电话"), max_length=20, blank=True, pii_kind="phone")
    contact_phone_hash = models.CharField(
        _("联系电话检索码"), max_length=64, blank=True, db_index=True, editable=False
    )
    contact_phone_masked = models.CharField(_("联系电话（脱敏）"), max_length=20, blank=True, editable=False)
    employees = models.PositiveIntegerField(_("从业人数"), null=True, blank=True)
    is_demo = models.BooleanField(_("演示数据（虚构）"), default=False)

    objects = OrganisationQuerySet.as_manager()

    class Meta:
        verbose_name = _("单位组织")
        verbose_name_plural = _("单位组织")
        ordering = ["grid", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["credit_code"],
                condition=~models.Q(credit_code=""),
                name="organisation_unique_credit_code",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class KeySite(TimeStampedModel):
    """A key site (重点场所) that needs regular inspection: crowded places, 九小场所, hazardous goods…"""

    name = models.CharField(_("名称"), max_length=200)
    kind = models.CharField(_("类型"), max_length=16, choices=KeySiteKind.choices, db_index=True)
    grid = models.ForeignKey(
        "grids.Grid", verbose_name=_("网格"), on_delete=models.PROTECT, related_name="key_sites"
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("所属单位"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="key_sites",
    )
    address = models.CharField(_("地址"), max_length=200, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    risk_level = models.CharField(
        _("风险等级"), max_length=8, choices=RiskLevel.choices, default=RiskLevel.LOW
    )
    manager_name = models.CharField(_("责任人"), max_length=50, blank=True)
    manager_phone = EncryptedCharField(_("责任人电话"), max_length=20, blank=True, pii_kind="phone")
    manager_phone_hash = models.CharField(
        _("责任人电话检索码"), max_length=64, blank=True, db_index=True, editable=False
    )
    manager_phone_masked = models.CharField(
        _("责任人电话（脱敏）"), max_length=20, blank=True, editable=False
    )
    note = models.CharField(_("备注"), max_length=500, blank=True)
    is_demo = models.BooleanField(_("演示数据（虚构）"), default=False)

    objects = KeySiteQuerySet.as_manager()

    class Meta:
        verbose_name = _("重点场所")
        verbose_name_plural = _("重点场所")
        ordering = ["grid", "name"]

    def __str__(self) -> str:
        return self.name
