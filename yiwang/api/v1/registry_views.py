"""The grid base database (人·房·企·事·物) and party building in the staff API.

Reads only through ``visible_to(request.user)``: a row outside the user's scope is absent (404).
Rows leave through the registry presenters, so personal values are masked exactly as on the web
pages; the full value of one field comes only from the audit-logged ``reveal`` endpoint. Writes go
through ``registry.actions``; their :class:`RegistryError` becomes the API's error shape
(``{"code", "detail", "detail_en", "fields"}``) here, because the shared handler knows only
``CaseError``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from yiwang.api.v1.permissions import actor_of
from yiwang.core.audit import client_ip, reveal
from yiwang.core.scoping import get_object_or_404_in_scope
from yiwang.grids.models import Division, DivisionLevel, Grid
from yiwang.party.models import (
    Activity,
    ActivityStatus,
    Assignment,
    AssignmentRole,
    MemberKind,
    OrganizationKind,
    PartyMember,
    PartyOrganization,
    Volunteer,
)
from yiwang.party.queries import party_panel, volunteer_stats
from yiwang.registry import actions as registry_actions
from yiwang.registry.errors import RegistryError, RegistryForbidden, RegistryInputError, RegistryNotFound
from yiwang.registry.models import (
    Building,
    House,
    KeySite,
    KeySiteKind,
    Organisation,
    OrganisationKind,
    Registration,
    Resident,
    ResidentStatus,
    ResidentTag,
    RiskLevel,
    visible_tag_ids,
)
from yiwang.registry.presenters import (
    building_as_dict,
    house_as_dict,
    key_site_as_dict,
    organisation_as_dict,
    resident_as_dict,
)
from yiwang.registry.queries import find_resident_by_id_number, find_residents_by_phone, grid_counts
from yiwang.registry.scope import read_q

# --- errors -----------------------------------------------------------------------------------------

_REGISTRY_ERROR_STATUS: tuple[tuple[type[RegistryError], int], ...] = (
    (RegistryNotFound, status.HTTP_404_NOT_FOUND),
    (RegistryForbidden, status.HTTP_403_FORBIDDEN),
    (RegistryInputError, status.HTTP_400_BAD_REQUEST),
)


def registry_error_response(exc: RegistryError) -> Response:
    """The API's error shape for a registry error (same keys as for a ``CaseError``)."""
    code = next((c for cls, c in _REGISTRY_ERROR_STATUS if isinstance(exc, cls)), status.HTTP_400_BAD_REQUEST)
    body: dict[str, Any] = {"code": exc.code, "detail": exc.zh, "detail_en": exc.en}
    if exc.field:
        body["fields"] = {exc.field: [exc.zh]}
    return Response(body, status=code)


class RegistryErrorsMixin:
    """Turns a :class:`RegistryError` raised by an action or a query into its API answer."""

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, RegistryError):
            return registry_error_response(exc)
        return super().handle_exception(exc)  # type: ignore[misc]


# --- output shapes (documentation of the presenters' dicts) ------------------------------------------


class TagOut(serializers.Serializer[Any]):
    code = serializers.CharField()
    name = serializers.CharField()


class ResidentOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    id_number = serializers.CharField(help_text="脱敏 (370211********123X)")
    phone = serializers.CharField(help_text="脱敏 (138****1234), 无则为空")
    sex = serializers.CharField()
    sex_display = serializers.CharField()
    birth_date = serializers.DateField()
    registration = serializers.CharField()
    registration_display = serializers.CharField()
    status = serializers.CharField()
    grid = serializers.IntegerField()
    house = serializers.IntegerField(allow_null=True)
    household = serializers.IntegerField(allow_null=True)
    relation_to_head = serializers.CharField()
    tags = TagOut(many=True)
    is_demo = serializers.BooleanField()
    masked = serializers.BooleanField()


class BuildingOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    estate = serializers.CharField()
    address = serializers.CharField()
    grid = serializers.IntegerField()
    lng = serializers.FloatField(allow_null=True)
    lat = serializers.FloatField(allow_null=True)
    floors = serializers.IntegerField()


class HouseOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    building = serializers.IntegerField()
    building_code = serializers.CharField()
    unit = serializers.CharField()
    floor = serializers.IntegerField(allow_null=True)
    room = serializers.CharField()
    use = serializers.CharField()
    occupancy = serializers.CharField()
    area = serializers.CharField(allow_null=True, help_text="平方米 (十进制字符串)")


class OrganisationOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    kind_display = serializers.CharField()
    credit_code = serializers.CharField()
    grid = serializers.IntegerField()
    address = serializers.CharField()
    lng = serializers.FloatField(allow_null=True)
    lat = serializers.FloatField(allow_null=True)
    legal_representative = serializers.CharField()
    contact_name = serializers.CharField()
    contact_phone = serializers.CharField(help_text="脱敏")
    employees = serializers.IntegerField(allow_null=True)


class KeySiteOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    grid = serializers.IntegerField()
    organisation = serializers.IntegerField(allow_null=True)
    address = serializers.CharField()
    lng = serializers.FloatField(allow_null=True)
    lat = serializers.FloatField(allow_null=True)
    risk_level = serializers.CharField()
    manager_name = serializers.CharField()
    manager_phone = serializers.CharField(help_text="脱敏")


class ResidentMatchesOut(serializers.Serializer[Any]):
    count = serializers.IntegerField()
    results = ResidentOut(many=True)


class RevealedOut(serializers.Serializer[Any]):
    field = serializers.CharField()
    value = serializers.CharField()


# --- inputs ------------------------------------------------------------------------------------------


class RegisterResidentInput(serializers.Serializer[Any]):
    """Shapes only: the action validates the values (check digit, phone, choices) and names the field."""

    name = serializers.CharField(max_length=200)
    id_number = serializers.CharField(max_length=64, help_text="18 位公民身份号码")
    grid = serializers.CharField(max_length=32, help_text="网格编码 (15 位)")
    phone = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    registration = serializers.ChoiceField(
        choices=Registration.choices, required=False, allow_blank=True, default=""
    )
    house = serializers.IntegerField(required=False, allow_null=True, default=None, help_text="房屋 id")
    relation_to_head = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")


class ResidentRevealInput(serializers.Serializer[Any]):
    field = serializers.ChoiceField(choices=["id_number", "phone"])
    reason = serializers.CharField(max_length=200, help_text="查看理由 (写入审计日志)")


class ResidentLookupInput(serializers.Serializer[Any]):
    id_number = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if bool(attrs["id_number"]) == bool(attrs["phone"]):
            raise ValidationError(_("请填写身份证号码或联系电话之一"))
        return attrs


# --- filters -----------------------------------------------------------------------------------------


def _choices_help(choices: Any) -> str:
    return " / ".join(f"{c.value} ({c.label})" for c in choices)


class ResidentFilterSet(filters.FilterSet):
    grid = filters.CharFilter(field_name="grid__code", help_text="网格编码")
    registration = filters.ChoiceFilter(choices=Registration.choices)
    # Plain text, not an enum: the name "status" is taken by the case states in the schema.
    status = filters.CharFilter(field_name="status", help_text=_choices_help(ResidentStatus))
    tag = filters.CharFilter(method="filter_tag", help_text="重点人群标签代码 (仅限可见的标签)")

    class Meta:
        model = Resident
        fields = ("grid", "registration", "status", "tag")

    def filter_tag(self, queryset: QuerySet[Resident], name: str, value: str) -> QuerySet[Resident]:
        # Filtering by a tag the user may not see would tell them who carries it: treat it as empty.
        tagged = ResidentTag.objects.filter(
            tag__code=value, tag_id__in=sorted(visible_tag_ids(self.request.user))
        )
        return queryset.filter(pk__in=tagged.values("resident_id"))


class BuildingFilterSet(filters.FilterSet):
    grid = filters.CharFilter(field_name="grid__code", help_text="网格编码")
    code = filters.CharFilter(field_name="code")

    class Meta:
        model = Building
        fields = ("grid", "code")


class HouseFilterSet(filters.FilterSet):
    grid = filters.CharFilter(field_name="building__grid__code", help_text="网格编码")
    building = filters.NumberFilter(field_name="building_id")

    class Meta:
        model = House
        fields = ("grid", "building")


class OrganisationFilterSet(filters.FilterSet):
    grid = filters.CharFilter(field_name="grid__code", help_text="网格编码")
    kind = filters.ChoiceFilter(choices=OrganisationKind.choices)

    class Meta:
        model = Organisation
        fields = ("grid", "kind")


class KeySiteFilterSet(filters.FilterSet):
    grid = filters.CharFilter(field_name="grid__code", help_text="网格编码")
    kind = filters.ChoiceFilter(choices=KeySiteKind.choices)
    risk_level = filters.ChoiceFilter(choices=RiskLevel.choices)

    class Meta:
        model = KeySite
        fields = ("grid", "kind", "risk_level")


# --- registry viewsets -------------------------------------------------------------------------------


class PresentedViewSet(RegistryErrorsMixin, viewsets.GenericViewSet[Any]):
    """A read-only viewset whose rows are turned into dicts by a registry presenter."""

    def present(self, row: Any) -> dict[str, Any]:
        raise NotImplementedError

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response([self.present(row) for row in page or []])

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self.present(self.get_object()))


class ResidentViewSet(PresentedViewSet):
    """Residents (实有人口) in the user's scope, masked. Registering one calls ``register_resident``
    (administrators in their areas, grid workers in their grids)."""

    serializer_class = ResidentOut
    filterset_class = ResidentFilterSet
    queryset = Resident.objects.none()

    def get_queryset(self) -> QuerySet[Resident]:
        return Resident.objects.visible_to(self.request.user).prefetch_related("tags").order_by("pk")

    _tag_ids: frozenset[int] | None = None

    def present(self, row: Any) -> dict[str, Any]:
        if self._tag_ids is None:  # once per request, not once per row
            self._tag_ids = visible_tag_ids(self.request.user)
        return resident_as_dict(row, self.request.user, tag_ids=self._tag_ids)

    @extend_schema(request=RegisterResidentInput, responses={201: ResidentOut})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        payload = RegisterResidentInput(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        user = actor_of(request)
        grid = Grid.objects.visible_to(user).filter(code=data.pop("grid")).first()
        if grid is None:
            raise RegistryInputError("网格不存在", "no such grid", field="grid")
        house_id = data.pop("house")
        house = None
        if house_id is not None:
            house = House.objects.visible_to(user).select_related("building").filter(pk=house_id).first()
            if house is None:
                raise RegistryInputError("房屋不存在", "no such house", field="house")
        resident = registry_actions.register_resident(actor=user, grid=grid, house=house, **data)
        return Response(self.present(resident), status=status.HTTP_201_CREATED)

    @extend_schema(request=ResidentRevealInput, responses=RevealedOut)
    @action(detail=True, methods=["post"], pagination_class=None, filter_backends=())
    def reveal(self, request: Request, pk: str | None = None) -> Response:
        """The full ID number or phone number of one resident, for users granted
        ``core.view_full_pii``; every attempt is audit-logged with its reason (403 without the grant)."""
        resident = self.get_object()
        payload = ResidentRevealInput(data=request.data)
        payload.is_valid(raise_exception=True)
        field, reason = payload.validated_data["field"], payload.validated_data["reason"]
        # No transaction around this call: a refused attempt must stay in the audit log.
        value = reveal(resident, field, actor=request.user, reason=reason, ip=client_ip(request._request))
        return Response({"field": field, "value": value})

    @extend_schema(request=ResidentLookupInput, responses=ResidentMatchesOut)
    @action(detail=False, methods=["post"], pagination_class=None, filter_backends=())
    def lookup(self, request: Request) -> Response:
        """Exact match by ID number or phone number (through their keyed hashes: nothing is
        decrypted), within the user's scope; 404 when nobody matches. Sent in the body, never in
        a URL, so the number stays out of access logs."""
        payload = ResidentLookupInput(data=request.data)
        payload.is_valid(raise_exception=True)
        user = request.user
        if payload.validated_data["id_number"]:
            found = find_resident_by_id_number(payload.validated_data["id_number"], user)
            matches = [found] if found is not None else []
        else:
            matches = find_residents_by_phone(payload.validated_data["phone"], user)
        if not matches:
            raise Http404
        tag_ids = visible_tag_ids(user)
        rows = [resident_as_dict(r, user, tag_ids=tag_ids) for r in matches]
        return Response({"count": len(rows), "results": rows})


class BuildingViewSet(PresentedViewSet):
    serializer_class = BuildingOut
    filterset_class = BuildingFilterSet
    queryset = Building.objects.none()

    def get_queryset(self) -> QuerySet[Building]:
        return Building.objects.visible_to(self.request.user).select_related("estate").order_by("pk")

    def present(self, row: Any) -> dict[str, Any]:
        return building_as_dict(row)


class HouseViewSet(PresentedViewSet):
    serializer_class = HouseOut
    filterset_class = HouseFilterSet
    queryset = House.objects.none()

    def get_queryset(self) -> QuerySet[House]:
        return House.objects.visible_to(self.request.user).select_related("building").order_by("pk")

    def present(self, row: Any) -> dict[str, Any]:
        return house_as_dict(row)


class OrganisationViewSet(PresentedViewSet):
    serializer_class = OrganisationOut
    filterset_class = OrganisationFilterSet
    queryset = Organisation.objects.none()

    def get_queryset(self) -> QuerySet[Organisation]:
        return Organisation.objects.visible_to(self.request.user).order_by("pk")

    def present(self, row: Any) -> dict[str, Any]:
        return organisation_as_dict(row, self.request.user)


class KeySiteViewSet(PresentedViewSet):
    serializer_class = KeySiteOut
    filterset_class = KeySiteFilterSet
    queryset = KeySite.objects.none()

    def get_queryset(self) -> QuerySet[KeySite]:
        return KeySite.objects.visible_to(self.request.user).order_by("pk")

    def present(self, row: Any) -> dict[str, Any]:
        return key_site_as_dict(row, self.request.user)


# --- grid panel counts ---------------------------------------------------------------------------------


class VolunteerStatsOut(serializers.Serializer[Any]):
    volunteers = serializers.IntegerField()
    party_member_volunteers = serializers.IntegerField()
    activities = serializers.IntegerField()
    service_hours = serializers.FloatField()
    points_earned = serializers.IntegerField()
    points_spent = serializers.IntegerField()


class GridCountsOut(serializers.Serializer[Any]):
    grid = serializers.CharField()
    base = serializers.DictField(help_text="人·房·企·事·物 counts (registry.queries.grid_counts)")
    party = serializers.DictField(
        help_text="网格指导员, 联系户, 双报到, 流动哨兵 … (party.queries.party_panel)"
    )
    volunteers = VolunteerStatsOut()


class GridCountsView(APIView):
    """The counts of one grid for the map's grid panel: the base database, party building and
    volunteers (404 for a grid outside the user's scope)."""

    @extend_schema(responses=GridCountsOut, operation_id="registry_grid_counts_retrieve")
    def get(self, request: Request, grid_code: str) -> Response:
        # The registers' own read rule on top of the map scope: a grid worker sees the counts of
        # their own grids only (key-group counts of a small grid are personal information).
        grids = Grid.objects.visible_to(request.user).filter(read_q(request.user, ""))
        grid = get_object_or_404_in_scope(grids, code=grid_code)
        return Response(
            {
                "grid": grid.code,
                # The grid was fetched through the user's scope above, which is what these expect.
                "base": grid_counts(grid, request.user),
                "party": party_panel(grid),
                "volunteers": volunteer_stats(grid=grid),
            }
        )


# --- party building ------------------------------------------------------------------------------------


class PartyOrganizationSerializer(serializers.ModelSerializer[PartyOrganization]):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    community: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )
    members = serializers.IntegerField(source="member_count", read_only=True)

    class Meta:
        model = PartyOrganization
        fields = ("id", "name", "kind", "kind_display", "parent", "unit", "community", "members", "is_demo")


class PartyMemberSerializer(serializers.ModelSerializer[PartyMember]):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    organization_name = serializers.CharField(source="organization.name", read_only=True)
    phone = serializers.CharField(source="phone_masked", read_only=True, help_text="脱敏")
    community: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )

    class Meta:
        model = PartyMember
        fields = (
            "id",
            "name",
            "organization",
            "organization_name",
            "kind",
            "kind_display",
            "phone",
            "community",
            "reported_on",
            "is_demo",
        )


class PartyAssignmentSerializer(serializers.ModelSerializer[Assignment]):
    member_name = serializers.CharField(source="member.name", read_only=True)
    role_display = serializers.CharField(source="get_role_display", read_only=True)
    grid: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(slug_field="code", read_only=True)
    household_number = serializers.SerializerMethodField()

    class Meta:
        model = Assignment
        fields = (
            "id",
            "member",
            "member_name",
            "role",
            "role_display",
            "grid",
            "household",
            "household_number",
            "started_on",
            "ended_on",
        )

    def get_household_number(self, assignment: Assignment) -> str:
        return assignment.household.number if assignment.household is not None else ""


class VolunteerSerializer(serializers.ModelSerializer[Volunteer]):
    name = serializers.CharField(source="resident.name", read_only=True)
    phone = serializers.CharField(source="resident.phone_masked", read_only=True, help_text="脱敏")
    grid = serializers.CharField(source="resident.grid.code", read_only=True)
    is_party_member = serializers.SerializerMethodField()

    class Meta:
        model = Volunteer
        fields = (
            "id",
            "resident",
            "name",
            "phone",
            "grid",
            "is_party_member",
            "skills",
            "registered_on",
            "is_demo",
        )

    def get_is_party_member(self, volunteer: Volunteer) -> bool:
        return volunteer.member_id is not None


class ActivitySerializer(serializers.ModelSerializer[Activity]):
    community: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", read_only=True
    )
    grid: serializers.SlugRelatedField[Any] = serializers.SlugRelatedField(
        slug_field="code", read_only=True, allow_null=True
    )
    status = serializers.CharField(read_only=True, help_text=_choices_help(ActivityStatus))
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    signups = serializers.IntegerField(source="signup_count", read_only=True)

    class Meta:
        model = Activity
        fields = (
            "id",
            "title",
            "description",
            "community",
            "grid",
            "starts_at",
            "ends_at",
            "capacity",
            "points_per_hour",
            "status",
            "status_display",
            "signups",
            "is_demo",
        )


class PartyOrganizationFilterSet(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=OrganizationKind.choices)
    community = filters.CharFilter(field_name="community__code", help_text="社区区划代码")

    class Meta:
        model = PartyOrganization
        fields = ("kind", "parent", "community")


class PartyMemberFilterSet(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=MemberKind.choices)
    community = filters.CharFilter(field_name="community__code", help_text="报到社区区划代码")

    class Meta:
        model = PartyMember
        fields = ("kind", "organization", "community")


class AssignmentFilterSet(filters.FilterSet):
    role = filters.ChoiceFilter(choices=AssignmentRole.choices)
    grid = filters.CharFilter(field_name="grid__code", help_text="网格编码")
    active = filters.BooleanFilter(field_name="ended_on", lookup_expr="isnull", help_text="仅在岗 (未结束)")

    class Meta:
        model = Assignment
        fields = ("role", "grid", "member", "active")


class VolunteerFilterSet(filters.FilterSet):
    grid = filters.CharFilter(field_name="resident__grid__code", help_text="网格编码")

    class Meta:
        model = Volunteer
        fields = ("grid",)


class ActivityFilterSet(filters.FilterSet):
    status = filters.CharFilter(field_name="status", help_text=_choices_help(ActivityStatus))
    community = filters.CharFilter(field_name="community__code", help_text="社区区划代码")
    grid = filters.CharFilter(field_name="grid__code", help_text="网格编码")

    class Meta:
        model = Activity
        fields = ("status", "community", "grid")


class PartyOrganizationViewSet(viewsets.ReadOnlyModelViewSet[PartyOrganization]):
    """Party organisations (党组织) with their number of members."""

    serializer_class = PartyOrganizationSerializer
    filterset_class = PartyOrganizationFilterSet

    def get_queryset(self) -> QuerySet[PartyOrganization]:
        return (
            PartyOrganization.objects.visible_to(self.request.user)
            .select_related("community")
            .annotate(member_count=Count("members"))
            .order_by("name", "pk")
        )


class PartyMemberViewSet(viewsets.ReadOnlyModelViewSet[PartyMember]):
    """Party members (党员) in the user's scope; phone numbers masked."""

    serializer_class = PartyMemberSerializer
    filterset_class = PartyMemberFilterSet

    def get_queryset(self) -> QuerySet[PartyMember]:
        return (
            PartyMember.objects.visible_to(self.request.user)
            .select_related("organization", "community")
            .order_by("name", "pk")
        )


class AssignmentViewSet(viewsets.ReadOnlyModelViewSet[Assignment]):
    """Members' posts in grids: 网格指导员 of a grid, 联系户 of a household (in the user's grids)."""

    serializer_class = PartyAssignmentSerializer
    filterset_class = AssignmentFilterSet

    def get_queryset(self) -> QuerySet[Assignment]:
        # An assignment belongs to its grid: the registers' read scope of that grid.
        return (
            Assignment.objects.filter(read_q(self.request.user, "grid"))
            .select_related("member", "grid", "household")
            .order_by("grid__code", "role", "pk")
        )


STATS_PARAMETERS = [
    OpenApiParameter("community", OpenApiTypes.STR, description="社区区划代码 (12 位)"),
    OpenApiParameter("grid", OpenApiTypes.STR, description="网格编码 (15 位)"),
]


class VolunteerViewSet(viewsets.ReadOnlyModelViewSet[Volunteer]):
    """Registered volunteers (residents of the user's grids); ``stats`` sums hours and points."""

    serializer_class = VolunteerSerializer
    filterset_class = VolunteerFilterSet

    def get_queryset(self) -> QuerySet[Volunteer]:
        return (
            Volunteer.objects.visible_to(self.request.user)
            .select_related("resident", "resident__grid")
            .order_by("pk")
        )

    @extend_schema(parameters=STATS_PARAMETERS, responses=VolunteerStatsOut())
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=())
    def stats(self, request: Request) -> Response:
        """Volunteers, activities, service hours and points of one community or one grid (either
        ``community`` or ``grid``; 404 outside the user's scope)."""
        community_code = request.query_params.get("community", "")
        grid_code = request.query_params.get("grid", "")
        if bool(community_code) == bool(grid_code):
            raise ValidationError({"community": [_("请指定社区 (community) 或网格 (grid) 之一")]})
        if grid_code:
            grid = get_object_or_404_in_scope(Grid.objects.visible_to(request.user), code=grid_code)
            return Response(volunteer_stats(grid=grid))
        community = get_object_or_404_in_scope(
            Division.objects.visible_to(request.user).filter(level=DivisionLevel.COMMUNITY),
            code=community_code,
        )
        return Response(volunteer_stats(community=community))


class ActivityViewSet(viewsets.ReadOnlyModelViewSet[Activity]):
    """Volunteer activities published in the user's communities or grids, with their sign-ups."""

    serializer_class = ActivitySerializer
    filterset_class = ActivityFilterSet

    def get_queryset(self) -> QuerySet[Activity]:
        return (
            Activity.objects.visible_to(self.request.user)
            .select_related("community", "grid")
            .annotate(signup_count=Count("signups"))
            .order_by("-starts_at", "pk")
        )


__all__ = [
    "ActivityViewSet",
    "AssignmentViewSet",
    "BuildingViewSet",
    "GridCountsView",
    "HouseViewSet",
    "KeySiteViewSet",
    "OrganisationViewSet",
    "PartyMemberViewSet",
    "PartyOrganizationViewSet",
    "ResidentViewSet",
    "VolunteerViewSet",
    "registry_error_response",
]
