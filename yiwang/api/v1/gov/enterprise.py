"""政企直通车 in the staff API, mounted at /api/v1/enterprise/.

* ``demands/``: the demands the caller may see (``visible_to``; 404 outside), POST files one
  (enterprise users for their own enterprise; counsellors and bureau staff with ``enterprise``);
* ``demands/{id}/<step>/``: one POST per step (route, accept, decline, visit, match, conclude,
  callback, withdraw), each calling ``governance.enterprise.actions``; errors are ``CaseError``
  subclasses, mapped to 400/403/404/409 by the shared handler;
* ``enterprises/``: the enterprises the caller may see; POST registers one, ``{id}/counsellor/`` and
  ``{id}/members/`` name its counsellor and link its users (bureau staff);
* ``institutions/``: the active financial institutions; ``stats/``: the finance bureau's figures.

Amounts travel as strings (or numbers) and are parsed by the actions, which say exactly what is
wrong (negative, zero, more than two decimals, above the ceiling).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.urls import URLPattern, URLResolver, path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.views import APIView

from yiwang.api.v1.permissions import actor_of
from yiwang.cases.choices import Satisfaction
from yiwang.governance.enterprise import actions, workflow
from yiwang.governance.enterprise.errors import EnterpriseInputError
from yiwang.governance.enterprise.models import (
    Collateral,
    Demand,
    DemandKind,
    Enterprise,
    FinancialInstitution,
    Industry,
    VisitMode,
)
from yiwang.governance.enterprise.stats import demand_stats
from yiwang.grids.models import Grid
from yiwang.people.models import User

# --- output ---------------------------------------------------------------------------------------


class EnterpriseSerializer(serializers.ModelSerializer[Enterprise]):
    name = serializers.CharField(source="organisation.name", read_only=True)
    credit_code = serializers.CharField(source="organisation.credit_code", read_only=True)
    street = serializers.CharField(source="street.name", read_only=True)
    counsellor = serializers.CharField(source="counsellor.display_name", read_only=True, default="")

    class Meta:
        model = Enterprise
        fields = ["id", "name", "credit_code", "industry", "street", "counsellor"]


class InstitutionSerializer(serializers.ModelSerializer[FinancialInstitution]):
    name = serializers.CharField(source="department.name", read_only=True)

    class Meta:
        model = FinancialInstitution
        fields = ["id", "department", "name", "kind", "first_response_days"]


class DemandSerializer(serializers.ModelSerializer[Demand]):
    case_number = serializers.CharField(source="case.number", read_only=True)
    enterprise_name = serializers.CharField(source="enterprise.organisation.name", read_only=True)

    class Meta:
        model = Demand
        fields = [
            "id",
            "case",
            "case_number",
            "enterprise",
            "enterprise_name",
            "kind",
            "status",
            "purpose",
            "amount_requested",
            "term_months",
            "collateral",
            "collateral_note",
            "department",
            "institution",
            "filed_at",
            "routed_at",
            "response_due_at",
            "first_response_at",
            "concluded_at",
            "amount_granted",
            "outcome_note",
            "satisfaction",
            "version",
        ]
        read_only_fields = fields


class DemandDetailSerializer(DemandSerializer):
    visits = serializers.SerializerMethodField()
    matchings = serializers.SerializerMethodField()
    events = serializers.SerializerMethodField()
    allowed_actions = serializers.SerializerMethodField()

    class Meta(DemandSerializer.Meta):
        fields = [*DemandSerializer.Meta.fields, "visits", "matchings", "events", "allowed_actions"]
        read_only_fields = fields

    def get_visits(self, demand: Demand) -> list[dict[str, Any]]:
        return [
            {"id": v.pk, "visitor": v.visitor_id, "mode": v.mode, "visited_at": v.visited_at, "note": v.note}
            for v in demand.visits.all()
        ]

    def get_matchings(self, demand: Demand) -> list[dict[str, Any]]:
        return [
            {
                "id": m.pk,
                "institution": m.institution_id,
                "product": m.product,
                "proposed_amount": str(m.proposed_amount),
                "matched_at": m.matched_at,
                "note": m.note,
            }
            for m in demand.matchings.all()
        ]

    def get_events(self, demand: Demand) -> list[dict[str, Any]]:
        return [
            {
                "kind": e.kind,
                "at": e.at,
                "actor": e.actor_id,
                "from": e.from_status,
                "to": e.to_status,
                "note": e.note,
            }
            for e in demand.events.all()
        ]

    def get_allowed_actions(self, demand: Demand) -> list[str]:
        request = self.context.get("request")
        user = getattr(request, "user", None)
        return [t.name for t in workflow.allowed(demand.status, actions.actor_roles(user))]


# --- input ----------------------------------------------------------------------------------------


class FileInput(serializers.Serializer[Any]):
    enterprise = serializers.IntegerField(required=False, help_text="企业 id（企业用户可省略）")
    kind = serializers.ChoiceField(choices=DemandKind.choices)
    description = serializers.CharField(max_length=4000)
    purpose = serializers.CharField(required=False, allow_blank=True, max_length=500)
    amount_requested = serializers.CharField(required=False, allow_blank=True, max_length=32, help_text="元")
    term_months = serializers.CharField(required=False, allow_blank=True, max_length=8)
    collateral = serializers.ChoiceField(choices=Collateral.choices, required=False, allow_blank=True)
    collateral_note = serializers.CharField(required=False, allow_blank=True, max_length=500)


class NoteInput(serializers.Serializer[Any]):
    note = serializers.CharField(required=False, allow_blank=True, max_length=1000)


class RouteInput(NoteInput):
    department = serializers.IntegerField(help_text="承办单位 id（金融机构对应的单位）")


class ReasonInput(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=1000)


class VisitInput(serializers.Serializer[Any]):
    note = serializers.CharField(max_length=1000)
    mode = serializers.ChoiceField(choices=VisitMode.choices, required=False, default=VisitMode.ON_SITE)
    visited_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class MatchInput(NoteInput):
    institution = serializers.IntegerField()
    product = serializers.CharField(max_length=100)
    proposed_amount = serializers.CharField(max_length=32, help_text="元")


class ConcludeInput(NoteInput):
    amount_granted = serializers.CharField(max_length=32, help_text="元；未获批填 0 并说明原因")


class CallbackInput(NoteInput):
    satisfaction = serializers.ChoiceField(choices=Satisfaction.choices)
    solved = serializers.BooleanField(required=False, default=True)


@dataclass(frozen=True)
class StepSpec:
    name: str
    function: Callable[..., Any]
    input: type[serializers.Serializer[Any]]
    summary: str


STEPS: tuple[StepSpec, ...] = (
    StepSpec("route", actions.route_demand, RouteInput, "派发"),
    StepSpec("accept", actions.accept_demand, NoteInput, "受理"),
    StepSpec("decline", actions.decline_demand, ReasonInput, "退回"),
    StepSpec("visit", actions.record_visit, VisitInput, "记录走访"),
    StepSpec("match", actions.record_matching, MatchInput, "记录对接"),
    StepSpec("conclude", actions.conclude_demand, ConcludeInput, "办结"),
    StepSpec("callback", actions.record_demand_callback, CallbackInput, "回访评价"),
    StepSpec("withdraw", actions.withdraw_demand, ReasonInput, "撤销"),
)


def _step(spec: StepSpec) -> Callable[..., Response]:
    def handler(self: DemandViewSet, request: Request, pk: str | None = None) -> Response:
        demand = self.get_object()
        payload = spec.input(data=request.data)
        payload.is_valid(raise_exception=True)
        spec.function(demand.pk, actor=actor_of(request), **payload.validated_data)
        fresh = self.get_queryset().get(pk=demand.pk)
        return Response(DemandDetailSerializer(fresh, context=self.get_serializer_context()).data)

    handler.__name__ = spec.name
    handler.__doc__ = f"{spec.summary}: calls governance.enterprise.actions.{spec.function.__name__}."
    decorated = extend_schema(
        summary=spec.summary,
        request=spec.input,
        responses={status.HTTP_200_OK: DemandDetailSerializer},
        operation_id=f"enterprise_demands_{spec.name}",
    )(handler)
    return action(detail=True, methods=["post"], url_path=spec.name)(decorated)


# --- views ----------------------------------------------------------------------------------------


class DemandViewSet(viewsets.ReadOnlyModelViewSet[Demand]):
    """Enterprise demands the caller may see; POST files one."""

    serializer_class = DemandSerializer
    filterset_fields = ["status", "kind", "enterprise"]

    def get_queryset(self) -> QuerySet[Demand]:
        qs: QuerySet[Demand] = actions.visible_demands(self.request.user).prefetch_related(
            "visits", "matchings", "events"
        )
        return qs.order_by("-filed_at", "-pk")

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Demand]]:
        return DemandDetailSerializer if self.action != "list" else DemandSerializer

    @extend_schema(request=FileInput, responses={status.HTTP_201_CREATED: DemandDetailSerializer})
    def create(self, request: Request) -> Response:
        payload = FileInput(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        demand = actions.file_demand(
            actor=actor_of(request), enterprise_id=data.pop("enterprise", None), **data
        )
        fresh = self.get_queryset().get(pk=demand.pk)
        return Response(
            DemandDetailSerializer(fresh, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )


for _spec in STEPS:
    setattr(DemandViewSet, _spec.name, _step(_spec))


class RegisterInput(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=200)
    credit_code = serializers.CharField(max_length=32, help_text="统一社会信用代码（GB 32100，18 位）")
    grid = serializers.IntegerField(help_text="所在网格 id")
    industry = serializers.ChoiceField(choices=Industry.choices)
    address = serializers.CharField(required=False, allow_blank=True, max_length=200)
    lng = serializers.FloatField(required=False, allow_null=True, default=None)
    lat = serializers.FloatField(required=False, allow_null=True, default=None)
    contact_name = serializers.CharField(required=False, allow_blank=True, max_length=50)
    contact_phone = serializers.CharField(required=False, allow_blank=True, max_length=20)
    legal_representative = serializers.CharField(required=False, allow_blank=True, max_length=50)
    counsellor = serializers.IntegerField(required=False, allow_null=True, default=None)


class CounsellorInput(serializers.Serializer[Any]):
    counsellor = serializers.IntegerField(allow_null=True, help_text="金融辅导员的用户 id；null 取消")


class MemberInput(serializers.Serializer[Any]):
    user = serializers.IntegerField(help_text="企业用户（角色 enterprise）的用户 id")


def _user(pk: int | None, field: str) -> User | None:
    if pk is None:
        return None
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None:
        raise EnterpriseInputError(f"用户不存在（{pk}）", f"unknown user {pk}", field=field)
    return user


class EnterpriseViewSet(viewsets.ReadOnlyModelViewSet[Enterprise]):
    """Enterprises the caller may see; bureau staff register them and name their counsellor."""

    serializer_class = EnterpriseSerializer

    def get_queryset(self) -> QuerySet[Enterprise]:
        return Enterprise.objects.visible_to(self.request.user).select_related(
            "organisation", "street", "counsellor"
        )

    @extend_schema(request=RegisterInput, responses={status.HTTP_201_CREATED: EnterpriseSerializer})
    def create(self, request: Request) -> Response:
        payload = RegisterInput(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        grid = Grid.objects.filter(pk=data.pop("grid")).first()
        if grid is None:
            raise EnterpriseInputError("网格不存在", "unknown grid", field="grid")
        data["counsellor"] = _user(data.pop("counsellor"), "counsellor")
        enterprise = actions.register_enterprise(actor=actor_of(request), grid=grid, **data)
        return Response(EnterpriseSerializer(enterprise).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CounsellorInput, responses={status.HTTP_200_OK: EnterpriseSerializer})
    @action(detail=True, methods=["post"], url_path="counsellor")
    def counsellor(self, request: Request, pk: str | None = None) -> Response:
        """指定金融辅导员: calls governance.enterprise.actions.assign_counsellor."""
        enterprise = self.get_object()
        payload = CounsellorInput(data=request.data)
        payload.is_valid(raise_exception=True)
        counsellor = _user(payload.validated_data["counsellor"], "counsellor")
        updated = actions.assign_counsellor(enterprise.pk, counsellor, actor=actor_of(request))
        return Response(EnterpriseSerializer(updated).data)

    @extend_schema(request=MemberInput, responses={status.HTTP_200_OK: EnterpriseSerializer})
    @action(detail=True, methods=["post"], url_path="members")
    def members(self, request: Request, pk: str | None = None) -> Response:
        """关联企业用户: calls governance.enterprise.actions.link_enterprise_user."""
        enterprise = self.get_object()
        payload = MemberInput(data=request.data)
        payload.is_valid(raise_exception=True)
        user = _user(payload.validated_data["user"], "user")
        if user is None:  # the input requires an id; this keeps the type narrow
            raise EnterpriseInputError("请指定用户", "the user is required", field="user")
        actions.link_enterprise_user(enterprise.pk, user, actor=actor_of(request))
        return Response(EnterpriseSerializer(self.get_queryset().get(pk=enterprise.pk)).data)


class InstitutionViewSet(viewsets.ReadOnlyModelViewSet[FinancialInstitution]):
    """The active financial institutions (every signed-in user may list them, to file or route)."""

    serializer_class = InstitutionSerializer
    queryset = FinancialInstitution.objects.filter(is_active=True).select_related("department")


class StatsView(APIView):
    """The finance bureau's figures over the demands the caller may see."""

    @extend_schema(
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATE, required=False),
            OpenApiParameter("end", OpenApiTypes.DATE, required=False),
        ],
        responses={status.HTTP_200_OK: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request) -> Response:
        dates = serializers.DateField(required=False, allow_null=True)
        start = dates.run_validation(request.query_params.get("start") or None)
        end = dates.run_validation(request.query_params.get("end") or None)
        user: User = actor_of(request)
        return Response(demand_stats(user, start=start, end=end).as_dict())


router = SimpleRouter()
router.register("demands", DemandViewSet, basename="enterprise-demand")
router.register("enterprises", EnterpriseViewSet, basename="enterprise-enterprise")
router.register("institutions", InstitutionViewSet, basename="enterprise-institution")

urlpatterns: list[URLPattern | URLResolver] = [
    path("stats/", StatsView.as_view(), name="enterprise-stats"),
    *router.urls,
]
