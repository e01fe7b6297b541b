"""矛盾纠纷调解 in the staff API (mounted at /api/v1/mediation/).

Reads only through ``visible_to(request.user)`` (outside scope: 404; dispatchers, the hotline and
grid workers see no dispute at all). Parties leave masked; the full value of one field comes only
from the audit-logged ``reveal`` endpoint. Writes go through ``governance.mediation.actions``; their
errors subclass the case errors, so the shared handler answers 400 / 403 / 404 / 409 with
``{"code", "detail", "detail_en", "fields"}``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404
from django.urls import URLPattern, URLResolver, path
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action, api_view
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from yiwang.api.v1.permissions import actor_of
from yiwang.core.audit import client_ip, reveal
from yiwang.core.scoping import get_object_or_404_in_scope
from yiwang.governance.mediation import actions, workflow
from yiwang.governance.mediation.actions import PartyInput
from yiwang.governance.mediation.models import (
    Committee,
    Dispute,
    DisputeKind,
    DisputeStatus,
    Party,
    PartyKind,
    PartySide,
    Referral,
)
from yiwang.governance.mediation.stats import mediation_stats

# --- output ------------------------------------------------------------------------------------------


def party_as_dict(p: Party) -> dict[str, Any]:
    return {
        "id": p.pk,
        "side": p.side,
        "kind": p.kind,
        "name": p.masked_name,
        "id_number": p.masked_id_number,
        "phone": p.masked_phone,
        "masked": True,
    }


def dispute_as_dict(d: Dispute, *, user: Any, full: bool = False) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": d.pk,
        "case": d.case_id,
        "number": d.case.number,
        "kind": d.kind,
        "kind_display": d.get_kind_display(),
        "committee": d.committee_id,
        "summary": d.summary,
        "status": d.status,
        "status_display": d.get_status_display(),
        "amount": str(d.amount) if d.amount is not None else None,
        "applied_at": d.applied_at,
        "accepted_at": d.accepted_at,
        "due_at": d.due_at,
        "overdue": d.is_overdue(),
        "outcome": d.outcome,
        "outcome_at": d.outcome_at,
        "referral": d.referral,
        "performed": d.performed,
        "closed_at": d.closed_at,
        "version": d.version,
    }
    if not full:
        return row
    agreement = getattr(d, "agreement", None)
    row |= {
        "facts": d.facts,
        "failure_reason": d.failure_reason,
        "follow_up_note": d.follow_up_note,
        "mediators": [m.pk for m in d.mediators.all()],
        "parties": [party_as_dict(p) for p in d.parties.all()],
        "sessions": [
            {
                "id": s.pk,
                "held_on": s.held_on,
                "place": s.place,
                "mediators": [m.pk for m in s.mediators.all()],
                "notes": s.notes,
            }
            for s in d.sessions.all()
        ],
        "agreement": None
        if agreement is None
        else {
            "signed_on": agreement.signed_on,
            "terms": agreement.terms,
            "amount": str(agreement.amount) if agreement.amount is not None else None,
            "due_on": agreement.due_on,
            "parties": [p.pk for p in agreement.parties.all()],
        },
        "events": [
            {
                "kind": e.kind,
                "actor": str(e.actor) if e.actor else None,
                "at": e.at,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "note": e.note,
            }
            for e in d.events.select_related("actor")
        ],
        "allowed_actions": [t.name for t in workflow.allowed(d.status, actions.actor_roles(user))],
    }
    return row


def _values(choices: Any) -> str:
    return ", ".join(f"{value} {label}" for value, label in choices.choices)


# --- input -------------------------------------------------------------------------------------------


class PartyIn(serializers.Serializer[Any]):
    side = serializers.ChoiceField(choices=PartySide.choices)
    # Plain strings with the values listed (not enums): "kind" names several choice sets in the API.
    kind = serializers.CharField(default=PartyKind.PERSON, help_text=_values(PartyKind))
    name = serializers.CharField(max_length=100)
    id_number = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")


class RegisterIn(serializers.Serializer[Any]):
    committee = serializers.IntegerField()
    kind = serializers.CharField(help_text=_values(DisputeKind))
    summary = serializers.CharField(max_length=200)
    facts = serializers.CharField(max_length=4000)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True)
    parties = PartyIn(many=True, allow_empty=True)


class _VersionIn(serializers.Serializer[Any]):
    version = serializers.IntegerField(required=False, allow_null=True, help_text="乐观锁：页面所示版本")


class NoteIn(_VersionIn):
    note = serializers.CharField(required=False, allow_blank=True, default="")


class AssignIn(_VersionIn):
    mediators = serializers.ListField(child=serializers.IntegerField(), allow_empty=True)


class SessionIn(_VersionIn):
    held_on = serializers.DateField()
    place = serializers.CharField(max_length=200)
    mediators = serializers.ListField(child=serializers.IntegerField(), allow_empty=True)
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class AgreeIn(_VersionIn):
    signed_on = serializers.DateField()
    terms = serializers.CharField()
    parties = serializers.ListField(child=serializers.IntegerField(), allow_empty=True)
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, required=False, allow_null=True)
    due_on = serializers.DateField(required=False, allow_null=True)


class FailIn(_VersionIn):
    reason = serializers.CharField()
    referral = serializers.CharField(
        required=False, allow_blank=True, default="", help_text=_values(Referral)
    )


class FollowUpIn(_VersionIn):
    performed = serializers.BooleanField()
    note = serializers.CharField(required=False, allow_blank=True, default="")


class RevealIn(serializers.Serializer[Any]):
    field = serializers.ChoiceField(choices=["name", "id_number", "phone"])
    reason = serializers.CharField(max_length=500)


class DisputeOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    number = serializers.CharField()
    kind = serializers.CharField(help_text=_values(DisputeKind))
    status = serializers.CharField(help_text=_values(DisputeStatus))
    summary = serializers.CharField()
    overdue = serializers.BooleanField()


# --- views -------------------------------------------------------------------------------------------


class DisputeViewSet(viewsets.GenericViewSet[Dispute]):
    """Disputes in the user's scope; POST one endpoint per workflow action."""

    serializer_class = DisputeOut

    def get_queryset(self) -> QuerySet[Dispute]:
        qs = Dispute.objects.visible_to(self.request.user).select_related("case")
        params = self.request.query_params
        if params.get("status"):
            qs = qs.filter(status=params["status"])
        if params.get("kind"):
            qs = qs.filter(kind=params["kind"])
        return qs

    def _get(self, pk: Any) -> Dispute:
        found: Dispute = get_object_or_404_in_scope(self.get_queryset(), pk=pk)
        return found

    def _full(self, pk: Any, code: int = status.HTTP_200_OK) -> Response:
        return Response(dispute_as_dict(self._get(pk), user=self.request.user, full=True), status=code)

    @extend_schema(
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=DisputeStatus.values),
            OpenApiParameter("kind", OpenApiTypes.STR, enum=DisputeKind.values),
        ]
    )
    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        rows = [dispute_as_dict(d, user=request.user) for d in page or []]
        return self.get_paginated_response(rows)

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return self._full(pk)

    @extend_schema(request=RegisterIn)
    def create(self, request: Request) -> Response:
        data = _valid(RegisterIn, request)
        dispute = actions.register_dispute(
            actor=actor_of(request),
            committee=data["committee"],
            kind=data["kind"],
            summary=data["summary"],
            facts=data["facts"],
            amount=data.get("amount"),
            parties=[PartyInput(**p) for p in data["parties"]],
        )
        return self._full(dispute.pk, status.HTTP_201_CREATED)

    @extend_schema(request=NoteIn)
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        d = _valid(NoteIn, request)
        actions.accept_dispute(_pk(pk), actor=actor_of(request), note=d["note"], version=d.get("version"))
        return self._full(pk)

    @extend_schema(request=AssignIn)
    @action(detail=True, methods=["post"])
    def assign(self, request: Request, pk: str | None = None) -> Response:
        d = _valid(AssignIn, request)
        actions.assign_mediators(
            _pk(pk), actor=actor_of(request), mediators=d["mediators"], version=d.get("version")
        )
        return self._full(pk)

    @extend_schema(request=SessionIn)
    @action(detail=True, methods=["post"])
    def session(self, request: Request, pk: str | None = None) -> Response:
        d = _valid(SessionIn, request)
        actions.record_session(
            _pk(pk),
            actor=actor_of(request),
            held_on=d["held_on"],
            place=d["place"],
            mediators=d["mediators"],
            notes=d["notes"],
            version=d.get("version"),
        )
        return self._full(pk)

    @extend_schema(request=AgreeIn)
    @action(detail=True, methods=["post"])
    def agree(self, request: Request, pk: str | None = None) -> Response:
        d = _valid(AgreeIn, request)
        actions.record_agreement(
            _pk(pk),
            actor=actor_of(request),
            signed_on=d["signed_on"],
            terms=d["terms"],
            parties=d["parties"],
            amount=d.get("amount"),
            due_on=d.get("due_on"),
            version=d.get("version"),
        )
        return self._full(pk)

    @extend_schema(request=FailIn)
    @action(detail=True, methods=["post"])
    def fail(self, request: Request, pk: str | None = None) -> Response:
        d = _valid(FailIn, request)
        actions.record_failure(
            _pk(pk),
            actor=actor_of(request),
            reason=d["reason"],
            referral=d["referral"],
            version=d.get("version"),
        )
        return self._full(pk)

    @extend_schema(request=FollowUpIn)
    @action(detail=True, methods=["post"], url_path="follow-up")
    def follow_up(self, request: Request, pk: str | None = None) -> Response:
        d = _valid(FollowUpIn, request)
        actions.record_follow_up(
            _pk(pk),
            actor=actor_of(request),
            performed=d["performed"],
            note=d["note"],
            version=d.get("version"),
        )
        return self._full(pk)

    @extend_schema(request=NoteIn)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str | None = None) -> Response:
        d = _valid(NoteIn, request)
        actions.close_dispute(_pk(pk), actor=actor_of(request), note=d["note"], version=d.get("version"))
        return self._full(pk)

    @extend_schema(request=RevealIn)
    @action(detail=True, methods=["post"], url_path=r"parties/(?P<party>\d+)/reveal")
    def reveal(self, request: Request, pk: str | None = None, party: str | None = None) -> Response:
        """The full value of one party field; every attempt is written to the audit log."""
        dispute = self._get(pk)
        row: Party = get_object_or_404_in_scope(dispute.parties.all(), pk=party)
        d = _valid(RevealIn, request)
        try:
            value = reveal(
                row, d["field"], actor=request.user, reason=d["reason"], ip=client_ip(request._request)
            )
        except PermissionDenied:
            return Response(
                {
                    "code": "forbidden",
                    "detail": "无权查看完整个人信息",
                    "detail_en": "not allowed to view full personal data",
                },
                status=status.HTTP_403_FORBIDDEN,
            )
        return Response({"party": row.pk, "field": d["field"], "value": value})


def _pk(pk: str | None) -> int:
    try:
        return int(pk or 0)
    except ValueError as exc:  # "/disputes/abc/…": no such dispute
        raise Http404 from exc


def _valid(serializer: type[serializers.Serializer[Any]], request: Request) -> dict[str, Any]:
    s = serializer(data=request.data)
    s.is_valid(raise_exception=True)
    return dict(s.validated_data)


class MediatorOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()


class CommitteeOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    level = serializers.CharField()
    division = serializers.IntegerField()
    mediators = MediatorOut(many=True)


class CommitteeViewSet(viewsets.GenericViewSet[Committee]):
    """Committees in the user's scope, with their mediators."""

    serializer_class = CommitteeOut
    pagination_class = None

    def get_queryset(self) -> QuerySet[Committee]:
        return Committee.objects.visible_to(self.request.user).prefetch_related("members__user")

    def list(self, request: Request) -> Response:
        rows = [
            {
                "id": c.pk,
                "name": c.name,
                "level": c.level,
                "division": c.division_id,
                "mediators": [{"id": m.pk, "name": str(m.user), "kind": m.kind} for m in c.members.all()],
            }
            for c in self.get_queryset()
        ]
        return Response(rows)


def _day(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise serializers.ValidationError({"date": ["日期格式应为 YYYY-MM-DD"]}) from None
    return dt.datetime.combine(day, dt.time(), tzinfo=timezone.get_current_timezone())


@extend_schema(
    parameters=[
        OpenApiParameter("start", OpenApiTypes.DATE, description="含当日"),
        OpenApiParameter("end", OpenApiTypes.DATE, description="不含当日"),
    ],
    responses=OpenApiTypes.OBJECT,
)
@api_view(["GET"])
def stats(request: Request) -> Response:
    """Disputes, success rate (agreements / concluded) and average days to outcome, by kind and by
    committee, for disputes applied for in [start, end)."""
    report = mediation_stats(
        request.user, _day(request.query_params.get("start")), _day(request.query_params.get("end"))
    )
    return Response(report.as_dict())


router = SimpleRouter()
router.register("disputes", DisputeViewSet, basename="mediation-dispute")
router.register("committees", CommitteeViewSet, basename="mediation-committee")

urlpatterns: list[URLPattern | URLResolver] = [
    path("stats/", stats, name="mediation-stats"),
    *router.urls,
]
