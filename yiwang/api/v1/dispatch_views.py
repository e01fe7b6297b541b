"""Smart-dispatch suggestions for the intake form, the dispatcher's queue and the map.

Read-only except ``auto-dispatch``, which calls ``dispatch.actions.auto_dispatch`` (itself going
through ``cases.actions.dispatch_case``). Suggestions never fail a caller: no model, a broken model
or meaningless text give empty lists."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from yiwang.api.v1.permissions import actor_of
from yiwang.cases.models import Case, Category
from yiwang.cases.models.case import DESCRIPTION_MAX
from yiwang.core.scoping import get_object_or_404_in_scope
from yiwang.dispatch.actions import auto_dispatch
from yiwang.dispatch.classifier.service import suggest_categories
from yiwang.dispatch.duplicates import find_duplicates
from yiwang.dispatch.hotspots import hotspots_for_cases
from yiwang.dispatch.knowledge import similar_answers
from yiwang.dispatch.routing import RouteDecision, route
from yiwang.people.models import Department

HOTSPOT_DEFAULT_DAYS = 30


class SuggestInput(serializers.Serializer[Any]):
    text = serializers.CharField(max_length=DESCRIPTION_MAX + 200, allow_blank=True)
    lng = serializers.FloatField(required=False, allow_null=True, default=None)
    lat = serializers.FloatField(required=False, allow_null=True, default=None)
    category = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, default=None, help_text="已选分类代码 (可空)"
    )
    exclude_case = serializers.IntegerField(required=False, allow_null=True, default=None)


class CategorySuggestion(serializers.Serializer[Any]):
    code = serializers.CharField()
    name = serializers.CharField()
    confidence = serializers.FloatField()


class DepartmentRef(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()


class RouteOut(serializers.Serializer[Any]):
    category = serializers.CharField()
    lead = DepartmentRef()
    assisting = DepartmentRef(many=True)
    rule = serializers.CharField(help_text="rule or fallback (属地兜底)")
    explanation = serializers.CharField()


class DuplicateOut(serializers.Serializer[Any]):
    case_id = serializers.IntegerField()
    number = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField()
    score = serializers.FloatField()
    is_likely = serializers.BooleanField()
    distance_m = serializers.FloatField(allow_null=True)
    days_apart = serializers.FloatField()
    reasons = serializers.ListField(child=serializers.CharField())


class AnswerOut(serializers.Serializer[Any]):
    case_id = serializers.IntegerField(allow_null=True)
    number = serializers.CharField()
    question = serializers.CharField()
    answer = serializers.CharField()
    score = serializers.FloatField()


class SuggestOut(serializers.Serializer[Any]):
    categories = CategorySuggestion(many=True)
    route = RouteOut(allow_null=True)
    duplicates = DuplicateOut(many=True)
    answers = AnswerOut(many=True)


def _department(department: Department) -> dict[str, Any]:
    return {"id": department.pk, "name": department.name}


def _route_json(category: Category, decision: RouteDecision | None) -> dict[str, Any] | None:
    if decision is None:
        return None
    return {
        "category": category.code,
        "lead": _department(decision.lead),
        "assisting": [_department(d) for d in decision.assisting],
        "rule": decision.source,
        "explanation": decision.explanation,
    }


def suggestions_for(user: Any, data: dict[str, Any]) -> dict[str, Any]:
    text, lng, lat = data["text"], data["lng"], data["lat"]
    categories = suggest_categories(text, limit=3)
    chosen = data.get("category") or (categories[0].code if categories else None)
    category = Category.objects.filter(code=chosen, is_active=True).first() if chosen else None
    decision = route(category, lng=lng, lat=lat) if category is not None else None
    duplicates = find_duplicates(
        text=text, category=category, lng=lng, lat=lat, exclude_case_id=data.get("exclude_case"), user=user
    )
    answers = similar_answers(text, limit=3, user=user)
    return {
        "categories": [{"code": s.code, "name": s.name, "confidence": s.confidence} for s in categories],
        "route": _route_json(category, decision) if category is not None else None,
        "duplicates": [
            {
                "case_id": d.case_id,
                "number": d.number,
                "title": d.title,
                "status": d.status,
                "score": d.score,
                "is_likely": d.is_likely,
                "distance_m": d.distance_m,
                "days_apart": d.days_apart,
                "reasons": [str(r) for r in d.reasons],
            }
            for d in duplicates
        ],
        "answers": [
            {
                "case_id": a.case_id,
                "number": a.number,
                "question": a.title,
                "answer": a.answer,
                "score": a.score,
            }
            for a in answers
        ],
    }


class SuggestView(APIView):
    """Category, department, duplicate and knowledge-base suggestions for a text at a place."""

    @extend_schema(request=SuggestInput, responses=SuggestOut, operation_id="dispatch_suggest")
    def post(self, request: Request) -> Response:
        payload = SuggestInput(data=request.data)
        payload.is_valid(raise_exception=True)
        return Response(suggestions_for(request.user, dict(payload.validated_data)))


class AutoDispatchOut(serializers.Serializer[Any]):
    dispatched = serializers.BooleanField()
    reason = serializers.CharField()
    categories = CategorySuggestion(many=True)
    route = RouteOut(allow_null=True)


@extend_schema(request=None, responses=AutoDispatchOut, operation_id="dispatch_auto")
@api_view(["POST"])
def auto_dispatch_view(request: Request, pk: int) -> Response:
    """Dispatch the case automatically if the classifier is confident and a rule matches; otherwise
    answer why not (nothing written)."""
    case = get_object_or_404_in_scope(
        Case.objects.visible_to(request.user).select_related("category", "community", "street", "district"),
        pk=pk,
    )
    decision = auto_dispatch(case, actor_of(request))
    return Response(
        {
            "dispatched": decision.dispatched,
            "reason": str(decision.reason),
            "categories": [
                {"code": s.code, "name": s.name, "confidence": s.confidence} for s in decision.suggestions
            ],
            "route": _route_json(case.category, decision.route),
        }
    )


class HotspotOut(serializers.Serializer[Any]):
    rank = serializers.IntegerField()
    heat = serializers.FloatField()
    start = serializers.DateTimeField(allow_null=True)
    end = serializers.DateTimeField(allow_null=True)
    place_or_group = serializers.CharField(allow_blank=True)
    description = serializers.CharField(allow_blank=True)
    case_numbers = serializers.ListField(child=serializers.CharField())
    reporters = serializers.IntegerField()
    center = serializers.ListField(child=serializers.FloatField(), allow_null=True)


class HotspotQuery(serializers.Serializer[Any]):
    start = serializers.DateTimeField(required=False, default=None)
    end = serializers.DateTimeField(required=False, default=None)
    top = serializers.IntegerField(required=False, default=10, min_value=1, max_value=50)


@extend_schema(
    parameters=[
        OpenApiParameter("start", str, description="ISO 8601; default 30 days ago"),
        OpenApiParameter("end", str, description="ISO 8601; default now"),
        OpenApiParameter("top", int, description="1–50, default 10"),
    ],
    responses=HotspotOut(many=True),
    operation_id="dispatch_hotspots",
)
@api_view(["GET"])
def hotspots_view(request: Request) -> Response:
    """Groups of cases about the same problem at the same place, ranked by heat, in the user's scope."""
    query = HotspotQuery(data=request.query_params)
    query.is_valid(raise_exception=True)
    end = query.validated_data["end"] or timezone.now()
    start = query.validated_data["start"] or end - dt.timedelta(days=HOTSPOT_DEFAULT_DAYS)
    spots = hotspots_for_cases(
        Case.objects.visible_to(request.user),
        start=start,
        end=end,
        top=query.validated_data["top"],
    )
    return Response([_hotspot_json(h) for h in spots])


def _hotspot_json(spot: Any) -> dict[str, Any]:
    center = list(spot.center) if spot.center else None
    return {
        "rank": spot.rank,
        "heat": spot.heat,
        "start": spot.start,
        "end": spot.end,
        "place_or_group": spot.place_or_group,
        "description": spot.description,
        "case_numbers": [str(i) for i in spot.message_ids],
        "reporters": spot.reporters,
        "center": center,
    }
