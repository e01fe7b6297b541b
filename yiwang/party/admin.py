"""Admin pages of the party and volunteer registers: scoped lists, phones masked, no direct edits
of rows that ``party.actions`` writes (the ledger is append-only and never editable here)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from yiwang.core.admin_base import ReadOnlyAdmin

from .models import (
    Activity,
    Assignment,
    CommunityReport,
    LedgerEntry,
    PartyMember,
    PartyOrganization,
    Sentinel,
    SignUp,
    Volunteer,
)


class ScopedAdmin(ReadOnlyAdmin):
    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return self.model.objects.visible_to(request.user)


@admin.register(PartyOrganization)
class PartyOrganizationAdmin(ScopedAdmin):
    list_display = ("name", "kind", "parent", "unit", "community")
    list_filter = ("kind",)
    search_fields = ("name", "unit")


@admin.register(PartyMember)
class PartyMemberAdmin(ScopedAdmin):
    list_display = ("name", "kind", "organization", "phone_masked", "community", "reported_on")
    list_filter = ("kind",)
    list_select_related = ("organization", "community")
    search_fields = ("name",)
    exclude = ("phone",)


@admin.register(CommunityReport)
class CommunityReportAdmin(ReadOnlyAdmin):
    list_display = ("organization", "community", "reported_on", "commitment")
    list_select_related = ("organization", "community")


@admin.register(Assignment)
class AssignmentAdmin(ReadOnlyAdmin):
    list_display = ("member", "role", "grid", "household", "started_on", "ended_on")
    list_filter = ("role",)
    list_select_related = ("member", "grid", "household")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return Assignment.objects.filter(member__in=PartyMember.objects.visible_to(request.user))


@admin.register(Sentinel)
class SentinelAdmin(ScopedAdmin):
    list_display = ("name", "occupation", "company", "phone_masked", "grid", "is_active")
    list_filter = ("occupation", "is_active")
    list_select_related = ("grid",)
    exclude = ("phone",)


@admin.register(Volunteer)
class VolunteerAdmin(ScopedAdmin):
    list_display = ("__str__", "member", "skills", "registered_on")
    list_select_related = ("resident", "member")


@admin.register(Activity)
class ActivityAdmin(ScopedAdmin):
    list_display = ("title", "community", "grid", "starts_at", "ends_at", "status", "capacity")
    list_filter = ("status",)


@admin.register(SignUp)
class SignUpAdmin(ReadOnlyAdmin):
    list_display = ("activity", "volunteer", "checked_in_at", "checked_out_at")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return SignUp.objects.filter(activity__in=Activity.objects.visible_to(request.user))


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ("at", "volunteer", "kind", "hours", "points", "activity", "actor", "note")
    list_filter = ("kind",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return LedgerEntry.objects.filter(volunteer__in=Volunteer.objects.visible_to(request.user))
