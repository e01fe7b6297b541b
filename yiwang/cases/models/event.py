"""The case timeline: one append-only row per action (also the audit trail and the source of stats)."""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.cases.choices import EventKind


class AppendOnlyError(RuntimeError):
    """Raised on any attempt to change or delete a case event."""


class CaseEventQuerySet(models.QuerySet["CaseEvent"]):
    def visible_to(self, user: Any) -> CaseEventQuerySet:
        from yiwang.cases.models.case import Case

        return self.filter(case__in=Case.objects.visible_to(user))

    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("案件事件只能追加 / case events are append-only")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("案件事件只能追加 / case events are append-only")


class CaseEvent(models.Model):
    """Something that happened to a case: who, when, from which status to which, why.

    Append-only: there is no update or delete path (the queryset and the model refuse both, the
    admin is read-only). Written only by ``cases.actions`` and ``cases.sla``; ``actor`` is null for
    the system (SLA scan, public intake).
    """

    case = models.ForeignKey(
        "cases.Case", verbose_name=_("案件"), on_delete=models.PROTECT, related_name="events"
    )
    kind = models.CharField(_("事件"), max_length=24, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    from_status = models.CharField(_("原状态"), max_length=16, blank=True)
    to_status = models.CharField(_("新状态"), max_length=16, blank=True)
    note = models.TextField(_("说明"), blank=True)
    data = models.JSONField(_("数据"), default=dict, blank=True)

    objects = CaseEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("案件事件")
        verbose_name_plural = _("案件事件")
        ordering = ["case_id", "at", "id"]
        indexes = [models.Index(fields=["kind", "at"], name="case_event_kind_at")]

    def __str__(self) -> str:
        return f"{self.case_id} · {self.get_kind_display()} · {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise AppendOnlyError("案件事件只能追加 / case events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("案件事件只能追加 / case events are append-only")
