"""Viewsets of the staff API. Every queryset starts from ``visible_to(request.user)``: what a user
cannot see does not exist for them (404), exactly as on the web pages."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from yiwang.api.v1 import inputs
from yiwang.api.v1.case_actions import install_case_actions
from yiwang.api.v1.pagination import CaseCursorPagination
from yiwang.api.v1.permissions import IsAdministrator, actor_of
from yiwang.api.v1.serializers import (
    AttachmentSerializer,
    CaseDetailSerializer,
    CaseEventSerializer,
    CaseListSerializer,
    CategorySerializer,
    DepartmentSerializer,
    DivisionSerializer,
    GridSerializer,
    RevealedValueSerializer,
    UserSerializer,
)
from yiwang.cases import actions as case_actions
from yiwang.cases.filters import CaseFilterSet
from yiwang.cases.models import Attachment, Case, CaseEvent, Category
from yiwang.core.audit import client_ip, reveal
from yiwang.grids.models import Division, Grid
from yiwang.people.models import Department, User

CASE_LIST_COLUMNS = (
    "id",
    "number",
    "channel",
    "status",
    "suspended_at",
    "version",
    "category__code",
    "category__name",
    "urgency",
    "title",
    "address",
    "lng",
    "lat",
    "grid__code",
    "lead_department__name",
    "accept_started_at",
    "accept_due_at",
    "accept_unit",
    "resolve_started_at",
    "resolve_due_at",
    "resolve_unit",
    "created_at",
    "updated_at",
)
BBOX_PARAMETER = OpenApiParameter(
    "bbox",
    OpenApiTypes.STR,
    description="min_lng,min_lat,max_lng,max_lat (WGS84): only grids that intersect this box",
)


def parse_bbox(raw: str) -> tuple[float, float, float, float]:
    try:
        min_lng, min_lat, max_lng, max_lat = (float(part) for part in raw.split(","))
    except ValueError:
        raise ValidationError(
            {"bbox": [_("bbox 应为 4 个逗号分隔的数: 最小经度,最小纬度,最大经度,最大纬度")]}
        ) from None
    if not (min_lng <= max_lng and min_lat <= max_lat):
        raise ValidationError({"bbox": [_("bbox 的最小值不能大于最大值")]})
    return min_lng, min_lat, max_lng, max_lat


class DivisionViewSet(viewsets.ReadOnlyModelViewSet[Division]):
    """Administrative divisions (区/街道/社区) the user may see."""

    serializer_class = DivisionSerializer
    filterset_fields = ("level", "parent")
    lookup_field = "code"

    def get_queryset(self) -> QuerySet[Division]:
        return Division.objects.visible_to(self.request.user).select_related("parent").order_by("code")


class GridViewSet(viewsets.ReadOnlyModelViewSet[Grid]):
    """Grids the user may see; ``geojson`` gives a FeatureCollection for the map."""

    serializer_class = GridSerializer
    filterset_fields = ("kind", "community")
    lookup_field = "code"

    def get_queryset(self) -> QuerySet[Grid]:
        queryset = Grid.objects.visible_to(self.request.user).select_related("community").order_by("code")
        raw = self.request.query_params.get("bbox")
        if raw:
            min_lng, min_lat, max_lng, max_lat = parse_bbox(raw)
            queryset = queryset.filter(
                max_lng__gte=min_lng, min_lng__lte=max_lng, max_lat__gte=min_lat, min_lat__lte=max_lat
            )
        return queryset

    @extend_schema(parameters=[BBOX_PARAMETER])
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(parameters=[BBOX_PARAMETER], responses={200: OpenApiTypes.OBJECT})
    @action(detail=False, methods=["get"], pagination_class=None)
    def geojson(self, request: Request) -> Response:
        """A GeoJSON FeatureCollection of the grids (boundaries in WGS84), for the map."""
        grids = self.filter_queryset(self.get_queryset())
        features = [
            {
                "type": "Feature",
                "id": grid.code,
                "geometry": grid.boundary,
                "properties": {"code": grid.code, "name": grid.name, "kind": grid.kind},
            }
            for grid in grids
        ]
        return Response({"type": "FeatureCollection", "features": features})


class DepartmentViewSet(viewsets.ReadOnlyModelViewSet[Department]):
    serializer_class = DepartmentSerializer
    filterset_fields = ("kind", "parent", "is_active")

    def get_queryset(self) -> QuerySet[Department]:
        return Department.objects.visible_to(self.request.user).select_related("division").order_by("code")


class UserViewSet(viewsets.ReadOnlyModelViewSet[User]):
    """Accounts: administrators only."""

    serializer_class = UserSerializer
    permission_classes = (IsAdministrator,)
    filterset_fields = ("department", "is_active")

    def get_queryset(self) -> QuerySet[User]:
        return User.objects.prefetch_related("grants").order_by("username")


class CategoryViewSet(viewsets.ReadOnlyModelViewSet[Category]):
    serializer_class = CategorySerializer
    filterset_fields = ("kind", "parent", "is_active", "demand_kind")
    lookup_field = "code"

    def get_queryset(self) -> QuerySet[Category]:
        return Category.objects.select_related("parent").order_by("sort_order", "code")


class CaseFilterBackend(filters.DjangoFilterBackend):
    def get_filterset_class(self, view: Any, queryset: Any = None) -> type[CaseFilterSet]:
        return CaseFilterSet


@install_case_actions
class CaseViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet[Case]):
    """Cases in the user's scope. Creating one registers it (``create_case``); every change is a
    POST to one of the action endpoints."""

    pagination_class = CaseCursorPagination
    filter_backends = (CaseFilterBackend,)
    parser_classes = (JSONParser, MultiPartParser, FormParser)

    def get_queryset(self) -> QuerySet[Case]:
        queryset = Case.objects.visible_to(self.request.user).select_related(
            "category", "grid", "lead_department"
        )
        if self.action == "list":
            # A queue row needs neither the long texts nor the reporter's encrypted phone (whose
            # decryption would cost a Fernet call per row).
            queryset = queryset.only(*CASE_LIST_COLUMNS)
        if self.action == "retrieve":
            queryset = queryset.select_related("community", "street", "merged_into").prefetch_related(
                "assignments__department"
            )
        return queryset

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        if self.action == "list":
            return CaseListSerializer
        if self.action == "create":
            return inputs.CreateCaseInput
        return CaseDetailSerializer

    @extend_schema(request=inputs.CreateCaseInput, responses={201: CaseDetailSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        payload = inputs.CreateCaseInput(data=request.data)
        payload.is_valid(raise_exception=True)
        case = case_actions.create_case(actor=actor_of(request), **payload.validated_data)
        return Response(CaseDetailSerializer(case).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=inputs.ReceiveFrom110Input, responses={201: OpenApiTypes.OBJECT})
    @action(detail=False, methods=["post"], url_path="receive-from-110")
    def receive_from_110(self, request: Request) -> Response:
        """Take over a matter handed over by 110; answers with the receipt (回执) for 110."""
        payload = inputs.ReceiveFrom110Input(data=request.data)
        payload.is_valid(raise_exception=True)
        receipt = case_actions.receive_from_110(actor=actor_of(request), **payload.validated_data)
        return Response(
            {
                "case_id": receipt.case_id,
                "case_number": receipt.case_number,
                "incident_number": receipt.incident_number,
                "received_at": receipt.received_at,
            },
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(responses=CaseEventSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=())
    def timeline(self, request: Request, pk: str | None = None) -> Response:
        """Every event of the case, oldest first."""
        case = self.get_object()
        events = CaseEvent.objects.filter(case=case).select_related("actor").order_by("at", "id")
        return Response(CaseEventSerializer(events, many=True).data)

    @extend_schema(responses=AttachmentSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=())
    def attachments(self, request: Request, pk: str | None = None) -> Response:
        """The case's files. New files come with the action they document: registration, a
        progress report or the result (``progress`` / ``resolve`` accept multipart uploads)."""
        case = self.get_object()
        return Response(AttachmentSerializer(case.attachments.order_by("uploaded_at", "id"), many=True).data)

    @extend_schema(request=inputs.RevealInput, responses=RevealedValueSerializer)
    @action(detail=True, methods=["post"])
    def reveal(self, request: Request, pk: str | None = None) -> Response:
        """The full reporter phone number, for users granted ``core.view_full_pii``; every attempt
        is written to the audit log with the reason given (403 without the grant)."""
        case = self.get_object()
        payload = inputs.RevealInput(data=request.data)
        payload.is_valid(raise_exception=True)
        field, reason = payload.validated_data["field"], payload.validated_data["reason"]
        # No transaction around this call: a refused attempt must stay in the audit log.
        value = reveal(case, field, actor=request.user, reason=reason, ip=client_ip(request._request))
        return Response({"field": field, "value": value})


class AttachmentViewSet(viewsets.GenericViewSet[Attachment]):
    """Download of case files, through the user's scope."""

    queryset = Attachment.objects.none()
    serializer_class = AttachmentSerializer

    def get_queryset(self) -> QuerySet[Attachment]:
        return Attachment.objects.visible_to(self.request.user)

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: str | None = None) -> FileResponse:
        attachment = self.get_object()
        response = FileResponse(
            attachment.file.open("rb"),
            as_attachment=True,
            filename=attachment.original_name or f"attachment-{attachment.pk}",
            content_type=attachment.content_type,
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response


__all__ = [
    "AttachmentViewSet",
    "CaseViewSet",
    "CategoryViewSet",
    "DepartmentViewSet",
    "DivisionViewSet",
    "GridViewSet",
    "UserViewSet",
]
