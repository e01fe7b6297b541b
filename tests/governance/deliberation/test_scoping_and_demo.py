"""Scoping of every model (outside scope = absent), statistics, the venues layer and the demo step."""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest

from tests.governance.deliberation.conftest import Delib, advance_to, new_topic
from yiwang.demo.gov_deliberation import build_deliberation, delete_deliberation
from yiwang.governance.deliberation import actions, queries
from yiwang.governance.deliberation.models import (
    Attendance,
    Meeting,
    Topic,
    TopicEvent,
    TopicStage,
    Venue,
    Vote,
)


def test_each_persona_sees_exactly_the_topics_of_its_area(delib: Delib) -> None:
    a = new_topic(delib.world.community_a.pk)
    b = new_topic(delib.world.community_b.pk)
    expected = {
        "gw_a": {a.pk},
        "gw_b": {b.pk},
        "leader": {a.pk, b.pk},
        "leader_b": {b.pk},
        "admin": {a.pk, b.pk},
        "dispatcher": set(),
        "outsider": set(),
    }
    for persona, pks in expected.items():
        user = getattr(delib, persona)
        assert set(Topic.objects.visible_to(user).values_list("pk", flat=True)) == pks, persona


def test_meetings_attendance_votes_and_events_follow_their_topic(delib: Delib) -> None:
    advance_to(new_topic(delib.world.community_b.pk), TopicStage.DELIBERATED)
    for model in (Meeting, Attendance, Vote, TopicEvent):
        assert model.objects.exists()
        assert not model.objects.visible_to(delib.gw_a).exists()  # type: ignore[attr-defined]
        assert model.objects.visible_to(delib.gw_b).count() == model.objects.count()  # type: ignore[attr-defined]


def test_grid_worker_with_only_a_grid_post_sees_the_grid_community(delib: Delib) -> None:
    from tests.factories import UserFactory, attach_to_grid, grant
    from yiwang.people.models import Role

    worker = grant(UserFactory(username="gw_post_only"), Role.GRID_WORKER)
    attach_to_grid(worker, delib.world.grid_b1)
    b = new_topic(delib.world.community_b.pk)
    new_topic(delib.world.community_a.pk)
    assert list(Topic.objects.visible_to(worker).values_list("pk", flat=True)) == [b.pk]


def test_stats_count_stages_resolutions_and_days(delib: Delib) -> None:
    advance_to(new_topic(delib.world.community_a.pk), TopicStage.RESULT_PUBLISHED)
    new_topic(delib.world.community_a.pk)
    new_topic(delib.world.community_b.pk)
    s = queries.stats(delib.gw_a)
    counts = {stage: n for stage, _label, n in s.by_stage}
    assert counts[TopicStage.COLLECTED] == 1
    assert counts[TopicStage.RESULT_PUBLISHED] == 1
    assert (s.total, s.resolutions_passed, s.results_published) == (2, 1, 1)
    assert s.average_days_to_result is not None
    assert s.average_days_to_result >= 0


def test_venues_layer_is_scoped_and_counts_topics(delib: Delib) -> None:
    venue_a = actions.create_venue(
        actor=delib.gw_a, community=delib.world.community_a, name="A议事厅", lng=120.0, lat=35.9
    )
    actions.create_venue(actor=None, community=delib.world.community_b, name="B议事厅", lng=120.1, lat=35.9)
    actions.submit_topic(
        actor=delib.gw_a, title="议题", community=delib.world.community_a.pk, venue=venue_a.pk
    )
    layer = queries.venues_geojson(delib.gw_a)
    assert [f["properties"]["name"] for f in layer["features"]] == ["A议事厅"]
    assert layer["features"][0]["properties"]["topics"] == 1
    assert len(queries.venues_geojson(delib.leader)["features"]) == 2


def test_venue_of_another_community_is_refused(delib: Delib) -> None:
    from yiwang.governance.deliberation.errors import InvalidDeliberationInput

    with pytest.raises(InvalidDeliberationInput):
        actions.create_venue(actor=delib.gw_a, community=delib.world.community_b, name="越界议事厅")
    venue_b = actions.create_venue(actor=None, community=delib.world.community_b, name="B议事厅")
    with pytest.raises(InvalidDeliberationInput):
        actions.submit_topic(
            actor=delib.gw_a, title="议题", community=delib.world.community_a.pk, venue=venue_b.pk
        )
    assert not Venue.objects.visible_to(delib.gw_a).exists()


def test_demo_builds_topics_at_every_stage_and_resets(delib: Delib) -> None:
    ctx = SimpleNamespace(rng=lambda key: random.Random(f"1:{key}"), scale=1.0)
    summary = build_deliberation(ctx)  # type: ignore[arg-type]
    assert "议题" in summary
    stages = set(Topic.objects.values_list("stage", flat=True))
    assert {TopicStage.COLLECTED, TopicStage.RESULT_PUBLISHED, TopicStage.REJECTED} <= stages
    assert all(t.is_demo for t in Topic.objects.all())
    assert queries.stats(delib.admin).average_days_to_result is not None
    assert queries.venues_geojson(delib.admin)["features"]
    delete_deliberation()
    assert not Topic.objects.exists()
    assert not Venue.objects.exists()
