"""The coarser levels of the rollups (months; street, district, category and grid tables): kept with
the daily rows, checked by verify, and giving the same totals as the daily rows alone for any
period, grouping and scope."""

from __future__ import annotations

import datetime as dt
import importlib
import random
from types import SimpleNamespace
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.db import connection
from django.db.models import QuerySet, Sum
from django.utils import timezone

from tests.analytics.helpers import play
from tests.world import World
from yiwang.analytics import metrics, rebuild, rollup, scored
from yiwang.analytics.models import (
    DAILY,
    MILESTONES,
    DayDistrictCategoryRollup,
    MonthCategoryRollup,
    MonthDistrictCategoryRollup,
    MonthDistrictRollup,
    MonthGridRollup,
    MonthlyRollup,
    WeekCategoryRollup,
    WeekDepartmentRollup,
    WeekDistrictCategoryRollup,
    WeekGridRollup,
    YearCategoryRollup,
    YearDistrictCategoryRollup,
    YearGridRollup,
)
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


def test_the_month_so_far_is_read_as_a_month_since_nothing_happened_after_today() -> None:
    today = D(2026, 11, 25)
    assert split_period(D(2026, 11, 1), today, today=today) == Split((D(2026, 11, 1),), ())
    assert split_period(D(2026, 1, 1), today, today=today).months[-1] == D(2026, 11, 1)
    # A period ending before today keeps its edge days; one starting mid-month too.
    assert split_period(D(2026, 11, 1), D(2026, 11, 20), today=today).months == ()
    assert split_period(D(2026, 11, 3), today, today=today).months == ()


def test_whole_years_are_read_as_years_when_asked() -> None:
    today = D(2026, 11, 26)
    # This year so far is a whole year: nothing happened after today.
    assert split_period(D(2026, 1, 1), today, today=today, years=True) == Split((), (), (D(2026, 1, 1),))
    # A past year, the months of the next one, edge days on both sides.
    assert split_period(D(2024, 12, 20), D(2026, 3, 5), years=True) == Split(
        (D(2026, 1, 1), D(2026, 2, 1)),
        ((D(2024, 12, 20), D(2024, 12, 31)), (D(2026, 3, 1), D(2026, 3, 5))),
        (D(2025, 1, 1),),
    )
    # The last twelve months: last December and this year so far. A year that started before
    # ``start`` is not whole.
    assert split_period(D(2025, 12, 1), today, today=today, years=True) == Split(
        (D(2025, 12, 1),), (), (D(2026, 1, 1),)
    )
    assert split_period(D(2026, 3, 1), today, today=today, years=True) == split_period(
        D(2026, 3, 1), today, today=today
    )


def test_whole_weeks_are_taken_out_of_the_edge_days_when_asked() -> None:
    # 2026-05-10 is a Sunday, 2026-11-17 a Tuesday.
    assert split_period(D(2026, 5, 10), D(2026, 11, 17), weeks=True) == Split(
        (D(2026, 6, 1), D(2026, 7, 1), D(2026, 8, 1), D(2026, 9, 1), D(2026, 10, 1)),
        (
            (D(2026, 5, 10), D(2026, 5, 10)),
            (D(2026, 11, 1), D(2026, 11, 1)),
            (D(2026, 11, 16), D(2026, 11, 17)),
        ),
        weeks=(D(2026, 5, 11), D(2026, 5, 18), D(2026, 5, 25), D(2026, 11, 2), D(2026, 11, 9)),
    )
    # A range shorter than a week, or with no Monday-to-Sunday inside, stays days.
    assert split_period(D(2026, 2, 3), D(2026, 2, 8), weeks=True) == Split(
        (), ((D(2026, 2, 3), D(2026, 2, 8)),)
    )
    # Exactly one week.
    assert split_period(D(2026, 2, 2), D(2026, 2, 8), weeks=True) == Split((), (), weeks=(D(2026, 2, 2),))
    # This week so far is a whole week (its days after today have nothing yet), as a month is.
    today = D(2026, 11, 26)  # a Thursday
    assert split_period(D(2026, 11, 3), today, today=today, weeks=True).weeks == (
        D(2026, 11, 9),
        D(2026, 11, 16),
        D(2026, 11, 23),
    )
    # Whole months and years are never split into weeks.
    assert split_period(D(2026, 1, 1), today, today=today, years=True, weeks=True) == Split(
        (), (), (D(2026, 1, 1),)
    )


def _orm_sums(qs: QuerySet[Any], group: tuple[str, ...]) -> metrics.Sums:
    """The daily rows summed by the ORM's own queries: the reference for the planner's statements."""
    annotations = {f"n_{m}": Sum(m) for m in MILESTONES}
    if not group:
        totals = qs.aggregate(**annotations)
        return {(): {m: totals[f"n_{m}"] or 0 for m in MILESTONES}}
    return {
        tuple(row[g] for g in group): {m: row[f"n_{m}"] for m in MILESTONES}
        for row in qs.values(*group).annotate(**annotations).order_by()
    }


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
        # Whole years so far (the grid table reads the year level).
        (first.replace(month=1, day=1), max(last, timezone.localdate())),
    ]
    groupings = [("district_id",), ("street_id",), ("department_id",), ("community_id",), ("grid_id",),
                 ("category_id",), ("channel",), (), ("day",)]  # fmt: skip
    for user in (None, world.leader, world.dispatcher_a, world.handler_a, world.grid_worker_a1):
        for group in groupings:
            for start, end in periods:
                planned = metrics.period_sums(start, end, group, user)
                daily = _orm_sums(
                    metrics.rollups_visible_to(user).filter(day__gte=start, day__lte=end), group
                )
                assert {k: v for k, v in planned.items() if any(v.values())} == {
                    k: v for k, v in daily.items() if any(v.values())
                }, (user, group, start, end)


def test_the_planner_reads_the_smallest_level_that_keeps_the_dimensions() -> None:
    assert metrics.choose_level("month", {"district_id"}).model is MonthDistrictRollup  # type: ignore[union-attr]
    assert metrics.choose_level("month", {"street_id", "department_id"}).model is MonthlyRollup  # type: ignore[union-attr]
    assert metrics.choose_level("month", {"grid_id"}).model is MonthGridRollup  # type: ignore[union-attr]
    assert metrics.choose_level("month", {"grid_id", "category_id"}) is None
    assert metrics.choose_level("day", {"grid_id", "category_id"}) is DAILY
    assert metrics.choose_level("year", {"grid_id"}).model is YearGridRollup  # type: ignore[union-attr]
    assert metrics.choose_level("year", {"category_id"}).model is YearDistrictCategoryRollup  # type: ignore[union-attr]
    assert metrics.choose_level("year", {"street_id", "category_id"}).model is YearCategoryRollup  # type: ignore[union-attr]
    assert metrics.choose_level("year", {"channel"}) is None
    assert metrics.choose_level("week", {"grid_id"}).model is WeekGridRollup  # type: ignore[union-attr]
    assert metrics.choose_level("week", {"district_id", "category_id"}).model is WeekDistrictCategoryRollup  # type: ignore[union-attr]
    assert metrics.choose_level("week", {"street_id", "category_id"}).model is WeekCategoryRollup  # type: ignore[union-attr]
    assert metrics.choose_level("month", {"category_id"}).model is MonthDistrictCategoryRollup  # type: ignore[union-attr]
    assert metrics.choose_level("day", {"district_id", "category_id"}).model is DayDistrictCategoryRollup  # type: ignore[union-attr]
    assert metrics.choose_level("week", {"department_id"}).model is WeekDepartmentRollup  # type: ignore[union-attr]
    assert metrics.choose_level("week", {"channel"}) is None


def test_a_month_is_never_summed_from_weeks_that_straddle_months() -> None:
    month_grid = metrics.choose_level("month", {"grid_id"})
    week_grid = metrics.choose_level("week", {"grid_id"})
    assert month_grid is not None
    assert week_grid is not None
    assert rollup.smallest_source(month_grid, [DAILY, week_grid]) is DAILY
    assert rollup.smallest_source(week_grid, [DAILY, month_grid]) is DAILY
    assert rollup.fill_order().index(week_grid) < rollup.fill_order().index(month_grid)


@pytest.mark.django_db
def test_the_migration_that_adds_the_year_category_level_sums_an_installations_month_rows(
    world: World,
) -> None:
    play(world, random.Random(8), cases=12, steps=150, between=lambda: None)
    rollup.catch_up()
    assert MonthCategoryRollup.objects.exists()
    expected = set(YearCategoryRollup.objects.values_list("key", "registered", "dispatched", "satisfied"))
    YearCategoryRollup.objects.all().delete()  # as the migration finds an older installation
    migration = importlib.import_module("yiwang.analytics.migrations.0007_year_category_level")
    migration.fill_from_months(django_apps, None)
    assert (
        set(YearCategoryRollup.objects.values_list("key", "registered", "dispatched", "satisfied"))
        == expected
    )
    assert rollup.verify() == []


@pytest.mark.django_db
def test_verify_reports_a_tampered_month_row_and_rebuild_repairs_it(world: World) -> None:
    play(world, random.Random(9), cases=3, steps=20, between=lambda: None)
    rollup.catch_up()
    MonthlyRollup.objects.filter(pk=MonthlyRollup.objects.order_by("pk").first().pk).update(registered=99)  # type: ignore[union-attr]
    diffs = rollup.verify()
    assert [(d.level, d.milestone, d.stored) for d in diffs] == [("monthlyrollup", "registered", 99)]
    rebuild.rebuild()
    assert rollup.verify() == []


def _python_order(r: metrics.Row) -> tuple[bool, float, bool, str]:
    return (r.score is None, r.score or 0.0, r.id is None, r.name)


@pytest.mark.django_db
def test_lowest_scores_are_the_first_rows_of_the_sorted_grid_table(world: World) -> None:
    play(world, random.Random(12), cases=40, steps=500, between=lambda: None)
    rollup.catch_up()
    today = timezone.localdate()
    for start, end in (
        (today - dt.timedelta(days=400), today),
        (today - dt.timedelta(days=45), today - dt.timedelta(days=3)),
    ):
        for group_by in ("grid", "street", "department"):
            for user in (
                None,
                world.leader,
                world.dispatcher_a,
                world.grid_worker_a1,
                world.handler_a,
                world.outsider,
            ):
                table = metrics.three_rates(
                    start=start, end=end, group_by=group_by, user=user, milestones=metrics.RATE_MILESTONES
                )  # type: ignore[arg-type]
                table.sort(key=_python_order)  # stable: ties stay in id order
                for limit in (1, 2, 50, None):
                    rows, count = scored.lowest_scores(
                        start=start,
                        end=end,
                        group_by=group_by,  # type: ignore[arg-type]
                        user=user,
                        limit=limit,
                    )
                    assert count == len(table)
                    assert [(r.id, r.name, r.counts, r.score, r.rates, r.grade) for r in rows] == [
                        (r.id, r.name, r.counts, r.score, r.rates, r.grade) for r in table[:limit]
                    ]


@pytest.mark.django_db
def test_the_databases_scores_equal_pythons_for_every_group(world: World) -> None:
    play(world, random.Random(5), cases=40, steps=500, between=lambda: None)
    rollup.catch_up()
    today = timezone.localdate()
    start, end = today - dt.timedelta(days=60), today
    milestones = (*metrics.RATE_MILESTONES, "registered")
    for group_by in ("grid", "street"):
        rows = metrics.three_rates(
            start=start, end=end, group_by=group_by, user=world.leader, milestones=milestones
        )  # type: ignore[arg-type]
        expected = {
            "registered": {r.id: r.counts["registered"] for r in rows if r.id is not None},
            "score": {r.id: r.score for r in rows if r.id is not None},
            **{
                rate: {r.id: r.rates[rate] for r in rows if r.id is not None}
                for rate in ("response", "solve", "satisfaction")
            },
        }
        assert any(v is not None for v in expected["score"].values())
        for value, by_group in expected.items():
            got = scored.values_by(
                value, start=start, end=end, group_by=group_by, user=world.leader, milestones=milestones
            )  # type: ignore[arg-type]
            assert got.as_dict() == by_group


@pytest.mark.django_db
def test_scores_of_an_empty_scope_or_an_unknown_value() -> None:
    today = timezone.localdate()
    assert scored.lowest_scores(start=today, end=today, group_by="grid") == ([], 0)
    with pytest.raises(ValueError, match="unknown value"):
        scored.values_by("registered; DROP TABLE x", start=today, end=today, group_by="grid")


@pytest.mark.django_db
def test_the_migration_that_adds_the_week_levels_sums_an_installations_day_rows(world: World) -> None:
    play(world, random.Random(9), cases=12, steps=150, between=lambda: None)
    rollup.catch_up()

    def rows() -> set[tuple[object, ...]]:
        fields = ("key", "week", "registered", "solved", "overdue")
        return set(WeekGridRollup.objects.values_list("grid_id", *fields)) | set(
            WeekCategoryRollup.objects.values_list("category_id", *fields)
        )

    expected = rows()
    assert len({row[2] for row in expected}) > 3  # several weeks
    WeekGridRollup.objects.all().delete()  # as the migration finds an older installation
    WeekCategoryRollup.objects.all().delete()
    migration = importlib.import_module("yiwang.analytics.migrations.0008_week_levels")
    # The function reads only the editor's connection (a real editor cannot open inside the test's
    # transaction on SQLite).
    migration.fill_from_days(django_apps, SimpleNamespace(connection=connection))
    assert rows() == expected
    assert rollup.verify() == []


@pytest.mark.django_db
def test_the_migration_that_adds_the_district_category_levels_sums_an_installations_street_rows(
    world: World,
) -> None:
    play(world, random.Random(10), cases=12, steps=150, between=lambda: None)
    rollup.catch_up()
    tables = (
        DayDistrictCategoryRollup,
        WeekDistrictCategoryRollup,
        MonthDistrictCategoryRollup,
        YearDistrictCategoryRollup,
    )

    def rows() -> set[tuple[object, ...]]:
        fields = ("key", "district_id", "category_id", "registered", "solved", "overdue")
        return {(model.__name__, *row) for model in tables for row in model.objects.values_list(*fields)}

    expected = rows()
    assert {row[0] for row in expected} == {model.__name__ for model in tables}
    for model in tables:
        model.objects.all().delete()  # as the migration finds an older installation
    migration = importlib.import_module("yiwang.analytics.migrations.0009_district_category_levels")
    migration.fill_from_streets(django_apps, SimpleNamespace(connection=connection))
    assert rows() == expected
    assert rollup.verify() == []


@pytest.mark.django_db
def test_the_migration_that_adds_the_week_department_level_sums_an_installations_day_rows(
    world: World,
) -> None:
    play(world, random.Random(11), cases=12, steps=150, between=lambda: None)
    rollup.catch_up()
    fields = ("key", "week", "district_id", "department_id", "registered", "signed_in_time", "overdue")
    expected = set(WeekDepartmentRollup.objects.values_list(*fields))
    assert len({row[1] for row in expected}) > 3  # several weeks
    WeekDepartmentRollup.objects.all().delete()  # as the migration finds an older installation
    migration = importlib.import_module("yiwang.analytics.migrations.0010_week_department_level")
    migration.fill_from_days(django_apps, SimpleNamespace(connection=connection))
    assert set(WeekDepartmentRollup.objects.values_list(*fields)) == expected
    assert rollup.verify() == []
