"""Admin for routing rules (with a "who would get this?" preview), models and dispatch settings."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _

from yiwang.dispatch import actions
from yiwang.dispatch.models import ClassifierModel, DispatchSettings, RoutingRule
from yiwang.dispatch.preview import preview


class PreviewForm(forms.Form):
    text = forms.CharField(label=_("诉求内容"), widget=forms.Textarea(attrs={"rows": 4}), max_length=4000)
    lng = forms.FloatField(label=_("经度"), min_value=-180, max_value=180)
    lat = forms.FloatField(label=_("纬度"), min_value=-90, max_value=90)
    category = forms.CharField(label=_("指定分类代码（可选）"), required=False, max_length=32)


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = ("category", "area", "lead", "priority", "is_active", "note")
    list_filter = ("is_active", "area__level")
    search_fields = ("category__code", "category__name", "lead__name", "area__name", "note")
    autocomplete_fields = ("category", "area", "lead")
    filter_horizontal = ("assisting",)
    change_list_template = "admin/dispatch/routingrule/change_list.html"

    def get_urls(self) -> list[URLPattern]:
        own = [
            path(
                "preview/", self.admin_site.admin_view(self.preview_view), name="dispatch_routingrule_preview"
            )
        ]
        return own + super().get_urls()

    def preview_view(self, request: HttpRequest) -> HttpResponse:
        form = PreviewForm(request.POST or None)
        result = None
        if request.method == "POST" and form.is_valid():
            try:
                result = preview(
                    form.cleaned_data["text"],
                    form.cleaned_data["lng"],
                    form.cleaned_data["lat"],
                    category_code=form.cleaned_data["category"] or None,
                )
            except ValueError as exc:
                form.add_error(None, str(exc))
        context = {
            **self.admin_site.each_context(request),
            "title": _("派单预览"),
            "opts": self.model._meta,
            "form": form,
            "result": result,
        }
        return TemplateResponse(request, "admin/dispatch/routingrule/preview.html", context)


@admin.register(ClassifierModel)
class ClassifierModelAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "created_at", "n_train", "is_active", "activated_at", "size_bytes")
    readonly_fields = [f.name for f in ClassifierModel._meta.fields]
    actions = ["activate_selected", "rollback"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # models come from `yiwang train`

    @admin.action(description=_("启用所选模型"))
    def activate_selected(self, request: HttpRequest, queryset: QuerySet[ClassifierModel]) -> None:
        if queryset.count() != 1:
            self.message_user(request, _("请只选择一个模型"), messages.ERROR)
            return
        try:
            actions.activate_model(request.user, queryset.get())
        except actions.DispatchActionError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(request, _("已启用"), messages.SUCCESS)

    @admin.action(description=_("回退到上一个模型"))
    def rollback(self, request: HttpRequest, queryset: QuerySet[ClassifierModel]) -> None:
        try:
            row = actions.rollback_model(request.user)
        except actions.DispatchActionError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.message_user(request, _("已回退到 %(name)s") % {"name": str(row)}, messages.SUCCESS)


@admin.register(DispatchSettings)
class DispatchSettingsAdmin(admin.ModelAdmin):
    list_display = ("id", "auto_dispatch_enabled", "auto_dispatch_threshold", "updated_at")

    def save_model(self, request: HttpRequest, obj: DispatchSettings, form: Any, change: bool) -> None:
        # Through the action: validated and audited like any other change.
        actions.update_dispatch_settings(
            request.user, threshold=obj.auto_dispatch_threshold, enabled=obj.auto_dispatch_enabled
        )
