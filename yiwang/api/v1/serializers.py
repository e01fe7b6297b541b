"""Output shapes of the staff API. Read-only: writes go through the action inputs in ``inputs.py``.

Personal data leaves masked (联系电话 138****1234); the full value only through the audit-logged
reveal endpoint.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from yiwang.cases.models import Attachment, Case, CaseEvent, Category
from yiwang.core.pii import mask_name, mask_phone
from yiwang.grids.models import Division, Grid
from yiwang.people.models import Department, User


def _slug(slug_field: str = "code") -> serializers.SlugRelatedField[Any]:
    """A related object shown by its code (区划代码, 分类代码 …) rather than its database id."""
    return serializers.SlugRelatedField(slug_field=slug_field, read_only=True, allow_null=True)


class DivisionSerializer(serializers.ModelSerializer[Division]):
    parent: serializers.SlugRelatedField[Any] = _slug()  # type: ignore[assignment]

    class Meta:
        model = Division
        fields = ("id", "code", "name", "level", "kind", "parent")


class GridSerializer(serializers.ModelSerializer[Grid]):
    community: serializers.SlugRelatedField[Any] = _slug()
    bbox = serializers.SerializerMethodField()
    center = serializers.SerializerMethodField()

    class Meta:
        model = Grid
        fields = ("id", "code", "name", "community", "kind", "households", "population", "bbox", "center")

    def get_bbox(self, grid: Grid) -> list[float]:
        return [grid.min_lng, grid.min_lat, grid.max_lng, grid.max_lat]

    def get_center(self, grid: Grid) -> list[float]:
        return [grid.center_lng, grid.center_lat]


class DepartmentSerializer(serializers.ModelSerializer[Department]):
    division: serializers.SlugRelatedField[Any] = _slug()

    class Meta:
        model = Department
        fields = ("id", "code", "name", "short_name", "kind", "parent", "division", "phone", "is_active")


class UserSerializer(serializers.ModelSerializer[User]):
    roles = serializers.SerializerMethodField()
    phone = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ("id", "username", "display_name", "department", "roles", "phone", "is_active", "last_login")

    def get_roles(self, user: User) -> list[str]:
        return sorted({grant.role for grant in user.grants.all()})

    def get_phone(self, user: User) -> str:
        return mask_phone(user.phone) if user.phone else ""


class CategorySerializer(serializers.ModelSerializer[Category]):
    parent: serializers.SlugRelatedField[Any] = _slug()  # type: ignore[assignment]

    class Meta:
        model = Category
        fields = (
            "id",
            "code",
            "name",
            "kind",
            "parent",
            "demand_kind",
            "default_urgency",
            "accept_amount",
            "accept_unit",
            "resolve_amount",
            "resolve_unit",
            "is_public",
            "is_confidential",
            "is_active",
        )


class CaseListSerializer(serializers.ModelSerializer[Case]):
    """One queue row: enough to triage, nothing personal."""

    category: serializers.SlugRelatedField[Any] = _slug()
    category_name = serializers.CharField(source="category.name", read_only=True)
    grid: serializers.SlugRelatedField[Any] = _slug()
    lead_department_name = serializers.CharField(
        source="lead_department.name", read_only=True, default=None, allow_null=True
    )
    suspended = serializers.SerializerMethodField()
    clock_colour = serializers.SerializerMethodField()

    class Meta:
        model = Case
        fields: tuple[str, ...] = (
            "id",
            "number",
            "channel",
            "status",
            "suspended",
            "version",
            "category",
            "category_name",
            "urgency",
            "title",
            "address",
            "lng",
            "lat",
            "grid",
            "lead_department",
            "lead_department_name",
            "accept_due_at",
            "resolve_due_at",
            "clock_colour",
            "created_at",
            "updated_at",
        )

    def get_suspended(self, case: Case) -> bool:
        return case.suspended_at is not None

    @extend_schema_field(serializers.ChoiceField(choices=["green", "yellow", "red"], allow_null=True))
    def get_clock_colour(self, case: Case) -> str | None:
        colour = case.clock_colour()
        return str(colour) if colour is not None else None


class AssignmentSerializer(serializers.Serializer[Any]):
    department = serializers.IntegerField(source="department_id")
    department_name = serializers.CharField(source="department.name")
    role = serializers.CharField()
    round = serializers.IntegerField()
    assigned_at = serializers.DateTimeField()
    signed_at = serializers.DateTimeField(allow_null=True)
    active = serializers.BooleanField()


class CaseDetailSerializer(CaseListSerializer):
    community: serializers.SlugRelatedField[Any] = _slug()
    street: serializers.SlugRelatedField[Any] = _slug()
    merged_into: serializers.SlugRelatedField[Any] = _slug("number")
    reporter_name = serializers.SerializerMethodField()
    reporter_phone = serializers.SerializerMethodField()
    assignments = AssignmentSerializer(many=True, read_only=True)

    class Meta(CaseListSerializer.Meta):
        fields = (
            *CaseListSerializer.Meta.fields,
            "demand_kind",
            "description",
            "community",
            "street",
            "is_anonymous",
            "is_confidential",
            "reporter_name",
            "reporter_phone",
            "external_ref",
            "extension_amount",
            "extension_unit",
            "extension_count",
            "urge_count",
            "supervise_level",
            "return_count",
            "rework_count",
            "reopen_count",
            "overdue_count",
            "round",
            "result",
            "dispatched_at",
            "signed_at",
            "resolved_at",
            "closed_at",
            "called_back_at",
            "contacted",
            "solved",
            "satisfaction",
            "merged_into",
            "transfer_receipt",
            "assignments",
        )

    def get_reporter_name(self, case: Case) -> str:
        return "" if case.is_anonymous else mask_name(case.reporter_name)

    def get_reporter_phone(self, case: Case) -> str:
        return mask_phone(case.reporter_phone) if case.reporter_phone else ""


class CaseEventSerializer(serializers.ModelSerializer[CaseEvent]):
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    actor_name = serializers.SerializerMethodField()

    class Meta:
        model = CaseEvent
        fields = (
            "id",
            "kind",
            "kind_label",
            "at",
            "actor",
            "actor_name",
            "from_status",
            "to_status",
            "note",
            "data",
        )

    def get_actor_name(self, event: CaseEvent) -> str:
        if event.actor is None:
            return "系统"
        return event.actor.display_name or event.actor.username


class AttachmentSerializer(serializers.ModelSerializer[Attachment]):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = (
            "id",
            "kind",
            "original_name",
            "content_type",
            "size",
            "sha256",
            "uploaded_at",
            "download_url",
        )

    def get_download_url(self, attachment: Attachment) -> str:
        return f"/api/v1/attachments/{attachment.pk}/download/"


class RevealedValueSerializer(serializers.Serializer[Any]):
    field = serializers.CharField()
    value = serializers.CharField()
