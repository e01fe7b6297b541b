"""Inputs of the case actions. Each serializer only checks shapes and types; the action itself checks
the workflow, the actor's role and scope, and the business rules, and its validated data are passed
to the action as keyword arguments unchanged."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from yiwang.cases.choices import INTAKE_CHANNELS, DemandKind, Satisfaction, Urgency
from yiwang.cases.models.case import DESCRIPTION_MAX
from yiwang.core.calendar import TimeUnit
from yiwang.core.coords import CRS

NOTE_MAX = 2000


def _files() -> serializers.ListField:
    return serializers.ListField(child=serializers.FileField(), required=False, default=list, max_length=10)


class ActionInput(serializers.Serializer[Any]):
    expected_status = serializers.CharField(
        required=False, help_text="页面显示时的状态; 已被他人改动则返回 409"
    )
    expected_version = serializers.IntegerField(
        required=False, min_value=0, help_text="页面显示时的版本号; 已被他人改动则返回 409"
    )


class NoteInput(ActionInput):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=NOTE_MAX)


class ReasonInput(ActionInput):
    reason = serializers.CharField(max_length=NOTE_MAX)


class CreateCaseInput(serializers.Serializer[Any]):
    channel = serializers.ChoiceField(choices=INTAKE_CHANNELS)
    category = serializers.CharField(max_length=32, help_text="分类代码")
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(max_length=DESCRIPTION_MAX)
    lng = serializers.FloatField(required=False, allow_null=True)
    lat = serializers.FloatField(required=False, allow_null=True)
    crs = serializers.ChoiceField(choices=[c.value for c in CRS], required=False, default=CRS.WGS84.value)
    address = serializers.CharField(required=False, allow_blank=True, default="", max_length=255)
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False, allow_null=True, default=None)
    demand_kind = serializers.ChoiceField(
        choices=DemandKind.choices, required=False, allow_blank=True, default=""
    )
    reporter_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=50)
    reporter_phone = serializers.CharField(required=False, allow_blank=True, default="", max_length=32)
    is_anonymous = serializers.BooleanField(required=False, default=False)
    is_confidential = serializers.BooleanField(required=False, default=False)
    external_ref = serializers.CharField(required=False, allow_blank=True, default="", max_length=64)
    idempotency_key = serializers.CharField(
        required=False, allow_null=True, default=None, max_length=64, help_text="重试安全: 同一键只登记一次"
    )
    attachments = _files()
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=NOTE_MAX)


class ReceiveFrom110Input(CreateCaseInput):
    # Always police_110, with the incident number as the external reference and retry key.
    channel = None  # type: ignore[assignment]
    external_ref = None  # type: ignore[assignment]
    idempotency_key = None  # type: ignore[assignment]
    incident_number = serializers.CharField(max_length=60)


class AnswerInput(ActionInput):
    answer = serializers.CharField(max_length=DESCRIPTION_MAX)


class TransferTo110Input(NoteInput):
    receipt_number = serializers.CharField(max_length=64)


class DispatchInput(NoteInput):
    lead = serializers.IntegerField(help_text="主办单位ID")
    assisting = serializers.ListField(
        child=serializers.IntegerField(), required=False, default=list, max_length=20
    )


class ExtensionInput(ReasonInput):
    amount = serializers.DecimalField(max_digits=7, decimal_places=2, min_value=0)
    unit = serializers.ChoiceField(choices=TimeUnit.choices, required=False, allow_null=True, default=None)


class RejectExtensionInput(ActionInput):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=NOTE_MAX)


class SuperviseInput(NoteInput):
    level = serializers.IntegerField(min_value=1, max_value=9)


class ProgressInput(ActionInput):
    note = serializers.CharField(max_length=NOTE_MAX)
    attachments = _files()


class ResolveInput(ActionInput):
    result = serializers.CharField(max_length=DESCRIPTION_MAX)
    photos = _files()


class MergeInput(NoteInput):
    into = serializers.IntegerField(help_text="保留的案件ID")


class VerifyInput(NoteInput):
    passed = serializers.BooleanField()


class CallbackInput(NoteInput):
    contacted = serializers.BooleanField()
    solved = serializers.BooleanField()
    satisfaction = serializers.ChoiceField(
        choices=Satisfaction.choices, required=False, allow_null=True, default=None
    )


class ReopenInput(NoteInput):
    lead = serializers.IntegerField(required=False, allow_null=True, default=None)
    assisting = serializers.ListField(
        child=serializers.IntegerField(), required=False, allow_null=True, default=None, max_length=20
    )


class RevealInput(serializers.Serializer[Any]):
    field = serializers.ChoiceField(choices=["reporter_phone"])
    reason = serializers.CharField(max_length=200, help_text="查看理由 (写入审计日志)")
