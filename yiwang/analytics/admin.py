from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest
from django.utils.translation import gettext as _

from yiwang.analytics.metrics import weight_sum
from yiwang.analytics.models import (
    MILESTONES,
    DailyRollup,
    MetricSettings,
    MonthlyRollup,
    Report,
    RollupState,
)
from yiwang.core.admin_base import ReadOnlyAdmin


@admin.register(MetricSettings)
class MetricSettingsAdmin(admin.ModelAdmin[Any]):
    list_display = (
        "__str__",
        "basically_satisfied_weight",
        "response_weight",
        "solve_weight",
        "satisfaction_weight",
    )

    def save_model(self, request: HttpRequest, obj: MetricSettings, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if weight_sum(obj) != 1:
            messages.warning(request, _("三率权重之和为 %(sum)s，应为 1") % {"sum": weight_sum(obj)})


@admin.register(DailyRollup)
class DailyRollupAdmin(ReadOnlyAdmin):
    """Read-only: rollups are derived from the events (``yiwang rollup rebuild`` repairs them)."""

    list_display = ("day", "street", "grid", "category", "channel", "department", *MILESTONES[:6])
    list_filter = ("day", "channel")


@admin.register(RollupState)
class RollupStateAdmin(DailyRollupAdmin):
    list_display = ("high_water", "updated_at")
    list_filter = ()  # type: ignore[assignment]


@admin.register(MonthlyRollup)
class MonthlyRollupAdmin(ReadOnlyAdmin):
    list_display = ("month", "street", "channel", "department", *MILESTONES[:6])
    list_filter = ("month", "channel")


@admin.register(Report)
class ReportAdmin(ReadOnlyAdmin):
    """Reports are asked for on the reports page or through the API and built by the worker."""

    list_display = ("__str__", "requested_by", "status", "created_at", "finished_at")
    list_filter = ("kind", "status")
