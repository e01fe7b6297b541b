"""Meetings: attendance, votes, the quorum and pass rules (data), and bad input that writes nothing."""

from __future__ import annotations

import pytest
from django.utils import timezone

from tests.governance.deliberation.conftest import Delib, advance_to, new_topic, run_meeting
from yiwang.governance.deliberation import actions
from yiwang.governance.deliberation.errors import (
    DeliberationForbidden,
    DeliberationNotFound,
    InvalidDeliberationInput,
    StageNotAllowed,
)
from yiwang.governance.deliberation.models import Meeting, MeetingRule, Topic, TopicStage


def _reviewed(delib: Delib) -> Topic:
    return advance_to(new_topic(delib.world.community_a.pk), TopicStage.REVIEWED)


def _open_meeting(topic: Topic, kind: str = "representatives", eligible: int = 9) -> Meeting:
    return actions.schedule_meeting(
        topic.pk, actor=None, kind=kind, held_at=timezone.now(), eligible=eligible
    )


def test_representatives_meeting_with_two_thirds_present_has_quorum(delib: Delib) -> None:
    meeting = run_meeting(_reviewed(delib), "representatives", eligible=9, voters=6)
    assert meeting.quorum_met
    assert meeting.passed


def test_representatives_meeting_below_two_thirds_cannot_resolve(delib: Delib) -> None:
    topic = _reviewed(delib)
    meeting = run_meeting(topic, "representatives", eligible=9, voters=5)
    assert not meeting.quorum_met
    assert not meeting.passed
    with pytest.raises(InvalidDeliberationInput) as caught:
        actions.resolve(topic.pk, actor=delib.gw_a, resolution="修路")
    assert "法定人数" in caught.value.zh
    assert "2/3" in caught.value.zh
    topic.refresh_from_db()
    assert topic.stage == TopicStage.REVIEWED
    assert topic.resolution == ""


def test_resolution_needs_a_majority_of_those_present(delib: Delib) -> None:
    topic = _reviewed(delib)
    meeting = run_meeting(topic, "representatives", eligible=6, voters=6, votes_for=3)
    assert meeting.quorum_met
    assert not meeting.passed
    with pytest.raises(InvalidDeliberationInput) as caught:
        actions.resolve(topic.pk, actor=delib.gw_a, resolution="修路")
    assert "表决未通过" in caught.value.zh


def test_abstentions_count_against_a_majority_of_those_present(delib: Delib) -> None:
    topic = _reviewed(delib)
    meeting = _open_meeting(topic, eligible=3)
    seats = [
        actions.add_attendee(meeting.pk, actor=None, name=f"代表{i}", is_representative=True)
        for i in range(3)
    ]
    for seat, choice in zip(seats, ["for", "abstain", "abstain"], strict=True):
        actions.cast_vote(meeting.pk, actor=None, attendance_id=seat.pk, choice=choice)
    closed = actions.close_meeting(meeting.pk, actor=None)
    assert (closed.votes_for, closed.votes_abstain, closed.passed) == (1, 2, False)


def test_quorum_fraction_is_data_copied_when_scheduled(delib: Delib) -> None:
    MeetingRule.objects.filter(kind="representatives").update(quorum_num=4, quorum_den=5)
    topic = _reviewed(delib)
    meeting = run_meeting(topic, "representatives", eligible=10, voters=7)
    assert (meeting.quorum_num, meeting.quorum_den) == (4, 5)
    assert not meeting.quorum_met
    MeetingRule.objects.filter(kind="representatives").update(quorum_num=1, quorum_den=2)
    meeting.refresh_from_db()
    assert meeting.quorum_den == 5  # a past meeting keeps its rule


def test_party_meeting_passes_on_more_than_half_of_the_eligible(delib: Delib) -> None:
    topic = advance_to(new_topic(delib.world.community_a.pk), TopicStage.DELIBERATED)
    meeting = run_meeting(topic, "party_members", eligible=10, voters=8, votes_for=5)
    assert meeting.quorum_met
    assert not meeting.passed


def test_vote_by_someone_not_in_the_attendance_is_refused(delib: Delib) -> None:
    topic = _reviewed(delib)
    meeting = _open_meeting(topic)
    other = _open_meeting(
        advance_to(new_topic(delib.world.community_a.pk, title="另一议题"), TopicStage.REVIEWED)
    )
    stranger = actions.add_attendee(other.pk, actor=None, name="张三", is_representative=True)
    with pytest.raises(InvalidDeliberationInput) as caught:
        actions.cast_vote(meeting.pk, actor=delib.gw_a, attendance_id=stranger.pk, choice="for")
    assert "未登记到会" in caught.value.zh
    assert not meeting.votes.exists()


def test_non_voting_attendee_may_not_vote(delib: Delib) -> None:
    meeting = _open_meeting(_reviewed(delib))
    guest = actions.add_attendee(meeting.pk, actor=None, name="列席人", title="街道干部")
    with pytest.raises(InvalidDeliberationInput) as caught:
        actions.cast_vote(meeting.pk, actor=None, attendance_id=guest.pk, choice="for")
    assert "无表决权" in caught.value.zh


def test_duplicate_vote_is_refused_and_the_first_stays(delib: Delib) -> None:
    meeting = _open_meeting(_reviewed(delib))
    seat = actions.add_attendee(meeting.pk, actor=None, name="李四", is_representative=True)
    actions.cast_vote(meeting.pk, actor=delib.gw_a, attendance_id=seat.pk, choice="for")
    with pytest.raises(InvalidDeliberationInput) as caught:
        actions.cast_vote(meeting.pk, actor=delib.gw_a, attendance_id=seat.pk, choice="against")
    assert "重复" in caught.value.zh
    assert list(meeting.votes.values_list("choice", flat=True)) == ["for"]


def test_vote_on_a_closed_meeting_is_refused(delib: Delib) -> None:
    meeting = _open_meeting(_reviewed(delib))
    seat = actions.add_attendee(meeting.pk, actor=None, name="王五", is_representative=True)
    actions.close_meeting(meeting.pk, actor=None)
    with pytest.raises(StageNotAllowed) as caught:
        actions.cast_vote(meeting.pk, actor=delib.gw_a, attendance_id=seat.pk, choice="for")
    assert "会议已结束" in caught.value.zh
    assert not meeting.votes.exists()


def test_duplicate_attendee_is_refused(delib: Delib) -> None:
    meeting = _open_meeting(_reviewed(delib))
    actions.add_attendee(meeting.pk, actor=None, name="赵六", is_representative=True)
    with pytest.raises(InvalidDeliberationInput):
        actions.add_attendee(meeting.pk, actor=None, name="赵六")
    assert meeting.attendances.count() == 1


def test_more_voters_than_eligible_is_refused(delib: Delib) -> None:
    meeting = _open_meeting(_reviewed(delib), eligible=1)
    actions.add_attendee(meeting.pk, actor=None, name="甲", is_representative=True)
    with pytest.raises(InvalidDeliberationInput):
        actions.add_attendee(meeting.pk, actor=None, name="乙", is_representative=True)


def test_meeting_of_the_wrong_kind_for_the_stage_is_refused(delib: Delib) -> None:
    topic = new_topic(delib.world.community_a.pk)
    with pytest.raises(StageNotAllowed):
        actions.schedule_meeting(
            topic.pk, actor=None, kind="representatives", held_at=timezone.now(), eligible=5
        )


def test_second_open_meeting_is_refused(delib: Delib) -> None:
    topic = _reviewed(delib)
    _open_meeting(topic)
    with pytest.raises(StageNotAllowed):
        _open_meeting(topic)


def test_meeting_needs_a_positive_eligible_count(delib: Delib) -> None:
    topic = _reviewed(delib)
    with pytest.raises(InvalidDeliberationInput) as caught:
        actions.schedule_meeting(topic.pk, actor=None, kind="villagers", held_at=timezone.now(), eligible=0)
    assert caught.value.field == "eligible"
    assert not topic.meetings.filter(kind="villagers").exists()


def test_open_meeting_cannot_decide_a_step(delib: Delib) -> None:
    topic = _reviewed(delib)
    meeting = _open_meeting(topic)
    with pytest.raises(InvalidDeliberationInput):
        actions.resolve(topic.pk, actor=None, resolution="修路", meeting_id=meeting.pk)


def test_leader_may_not_run_a_meeting(delib: Delib) -> None:
    topic = _reviewed(delib)
    with pytest.raises(DeliberationForbidden):
        actions.schedule_meeting(
            topic.pk, actor=delib.leader, kind="representatives", held_at=timezone.now(), eligible=5
        )


def test_meeting_outside_scope_is_not_found(delib: Delib) -> None:
    meeting = _open_meeting(_reviewed(delib))
    with pytest.raises(DeliberationNotFound):
        actions.add_attendee(meeting.pk, actor=delib.gw_b, name="某人")


def test_link_case_only_after_resolution(delib: Delib) -> None:
    from yiwang.cases.models import Case

    topic = new_topic(delib.world.community_a.pk)
    with pytest.raises(StageNotAllowed):
        actions.link_case(
            topic.pk, actor=delib.gw_a, case_id=Case.objects.first().pk if Case.objects.exists() else 1
        )


def test_schedule_time_must_be_given(delib: Delib) -> None:
    topic = _reviewed(delib)
    with pytest.raises(InvalidDeliberationInput):
        actions.schedule_meeting(topic.pk, actor=None, kind="villagers", held_at=None, eligible=5)  # type: ignore[arg-type]
