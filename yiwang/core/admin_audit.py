"""Read-only admin for the audit log: no add, change or delete path exists in the application."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from yiwang.core.admin_base import ReadOnlyAdmin
from yiwang.core.models_audit import AuditRecord


class AuditRecordAdmin(ReadOnlyAdmin):
    list_display = ("seq", "at", "actor_name", "action", "object_type", "object_id", "field", "success", "ip")
    list_filter = ("action", "success")
    search_fields = ("actor_name", "object_id", "action")
    date_hierarchy = "at"
    ordering = ("-seq",)
    list_select_related = ()
    show_full_result_count = False  # COUNT(*) over a long log is slow and tells nobody anything

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in AuditRecord._meta.fields]


def register(site: admin.AdminSite = admin.site) -> None:
    if not site.is_registered(AuditRecord):
        site.register(AuditRecord, AuditRecordAdmin)
