"""Extra questions asked for a category at intake (Open311 GeoReport v2 "service definition")."""

from __future__ import annotations

from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.core.models import TimeStampedModel

# Attribute codes travel in form keys (``attribute[CODE]``) and URLs: keep them URL-safe.
ATTRIBUTE_CODE_RE = r"^[A-Za-z0-9_-]+$"


class AttributeDatatype(models.TextChoices):
    """The six datatypes of GeoReport v2 (``datatype`` of a service definition attribute)."""

    STRING = "string", _("单行文本")
    NUMBER = "number", _("数字")
    DATETIME = "datetime", _("日期时间")
    TEXT = "text", _("多行文本")
    SINGLEVALUELIST = "singlevaluelist", _("单选")
    MULTIVALUELIST = "multivaluelist", _("多选")


LIST_DATATYPES = frozenset({AttributeDatatype.SINGLEVALUELIST, AttributeDatatype.MULTIVALUELIST})


class CategoryAttribute(TimeStampedModel):
    """One extra question of a category (e.g. "井盖状态: 缺失/破损/移位"), answered when a case of
    that category is registered; the answers are kept in ``Case.attributes``.

    ``variable=False`` marks an informational line shown to the reporter but not answered. For the
    list datatypes ``values`` holds the choices as ``[{"key": "...", "name": "..."}]``.
    """

    category = models.ForeignKey(
        "cases.Category", verbose_name=_("分类"), on_delete=models.CASCADE, related_name="attributes"
    )
    code = models.CharField(
        _("代码"),
        max_length=64,
        validators=[RegexValidator(ATTRIBUTE_CODE_RE, _("代码只能包含字母、数字、下划线和连字符"))],
    )
    variable = models.BooleanField(_("需要填写"), default=True)
    datatype = models.CharField(
        _("数据类型"), max_length=16, choices=AttributeDatatype.choices, default=AttributeDatatype.STRING
    )
    required = models.BooleanField(_("必填"), default=False)
    datatype_description = models.CharField(_("填写提示"), max_length=200, blank=True)
    order = models.PositiveIntegerField(_("顺序"), validators=[MinValueValidator(1)])
    description = models.CharField(_("问题"), max_length=500)
    values = models.JSONField(_("可选值"), default=list, blank=True)

    class Meta:
        verbose_name = _("分类附加属性")
        verbose_name_plural = _("分类附加属性")
        ordering = ["category_id", "order"]
        constraints = [
            models.UniqueConstraint(fields=["category", "code"], name="category_attribute_code_unique"),
            models.UniqueConstraint(fields=["category", "order"], name="category_attribute_order_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.category_id} · {self.code}"

    def value_keys(self) -> list[str]:
        """The submitted keys accepted by a list attribute (malformed entries are skipped)."""
        keys = []
        for item in self.values or []:
            if isinstance(item, dict) and item.get("key") not in (None, ""):
                keys.append(str(item["key"]))
        return keys
