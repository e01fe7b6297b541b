from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal

import pytest

from tests.world import World
from yiwang.analytics import metrics, rollup
from yiwang.analytics.models import MetricSettings

DAY = dt.date(2026, 3, 11)


def _row(world: World, *, street: int, department: int | None, **counts: int) -> None:
    # Through the rollup writer: every level (day, month, coarser ones) gets the counts.
    key = (DAY, world.district.pk, street, None, None, None, "hotline_12345", department)
    rollup.add({key: Counter(counts)})


@pytest.fixture
def example(world: World) -> World:
    # Street A: 10 dispatched, 8 signed in time; 10 called back: 6 solved, 5 satisfied, 3 basic.
    _row(
        world,
        street=world.street_a.pk,
        department=world.dept_a.pk,
        registered=12,
        dispatched=10,
        signed=10,
        signed_in_time=8,
        resolved=8,
        resolved_in_time=6,
        reworked=2,
        closed=6,
        closed_in_time=5,
        called_back=10,
        solved=6,
        satisfied=5,
        basically_satisfied=3,
        unsatisfied=2,
    )
    # Street B: other department, nothing called back.
    _row(
        world,
        street=world.street_b.pk,
        department=world.dept_b.pk,
        registered=4,
        dispatched=4,
        signed=4,
        signed_in_time=4,
    )
    return world


def test_three_rates_match_hand_computed_values(example: World) -> None:
    rows = {r.id: r for r in metrics.three_rates(start=DAY, end=DAY, group_by="street")}
    a = rows[example.street_a.pk]
    assert a.rates["response"] == pytest.approx(0.8)
    assert a.rates["solve"] == pytest.approx(0.6)
    assert a.rates["satisfaction"] == pytest.approx((5 + 0.9 * 3) / 10)
    assert a.score == pytest.approx(100 * (0.1 * 0.8 + 0.5 * 0.6 + 0.4 * 0.77))
    assert a.grade == "C"
    assert a.name == "长江路街道"


def test_weights_are_data(example: World) -> None:
    cfg = MetricSettings.current()
    cfg.basically_satisfied_weight = Decimal("0.5")
    cfg.response_weight, cfg.solve_weight, cfg.satisfaction_weight = (
        Decimal("0.3"),
        Decimal("0.35"),
        Decimal("0.35"),
    )
    cfg.save()
    a = next(r for r in metrics.three_rates(start=DAY, end=DAY) if r.id == example.street_a.pk)
    assert a.rates["satisfaction"] == pytest.approx(0.65)
    assert a.score == pytest.approx(100 * (0.3 * 0.8 + 0.35 * 0.6 + 0.35 * 0.65))


def test_the_weights_read_in_one_statement_are_the_settings_rows(db: None) -> None:
    # No row yet: the defaults are created, as MetricSettings.current() does.
    assert not MetricSettings.objects.exists()
    assert metrics.Weights.current() == metrics.Weights.of(MetricSettings.current())
    cfg = MetricSettings.current()
    cfg.basically_satisfied_weight, cfg.response_weight = Decimal("0.55"), Decimal("0.2")
    cfg.grade_a, cfg.grade_d = Decimal("95.5"), Decimal("30")
    cfg.save()
    weights = metrics.Weights.current()
    assert weights == metrics.Weights.of(cfg)
    assert (weights.basic, weights.response, weights.grades[0], weights.grades[3]) == (
        0.55,
        0.2,
        ("A", 95.5),
        ("D", 30.0),
    )


def test_city_management_evaluation_matches_hand_computed_values(example: World) -> None:
    rows = {r.id: r for r in metrics.evaluation(start=DAY, end=DAY, group_by="department")}
    a = rows[example.dept_a.pk]
    assert a.rates["registered"] == 12
    assert a.rates["close_rate"] == pytest.approx(0.6)
    assert a.rates["on_time_close_rate"] == pytest.approx(0.5)
    assert a.rates["rework_rate"] == pytest.approx(0.25)


def test_a_period_outside_the_data_is_empty(example: World) -> None:
    assert metrics.three_rates(start=DAY + dt.timedelta(days=1), end=DAY + dt.timedelta(days=30)) == []


def test_metrics_are_scoped_to_the_users_areas_and_departments(example: World) -> None:
    def streets(user: object) -> set[int | None]:
        return {r.id for r in metrics.three_rates(start=DAY, end=DAY, group_by="street", user=user)}

    assert streets(example.leader) == {example.street_a.pk, example.street_b.pk}
    assert streets(example.dispatcher_a) == {example.street_a.pk}
    assert streets(example.handler_b) == {example.street_b.pk}
    assert streets(example.handler_a_sub) == set()
    assert streets(example.outsider) == set()
