"""Admin for the audit log (read-only, auditor only) and the auditing group admin.

- :class:`AuditRecordAdmin`: no add, change or delete path; visible to the auditor role only (三员分立:
  the system administrator and a bare superuser do not read it); an action exports the selected
  records as CSV, itself audited.
- :class:`AuditedGroupAdmin`: Django's group admin that appends each change of a group's
  permissions to the audit log. The admin (not a signal) is where such a change is made, so it is
  recorded there; ``m2m_changed`` would also fire for code paths that are not an administrator's act.
"""

from __future__ import annotations

import csv
from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin
from django.contrib.auth.models import Group
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.core import audit
from yiwang.core.admin_base import ReadOnlyAdmin
from yiwang.core.models_audit import AuditAction, AuditRecord
from yiwang.core.security.audit_export import COLUMNS, csv_row
from yiwang.core.security.separation import (
    GROUP_PERMISSIONS_CHANGED,
    can_read_audit_log,
    permission_names,
    record_permission_change,
)


@admin.action(description=_("导出所选记录（CSV）"))
def export_csv(modeladmin: Any, request: HttpRequest, queryset: QuerySet[AuditRecord]) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
    response.write("\ufeff")  # BOM: spreadsheet programs then read the Chinese text as UTF-8
    writer = csv.writer(response)
    writer.writerow(COLUMNS)
    count = 0
    for entry in queryset.order_by("seq").iterator(chunk_size=2000):
        writer.writerow(csv_row(entry))
        count += 1
    audit.record(
        AuditAction.EXPORT,
        actor=request.user,
        ip=audit.client_ip(request),
        data={"what": "audit", "via": "admin", "rows": count},
    )
    return response


class AuditRecordAdmin(ReadOnlyAdmin):
    list_display = ("seq", "at", "actor_name", "action", "object_type", "object_id", "field", "success", "ip")
    list_filter = ("action", "success")
    search_fields = ("actor_name", "object_id", "action")
    date_hierarchy = "at"
    ordering = ("-seq",)
    list_select_related = ()
    show_full_result_count = False  # COUNT(*) over a long log is slow and tells nobody anything
    actions = [export_csv]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in AuditRecord._meta.fields]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return can_read_audit_log(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can_read_audit_log(request.user)


class AuditedGroupAdmin(GroupAdmin):
    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        group = form.instance
        before = permission_names(group.permissions.select_related("content_type")) if change else set()
        super().save_related(request, form, formsets, change)
        after = permission_names(group.permissions.select_related("content_type"))
        record_permission_change(
            GROUP_PERMISSIONS_CHANGED, request.user, group, before, after, request=request
        )


def register(site: admin.AdminSite = admin.site) -> None:
    if not site.is_registered(AuditRecord):
        site.register(AuditRecord, AuditRecordAdmin)
    # Replace Django's group admin with the auditing one (registered by django.contrib.auth).
    if site.is_registered(Group) and not isinstance(site.get_model_admin(Group), AuditedGroupAdmin):
        site.unregister(Group)
    if not site.is_registered(Group):
        site.register(Group, AuditedGroupAdmin)
