"""村民议事 in the staff API (mounted at /api/v1/deliberation/).

Reads only through ``visible_to(request.user)`` (outside scope: 404). Writes go through
``governance.deliberation.actions``; their errors subclass the case errors, so the shared handler
answers 400 / 403 / 404 / 409 with ``{"code", "detail", "detail_en", "fields"}``. Attendees' names
are visible to staff in scope (as on the web page); the public notice pages are on the web side.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import URLPattern, URLResolver, path
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action, api_view
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from yiwang.api.v1.permissions import actor_of
from yiwang.governance.deliberation import actions, queries, workflow
from yiwang.governance.deliberation.models import (
    Attendance,
    Meeting,
    MeetingKind,
    Topic,
    TopicEvent,
    TopicOrigin,
    TopicStage,
    VoteChoice,
)

# --- output ------------------------------------------------------------------------------------------


def attendance_as_dict(a: Attendance) -> dict[str, Any]:
    vote = getattr(a, "vote", None)
    return {
        "id": a.pk,
        "name": a.name,
        "title": a.title,
        "resident": a.resident_id,
        "is_official": a.is_official,
        "is_party_member": a.is_party_member,
        "is_representative": a.is_representative,
        "vote": vote.choice if vote is not None else None,
    }


def meeting_as_dict(m: Meeting, *, attendance: bool = False) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": m.pk,
        "topic": m.topic_id,
        "kind": m.kind,
        "kind_display": m.get_kind_display(),
        "status": m.status,
        "held_at": m.held_at,
        "venue": m.venue_id,
        "eligible": m.eligible,
        "quorum": actions.quorum_text(m),
        "pass_rule": actions.pass_text(m),
        "present": m.present,
        "votes_for": m.votes_for,
        "votes_against": m.votes_against,
        "votes_abstain": m.votes_abstain,
        "quorum_met": m.quorum_met,
        "passed": m.passed,
        "minutes": m.minutes,
        "closed_at": m.closed_at,
    }
    if attendance:
        row["attendance"] = [attendance_as_dict(a) for a in m.attendances.select_related("vote")]
    return row


def event_as_dict(e: TopicEvent) -> dict[str, Any]:
    return {
        "kind": e.kind,
        "kind_display": e.get_kind_display(),
        "from_stage": e.from_stage,
        "to_stage": e.to_stage,
        "meeting": e.meeting_id,
        "actor": e.actor.username if e.actor else None,
        "note": e.note,
        "at": e.at,
    }


def topic_as_dict(t: Topic, *, detail: bool = False, roles: frozenset[str] = frozenset()) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": t.pk,
        "title": t.title,
        "description": t.description,
        "origin": t.origin,
        "source_case": t.source_case_id,
        "raised_by": t.raised_by,
        "community": t.community_id,
        "community_name": t.community.name,
        "venue": t.venue_id,
        "stage": t.stage,
        "stage_display": t.get_stage_display(),
        "proposal": t.proposal,
        "resolution": t.resolution,
        "result": t.result,
        "closing_reason": t.closing_reason,
        "proposed_at": t.proposed_at,
        "resolved_at": t.resolved_at,
        "resolution_published_at": t.resolution_published_at,
        "result_published_at": t.result_published_at,
        "created_at": t.created_at,
    }
    if detail:
        row["allowed_actions"] = [x.name for x in workflow.allowed(t.stage, roles) if x.name != "submit"]
        row["events"] = [event_as_dict(e) for e in t.events.select_related("actor")]
        row["meetings"] = [meeting_as_dict(m) for m in t.meetings.all()]
        row["links"] = [
            {"type": link.content_type.model, "id": link.object_id, "label": link.label}
            for link in t.links.select_related("content_type")
        ]
    return row


class TopicOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    title = serializers.CharField()
    community = serializers.IntegerField()
    stage = serializers.ChoiceField(choices=TopicStage.choices)
    stage_display = serializers.CharField()


class MeetingOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    topic = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=MeetingKind.choices)
    status = serializers.CharField()
    eligible = serializers.IntegerField()
    present = serializers.IntegerField()
    quorum_met = serializers.BooleanField()
    passed = serializers.BooleanField()


# --- input -------------------------------------------------------------------------------------------


class TopicIn(serializers.Serializer[Any]):
    title = serializers.CharField(max_length=200)
    community = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="社区/村 id"
    )
    origin = serializers.ChoiceField(choices=TopicOrigin.choices, default=TopicOrigin.GRID_WORKER)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    raised_by = serializers.CharField(required=False, allow_blank=True, default="", max_length=50)
    source_case = serializers.IntegerField(required=False, allow_null=True, default=None)
    venue = serializers.IntegerField(required=False, allow_null=True, default=None)


class ActionIn(serializers.Serializer[Any]):
    """Each action reads the fields it needs (see the action's description)."""

    proposal = serializers.CharField(required=False, allow_blank=True)
    note = serializers.CharField(required=False, allow_blank=True)
    resolution = serializers.CharField(required=False, allow_blank=True)
    result = serializers.CharField(required=False, allow_blank=True)
    reason = serializers.CharField(required=False, allow_blank=True)
    meeting_id = serializers.IntegerField(required=False, allow_null=True)


class MeetingIn(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=MeetingKind.choices)
    held_at = serializers.DateTimeField()
    eligible = serializers.IntegerField(min_value=1)
    venue = serializers.IntegerField(required=False, allow_null=True, default=None)


class AttendeeIn(serializers.Serializer[Any]):
    name = serializers.CharField(required=False, allow_blank=True, default="", max_length=50)
    resident_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    title = serializers.CharField(required=False, allow_blank=True, default="", max_length=50)
    is_official = serializers.BooleanField(default=False)
    is_party_member = serializers.BooleanField(default=False)
    is_representative = serializers.BooleanField(default=False)


class VoteIn(serializers.Serializer[Any]):
    attendance_id = serializers.IntegerField()
    choice = serializers.ChoiceField(choices=VoteChoice.choices)


class CloseIn(serializers.Serializer[Any]):
    minutes = serializers.CharField(required=False, allow_blank=True, default="")


class LinkIn(serializers.Serializer[Any]):
    case_id = serializers.IntegerField()


def _valid(serializer_class: type[serializers.Serializer[Any]], request: Request) -> dict[str, Any]:
    payload = serializer_class(data=request.data)
    payload.is_valid(raise_exception=True)
    return dict(payload.validated_data)


# --- views -------------------------------------------------------------------------------------------


class TopicFilterSet(filters.FilterSet):
    stage = filters.CharFilter(field_name="stage", help_text=" / ".join(TopicStage.values))
    community = filters.NumberFilter(field_name="community_id")

    class Meta:
        model = Topic
        fields = ("stage", "community")


class TopicViewSet(viewsets.GenericViewSet[Topic]):
    """Topics (议题) in the user's area; one POST per step of 四议两公开."""

    serializer_class = TopicOut
    filterset_class = TopicFilterSet
    queryset = Topic.objects.none()

    def get_queryset(self) -> QuerySet[Topic]:
        return (
            Topic.objects.visible_to(self.request.user)
            .select_related("community")
            .order_by("-created_at", "-id")
        )

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response([topic_as_dict(t) for t in page or []])

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        topic = self.get_object()
        return Response(topic_as_dict(topic, detail=True, roles=actions.roles_of(actor_of(request))))

    @extend_schema(request=TopicIn, responses={201: TopicOut})
    def create(self, request: Request) -> Response:
        topic = actions.submit_topic(actor=actor_of(request), **_valid(TopicIn, request))
        return Response(topic_as_dict(topic), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=ActionIn,
        responses={200: TopicOut, 400: OpenApiResponse(description="bad input"), 409: OpenApiResponse()},
        description="name: " + ", ".join(actions.TOPIC_ACTIONS),
    )
    @action(detail=True, methods=["post"], url_path=r"actions/(?P<name>[a-z_]+)", filter_backends=())
    def take(self, request: Request, pk: str | None = None, name: str = "") -> Response:
        topic = self.get_object()
        done = actions.take(name, topic.pk, actor=actor_of(request), **_valid(ActionIn, request))
        return Response(topic_as_dict(done))

    @extend_schema(request=MeetingIn, responses={201: MeetingOut})
    @action(detail=True, methods=["post"], url_path="meetings", filter_backends=())
    def schedule(self, request: Request, pk: str | None = None) -> Response:
        topic = self.get_object()
        meeting = actions.schedule_meeting(topic.pk, actor=actor_of(request), **_valid(MeetingIn, request))
        return Response(meeting_as_dict(meeting), status=status.HTTP_201_CREATED)

    @extend_schema(request=LinkIn, responses={201: OpenApiResponse(description="link")})
    @action(detail=True, methods=["post"], url_path="links", filter_backends=())
    def link(self, request: Request, pk: str | None = None) -> Response:
        topic = self.get_object()
        link = actions.link_case(topic.pk, actor=actor_of(request), **_valid(LinkIn, request))
        body = {"type": link.content_type.model, "id": link.object_id, "label": link.label}
        return Response(body, status=status.HTTP_201_CREATED)


class MeetingViewSet(viewsets.GenericViewSet[Meeting]):
    """Meetings in the user's area, with attendance and votes."""

    serializer_class = MeetingOut
    queryset = Meeting.objects.none()
    filterset_fields = ("topic", "kind", "status")

    def get_queryset(self) -> QuerySet[Meeting]:
        return Meeting.objects.visible_to(self.request.user).order_by("-held_at", "-id")

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response([meeting_as_dict(m) for m in page or []])

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return Response(meeting_as_dict(self.get_object(), attendance=True))

    @extend_schema(request=AttendeeIn, responses={201: OpenApiResponse(description="attendee")})
    @action(detail=True, methods=["post"], filter_backends=())
    def attendance(self, request: Request, pk: str | None = None) -> Response:
        meeting = self.get_object()
        seat = actions.add_attendee(meeting.pk, actor=actor_of(request), **_valid(AttendeeIn, request))
        return Response(attendance_as_dict(seat), status=status.HTTP_201_CREATED)

    @extend_schema(request=VoteIn, responses={201: OpenApiResponse(description="vote")})
    @action(detail=True, methods=["post"], filter_backends=())
    def votes(self, request: Request, pk: str | None = None) -> Response:
        meeting = self.get_object()
        vote = actions.cast_vote(meeting.pk, actor=actor_of(request), **_valid(VoteIn, request))
        return Response(
            {"attendance": vote.attendance_id, "choice": vote.choice}, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=CloseIn, responses=MeetingOut)
    @action(detail=True, methods=["post"], filter_backends=())
    def close(self, request: Request, pk: str | None = None) -> Response:
        meeting = self.get_object()
        closed = actions.close_meeting(meeting.pk, actor=actor_of(request), **_valid(CloseIn, request))
        return Response(meeting_as_dict(closed, attendance=True))


@extend_schema(responses=OpenApiResponse(description="topics by stage, resolutions passed, average days"))
@api_view(["GET"])
def stats_view(request: Request) -> Response:
    s = queries.stats(request.user)
    return Response(
        {
            "by_stage": {stage: n for stage, _label, n in s.by_stage},
            "total": s.total,
            "resolutions_passed": s.resolutions_passed,
            "results_published": s.results_published,
            "average_days_to_result": s.average_days_to_result,
        }
    )


@extend_schema(responses=OpenApiResponse(description="GeoJSON FeatureCollection of venues"))
@api_view(["GET"])
def venues_view(request: Request) -> Response:
    return Response(queries.venues_geojson(request.user))


router = DefaultRouter()
router.include_root_view = False
router.register("topics", TopicViewSet, basename="deliberation-topic")
router.register("meetings", MeetingViewSet, basename="deliberation-meeting")

urlpatterns: list[URLPattern | URLResolver] = [
    path("stats/", stats_view, name="deliberation-stats"),
    path("venues/", venues_view, name="deliberation-venues"),
    *router.urls,
]
