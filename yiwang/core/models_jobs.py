"""The scheduler's bookkeeping: one row per periodic job, with the last time slot it was queued for."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ScheduledJob(models.Model):
    """The state of one periodic job of :data:`yiwang.core.jobs.registry.JOBS`.

    ``last_slot`` is the start of the newest time slot the job was queued for. A scheduler queues a
    slot only after moving ``last_slot`` forward with a conditional UPDATE (``… WHERE last_slot <
    slot``), so of several schedulers exactly one queues each slot.
    """

    name = models.CharField(_("任务名"), max_length=100, unique=True)
    last_slot = models.DateTimeField(_("最近时段"), null=True, blank=True)
    last_enqueued_at = models.DateTimeField(_("最近入队时间"), null=True, blank=True)
    last_task_id = models.CharField(_("最近任务编号"), max_length=64, blank=True)
    last_outcome = models.CharField(_("最近结果"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("定时任务")
        verbose_name_plural = _("定时任务")
        ordering = ["name"]
        default_permissions = ("view",)

    def __str__(self) -> str:
        return self.name
