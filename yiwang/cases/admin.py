"""Admin: categories and deadline policies are editable data; cases and their timeline are read-only
here (every change of a case goes through ``cases.actions``)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from yiwang.cases.models import Assignment, Attachment, Case, CaseEvent, Category, DeadlinePolicy
from yiwang.cases.sla import clear_limits_cache
from yiwang.core.admin_base import ReadOnlyAdmin
from yiwang.core.pii import masked


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin[Category]):
    list_display = [
        "code",
        "name",
        "kind",
        "demand_kind",
        "default_urgency",
        "is_public",
        "is_confidential",
        "is_active",
    ]
    list_filter = ["kind", "demand_kind", "is_public", "is_confidential", "is_active"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent"]

    def save_model(self, request: HttpRequest, obj: Category, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        clear_limits_cache()


@admin.register(DeadlinePolicy)
class DeadlinePolicyAdmin(admin.ModelAdmin[DeadlinePolicy]):
    list_display = [
        "category",
        "urgency",
        "accept_amount",
        "accept_unit",
        "resolve_amount",
        "resolve_unit",
        "note",
    ]
    list_filter = ["urgency"]
    raw_id_fields = ["category"]

    def save_model(self, request: HttpRequest, obj: DeadlinePolicy, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        clear_limits_cache()


class AssignmentInline(admin.TabularInline[Assignment, Case]):
    model = Assignment
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class CaseEventInline(AssignmentInline):
    model = CaseEvent  # type: ignore[assignment]
    fields = ["at", "kind", "actor", "from_status", "to_status", "note"]


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = [
        "number",
        "title",
        "channel",
        "status",
        "urgency",
        "street",
        "lead_department",
        "created_at",
    ]
    list_filter = ["status", "channel", "urgency"]
    search_fields = ["number", "title", "external_ref"]
    date_hierarchy = "created_at"
    inlines = [AssignmentInline, CaseEventInline]
    # The full phone number is never shown here; revealing it is an audited action (core.audit.reveal).
    exclude = ["reporter_phone", "reporter_phone_hash"]
    readonly_fields = ["reporter_phone_masked"]

    def get_queryset(self, request: HttpRequest) -> Any:
        return Case.objects.visible_to(request.user)

    @admin.display(description=_("联系电话"))
    def reporter_phone_masked(self, obj: Case) -> str:
        return masked(obj.reporter_phone, "phone")


@admin.register(CaseEvent)
class CaseEventAdmin(ReadOnlyAdmin):
    list_display = ["case", "kind", "actor", "at", "from_status", "to_status"]
    list_filter = ["kind"]
    raw_id_fields = ["case"]

    def get_queryset(self, request: HttpRequest) -> Any:
        return CaseEvent.objects.visible_to(request.user)


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = ["case", "original_name", "content_type", "size", "kind", "uploaded_at"]

    def get_queryset(self, request: HttpRequest) -> Any:
        return Attachment.objects.visible_to(request.user)
