from __future__ import annotations

import random
from collections import Counter

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.analytics.helpers import direct_counts, play, stored, totals_by_milestone
from tests.cases.conftest import IN_A1, WEDNESDAY, new_case
from tests.world import World
from yiwang.analytics import rebuild, rollup
from yiwang.analytics.models import DailyRollup, ProcessedEvent, RollupState
from yiwang.cases import actions


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_incremental_counts_equal_a_rebuild_and_the_events(world: World, seed: int) -> None:
    rng = random.Random(seed)
    play(world, rng, cases=6, steps=90, between=lambda: rollup.catch_up(batch=rng.choice([1, 3, 50])))
    rollup.catch_up(batch=7)
    incremental = stored()
    assert rollup.verify() == []
    assert sum(incremental.values(), Counter())["registered"] == 6
    rebuild.rebuild(chunk=3)
    assert stored() == incremental
    assert +totals_by_milestone() == direct_counts()


def test_catch_up_twice_counts_nothing_the_second_time(world: World) -> None:
    case = new_case(world, at=WEDNESDAY)
    actions.dispatch_case(case.pk, actor=world.admin, lead=world.dept_a, at=WEDNESDAY)
    assert rollup.catch_up() == 2
    before = stored()
    assert rollup.catch_up() == 0
    assert stored() == before
    assert RollupState.objects.get().high_water == case.events.order_by("-pk").first().pk  # type: ignore[union-attr]


def test_an_event_committed_late_below_the_mark_is_still_counted(world: World) -> None:
    first = new_case(world, at=WEDNESDAY)
    second = new_case(world, IN_A1, at=WEDNESDAY)
    rollup.catch_up()
    # Simulate a transaction that took the lower id but committed after the mark moved past it.
    late = first.events.get()
    ProcessedEvent.objects.filter(event_id=late.pk).delete()
    DailyRollup.objects.all().delete()
    assert rollup.catch_up() == 1
    assert totals_by_milestone()["registered"] == 1
    assert second.pk > first.pk


def test_verify_reports_a_tampered_row_and_rebuild_repairs_it(world: World) -> None:
    case = new_case(world, at=WEDNESDAY)
    actions.dispatch_case(case.pk, actor=world.admin, lead=world.dept_a, at=WEDNESDAY)
    rollup.catch_up()
    row = DailyRollup.objects.filter(dispatched=1).get()
    DailyRollup.objects.filter(pk=row.pk).update(dispatched=5)
    diffs = rollup.verify()
    assert [(d.milestone, d.stored, d.expected) for d in diffs] == [("dispatched", 5, 1)]
    with pytest.raises(CommandError, match="不一致"):
        call_command("rollup", "verify")
    call_command("rollup", "rebuild")
    call_command("rollup", "verify")
    assert rollup.verify() == []


def test_sign_after_a_recorded_breach_is_not_in_time(world: World) -> None:
    import datetime as dt

    from yiwang.cases import sla

    case = new_case(world, at=WEDNESDAY)
    actions.dispatch_case(case.pk, actor=world.admin, lead=world.dept_a, at=WEDNESDAY)
    later = WEDNESDAY + dt.timedelta(days=10)
    assert sla.scan_breaches(later) == 1
    actions.sign_case(case.pk, actor=world.handler_a, at=later)
    rollup.catch_up()
    totals = totals_by_milestone()
    assert (totals["signed"], totals["signed_in_time"], totals["overdue"]) == (1, 0, 1)
    assert DailyRollup.objects.filter(signed=1, department=world.dept_a).exists()
