"""Admin pages of the campaigns: the fields of work are data an administrator edits; campaigns,
targets, inspections, findings and events are written by the actions only (read-only here)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from yiwang.core.admin_base import ReadOnlyAdmin
from yiwang.governance.campaigns.models import (
    Campaign,
    CampaignEvent,
    CampaignField,
    CampaignFinding,
    CampaignInspection,
    CampaignTarget,
)


@admin.register(CampaignField)
class CampaignFieldAdmin(admin.ModelAdmin[Any]):
    list_display = ("code", "name", "category", "target_kind", "is_active", "sort")
    list_editable = ("is_active", "sort")
    raw_id_fields = ("category",)
    search_fields = ("code", "name")


@admin.register(Campaign)
class CampaignAdmin(ReadOnlyAdmin):
    list_display = ("title", "field", "division", "starts_on", "ends_on", "status")
    list_filter = ("status", "field")
    search_fields = ("title",)


@admin.register(CampaignTarget)
class CampaignTargetAdmin(ReadOnlyAdmin):
    list_display = ("label", "campaign", "kind", "grid", "covered_at")
    list_filter = ("kind",)
    list_select_related = ("campaign", "grid")


@admin.register(CampaignInspection)
class CampaignInspectionAdmin(ReadOnlyAdmin):
    list_display = ("target", "campaign", "outcome", "inspected_at", "inspected_by")
    list_select_related = ("target", "campaign", "inspected_by")


@admin.register(CampaignFinding)
class CampaignFindingAdmin(ReadOnlyAdmin):
    list_display = ("case", "target", "campaign", "found_at")
    list_select_related = ("case", "target", "campaign")


@admin.register(CampaignEvent)
class CampaignEventAdmin(ReadOnlyAdmin):
    list_display = ("campaign", "kind", "from_status", "to_status", "actor", "at")
    list_select_related = ("campaign", "actor")
