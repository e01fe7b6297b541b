"""Smart-dispatch data: trained classifier models, routing rules and the auto-dispatch settings.

All of it is data an administrator can change (and roll back) without a release: which model is
active, which department gets which category where, and above which confidence dispatch is automatic.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.core.models import TimeStampedModel


class ClassifierModelQuerySet(models.QuerySet["ClassifierModel"]):
    def visible_to(self, user: Any) -> ClassifierModelQuerySet:
        """Model metadata holds no personal data; staff who may see the admin may see it."""
        return self if getattr(user, "is_authenticated", False) else self.none()


class ClassifierModel(models.Model):
    """One trained text classifier: its metadata here, the fitted pipeline in a file whose sha256
    is checked before every load. Exactly one row is active (a partial unique constraint)."""

    name = models.CharField(_("名称"), max_length=100)
    created_at = models.DateTimeField(_("训练时间"), auto_now_add=True)
    algorithm = models.CharField(_("算法"), max_length=100)
    format_version = models.PositiveSmallIntegerField(_("文件格式版本"))
    source = models.CharField(_("训练数据来源"), max_length=200, blank=True)
    n_train = models.PositiveIntegerField(_("训练样本数"))
    classes = models.JSONField(_("类别"), default=list)
    label_counts = models.JSONField(_("各类样本数"), default=dict)
    params = models.JSONField(_("参数"), default=dict)
    metrics = models.JSONField(_("评估指标"), default=dict, blank=True)
    file_path = models.CharField(_("模型文件"), max_length=500)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size_bytes = models.PositiveBigIntegerField(_("文件大小"), default=0)
    is_active = models.BooleanField(_("当前启用"), default=False)
    activated_at = models.DateTimeField(_("启用时间"), null=True, blank=True)

    objects = ClassifierModelQuerySet.as_manager()

    class Meta:
        verbose_name = _("分类模型")
        verbose_name_plural = _("分类模型")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=models.Q(is_active=True), name="classifier_one_active"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} #{self.pk}"


class RoutingRuleQuerySet(models.QuerySet["RoutingRule"]):
    def visible_to(self, user: Any) -> RoutingRuleQuerySet:
        """Routing rules are configuration, readable by every signed-in user (dispatchers need them)."""
        return self if getattr(user, "is_authenticated", False) else self.none()

    def active(self) -> RoutingRuleQuerySet:
        return self.filter(is_active=True)


class RoutingRule(TimeStampedModel):
    """Category × area → lead department (主办) and assisting departments (协办).

    A rule on a parent category covers its children; a rule on a street covers its communities and
    grids; no area means anywhere in the district. The most specific matching rule wins (see
    ``dispatch.routing``)."""

    category = models.ForeignKey(
        "cases.Category", verbose_name=_("分类"), on_delete=models.CASCADE, related_name="routing_rules"
    )
    area = models.ForeignKey(
        "grids.Division",
        verbose_name=_("区域"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="routing_rules",
        help_text=_("留空表示全区适用"),
    )
    lead = models.ForeignKey(
        "people.Department", verbose_name=_("主办单位"), on_delete=models.PROTECT, related_name="+"
    )
    assisting = models.ManyToManyField(
        "people.Department", verbose_name=_("协办单位"), blank=True, related_name="+"
    )
    priority = models.IntegerField(_("优先级"), default=0, help_text=_("同等具体时数值大者优先"))
    is_active = models.BooleanField(_("启用"), default=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)

    objects = RoutingRuleQuerySet.as_manager()

    class Meta:
        verbose_name = _("派单规则")
        verbose_name_plural = _("派单规则")
        ordering = ["category__code", "-priority", "id"]
        indexes = [models.Index(fields=["category", "is_active"], name="routing_rule_category")]

    def __str__(self) -> str:
        where = self.area.name if self.area_id and self.area else _("全区")
        return f"{self.category.name} · {where} → {self.lead}"


class DispatchSettings(models.Model):
    """The single row of auto-dispatch settings (data, not constants)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    auto_dispatch_enabled = models.BooleanField(_("启用自动派单"), default=True)
    auto_dispatch_threshold = models.DecimalField(
        _("自动派单置信度阈值"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.900"),
        validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(Decimal("1"))],
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("派单设置")
        verbose_name_plural = _("派单设置")

    def __str__(self) -> str:
        return f"≥ {self.auto_dispatch_threshold}"

    @classmethod
    def current(cls) -> DispatchSettings:
        """The settings row, or the defaults when none was saved yet (no write on read)."""
        return cls.objects.filter(pk=1).first() or cls()


class HotspotSnapshot(models.Model):
    """The hotspots of one district or street over the last ``days`` days, mined in the background
    (job ``mine_hotspots``) so the map's hotspot layer answers at once. Derived data: rewritten
    whole by each run, never edited."""

    area = models.ForeignKey(
        "grids.Division", verbose_name=_("区域"), on_delete=models.CASCADE, related_name="+"
    )
    days = models.PositiveSmallIntegerField(_("统计天数"))
    hotspots = models.JSONField(_("热点"), default=list)
    cases_read = models.PositiveIntegerField(_("读取案件数"), default=0)
    computed_at = models.DateTimeField(_("计算时间"))

    class Meta:
        verbose_name = _("热点快照")
        verbose_name_plural = _("热点快照")
        constraints = [models.UniqueConstraint(fields=["area", "days"], name="hotspot_snapshot_area_days")]

    def __str__(self) -> str:
        return f"{self.area_id} · {self.days}d · {self.computed_at:%Y-%m-%d %H:%M}"
