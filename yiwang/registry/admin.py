"""Admin pages of the registers. Every list and form shows personal values masked (from the stored
masked columns); the encrypted columns and their hashes are never rendered. Rows come from
``visible_to(request.user)``. A resident's full ID number and phone are shown only on the
"查看完整信息" page, which asks for a reason and goes through :func:`core.audit.reveal` (one audit
record per field). Residents are added and changed through ``registry.actions``; the other
registers are read-only here (they are maintained by import and by the actions)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from yiwang.core.admin_base import ReadOnlyAdmin
from yiwang.core.audit import client_ip, reveal
from yiwang.core.pii import lookup_hash
from yiwang.core.scoping import get_object_or_404_in_scope
from yiwang.registry import actions
from yiwang.registry.errors import RegistryError
from yiwang.registry.models import (
    Building,
    Estate,
    House,
    Household,
    KeyGroupTag,
    KeySite,
    Organisation,
    Registration,
    Resident,
    ResidentStatus,
)


class ScopedAdmin(ReadOnlyAdmin):
    """Rows outside the user's scope are absent; writes go through actions, so no direct edits."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return self.model.objects.visible_to(request.user)


class ResidentForm(forms.ModelForm):
    """Plain inputs for the ID number and phone; the action validates, encrypts and masks them."""

    id_number_input = forms.CharField(label=_("身份证号码"), max_length=18, required=False)
    phone_input = forms.CharField(label=_("联系电话"), max_length=20, required=False)

    class Meta:
        model = Resident
        fields = ["name", "registration", "status", "grid", "house", "relation_to_head"]


class ResidentAdmin(ScopedAdmin):
    form = ResidentForm
    list_display = (
        "name",
        "id_number_masked",
        "phone_masked",
        "sex",
        "birth_date",
        "registration",
        "status",
        "grid",
    )
    list_filter = ("registration", "status", "sex")
    list_select_related = ("grid",)
    search_fields = ("name",)
    readonly_fields = ("id_number_masked", "phone_masked", "sex", "birth_date", "reveal_link")
    raw_id_fields = ("grid", "house")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("registry.add_resident")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("registry.change_resident")

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        base = ["name", "registration", "status", "grid", "house", "relation_to_head"]
        if obj is None:
            return ["name", "id_number_input", "phone_input", *base[1:]]
        return [*base, "phone_input", "id_number_masked", "phone_masked", "sex", "birth_date", "reveal_link"]

    def get_search_results(self, request: HttpRequest, queryset: QuerySet[Any], search_term: str) -> Any:
        """A search term that is an ID number or phone finds it by its keyed hash (exact match)."""
        term = search_term.strip()
        if len(term) == 18 or (len(term) == 11 and term.isdigit()):
            kind = "id_number" if len(term) == 18 else "phone"
            column = "id_number_hash" if kind == "id_number" else "phone_hash"
            return queryset.filter(**{column: lookup_hash(term, kind)}), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description=_("完整信息"))
    def reveal_link(self, obj: Resident) -> str:
        url = reverse("admin:registry_resident_reveal", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("查看完整信息（需理由，记入审计）"))

    def save_model(self, request: HttpRequest, obj: Resident, form: Any, change: bool) -> None:
        data = form.cleaned_data
        try:
            if change:
                changes = {
                    k: data[k]
                    for k in ("name", "registration", "status", "grid", "house", "relation_to_head")
                }
                if data.get("phone_input"):
                    changes["phone"] = data["phone_input"]
                saved = actions.update_resident(obj.pk, actor=request.user, **changes)
            else:
                saved = actions.register_resident(
                    actor=request.user,
                    name=data["name"],
                    id_number=data.get("id_number_input", ""),
                    phone=data.get("phone_input", ""),
                    registration=data.get("registration") or Registration.REGISTERED,
                    grid=data["grid"],
                    house=data.get("house"),
                    relation_to_head=data.get("relation_to_head", ""),
                )
                if data.get("status") and data["status"] != ResidentStatus.ACTIVE:
                    saved = actions.update_resident(saved.pk, actor=request.user, status=data["status"])
        except RegistryError as exc:
            raise ValidationError(exc.message) from exc
        obj.pk = saved.pk

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: Any = None,
    ) -> HttpResponse:
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as exc:
            self.message_user(request, "; ".join(exc.messages), messages.ERROR)
            return HttpResponseRedirect(request.path)

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(self.reveal_view)
        return [path("<int:pk>/reveal/", view, name="registry_resident_reveal"), *super().get_urls()]

    def reveal_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        resident = get_object_or_404_in_scope(self.get_queryset(request), pk=pk)
        context: dict[str, Any] = {
            **self.admin_site.each_context(request),
            "resident": resident,
            "title": _("查看完整个人信息"),
        }
        if request.method == "POST":
            reason = str(request.POST.get("reason", "")).strip()
            try:
                context["id_number"] = reveal(
                    resident, "id_number", actor=request.user, reason=reason, ip=client_ip(request)
                )
                context["phone"] = reveal(
                    resident, "phone", actor=request.user, reason=reason, ip=client_ip(request)
                )
            except ValidationError as exc:
                context["error"] = "; ".join(exc.messages)
            except PermissionDenied as exc:
                context["error"] = str(exc)
        return TemplateResponse(request, "admin/registry/reveal.html", context)


class HouseAdmin(ScopedAdmin):
    list_display = ("__str__", "building", "unit", "room", "use", "occupancy")
    list_filter = ("use", "occupancy")
    list_select_related = ("building",)
    search_fields = ("building__code", "room")


class BuildingAdmin(ScopedAdmin):
    list_display = ("code", "name", "estate", "address", "grid", "floors")
    list_select_related = ("estate", "grid")
    search_fields = ("code", "name", "address")


class EstateAdmin(ScopedAdmin):
    list_display = ("name", "community", "property_company")
    list_select_related = ("community", "property_company")
    search_fields = ("name",)


class HouseholdAdmin(ScopedAdmin):
    list_display = ("number", "grid", "house", "head")
    list_select_related = ("grid", "head")


class OrganisationAdmin(ScopedAdmin):
    list_display = ("name", "kind", "credit_code", "grid", "contact_name", "contact_phone_masked")
    list_filter = ("kind",)
    list_select_related = ("grid",)
    search_fields = ("name", "credit_code")
    exclude = ("contact_phone",)


class KeySiteAdmin(ScopedAdmin):
    list_display = ("name", "kind", "risk_level", "grid", "manager_name", "manager_phone_masked")
    list_filter = ("kind", "risk_level")
    list_select_related = ("grid",)
    exclude = ("manager_phone",)


class KeyGroupTagForm(forms.ModelForm):
    roles = forms.MultipleChoiceField(
        label=_("可见角色"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("不选表示所有可查看该居民的角色"),
    )

    class Meta:
        model = KeyGroupTag
        fields = ["code", "name", "description", "roles", "is_sensitive", "sort"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        from yiwang.people.models import Role

        self.fields["roles"].choices = Role.choices  # type: ignore[attr-defined]


class KeyGroupTagAdmin(admin.ModelAdmin):
    """Reference data (which key groups exist, who sees each): edited here, no action needed."""

    form = KeyGroupTagForm
    list_display = ("name", "code", "is_sensitive", "roles", "sort")


for model, model_admin in (
    (Resident, ResidentAdmin),
    (Building, BuildingAdmin),
    (House, HouseAdmin),
    (Estate, EstateAdmin),
    (Household, HouseholdAdmin),
    (Organisation, OrganisationAdmin),
    (KeySite, KeySiteAdmin),
    (KeyGroupTag, KeyGroupTagAdmin),
):
    admin.site.register(model, model_admin)
