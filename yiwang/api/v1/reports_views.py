"""Weekly and monthly Excel reports in the staff API: ask for one, poll its status, download it."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import FileResponse, Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from yiwang.analytics.models import Report, ReportKind, ReportStatus
from yiwang.analytics.reports import download_response, request_report
from yiwang.api.v1.permissions import actor_of
from yiwang.core.audit import client_ip


class ReportSerializer(serializers.ModelSerializer[Report]):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Report
        fields = ("id", "kind", "period_start", "period_end", "status", "error", "created_at", "finished_at",
                  "download_url")  # fmt: skip
        read_only_fields = fields

    def get_download_url(self, report: Report) -> str | None:
        if report.status != ReportStatus.DONE:
            return None
        request = self.context.get("request")
        path = f"/api/v1/reports/{report.pk}/download/"
        return request.build_absolute_uri(path) if request is not None else path


class ReportRequestSerializer(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=ReportKind.choices)
    day = serializers.DateField(help_text="任一天：周报取其所在周（周一至周日），月报取其所在自然月")


class ReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Report]):
    """Reports the user asked for (over their own scope) and, for district-wide users, the
    scheduler's weekly and monthly reports. Building happens in the background: poll ``status``."""

    queryset = Report.objects.none()
    serializer_class = ReportSerializer

    def get_queryset(self) -> QuerySet[Report]:
        return Report.objects.visible_to(self.request.user)

    @extend_schema(request=ReportRequestSerializer, responses={202: ReportSerializer})
    def create(self, request: Request) -> Response:
        data = ReportRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report = request_report(
            actor=actor_of(request), kind=data.validated_data["kind"], day=data.validated_data["day"]
        )
        return Response(
            ReportSerializer(report, context={"request": request}).data, status=status.HTTP_202_ACCEPTED
        )

    @extend_schema(responses={(200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): OpenApiTypes.BINARY, 404: None})  # fmt: skip
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: str | None = None) -> FileResponse:
        report = self.get_object()
        if report.status != ReportStatus.DONE:
            raise Http404
        return download_response(report, actor=request.user, ip=client_ip(request))
