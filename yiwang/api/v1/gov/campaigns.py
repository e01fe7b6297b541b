"""专项治理 (special campaigns, issue 9) in the staff API, mounted at ``/api/v1/campaigns/``.

Reads only through ``visible_to(request.user)`` (outside scope: 404). Every write is one POST per
action of ``governance.campaigns.actions``; their errors subclass ``CaseError`` and leave through
the shared handler (400 bad input, 403 role, 404 scope, 409 state), bilingual.

    GET  /campaigns/                       campaigns with their progress summary (?status=)
    POST /campaigns/                       create (draft)
    GET  /campaigns/fields/                the fields of work
    GET  /campaigns/{id}/                  one campaign with its progress by street and community
    POST /campaigns/{id}/start/ | close/ | cancel/
    GET  /campaigns/{id}/targets/          the targets the user may see
    GET  /campaigns/{id}/inspections/      visits;   POST: record a visit (with findings)
    GET  /campaigns/{id}/findings/         findings; POST: report a finding (registers a case)
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import URLPattern, URLResolver, path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from yiwang.api.v1.pagination import PagePagination
from yiwang.api.v1.permissions import actor_of
from yiwang.core.scoping import get_object_or_404_in_scope
from yiwang.governance.campaigns import actions
from yiwang.governance.campaigns.actions import FindingInput
from yiwang.governance.campaigns.models import (
    Campaign,
    CampaignField,
    CampaignFinding,
    CampaignInspection,
    CampaignStatus,
    CampaignTarget,
    InspectionOutcome,
)
from yiwang.governance.campaigns.progress import campaign_progress

# --- output shapes ------------------------------------------------------------------------------------


class CampaignFieldOut(serializers.ModelSerializer[CampaignField]):
    category: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )

    class Meta:
        model = CampaignField
        fields = ("id", "code", "name", "description", "category", "target_kind")


class CampaignOut(serializers.ModelSerializer[Campaign]):
    field: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(slug_field="code", read_only=True)
    division: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    division_name = serializers.CharField(source="division.name", read_only=True)
    status_display = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = Campaign
        fields = (
            "id", "title", "field", "description", "division", "division_name", "starts_on", "ends_on",
            "target_kind", "target_filter", "coverage_goal", "fix_goal", "status", "status_display",
            "created_at", "started_at", "closed_at",
        )  # fmt: skip


class CampaignProgressOut(CampaignOut):
    """Documentation of the answers: the campaign plus its progress (over the targets the user sees)."""

    progress = serializers.DictField(
        help_text="coverage_goal, fix_goal, coverage_met, fix_met, goal_met, total {targets, covered, "
        "coverage_pct, found, fixed, open, overdue, void, fix_pct}; detail: by_street, by_community"
    )

    class Meta:
        model = Campaign
        fields: tuple[str, ...] = (*CampaignOut.Meta.fields, "progress")


class CampaignTargetOut(serializers.ModelSerializer[CampaignTarget]):
    class Meta:
        model = CampaignTarget
        fields = (
            "id", "kind", "label", "address", "lng", "lat", "grid", "community", "street", "covered_at",
            "key_site", "building", "organisation",
        )  # fmt: skip


class CampaignInspectionOut(serializers.ModelSerializer[CampaignInspection]):
    class Meta:
        model = CampaignInspection
        fields = ("id", "target", "outcome", "note", "inspected_at", "inspected_by")


class CampaignFindingOut(serializers.ModelSerializer[CampaignFinding]):
    case_number = serializers.CharField(source="case.number", read_only=True)
    case_status = serializers.CharField(source="case.status", read_only=True)

    class Meta:
        model = CampaignFinding
        fields = ("id", "target", "inspection", "case", "case_number", "case_status", "found_at", "found_by")


# --- inputs -------------------------------------------------------------------------------------------


class CampaignCreateIn(serializers.Serializer[Any]):
    field = serializers.CharField(help_text="领域代码，如 gas")
    title = serializers.CharField(max_length=100)
    division = serializers.IntegerField(help_text="区划 id（区、街道或社区）")
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    target_kind = serializers.CharField(required=False, allow_blank=True, default="")
    target_filter = serializers.CharField(required=False, allow_blank=True, default="")
    coverage_goal = serializers.IntegerField(required=False, default=100)
    fix_goal = serializers.IntegerField(required=False, default=95)
    description = serializers.CharField(required=False, allow_blank=True, default="")


class CampaignNoteIn(serializers.Serializer[Any]):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class CampaignReasonIn(serializers.Serializer[Any]):
    reason = serializers.CharField()


class CampaignFindingIn(serializers.Serializer[Any]):
    description = serializers.CharField()
    title = serializers.CharField(required=False, allow_blank=True, default="")
    category = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="为空：领域默认分类"
    )
    urgency = serializers.CharField(required=False, allow_blank=True, default="")


class CampaignInspectionIn(serializers.Serializer[Any]):
    target = serializers.IntegerField()
    outcome = serializers.ChoiceField(choices=InspectionOutcome.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    findings = CampaignFindingIn(many=True, required=False, default=list)


class CampaignReportIn(CampaignFindingIn):
    target = serializers.IntegerField()
    at = serializers.DateTimeField(required=False, allow_null=True, default=None)


def _finding(data: dict[str, Any]) -> FindingInput:
    return FindingInput(
        description=data["description"],
        title=data.get("title", ""),
        category=data.get("category") or None,
        urgency=data.get("urgency") or None,
    )


def _valid(serializer_class: type[serializers.Serializer[Any]], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


# --- views --------------------------------------------------------------------------------------------


class FieldListView(APIView):
    @extend_schema(responses={200: CampaignFieldOut(many=True)}, summary="治理领域")
    def get(self, request: Request) -> Response:
        return Response(CampaignFieldOut(CampaignField.objects.filter(is_active=True), many=True).data)


class CampaignViewSet(viewsets.ReadOnlyModelViewSet[Campaign]):
    """Campaigns in the user's scope, with their progress over the targets the user sees."""

    serializer_class = CampaignOut

    def get_queryset(self) -> QuerySet[Campaign]:
        rows = Campaign.objects.visible_to(self.request.user).select_related("field", "division")
        state = self.request.query_params.get("status", "")
        if state in CampaignStatus.values:
            rows = rows.filter(status=state)
        return rows

    def _page(self, rows: QuerySet[Any], out: type[serializers.ModelSerializer[Any]]) -> Response:
        paginator = PagePagination()
        page = paginator.paginate_queryset(rows, self.request, view=self)
        return paginator.get_paginated_response(out(page, many=True).data)

    def _out(self, campaign: Campaign, *, detail: bool = False) -> dict[str, Any]:
        progress = campaign_progress(campaign, user=self.request.user)
        body = dict(CampaignOut(campaign).data)
        data = progress.as_dict()
        if not detail:
            data = {k: v for k, v in data.items() if k not in ("by_street", "by_community")}
        body["progress"] = data
        return body

    @extend_schema(responses={200: CampaignProgressOut(many=True)})
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        rows = page if page is not None else list(self.get_queryset())
        body = [self._out(c) for c in rows]
        return self.get_paginated_response(body) if page is not None else Response(body)

    @extend_schema(responses={200: CampaignProgressOut})
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self._out(self.get_object(), detail=True))

    @extend_schema(
        request=CampaignCreateIn, responses={201: CampaignProgressOut}, summary="创建专项行动（草稿）"
    )
    def create(self, request: Request) -> Response:
        data = _valid(CampaignCreateIn, request)
        campaign = actions.create_campaign(actor=actor_of(request), **data)
        return Response(self._out(campaign, detail=True), status=status.HTTP_201_CREATED)

    def _transition(self, request: Request, pk: str, name: str) -> Response:
        campaign = get_object_or_404_in_scope(self.get_queryset(), pk=pk)
        actor = actor_of(request)
        if name == "cancel":
            reason = _valid(CampaignReasonIn, request)["reason"]
            actions.cancel_campaign(actor=actor, campaign=campaign, reason=reason)
        else:
            note = _valid(CampaignNoteIn, request)["note"]
            run = actions.start_campaign if name == "start" else actions.close_campaign
            run(actor=actor, campaign=campaign, note=note)
        campaign.refresh_from_db()
        return Response(self._out(campaign, detail=True))

    @extend_schema(
        request=CampaignNoteIn, responses={200: CampaignProgressOut}, summary="启动（冻结治理对象）"
    )
    @action(detail=True, methods=["post"])
    def start(self, request: Request, pk: str) -> Response:
        return self._transition(request, pk, "start")

    @extend_schema(request=CampaignNoteIn, responses={200: CampaignProgressOut}, summary="结束")
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str) -> Response:
        return self._transition(request, pk, "close")

    @extend_schema(request=CampaignReasonIn, responses={200: CampaignProgressOut}, summary="取消")
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        return self._transition(request, pk, "cancel")

    @extend_schema(responses={200: CampaignTargetOut(many=True)}, summary="治理对象")
    @action(detail=True, methods=["get"])
    def targets(self, request: Request, pk: str) -> Response:
        campaign = self.get_object()
        rows = CampaignTarget.objects.visible_to(request.user).filter(campaign=campaign)
        return self._page(rows, CampaignTargetOut)

    @extend_schema(methods=["GET"], responses={200: CampaignInspectionOut(many=True)}, summary="走访记录")
    @extend_schema(
        methods=["POST"],
        request=CampaignInspectionIn,
        responses={201: CampaignInspectionOut},
        summary="记录走访",
    )
    @action(detail=True, methods=["get", "post"])
    def inspections(self, request: Request, pk: str) -> Response:
        campaign = self.get_object()
        if request.method == "POST":
            data = _valid(CampaignInspectionIn, request)
            inspection = actions.record_inspection(
                actor=actor_of(request),
                campaign=campaign,
                target=data["target"],
                outcome=data["outcome"],
                note=data["note"],
                findings=[_finding(f) for f in data["findings"]],
                at=data["at"],
            )
            return Response(CampaignInspectionOut(inspection).data, status=status.HTTP_201_CREATED)
        rows = CampaignInspection.objects.visible_to(request.user).filter(campaign=campaign)
        return self._page(rows, CampaignInspectionOut)

    @extend_schema(methods=["GET"], responses={200: CampaignFindingOut(many=True)}, summary="隐患（案件）")
    @extend_schema(
        methods=["POST"], request=CampaignReportIn, responses={201: CampaignFindingOut}, summary="上报隐患"
    )
    @action(detail=True, methods=["get", "post"])
    def findings(self, request: Request, pk: str) -> Response:
        campaign = self.get_object()
        if request.method == "POST":
            data = _valid(CampaignReportIn, request)
            spec = _finding(data)
            finding = actions.report_finding(
                actor=actor_of(request),
                campaign=campaign,
                target=data["target"],
                description=spec.description,
                title=spec.title,
                category=spec.category,
                urgency=spec.urgency,
                at=data["at"],
            )
            return Response(CampaignFindingOut(finding).data, status=status.HTTP_201_CREATED)
        rows = (
            CampaignFinding.objects.visible_to(request.user).filter(campaign=campaign).select_related("case")
        )
        return self._page(rows, CampaignFindingOut)


router = SimpleRouter()
router.register("", CampaignViewSet, basename="campaign")

urlpatterns: list[URLPattern | URLResolver] = [
    path("fields/", FieldListView.as_view(), name="campaign-fields"),
    *router.urls,
]
