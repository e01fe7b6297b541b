"""Categories (GB/T 47678.5 部件/事项 and the 12345 demand taxonomy) and deadline policies: data."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.cases.choices import CategoryKind, DemandKind, Urgency
from yiwang.core.calendar import TimeUnit
from yiwang.core.models import TimeStampedModel


class CategoryQuerySet(models.QuerySet["Category"]):
    def visible_to(self, user: Any) -> CategoryQuerySet:
        """The category tree is reference data: every user may read it (Open311 reads ``public()``)."""
        return self

    def active(self) -> CategoryQuerySet:
        return self.filter(is_active=True)

    def public(self) -> CategoryQuerySet:
        """Categories offered to citizens through Open311: public, active and not confidential."""
        return self.filter(is_active=True, is_public=True, is_confidential=False)


class Category(TimeStampedModel):
    """A kind of case: a managed component (管理部件), a managed matter (管理事项) or a 12345 demand
    (诉求: kind × topic). Components and matters of GB/T 47678.5 reuse the same 5-digit codes, so the
    stored code carries a kind prefix (``BJ-01001`` component, ``SX-01001`` matter, ``DM-TS-0302``
    demand); ``standard_code`` keeps the code as printed in the standard."""

    code = models.CharField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类别"), max_length=16, choices=CategoryKind.choices, db_index=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    standard_ref = models.CharField(_("标准"), max_length=50, blank=True)
    standard_code = models.CharField(_("标准代码"), max_length=16, blank=True)
    demand_kind = models.CharField(_("诉求类型"), max_length=16, choices=DemandKind.choices, blank=True)
    default_urgency = models.CharField(
        _("默认紧急程度"), max_length=16, choices=Urgency.choices, default=Urgency.NORMAL
    )
    accept_amount = models.DecimalField(_("签收时限"), null=True, blank=True, max_digits=7, decimal_places=2)
    accept_unit = models.CharField(_("签收时限单位"), max_length=16, choices=TimeUnit.choices, blank=True)
    resolve_amount = models.DecimalField(_("办结时限"), null=True, blank=True, max_digits=7, decimal_places=2)
    resolve_unit = models.CharField(_("办结时限单位"), max_length=16, choices=TimeUnit.choices, blank=True)
    is_public = models.BooleanField(_("Open311公开"), default=True)
    is_confidential = models.BooleanField(_("保密"), default=False)
    is_active = models.BooleanField(_("启用"), default=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)

    objects = CategoryQuerySet.as_manager()

    class Meta:
        verbose_name = _("案件分类")
        verbose_name_plural = _("案件分类")
        ordering = ["kind", "sort_order", "code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class DeadlinePolicy(TimeStampedModel):
    """Time limits per category × urgency. A row without category is the default for its urgency.

    Lookup order (``cases.sla.policy_for``): the category's own row, then its ancestors' rows, then
    the limits written on the category (or an ancestor) itself for normal urgency, then the default
    row. The defaults follow Beijing's DB11 12345 rules (standards.md §3.2) and are editable.
    """

    category = models.ForeignKey(
        Category,
        verbose_name=_("分类"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deadline_policies",
        help_text=_("留空表示该紧急程度的默认时限"),
    )
    urgency = models.CharField(_("紧急程度"), max_length=16, choices=Urgency.choices)
    accept_amount = models.DecimalField(_("签收时限"), max_digits=7, decimal_places=2)
    accept_unit = models.CharField(_("签收时限单位"), max_length=16, choices=TimeUnit.choices)
    resolve_amount = models.DecimalField(_("办结时限"), max_digits=7, decimal_places=2)
    resolve_unit = models.CharField(_("办结时限单位"), max_length=16, choices=TimeUnit.choices)
    note = models.CharField(_("依据"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("时限规则")
        verbose_name_plural = _("时限规则")
        ordering = ["category_id", "urgency"]
        constraints = [
            models.UniqueConstraint(fields=["category", "urgency"], name="deadline_policy_unique"),
            models.UniqueConstraint(
                fields=["urgency"],
                condition=models.Q(category__isnull=True),
                name="deadline_policy_default_unique",
            ),
        ]

    def __str__(self) -> str:
        who = self.category.name if self.category_id and self.category else _("默认")
        return f"{who} · {self.get_urgency_display()}"
