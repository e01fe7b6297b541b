"""Admin of 政企直通车: the data tables (institutions' profiles, response limits) are editable; the
enterprises and demands are read-only here (they change through ``enterprise.actions``) and scoped."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from yiwang.core.admin_base import ReadOnlyAdmin
from yiwang.governance.enterprise.models import (
    Demand,
    DemandEvent,
    Enterprise,
    FinancialInstitution,
    ResponseRule,
)


@admin.register(FinancialInstitution)
class FinancialInstitutionAdmin(admin.ModelAdmin[FinancialInstitution]):
    list_display = ("department", "kind", "first_response_days", "is_active")
    list_filter = ("kind", "is_active")
    autocomplete_fields = ("department",)


@admin.register(ResponseRule)
class ResponseRuleAdmin(admin.ModelAdmin[ResponseRule]):
    list_display = ("demand_kind", "working_days")


@admin.register(Enterprise)
class EnterpriseAdmin(ReadOnlyAdmin):
    list_display = ("organisation", "industry", "street", "counsellor")
    list_filter = ("industry",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return Enterprise.objects.visible_to(request.user).select_related(
            "organisation", "street", "counsellor"
        )


class DemandEventInline(admin.TabularInline[DemandEvent, Demand]):
    model = DemandEvent
    extra = 0
    can_delete = False
    readonly_fields = ("kind", "actor", "at", "from_status", "to_status", "note")
    fields = readonly_fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Demand)
class DemandAdmin(ReadOnlyAdmin):
    list_display = (
        "case",
        "enterprise",
        "kind",
        "status",
        "amount_requested",
        "amount_granted",
        "department",
    )
    list_filter = ("kind", "status")
    inlines = (DemandEventInline,)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return Demand.objects.visible_to(request.user).select_related(
            "case", "enterprise__organisation", "department"
        )
