"""Admin: API keys (created and revoked through ``api.actions``; the raw key is shown once), their
use log (read-only), Open311 submissions (read-only) and the categories' Open311 attributes."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from yiwang.api.actions import ApiKeyError, create_api_key, revoke_api_key, update_api_key
from yiwang.api.models import ApiKey, ApiKeyUse, Open311Submission
from yiwang.cases.models import CategoryAttribute
from yiwang.core.admin_base import ReadOnlyAdmin


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin[ApiKey]):
    list_display = [
        "prefix",
        "name",
        "organisation",
        "rate_limit_per_hour",
        "created_by",
        "created_at",
        "last_used_at",
        "revoked_at",
    ]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["prefix", "name", "organisation"]
    actions = ["revoke"]
    editable_fields = ("name", "organisation", "rate_limit_per_hour")
    shown_fields = ("prefix", "created_by", "created_at", "last_used_at", "revoked_at")

    def get_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> Any:
        return self.editable_fields if obj is None else (*self.editable_fields, *self.shown_fields)

    def get_readonly_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> Any:
        return () if obj is None else self.shown_fields

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoke instead: the use log keeps referring to the key

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        data = form.cleaned_data
        try:
            if change:
                saved = update_api_key(
                    request.user,  # type: ignore[arg-type]
                    obj,
                    name=data["name"],
                    organisation=data.get("organisation", ""),
                    rate_limit_per_hour=data["rate_limit_per_hour"],
                )
            else:
                saved, raw = create_api_key(
                    request.user,  # type: ignore[arg-type]
                    data["name"],
                    organisation=data.get("organisation", ""),
                    rate_limit_per_hour=data["rate_limit_per_hour"],
                )
                messages.warning(
                    request,
                    _("新密钥（只显示这一次，请立即妥善保存）：%(key)s") % {"key": raw},
                )
        except ApiKeyError as exc:
            raise PermissionDenied(str(exc)) from exc
        # The admin goes on with ``obj`` (log entry, redirect): make it the saved row.
        for model_field in ApiKey._meta.concrete_fields:
            setattr(obj, model_field.attname, getattr(saved, model_field.attname))
        obj._state.adding = False

    @admin.action(description=_("吊销所选密钥"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        done = 0
        for key in queryset:
            try:
                revoke_api_key(request.user, key)  # type: ignore[arg-type]
            except ApiKeyError as exc:
                messages.error(request, str(exc))
                return
            done += 1
        messages.success(request, ngettext("已吊销 %(n)d 个密钥", "已吊销 %(n)d 个密钥", done) % {"n": done})


@admin.register(ApiKeyUse)
class ApiKeyUseAdmin(ReadOnlyAdmin):
    list_display = ["at", "key", "method", "path", "remote_addr", "status_code"]
    list_filter = ["status_code", "method"]
    search_fields = ["key__prefix", "key__name", "path"]
    date_hierarchy = "at"
    list_select_related = ["key"]


@admin.register(Open311Submission)
class Open311SubmissionAdmin(ReadOnlyAdmin):
    # No e-mail column: it is personal data (encrypted) and the list is not audit-logged.
    list_display = ["case", "api_key", "token", "created_at"]
    fields = ["case", "api_key", "token", "media_urls", "address_id", "device_id", "account_id", "created_at"]
    search_fields = ["case__number", "token", "api_key__prefix"]
    list_select_related = ["case", "api_key"]


@admin.register(CategoryAttribute)
class CategoryAttributeAdmin(admin.ModelAdmin[CategoryAttribute]):
    """The Open311 service definition of a category: its extra questions (reference data)."""

    list_display = ["category", "order", "code", "datatype", "required", "variable", "description"]
    list_filter = ["datatype", "required", "variable"]
    search_fields = ["code", "description", "category__code", "category__name"]
    raw_id_fields = ["category"]
    list_select_related = ["category"]
