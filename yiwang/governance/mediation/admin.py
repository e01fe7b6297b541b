"""Admin of mediation: the time limits are editable data; committees and mediators are listed;
disputes and their timeline are read-only (written by ``mediation.actions``), parties never shown
unmasked here. Rows come from ``visible_to(request.user)``."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from yiwang.core.admin_base import ReadOnlyAdmin
from yiwang.governance.mediation.models import Committee, Dispute, DisputeEvent, Mediator, TimeLimit


@admin.register(TimeLimit)
class TimeLimitAdmin(admin.ModelAdmin[TimeLimit]):
    list_display = ("kind", "amount", "unit", "basis")


@admin.register(Mediator)
class MediatorAdmin(ReadOnlyAdmin):
    list_display = ("user", "kind", "is_active")
    list_filter = ("kind", "is_active")


@admin.register(Committee)
class CommitteeAdmin(ReadOnlyAdmin):
    list_display = ("name", "level", "division", "is_active")
    list_filter = ("level",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return Committee.objects.visible_to(request.user)


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdmin):
    list_display = ("case", "kind", "committee", "status", "applied_at", "due_at")
    list_filter = ("kind", "status")
    exclude = ("facts",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return Dispute.objects.visible_to(request.user).select_related("case", "committee")


@admin.register(DisputeEvent)
class DisputeEventAdmin(ReadOnlyAdmin):
    list_display = ("dispute", "kind", "actor", "at", "from_status", "to_status")
    list_filter = ("kind",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return DisputeEvent.objects.visible_to(request.user)
