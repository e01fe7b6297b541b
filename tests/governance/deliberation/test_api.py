"""The API: scoped reads, one POST per action, meetings with attendance and votes, error shapes."""

from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient

from tests.governance.deliberation.conftest import Delib, advance_to, new_topic
from yiwang.governance.deliberation.models import TopicStage
from yiwang.people.models import User

BASE = "/api/v1/deliberation"


def _api(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_topics_list_is_scoped_and_filterable(delib: Delib) -> None:
    a = new_topic(delib.world.community_a.pk)
    advance_to(new_topic(delib.world.community_b.pk), TopicStage.PROPOSED)
    body = _api(delib.gw_a).get(f"{BASE}/topics/").json()
    assert [row["id"] for row in body["results"]] == [a.pk]
    body = _api(delib.leader).get(f"{BASE}/topics/", {"stage": "proposed"}).json()
    assert [row["stage"] for row in body["results"]] == ["proposed"]
    assert _api(delib.dispatcher).get(f"{BASE}/topics/").json()["results"] == []


def test_topic_outside_scope_is_404(delib: Delib) -> None:
    topic = new_topic(delib.world.community_b.pk)
    assert _api(delib.gw_a).get(f"{BASE}/topics/{topic.pk}/").status_code == 404
    response = _api(delib.gw_a).post(f"{BASE}/topics/{topic.pk}/actions/propose/", {})
    assert response.status_code == 404


def test_anonymous_gets_401(delib: Delib) -> None:
    assert APIClient().get(f"{BASE}/topics/").status_code == 401


def test_full_procedure_through_the_api(delib: Delib) -> None:
    api = _api(delib.gw_a)
    created = api.post(f"{BASE}/topics/", {"title": "修桥", "community": delib.world.community_a.pk})
    assert created.status_code == 201
    pk = created.json()["id"]
    assert api.post(f"{BASE}/topics/{pk}/actions/propose/", {"proposal": "修桥"}).status_code == 200

    def meeting(kind: str, eligible: int, voters: int, flag: str) -> dict[str, Any]:
        m = api.post(
            f"{BASE}/topics/{pk}/meetings/",
            {"kind": kind, "held_at": "2026-03-11T10:00:00+08:00", "eligible": eligible},
        )
        assert m.status_code == 201, m.json()
        mid = m.json()["id"]
        for i in range(voters):
            seat = api.post(f"{BASE}/meetings/{mid}/attendance/", {"name": f"人{i}", flag: True}).json()
            assert (
                api.post(
                    f"{BASE}/meetings/{mid}/votes/", {"attendance_id": seat["id"], "choice": "for"}
                ).status_code
                == 201
            )
        closed = api.post(f"{BASE}/meetings/{mid}/close/", {"minutes": "记录"})
        assert closed.status_code == 200
        return dict(closed.json())

    assert meeting("committees", 5, 5, "is_official")["passed"]
    assert api.post(f"{BASE}/topics/{pk}/actions/deliberate/", {}).json()["stage"] == "deliberated"
    assert meeting("party_members", 5, 3, "is_party_member")["passed"]
    assert api.post(f"{BASE}/topics/{pk}/actions/review/", {}).json()["stage"] == "reviewed"
    failed = meeting("representatives", 9, 5, "is_representative")
    assert not failed["quorum_met"]
    refused = api.post(f"{BASE}/topics/{pk}/actions/resolve/", {"resolution": "修桥"})
    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid"
    assert "法定人数" in refused.json()["detail"]
    assert meeting("representatives", 9, 6, "is_representative")["passed"]
    assert api.post(f"{BASE}/topics/{pk}/actions/resolve/", {"resolution": "修桥"}).status_code == 200
    assert api.post(f"{BASE}/topics/{pk}/actions/publish_resolution/", {}).status_code == 200
    done = api.post(f"{BASE}/topics/{pk}/actions/publish_result/", {"result": "已修好"})
    assert done.json()["stage"] == "result_published"
    detail = api.get(f"{BASE}/topics/{pk}/").json()
    assert next(e["kind"] for e in detail["events"]) == "submit"
    assert len(detail["meetings"]) == 4
    stats = api.get(f"{BASE}/stats/").json()
    assert stats["resolutions_passed"] == 1
    assert stats["by_stage"]["result_published"] == 1


def test_error_codes_of_stage_role_and_meeting_rules(delib: Delib) -> None:
    topic = new_topic(delib.world.community_a.pk)
    conflict = _api(delib.gw_a).post(f"{BASE}/topics/{topic.pk}/actions/publish_result/", {"result": "x"})
    assert conflict.status_code == 409
    assert conflict.json()["detail_en"]
    forbidden = _api(delib.leader).post(f"{BASE}/topics/{topic.pk}/actions/propose/", {})
    assert forbidden.status_code == 403
    bad = _api(delib.gw_a).post(f"{BASE}/topics/", {"title": "", "community": delib.world.community_a.pk})
    assert bad.status_code == 400


def test_vote_errors_through_the_api(delib: Delib) -> None:
    topic = advance_to(new_topic(delib.world.community_a.pk), TopicStage.PROPOSED)
    api = _api(delib.gw_a)
    mid = api.post(
        f"{BASE}/topics/{topic.pk}/meetings/",
        {"kind": "committees", "held_at": "2026-03-11T10:00:00+08:00", "eligible": 3},
    ).json()["id"]
    seat = api.post(f"{BASE}/meetings/{mid}/attendance/", {"name": "甲", "is_official": True}).json()
    not_present = api.post(
        f"{BASE}/meetings/{mid}/votes/", {"attendance_id": seat["id"] + 999, "choice": "for"}
    )
    assert not_present.status_code == 400
    assert not_present.json()["fields"] == {"attendance": [not_present.json()["detail"]]}
    api.post(f"{BASE}/meetings/{mid}/votes/", {"attendance_id": seat["id"], "choice": "for"})
    twice = api.post(f"{BASE}/meetings/{mid}/votes/", {"attendance_id": seat["id"], "choice": "for"})
    assert twice.status_code == 400
    api.post(f"{BASE}/meetings/{mid}/close/", {})
    closed = api.post(f"{BASE}/meetings/{mid}/attendance/", {"name": "乙"})
    assert closed.status_code == 409
    detail = api.get(f"{BASE}/meetings/{mid}/").json()
    assert [a["vote"] for a in detail["attendance"]] == ["for"]
    assert _api(delib.gw_b).get(f"{BASE}/meetings/{mid}/").status_code == 404
