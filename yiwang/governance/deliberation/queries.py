"""Read helpers of village deliberation: the index statistics, the venues layer, the public notices."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, Q

from yiwang.governance.deliberation.models import (
    Attendance,
    Meeting,
    MeetingStatus,
    Topic,
    TopicLink,
    TopicStage,
    Venue,
)

SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class Stats:
    by_stage: list[tuple[str, str, int]]  # (stage, label, count) in procedure order
    total: int
    resolutions_passed: int  # topics that reached a resolution (resolved or later)
    results_published: int
    average_days_to_result: float | None  # from 党组织提议 to 实施结果公开


def stats(user: Any) -> Stats:
    """Topics by stage, resolutions passed and the average days from proposal to published result,
    over the topics ``user`` may see."""
    topics = Topic.objects.visible_to(user)
    counts = dict(topics.values_list("stage").annotate(n=Count("id")).values_list("stage", "n"))
    done = topics.filter(proposed_at__isnull=False, result_published_at__isnull=False)
    spans = [
        (published - proposed).total_seconds()
        for proposed, published in done.values_list("proposed_at", "result_published_at")
        if proposed is not None and published is not None
    ]
    return Stats(
        by_stage=[(s.value, str(s.label), counts.get(s.value, 0)) for s in TopicStage],
        total=sum(counts.values()),
        resolutions_passed=topics.filter(resolved_at__isnull=False).count(),
        results_published=len(spans),
        average_days_to_result=round(sum(spans) / len(spans) / SECONDS_PER_DAY, 1) if spans else None,
    )


def venues_geojson(user: Any) -> dict[str, Any]:
    """The venues ``user`` may see, with coordinates, as a GeoJSON FeatureCollection for the map
    layer; each with its count of visible topics (all, and still open)."""
    visible = Topic.objects.visible_to(user)
    open_stages = [
        s
        for s in TopicStage.values
        if s not in (TopicStage.RESULT_PUBLISHED, TopicStage.REJECTED, TopicStage.WITHDRAWN)
    ]
    venues = (
        Venue.objects.visible_to(user)
        .filter(lng__isnull=False, lat__isnull=False)
        .select_related("community")
        .annotate(
            topics_total=Count("topics", filter=Q(topics__in=visible), distinct=True),
            topics_open=Count(
                "topics", filter=Q(topics__in=visible, topics__stage__in=open_stages), distinct=True
            ),
        )
    )
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [v.lng, v.lat]},
            "properties": {
                "id": v.pk,
                "name": v.name,
                "community": v.community.name,
                "community_code": v.community.code,
                "address": v.address,
                "topics": getattr(v, "topics_total", 0),
                "topics_open": getattr(v, "topics_open", 0),
            },
        }
        for v in venues
    ]
    return {"type": "FeatureCollection", "features": features}


# --- public notices (村务公开): no login, only published topics, no personal data -------------------


def public_topics() -> Any:
    """Published topics (决议公开 and later), newest publication first. Not scoped: public."""
    return (
        Topic.objects.published()
        .select_related("community", "community__street", "venue")
        .order_by(F("resolution_published_at").desc(nulls_last=True), "-id")
    )


def public_notice(topic: Topic) -> dict[str, Any]:
    """What a public notice shows of a topic: the topic, the decisive meetings with their tallies and
    the names of the officials (两委成员) present, and what carries it out. No resident's name, no
    individual vote, no contact data."""
    meetings = list(topic.meetings.filter(status=MeetingStatus.CLOSED).select_related("venue"))
    officials: dict[int, list[str]] = {}
    for row in Attendance.objects.filter(meeting__in=meetings, is_official=True).values(
        "meeting_id", "name", "title"
    ):
        officials.setdefault(row["meeting_id"], []).append(
            f"{row['name']}（{row['title']}）" if row["title"] else row["name"]
        )
    return {
        "topic": topic,
        "meetings": [{"meeting": m, "officials": officials.get(m.pk, [])} for m in meetings],
        "links": [
            _public_label(link)
            for link in TopicLink.objects.filter(topic=topic).select_related("content_type")
        ],
    }


def _public_label(link: TopicLink) -> str:
    """A case shows only its number in public (its title may name the reporter or an address)."""
    if link.content_type.model == "case":
        return f"案件 {link.label.split(' ', 1)[0]}"
    return link.label


def meeting_summary(meeting: Meeting) -> dict[str, int]:
    return {
        "present": meeting.present,
        "for": meeting.votes_for,
        "against": meeting.votes_against,
        "abstain": meeting.votes_abstain,
    }
