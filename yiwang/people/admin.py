"""Admin for users, departments and grants (Chinese labels come from the models' verbose names)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from yiwang.core.security import separation
from yiwang.core.security.admin_actions import SECURITY_ACTIONS
from yiwang.people.models import Department, Grant, User
from yiwang.people.roles import sync_role_groups


class GrantFormSet(BaseInlineFormSet[Grant, User, Any]):
    """三员分立: each added, changed or removed grant must be one the signed-in user may give."""

    actor: Any = None

    def clean(self) -> None:
        super().clean()
        for form in self.forms:
            if not form.has_changed() or not hasattr(form, "cleaned_data"):
                continue
            roles = {form.cleaned_data.get("role"), form.initial.get("role")} - {None, ""}
            for role in sorted(roles):
                problem = separation.grant_problem(self.actor, self.instance, role)
                if problem:
                    form.add_error(None, problem)


class GrantInline(admin.TabularInline[Grant, User]):
    model = Grant
    extra = 0
    autocomplete_fields = ["division", "department"]
    formset = GrantFormSet

    def get_formset(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        formset = super().get_formset(request, obj, **kwargs)
        return type("GrantFormSetForActor", (formset,), {"actor": request.user})


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

    actions = [*SECURITY_ACTIONS]
    # Only a superuser changes these: otherwise an administrator could make themselves superuser or
    # give themselves any permission, around the grants (三员分立).
    SUPERUSER_ONLY_FIELDS = ("is_superuser", "groups", "user_permissions")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += [f for f in self.SUPERUSER_ONLY_FIELDS if f not in fields]
        return fields

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Grants are edited inline; the user's role groups follow them, and each grant change and
        each change of the user's own permissions is audited."""
        user = form.instance
        grants_before = separation.grant_keys(user) if change else set()
        perms_before = separation.permission_names(user.user_permissions.select_related("content_type"))
        super().save_related(request, form, formsets, change)
        sync_role_groups(user)
        separation.record_grant_changes(
            request.user, user, grants_before, separation.grant_keys(user), request=request
        )
        separation.record_permission_change(
            separation.USER_PERMISSIONS_CHANGED,
            request.user,
            user,
            perms_before,
            separation.permission_names(user.user_permissions.select_related("content_type")),
            request=request,
        )

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

    def _check(self, request: HttpRequest, grant: Grant, roles: set[str]) -> None:
        for role in sorted(roles - {""}):
            problem = separation.grant_problem(request.user, grant.user, role)
            if problem:
                separation.record_refused_grant(request.user, grant.user, role, request=request)
                raise PermissionDenied(problem)

    def save_model(self, request: HttpRequest, obj: Grant, form: Any, change: bool) -> None:
        self._check(request, obj, {obj.role, str(form.initial.get("role") or "")})
        before = separation.grant_keys(obj.user)
        super().save_model(request, obj, form, change)
        sync_role_groups(obj.user)
        separation.record_grant_changes(
            request.user, obj.user, before, separation.grant_keys(obj.user), request=request
        )

    def delete_model(self, request: HttpRequest, obj: Grant) -> None:
        self._check(request, obj, {obj.role})
        user, before = obj.user, separation.grant_keys(obj.user)
        super().delete_model(request, obj)
        sync_role_groups(user)
        separation.record_grant_changes(
            request.user, user, before, separation.grant_keys(user), request=request
        )

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Grant]) -> None:
        for grant in queryset.select_related("user"):
            self.delete_model(request, grant)
