"""Forms of the web pages. They only parse input; every write goes through a ``cases.actions``
function, whose :class:`InvalidCaseInput` errors are shown next to the field they name."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from yiwang.cases.choices import (
    INTAKE_CHANNELS,
    CaseStatus,
    Channel,
    DemandKind,
    Satisfaction,
    SuperviseLevel,
    Urgency,
)
from yiwang.cases.errors import CaseError, InvalidCaseInput
from yiwang.cases.models import Category
from yiwang.core.calendar import TimeUnit
from yiwang.people.models import Department

TEXT_ROWS = 3


def error_text(error: CaseError) -> str:
    """The message of a case error in the page's language (Chinese unless English is active)."""
    return error.en if (get_language() or "").startswith("en") else error.zh


def attach_error(form: forms.Form, error: CaseError) -> None:
    """Put an action's error next to the field it names, or above the form."""
    field = getattr(error, "field", "") if isinstance(error, InvalidCaseInput) else ""
    if field == "photos":
        field = "attachments"
    form.add_error(field if field in form.fields else None, error_text(error))


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; type and size are checked by the action (``cases.files``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,application/pdf"})
        )
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[UploadedFile]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


def _text(
    label: Any, *, required: bool = True, max_length: int = 1000, rows: int = TEXT_ROWS
) -> forms.CharField:
    return forms.CharField(
        label=label, required=required, max_length=max_length, widget=forms.Textarea(attrs={"rows": rows})
    )


def _departments() -> forms.ModelChoiceField[Department]:
    return forms.ModelChoiceField(
        queryset=Department.objects.filter(is_active=True).order_by("code"), label=_("主办单位")
    )


def _assisting() -> forms.ModelMultipleChoiceField[Department]:
    return forms.ModelMultipleChoiceField(
        queryset=Department.objects.filter(is_active=True).order_by("code"),
        label=_("协办单位"),
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 4}),
    )


class ActionForm(forms.Form):
    """Base of every case action form: the state the user saw, to detect a stale form."""

    expected_status = forms.ChoiceField(choices=CaseStatus.choices, widget=forms.HiddenInput)
    expected_version = forms.IntegerField(min_value=0, widget=forms.HiddenInput)

    def expect(self) -> dict[str, Any]:
        return {
            "expected_status": self.cleaned_data["expected_status"],
            "expected_version": self.cleaned_data["expected_version"],
        }


class NoteForm(ActionForm):
    note = _text(_("备注"), required=False)


class ReasonForm(ActionForm):
    reason = _text(_("原因"))


class DispatchForm(ActionForm):
    lead = _departments()
    assisting = _assisting()
    note = _text(_("派遣意见"), required=False)


class ReopenForm(ActionForm):
    lead = forms.ModelChoiceField(
        queryset=Department.objects.filter(is_active=True).order_by("code"),
        label=_("主办单位"),
        required=False,
        help_text=_("留空则派给上一轮的主办单位"),
    )
    note = _text(_("二次办理意见"), required=False)


class ExtensionForm(ActionForm):
    amount = forms.DecimalField(label=_("延长时长"), min_value=0, max_digits=7, decimal_places=2)
    unit = forms.ChoiceField(label=_("单位"), choices=TimeUnit.choices, required=False)
    reason = _text(_("延期理由"))


class SuperviseForm(ActionForm):
    level = forms.TypedChoiceField(label=_("督办级别"), choices=SuperviseLevel.choices, coerce=int)
    note = _text(_("督办意见"), required=False)


class ProgressForm(ActionForm):
    note = _text(_("进展说明"), max_length=4000)
    attachments = MultipleFileField(label=_("照片或文件"))


class ResolveForm(ActionForm):
    result = _text(_("办理结果"), max_length=4000, rows=4)
    attachments = MultipleFileField(label=_("现场照片"))


class VerifyForm(ActionForm):
    passed = forms.TypedChoiceField(
        label=_("核查结论"),
        choices=[("1", _("通过")), ("0", _("不通过（返工）"))],
        coerce=lambda v: v == "1",
        widget=forms.RadioSelect,
    )
    note = _text(_("核查意见"), required=False)


class CallbackForm(ActionForm):
    contacted = forms.BooleanField(label=_("已联系到诉求人"), required=False, initial=True)
    solved = forms.BooleanField(label=_("问题已解决"), required=False)
    satisfaction = forms.ChoiceField(
        label=_("满意度"), choices=[("", _("未评价")), *Satisfaction.choices], required=False
    )
    note = _text(_("回访记录"), required=False)


class MergeForm(ActionForm):
    into = forms.CharField(label=_("并入案件编号"), max_length=20)
    note = _text(_("备注"), required=False)


class AnswerForm(ActionForm):
    answer = _text(_("答复内容"), max_length=4000)


class TransferForm(ActionForm):
    receipt_number = forms.CharField(label=_("110回执编号"), max_length=64)
    note = _text(_("备注"), required=False)


class RevealForm(forms.Form):
    reason = forms.CharField(label=_("查看理由"), max_length=200)


# --- intake -------------------------------------------------------------------------------------------
def category_choices(kinds: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    rows = Category.objects.filter(is_active=True)
    if kinds:
        rows = rows.filter(kind__in=kinds)
    return [("", "—")] + [
        (code, f"{name} ({code})")
        for code, name in rows.order_by("kind", "sort_order", "code").values_list("code", "name")
    ]


class IntakeForm(forms.Form):
    """The hotline operator's form. ``idempotency_key`` is fixed when the page is first shown, so
    that submitting twice (a double click, a retried POST) registers one case."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    channel = forms.ChoiceField(label=_("来源渠道"), choices=INTAKE_CHANNELS, initial=Channel.HOTLINE_12345)
    title = forms.CharField(label=_("标题"), max_length=200)
    description = _text(_("诉求内容"), max_length=4000, rows=6)
    category = forms.ChoiceField(label=_("分类"), choices=())
    demand_kind = forms.ChoiceField(
        label=_("诉求类型"), choices=[("", "—"), *DemandKind.choices], required=False
    )
    urgency = forms.ChoiceField(
        label=_("紧急程度"), choices=[("", _("按分类默认")), *Urgency.choices], required=False
    )
    address = forms.CharField(label=_("地址"), max_length=255, required=False)
    lng = forms.FloatField(label=_("经度"), required=False, min_value=-180, max_value=180)
    lat = forms.FloatField(label=_("纬度"), required=False, min_value=-90, max_value=90)
    reporter_name = forms.CharField(label=_("诉求人"), max_length=50, required=False)
    reporter_phone = forms.CharField(label=_("联系电话"), max_length=32, required=False)
    is_anonymous = forms.BooleanField(label=_("匿名"), required=False)
    is_confidential = forms.BooleanField(label=_("保密"), required=False)
    attachments = MultipleFileField(label=_("附件"))
    answer = _text(_("直接答复内容"), required=False, max_length=4000)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = category_choices()  # type: ignore[attr-defined]
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (data.get("lng") is None) != (data.get("lat") is None):
            self.add_error("lat", _("经度和纬度须同时填写"))
        return data


class PhoneReportForm(forms.Form):
    """A grid worker's patrol report (网格巡查): photo and position from the phone."""

    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)
    category = forms.ChoiceField(label=_("事件分类"), choices=())
    description = _text(_("情况描述"), max_length=4000, rows=4)
    photo = MultipleFileField(label=_("现场照片"))
    lng = forms.FloatField(label=_("经度"), required=False, min_value=-180, max_value=180)
    lat = forms.FloatField(label=_("纬度"), required=False, min_value=-90, max_value=90)
    address = forms.CharField(label=_("地址（无定位时填写）"), max_length=255, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = category_choices(("component", "matter"))  # type: ignore[attr-defined]
        self.fields["photo"].widget.attrs.update({"accept": "image/*", "capture": "environment"})
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        has_point = data.get("lng") is not None and data.get("lat") is not None
        if (data.get("lng") is None) != (data.get("lat") is None):
            self.add_error("lat", _("经度和纬度须同时填写"))
        elif not has_point and not (data.get("address") or "").strip():
            self.add_error("address", _("未取得定位，请填写地址或经纬度"))
        return data
