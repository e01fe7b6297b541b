"""Admin for users, departments and grants (Chinese labels come from the models' verbose names)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from yiwang.people.models import Department, Grant, User
from yiwang.people.roles import sync_role_groups


class GrantInline(admin.TabularInline[Grant, User]):
    model = Grant
    extra = 0
    autocomplete_fields = ["division", "department"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = [
        "username",
        "display_name",
        "phone",
        "department",
        "is_active",
        "is_staff",
        "must_change_password",
    ]
    list_filter = ["is_active", "is_staff", "is_superuser", "must_change_password", "grants__role"]
    search_fields = ["username", "display_name", "phone", "department__name"]
    autocomplete_fields = ["department"]
    inlines = [GrantInline]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("个人信息"), {"fields": ("display_name", "phone", "email", "department")}),
        (
            _("权限"),
            {
                "fields": (
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "must_change_password",
                    "groups",
                    "user_permissions",
                )
            },
        ),
        (_("重要日期"), {"fields": ("last_login", "date_joined")}),
    )

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Grants are edited inline; the user's role groups follow them."""
        super().save_related(request, form, formsets, change)
        sync_role_groups(form.instance)

    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "display_name", "department", "password1", "password2"),
            },
        ),
    )


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin[Department]):
    list_display = ["code", "name", "short_name", "kind", "parent", "division", "phone", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["code", "name", "short_name"]
    autocomplete_fields = ["parent", "division"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Department]:
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else Department.objects.visible_to(request.user) & qs


@admin.register(Grant)
class GrantAdmin(admin.ModelAdmin[Grant]):
    list_display = ["user", "role", "division", "department"]
    list_filter = ["role"]
    search_fields = ["user__username", "user__display_name", "division__name", "department__name"]
    autocomplete_fields = ["user", "division", "department"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Grant]:
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else Grant.objects.visible_to(request.user) & qs
