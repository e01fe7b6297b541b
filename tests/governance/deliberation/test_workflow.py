"""Every transition × role, the timeline, and the stage rules."""

from __future__ import annotations

import pytest

from tests.governance.deliberation.conftest import Delib, advance_to, new_topic, run_meeting
from yiwang.governance.deliberation import actions, workflow
from yiwang.governance.deliberation.errors import (
    DeliberationForbidden,
    DeliberationNotFound,
    InvalidDeliberationInput,
    StageNotAllowed,
)
from yiwang.governance.deliberation.models import TopicEvent, TopicStage

INPUTS = {"proposal": "提议", "resolution": "决议", "result": "已完成", "reason": "不符合政策"}
PERSONAS = ("gw_a", "admin", "leader")
ROLE_OF = {"gw_a": "grid_worker", "admin": "administrator", "leader": "leader"}
CASES = [
    (name, persona) for name, t in workflow.TRANSITIONS.items() if name != "submit" for persona in PERSONAS
]


def _prepare(delib: Delib, name: str):  # type: ignore[no-untyped-def]
    t = workflow.TRANSITIONS[name]
    source = sorted(t.sources)[0] if name not in ("reject", "withdraw") else TopicStage.PROPOSED
    topic = advance_to(new_topic(delib.world.community_a.pk), source)
    for kind in workflow.MEETING_KINDS.get(name, ())[:1]:
        run_meeting(topic, kind)
    return topic


@pytest.mark.parametrize(("name", "persona"), CASES)
def test_transition_allowed_exactly_for_the_roles_of_the_table(delib: Delib, name: str, persona: str) -> None:
    topic = _prepare(delib, name)
    actor = getattr(delib, persona)
    allowed = ROLE_OF[persona] in workflow.TRANSITIONS[name].roles
    if allowed:
        done = actions.take(name, topic.pk, actor=actor, **INPUTS)
        assert done.stage == workflow.TRANSITIONS[name].target
        last = TopicEvent.objects.filter(topic=topic).last()
        assert last is not None
        assert last.kind == name
        assert last.actor == actor
    else:
        events = TopicEvent.objects.filter(topic=topic).count()
        with pytest.raises(DeliberationForbidden):
            actions.take(name, topic.pk, actor=actor, **INPUTS)
        topic.refresh_from_db()
        assert TopicEvent.objects.filter(topic=topic).count() == events


@pytest.mark.parametrize("name", [n for n in workflow.TRANSITIONS if n != "submit"])
def test_transition_outside_scope_is_not_found(delib: Delib, name: str) -> None:
    topic = _prepare(delib, name)
    for actor in (delib.gw_b, delib.leader_b, delib.dispatcher, delib.outsider):
        with pytest.raises(DeliberationNotFound):
            actions.take(name, topic.pk, actor=actor, **INPUTS)


def test_full_procedure_writes_one_event_per_step_in_order(delib: Delib) -> None:
    topic = advance_to(new_topic(delib.world.community_a.pk, delib.gw_a), TopicStage.RESULT_PUBLISHED)
    steps = [e.kind for e in topic.events.all() if e.from_stage or e.kind == "submit"]
    assert steps == [
        "submit",
        "propose",
        "deliberate",
        "review",
        "resolve",
        "publish_resolution",
        "publish_result",
    ]
    assert topic.proposed_at
    assert topic.resolved_at
    assert topic.result_published_at


def test_skipping_a_step_is_refused_with_the_stage_in_the_message(delib: Delib) -> None:
    topic = new_topic(delib.world.community_a.pk)
    with pytest.raises(StageNotAllowed) as caught:
        actions.publish_resolution(topic.pk, actor=delib.gw_a)
    assert "已收集" in caught.value.zh


def test_withdraw_is_refused_after_committees_deliberated(delib: Delib) -> None:
    topic = advance_to(new_topic(delib.world.community_a.pk), TopicStage.DELIBERATED)
    with pytest.raises(StageNotAllowed):
        actions.withdraw(topic.pk, actor=delib.gw_a, reason="不办了")


def test_reject_needs_a_reason_and_writes_nothing_without_one(delib: Delib) -> None:
    topic = new_topic(delib.world.community_a.pk)
    with pytest.raises(InvalidDeliberationInput) as caught:
        actions.reject(topic.pk, actor=delib.leader, reason="  ")
    assert caught.value.field == "reason"
    topic.refresh_from_db()
    assert topic.stage == TopicStage.COLLECTED


def test_resolve_needs_the_resolution_text(delib: Delib) -> None:
    topic = advance_to(new_topic(delib.world.community_a.pk), TopicStage.REVIEWED)
    run_meeting(topic, "representatives")
    with pytest.raises(InvalidDeliberationInput):
        actions.resolve(topic.pk, actor=delib.gw_a, resolution="")


def test_submit_outside_own_community_is_refused(delib: Delib) -> None:
    with pytest.raises(InvalidDeliberationInput) as caught:
        actions.submit_topic(actor=delib.gw_a, title="议题", community=delib.world.community_b.pk)
    assert caught.value.field == "community"


def test_submit_from_a_case_needs_the_case(delib: Delib) -> None:
    with pytest.raises(InvalidDeliberationInput):
        actions.submit_topic(
            actor=delib.gw_a, title="议题", community=delib.world.community_a.pk, origin="case"
        )


def test_leader_may_not_submit_a_topic(delib: Delib) -> None:
    with pytest.raises(DeliberationForbidden):
        actions.submit_topic(actor=delib.leader, title="议题", community=delib.world.community_a.pk)


def test_allowed_lists_only_the_transitions_of_stage_and_role() -> None:
    names = [t.name for t in workflow.allowed(TopicStage.COLLECTED, ["leader"])]
    assert names == ["reject"]
    names = [t.name for t in workflow.allowed(TopicStage.COLLECTED, ["grid_worker"])]
    assert names == ["propose", "reject", "withdraw"]
