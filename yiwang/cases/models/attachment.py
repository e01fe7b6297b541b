"""Files attached to a case (photos, documents), kept in Django storage."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.cases.choices import AttachmentKind


class AttachmentQuerySet(models.QuerySet["Attachment"]):
    def visible_to(self, user: Any) -> AttachmentQuerySet:
        from yiwang.cases.models.case import Case

        return self.filter(case__in=Case.objects.visible_to(user))


class Attachment(models.Model):
    """A photo or document of a case: evidence at intake, or the result photos of the handler.

    The type is taken from the file's first bytes (JPEG, PNG, WebP, PDF), never from its name;
    the size limit is ``settings.YIWANG_ATTACHMENT_MAX_BYTES``. Created by ``cases.actions`` only.
    """

    case = models.ForeignKey(
        "cases.Case", verbose_name=_("案件"), on_delete=models.CASCADE, related_name="attachments"
    )
    event = models.ForeignKey(
        "cases.CaseEvent",
        verbose_name=_("事件"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="attachments",
    )
    file = models.FileField(_("文件"), upload_to="cases/%Y/%m/")
    original_name = models.CharField(_("原文件名"), max_length=255, blank=True)
    content_type = models.CharField(_("类型"), max_length=64)
    size = models.PositiveIntegerField(_("大小(字节)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    kind = models.CharField(
        _("用途"), max_length=16, choices=AttachmentKind.choices, default=AttachmentKind.EVIDENCE
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    objects = AttachmentQuerySet.as_manager()

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        ordering = ["case_id", "id"]

    def __str__(self) -> str:
        return self.original_name or self.file.name or ""
