"""The month level of the rollups: kept with the daily rows, checked by verify, and giving the same
totals as the daily rows for any period, grouping and scope."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from tests.analytics.helpers import play
from tests.world import World
from yiwang.analytics import metrics, rollup
from yiwang.analytics.models import MonthlyRollup
from yiwang.analytics.periods import Split, split_period

D = dt.date


def test_a_period_splits_into_whole_months_and_edge_days() -> None:
    assert split_period(D(2026, 1, 15), D(2026, 4, 10)) == Split(
        (D(2026, 2, 1), D(2026, 3, 1)), ((D(2026, 1, 15), D(2026, 1, 31)), (D(2026, 4, 1), D(2026, 4, 10)))
    )
    assert split_period(D(2026, 2, 1), D(2026, 2, 28)) == Split((D(2026, 2, 1),), ())
    assert split_period(D(2026, 2, 3), D(2026, 2, 20)) == Split((), ((D(2026, 2, 3), D(2026, 2, 20)),))
    assert split_period(D(2025, 12, 1), D(2026, 1, 31)).months == (D(2025, 12, 1), D(2026, 1, 1))
    assert split_period(D(2026, 3, 2), D(2026, 3, 1)) == Split((), ())


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [4, 5])
def test_month_rows_give_the_same_totals_as_the_daily_rows(world: World, seed: int) -> None:
    rng = random.Random(seed)
    play(world, rng, cases=8, steps=120, between=lambda: rollup.catch_up(batch=rng.choice([2, 40])))
    rollup.catch_up()
    assert MonthlyRollup.objects.exists()
    assert rollup.verify() == []
    first = min(metrics.rollups_visible_to(None).values_list("day", flat=True))
    last = max(metrics.rollups_visible_to(None).values_list("day", flat=True))
    periods = [
        (first, last),
        (first.replace(day=1), last),
        (first + dt.timedelta(days=9), last - dt.timedelta(days=3)),
    ]
    for user in (None, world.leader, world.dispatcher_a, world.handler_a):
        for group_by in ("district", "street", "department"):
            for start, end in periods:
                by_month = {
                    r.id: r.counts for r in metrics.totals(start=start, end=end, group_by=group_by, user=user)
                }
                by_day = metrics._sums(
                    metrics.rollups_visible_to(user).filter(day__gte=start, day__lte=end), f"{group_by}_id"
                )
                assert by_month == by_day, (user, group_by, start, end)


@pytest.mark.django_db
def test_verify_reports_a_tampered_month_row_and_rebuild_repairs_it(world: World) -> None:
    play(world, random.Random(9), cases=3, steps=20, between=lambda: None)
    rollup.catch_up()
    MonthlyRollup.objects.filter(pk=MonthlyRollup.objects.order_by("pk").first().pk).update(registered=99)  # type: ignore[union-attr]
    diffs = rollup.verify()
    assert [(d.level, d.milestone, d.stored) for d in diffs] == [("month", "registered", 99)]
    rollup.rebuild()
    assert rollup.verify() == []
