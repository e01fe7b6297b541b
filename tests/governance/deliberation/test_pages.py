"""Web pages: who may open them, the forms offered, actions through forms, the public notices."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.governance.deliberation.conftest import Delib, advance_to, new_topic, run_meeting
from yiwang.governance.deliberation import actions
from yiwang.governance.deliberation.models import Topic, TopicStage
from yiwang.people.models import User


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_index_renders_for_the_deliberation_roles_with_stats(delib: Delib) -> None:
    new_topic(delib.world.community_a.pk, title="修缮村内道路")
    for user in (delib.gw_a, delib.leader, delib.admin):
        response = _client(user).get(reverse("web:deliberation:index"))
        assert response.status_code == 200
        assert "修缮村内道路" in response.content.decode()
        assert "提议至结果公开平均天数" in response.content.decode()


def test_index_is_not_offered_to_other_roles_and_asks_anonymous_to_sign_in(delib: Delib) -> None:
    assert _client(delib.dispatcher).get(reverse("web:deliberation:index")).status_code == 404
    assert Client().get(reverse("web:deliberation:index")).status_code == 302


def test_index_filters_by_stage_and_community(delib: Delib) -> None:
    new_topic(delib.world.community_a.pk, title="甲议题")
    advance_to(new_topic(delib.world.community_b.pk, title="乙议题"), TopicStage.PROPOSED)
    client = _client(delib.leader)
    page = client.get(reverse("web:deliberation:index"), {"stage": "proposed"}).content.decode()
    assert "乙议题" in page
    assert "甲议题" not in page
    page = client.get(
        reverse("web:deliberation:index"), {"community": delib.world.community_a.pk}
    ).content.decode()
    assert "甲议题" in page
    assert "乙议题" not in page


def test_topic_outside_scope_is_404(delib: Delib) -> None:
    topic = new_topic(delib.world.community_b.pk)
    assert _client(delib.gw_a).get(reverse("web:deliberation:topic", args=[topic.pk])).status_code == 404
    assert _client(delib.gw_b).get(reverse("web:deliberation:topic", args=[topic.pk])).status_code == 200


def test_topic_page_offers_only_the_allowed_forms(delib: Delib) -> None:
    topic = new_topic(delib.world.community_a.pk)
    page = _client(delib.gw_a).get(reverse("web:deliberation:topic", args=[topic.pk])).content.decode()
    assert 'id="action-propose"' in page
    assert 'id="action-withdraw"' in page
    page = _client(delib.leader).get(reverse("web:deliberation:topic", args=[topic.pk])).content.decode()
    assert 'id="action-reject"' in page
    assert 'id="action-propose"' not in page


def test_submit_and_propose_through_the_forms(delib: Delib) -> None:
    client = _client(delib.gw_a)
    response = client.post(
        reverse("web:deliberation:topic_new"),
        {"t-title": "新建健身广场", "t-community": delib.world.community_a.pk, "t-origin": "resident"},
    )
    assert response.status_code == 302
    topic = Topic.objects.get(title="新建健身广场")
    response = client.post(
        reverse("web:deliberation:topic_action", args=[topic.pk, "propose"]), {"propose-proposal": "建议建设"}
    )
    assert response.status_code == 302
    topic.refresh_from_db()
    assert topic.stage == TopicStage.PROPOSED


def test_refused_action_shows_the_message_and_writes_nothing(delib: Delib) -> None:
    topic = advance_to(new_topic(delib.world.community_a.pk), TopicStage.REVIEWED)
    run_meeting(topic, "representatives", eligible=9, voters=5)
    response = _client(delib.gw_a).post(
        reverse("web:deliberation:topic_action", args=[topic.pk, "resolve"]), {"resolve-resolution": "修路"}
    )
    assert response.status_code == 400
    assert "法定人数" in response.content.decode()
    topic.refresh_from_db()
    assert topic.stage == TopicStage.REVIEWED


def test_meeting_forms_record_attendance_votes_and_close(delib: Delib) -> None:
    topic = advance_to(new_topic(delib.world.community_a.pk), TopicStage.PROPOSED)
    client = _client(delib.gw_a)
    held = (timezone.localtime() - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("web:deliberation:meeting_new", args=[topic.pk]),
        {"m-kind": "committees", "m-held_at": held, "m-eligible": 1},
    )
    assert response.status_code == 302
    meeting = topic.meetings.get()
    client.post(
        reverse("web:deliberation:meeting_attendee", args=[meeting.pk]),
        {f"a{meeting.pk}-name": "王书记", f"a{meeting.pk}-is_official": "on"},
    )
    seat = meeting.attendances.get()
    vote_url = reverse("web:deliberation:meeting_vote", args=[meeting.pk])
    data = {f"v{meeting.pk}-attendance_id": seat.pk, f"v{meeting.pk}-choice": "for"}
    assert client.post(vote_url, data).status_code == 302
    again = client.post(vote_url, data)
    assert again.status_code == 400
    assert "重复" in again.content.decode()
    client.post(
        reverse("web:deliberation:meeting_close", args=[meeting.pk]), {f"c{meeting.pk}-minutes": "同意"}
    )
    meeting.refresh_from_db()
    assert meeting.passed
    page = client.get(reverse("web:deliberation:topic", args=[topic.pk])).content.decode()
    assert "王书记" in page


def test_venues_geojson_requires_login_and_is_scoped(delib: Delib) -> None:
    actions.create_venue(actor=None, community=delib.world.community_b, name="B议事厅", lng=120.1, lat=35.9)
    url = reverse("web:deliberation:venues_geojson")
    assert Client().get(url).status_code == 302
    assert _client(delib.gw_a).get(url).json()["features"] == []
    assert len(_client(delib.leader).get(url).json()["features"]) == 1


@pytest.mark.parametrize("stage", [TopicStage.RESOLUTION_PUBLISHED, TopicStage.RESULT_PUBLISHED])
def test_public_notice_shows_published_topics_without_login(delib: Delib, stage: str) -> None:
    published = advance_to(new_topic(delib.world.community_a.pk, title="已公开议题"), stage)
    advance_to(new_topic(delib.world.community_a.pk, title="未公开议题"), TopicStage.RESOLVED)
    anonymous = Client()
    listing = anonymous.get(reverse("web:deliberation:notices")).content.decode()
    assert "已公开议题" in listing
    assert "未公开议题" not in listing
    page = anonymous.get(reverse("web:deliberation:notice", args=[published.pk]))
    assert page.status_code == 200
    assert "同意修缮主路" in page.content.decode()


def test_public_notice_of_an_unpublished_topic_is_404(delib: Delib) -> None:
    topic = advance_to(new_topic(delib.world.community_a.pk), TopicStage.RESOLVED)
    assert Client().get(reverse("web:deliberation:notice", args=[topic.pk])).status_code == 404


def test_public_notice_names_officials_only(delib: Delib) -> None:
    topic = advance_to(new_topic(delib.world.community_a.pk), TopicStage.REVIEWED)
    topic.raised_by = "群众甲某"
    topic.save()
    meeting = actions.schedule_meeting(
        topic.pk, actor=None, kind="representatives", held_at=timezone.now(), eligible=2
    )
    for name, official in (("村主任张某", True), ("代表李某", False)):
        seat = actions.add_attendee(
            meeting.pk, actor=None, name=name, is_representative=True, is_official=official
        )
        actions.cast_vote(meeting.pk, actor=None, attendance_id=seat.pk, choice="for")
    actions.close_meeting(meeting.pk, actor=None)
    actions.resolve(topic.pk, actor=None, resolution="同意")
    actions.publish_resolution(topic.pk, actor=None)
    page = Client().get(reverse("web:deliberation:notice", args=[topic.pk])).content.decode()
    assert "村主任张某" in page
    assert "代表李某" not in page
    assert "群众甲某" not in page
