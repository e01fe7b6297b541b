"""Admin of village deliberation: the meeting rules are editable (data); the rest is read-only,
because every change to a topic goes through the actions (and writes its timeline)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from yiwang.governance.deliberation.models import Meeting, MeetingRule, Topic, TopicEvent, Venue


@admin.register(MeetingRule)
class MeetingRuleAdmin(admin.ModelAdmin[MeetingRule]):
    list_display = (
        "kind",
        "voter_flag",
        "quorum_num",
        "quorum_den",
        "quorum_inclusive",
        "pass_num",
        "pass_den",
        "pass_base",
    )


class ReadOnlyScopedAdmin[M: Any](admin.ModelAdmin[M]):
    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).visible_to(request.user)  # type: ignore[attr-defined]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Venue)
class VenueAdmin(ReadOnlyScopedAdmin[Venue]):
    list_display = ("name", "community", "lng", "lat")


@admin.register(Topic)
class TopicAdmin(ReadOnlyScopedAdmin[Topic]):
    list_display = ("title", "community", "stage", "origin", "created_at")
    list_filter = ("stage", "origin")
    search_fields = ("title",)


@admin.register(Meeting)
class MeetingAdmin(ReadOnlyScopedAdmin[Meeting]):
    list_display = ("topic", "kind", "status", "held_at", "eligible", "present", "passed")


@admin.register(TopicEvent)
class TopicEventAdmin(ReadOnlyScopedAdmin[TopicEvent]):
    list_display = ("topic", "kind", "from_stage", "to_stage", "actor", "at")
