"""Admin: the colour rule is data the administrator tunes; projects are read here, written by actions."""

from __future__ import annotations

from django.contrib import admin

from yiwang.governance.projects.models import ColourRule, Project, ProjectEvent


@admin.register(ColourRule)
class ColourRuleAdmin(admin.ModelAdmin[ColourRule]):
    list_display = ("name", "yellow_workdays", "yellow_progress", "is_active", "updated_at")


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin[Project]):
    list_display = ("code", "name", "status", "owner", "owner_department", "end_date")
    list_filter = ("status",)
    search_fields = ("code", "name")

    def has_add_permission(self, request: object) -> bool:  # written by actions only
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False


@admin.register(ProjectEvent)
class ProjectEventAdmin(admin.ModelAdmin[ProjectEvent]):
    list_display = ("project", "kind", "actor", "at")

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False
