"""Admin for the map. Divisions and grids are saved and deleted through ``grids.actions`` so the
code rules run (as form errors) and the locator version moves; lists are scoped for non-superusers."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from yiwang.core.admin_base import ReadOnlyAdmin
from yiwang.grids import actions
from yiwang.grids.models import (
    Division,
    ExternalGrid,
    ExternalGridLink,
    Grid,
    GridBeatLink,
    GridLabel,
    GridStaff,
    LocatorVersion,
    PoliceBeat,
)
from yiwang.grids.validation import ValidationProblem, division_problems, grid_problems


def _add_problems(form: forms.ModelForm[Any], problems: list[ValidationProblem]) -> None:
    for p in problems:
        form.add_error(p.field if p.field in form.fields else None, p.message)


class DivisionForm(forms.ModelForm[Division]):
    class Meta:
        model = Division
        fields = ["code", "name", "level", "kind", "parent", "boundary"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors:
            _, problems = division_problems(
                code=data.get("code") or "",
                name=data.get("name") or "",
                level=data.get("level") or "",
                kind=data.get("kind") or "",
                parent=data.get("parent"),
                boundary=data.get("boundary"),
                instance=self.instance if self.instance.pk else None,
            )
            # Uniqueness of the code is already checked by the model form.
            _add_problems(self, [p for p in problems if p.key != "duplicate_db"])
        return data


class GridForm(forms.ModelForm[Grid]):
    class Meta:
        model = Grid
        fields = [
            "code",
            "name",
            "community",
            "kind",
            "dedicated_to",
            "labels",
            "boundary",
            "households",
            "population",
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not self.errors:
            _, problems = grid_problems(
                code=data.get("code") or "",
                name=data.get("name") or "",
                community=data.get("community"),
                kind=data.get("kind") or "",
                boundary=data.get("boundary"),
                dedicated_to=data.get("dedicated_to") or "",
                instance=self.instance if self.instance.pk else None,
            )
            _add_problems(self, [p for p in problems if p.key != "duplicate_db"])
        return data


class ScopedAdmin(admin.ModelAdmin[Any]):
    """Superusers see every row; other staff see what ``visible_to`` gives them."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)
        if request.user.is_superuser or not hasattr(qs, "visible_to"):
            return qs
        scoped: QuerySet[Any] = qs.visible_to(request.user)
        return scoped


@admin.register(Division)
class DivisionAdmin(ScopedAdmin):
    form = DivisionForm
    list_display = ["code", "name", "level", "kind", "parent"]
    list_filter = ["level", "kind"]
    search_fields = ["code", "name"]
    autocomplete_fields = ["parent"]
    readonly_fields = ["district", "street", "created_at", "updated_at"]

    def save_model(self, request: HttpRequest, obj: Division, form: Any, change: bool) -> None:
        actions.save_division(
            code=obj.code,
            name=obj.name,
            level=obj.level,
            kind=obj.kind,
            parent=obj.parent,
            boundary=obj.boundary,
            instance=obj,
        )

    def delete_model(self, request: HttpRequest, obj: Division) -> None:
        actions.delete_division(obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Division]) -> None:
        # Children first, so a street and its communities can go in one selection.
        for division in sorted(queryset, key=lambda d: d.code, reverse=True):
            actions.delete_division(division)


@admin.register(GridLabel)
class GridLabelAdmin(admin.ModelAdmin[GridLabel]):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


class GridStaffInline(admin.TabularInline[GridStaff, Grid]):
    model = GridStaff
    extra = 0
    raw_id_fields = ["user"]


@admin.register(Grid)
class GridAdmin(ScopedAdmin):
    form = GridForm
    list_display = ["code", "name", "community", "kind", "households", "population"]
    list_filter = ["kind", "labels", "community__street"]
    search_fields = ["code", "name", "community__name", "dedicated_to"]
    filter_horizontal = ["labels"]
    autocomplete_fields = ["community"]
    readonly_fields = [
        "min_lng",
        "min_lat",
        "max_lng",
        "max_lat",
        "center_lng",
        "center_lat",
        "created_at",
        "updated_at",
    ]
    inlines = [GridStaffInline]

    def save_model(self, request: HttpRequest, obj: Grid, form: Any, change: bool) -> None:
        # Labels are saved by the form afterwards (save_related), so they are left alone here.
        actions.save_grid(
            code=obj.code,
            name=obj.name,
            community=obj.community,
            boundary=obj.boundary,
            kind=obj.kind,
            dedicated_to=obj.dedicated_to,
            households=obj.households,
            population=obj.population,
            instance=obj,
        )

    def delete_model(self, request: HttpRequest, obj: Grid) -> None:
        actions.delete_grid(obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Grid]) -> None:
        for grid in queryset:
            actions.delete_grid(grid)


@admin.action(description=_("重新计算网格-警格关联"))
def relink_beats(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Any]) -> None:
    count = actions.link_police_beats()
    modeladmin.message_user(
        request,
        ngettext("已生成 %(n)d 条关联", "已生成 %(n)d 条关联", count) % {"n": count},
        messages.SUCCESS,
    )


@admin.action(description=_("重新计算专业网格映射"))
def relink_external(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Any]) -> None:
    count = actions.link_external_grids()
    modeladmin.message_user(
        request,
        ngettext("已生成 %(n)d 条关联", "已生成 %(n)d 条关联", count) % {"n": count},
        messages.SUCCESS,
    )


class GridBeatLinkInline(admin.TabularInline[GridBeatLink, PoliceBeat]):
    model = GridBeatLink
    extra = 0
    raw_id_fields = ["grid"]
    readonly_fields = ["grid", "share"]
    can_delete = False


@admin.register(PoliceBeat)
class PoliceBeatAdmin(admin.ModelAdmin[PoliceBeat]):
    list_display = ["code", "name", "police_station"]
    list_filter = ["police_station"]
    search_fields = ["code", "name", "police_station"]
    inlines = [GridBeatLinkInline]
    actions = [relink_beats]


class ExternalGridLinkInline(admin.TabularInline[ExternalGridLink, ExternalGrid]):
    model = ExternalGridLink
    extra = 0
    readonly_fields = ["grid", "share"]
    can_delete = False


@admin.register(ExternalGrid)
class ExternalGridAdmin(admin.ModelAdmin[ExternalGrid]):
    list_display = ["code", "name", "owner"]
    list_filter = ["owner"]
    search_fields = ["code", "name"]
    inlines = [ExternalGridLinkInline]
    actions = [relink_external]


@admin.register(GridStaff)
class GridStaffAdmin(admin.ModelAdmin[GridStaff]):
    list_display = ["grid", "role", "user"]
    list_filter = ["role"]
    search_fields = ["grid__code", "grid__name", "user__username", "user__display_name"]
    raw_id_fields = ["user", "grid"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[GridStaff]:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        return qs.filter(grid__in=Grid.objects.visible_to(request.user))


@admin.register(LocatorVersion)
class LocatorVersionAdmin(ReadOnlyAdmin):
    list_display = ["version", "changed_at"]
    readonly_fields = ["version", "changed_at"]
