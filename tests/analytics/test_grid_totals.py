"""Every grid's running totals (analytics.grid_totals): the grid tables read from them equal the
tables summed from the rollup rows, whatever the period, the scope and how far the totals are
filled; counts of an earlier day move them back; damaged rows are reported and never read."""

from __future__ import annotations

import datetime as dt
import random
import zlib
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.analytics.helpers import play
from tests.cases.conftest import IN_A1, new_case
from tests.world import World
from yiwang.analytics import grid_totals, metrics, rebuild, rollup, scored
from yiwang.analytics.models import GridTotals, MetricSettings, RollupState
from yiwang.analytics.tasks import rollup_catch_up
from yiwang.cases.models import Case

D = dt.date
DAY = dt.timedelta(days=1)
READS_A_ROW = 'SELECT id, day, data FROM "analytics_gridtotals"'  # a stored row's totals read


def _through() -> dt.date | None:
    return RollupState.objects.get(pk=1).grid_totals_through


def _periods(first: dt.date, today: dt.date) -> list[tuple[dt.date, dt.date]]:
    """Periods before, across and after the days the totals hold, and ending in the future."""
    return [
        (first - 5 * DAY, today),
        (first + 3 * DAY, first + 40 * DAY),
        (first + 17 * DAY, today - 2 * DAY),
        (today - 60 * DAY, today + 30 * DAY),
        (first + 100 * DAY, first + 100 * DAY),
    ]


def _python_order(r: metrics.Row) -> tuple[bool, float, bool, str]:
    return (r.score is None, r.score or 0.0, r.id is None, r.name)


def _assert_grid_tables_equal_the_rows(world: World, start: dt.date, end: dt.date, user: Any) -> None:
    table = metrics.three_rates(
        start=start, end=end, group_by="grid", user=user, milestones=grid_totals.GRID_MILESTONES
    )
    table.sort(key=_python_order)
    for limit in (1, 3, 50, None):
        rows, count = scored.lowest_scores(start=start, end=end, group_by="grid", user=user, limit=limit)
        assert count == len(table)
        assert [(r.id, r.name, r.counts, r.score, r.rates, r.grade) for r in rows] == [
            (r.id, r.name, {m: r.counts[m] for m in metrics.RATE_MILESTONES}, r.score, r.rates, r.grade)
            for r in table[:limit]
        ]
    placed = [r for r in table if r.id is not None]
    expected: dict[str, dict[Any, Any]] = {
        "score": {r.id: r.score for r in placed},
        "registered": {r.id: r.counts["registered"] for r in placed},
        "overdue": {r.id: r.counts["overdue"] for r in placed},
        **{rate: {r.id: r.rates[rate] for r in placed} for rate in ("response", "solve", "satisfaction")},
    }
    for value, by_grid in expected.items():
        got = scored.values_by(
            value, start=start, end=end, group_by="grid", user=user, milestones=grid_totals.GRID_MILESTONES
        )
        assert got.as_dict() == by_grid, value


def _filled() -> dt.date:
    """Fill the totals up to today; returns the first day with rollup rows."""
    first = grid_totals._first_rollup_day()
    assert first is not None
    grid_totals.fill()
    return first


@pytest.fixture
def played(world: World) -> World:
    play(world, random.Random(21), cases=30, steps=400, between=lambda: None)
    rollup.catch_up()
    return world


@pytest.mark.django_db
@pytest.mark.parametrize("filled", ["through today", "part way"])
def test_grid_tables_from_the_totals_equal_the_rollup_rows_for_any_period_and_scope(
    played: World, filled: str
) -> None:
    world, today = played, timezone.localdate()
    first = grid_totals._first_rollup_day()
    assert first is not None
    grid_totals.fill(until=None if filled == "through today" else first + 30 * DAY)
    assert _through() == (today if filled == "through today" else first + 30 * DAY)
    assert GridTotals.objects.exists()
    for start, end in _periods(first, today):
        if start - DAY <= _through():  # type: ignore[operator]
            assert grid_totals.period_sums_by_grid(start, end, world.leader) is not None
        for user in (None, world.leader, world.dispatcher_a, world.grid_worker_a1, world.outsider):
            _assert_grid_tables_equal_the_rows(world, start, end, user)


@pytest.mark.django_db
def test_every_grid_of_a_long_export_is_named_from_the_whole_grid_table(
    played: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world, today = played, timezone.localdate()
    grid_totals.fill()
    first = grid_totals._first_rollup_day()
    assert first is not None
    monkeypatch.setattr(scored, "NAMED_BY_ID", 2)  # fewer than the grids with counts
    rows, _count = scored.lowest_scores(
        start=first, end=today, group_by="grid", user=world.leader, limit=None
    )
    assert len([r for r in rows if r.id is not None]) > 2
    _assert_grid_tables_equal_the_rows(world, first, today, world.leader)


@pytest.mark.django_db
def test_a_departments_scope_and_a_period_after_the_totals_are_read_from_the_rollups(played: World) -> None:
    world, today = played, timezone.localdate()
    first = grid_totals._first_rollup_day()
    assert first is not None
    grid_totals.fill(until=first + 10 * DAY)
    # A department's cases lie in any grid; a period starting after the totals gains nothing.
    assert grid_totals.period_sums_by_grid(first, today, world.handler_a) is None
    assert grid_totals.period_sums_by_grid(first + 20 * DAY, today, world.leader) is None
    _assert_grid_tables_equal_the_rows(world, first, today, world.handler_a)
    _assert_grid_tables_equal_the_rows(world, first + 20 * DAY, today, world.leader)


@pytest.mark.django_db
def test_counts_of_an_earlier_day_move_the_totals_back_and_the_next_fill_rewrites_them(played: World) -> None:
    world, today = played, timezone.localdate()
    grid_totals.fill()
    assert _through() == today
    first = grid_totals._first_rollup_day()
    assert first is not None
    # A case registered (and counted) on an earlier day: say, a backfilled record.
    earlier = first + 12 * DAY
    late = _new_case_on(world, earlier)
    rollup.catch_up()
    assert _through() == earlier - DAY
    _assert_grid_tables_equal_the_rows(world, first, today, None)  # the days after: from the rollups
    assert grid_totals.fill() > 0
    assert _through() == today
    assert grid_totals.mismatched_days() == []
    _assert_grid_tables_equal_the_rows(world, earlier, today, None)
    assert late.grid_id in grid_totals.period_sums_by_grid(earlier, earlier, None).ids.tolist()  # type: ignore[union-attr]


def _new_case_on(world: World, day: dt.date) -> Case:
    return new_case(world, IN_A1, channel="web", at=timezone.make_aware(dt.datetime.combine(day, dt.time(9))))


@pytest.mark.django_db
def test_verify_reports_damaged_totals_reads_skip_them_and_rebuild_starts_them_again(
    played: World, caplog: pytest.LogCaptureFixture
) -> None:
    world, today = played, timezone.localdate()
    grid_totals.fill()
    days = list(GridTotals.objects.order_by("day").values_list("day", flat=True))
    assert len(days) > 3
    call_command("rollup", "verify")  # agrees
    GridTotals.objects.filter(day=days[1]).update(data=b"not an array")
    GridTotals.objects.filter(day=days[2]).update(data=zlib.compress(bytes(12)))  # another shape
    GridTotals.objects.filter(day=days[3]).delete()
    assert grid_totals.mismatched_days() == days[1:4]
    with pytest.raises(CommandError, match="3 days of grid totals"):
        call_command("rollup", "verify")
    # A read that meets the damaged row takes the rollups, and says so in the log.
    assert grid_totals.period_sums_by_grid(days[1] + DAY, today, None) is None
    assert "grid totals unreadable" in caplog.text
    _assert_grid_tables_equal_the_rows(world, days[1] + DAY, today, world.leader)
    rebuild.rebuild()
    assert _through() is None
    assert not GridTotals.objects.exists()
    assert grid_totals.period_sums_by_grid(days[0], today, None) is None
    rollup_catch_up.call()
    assert _through() == today
    assert grid_totals.mismatched_days() == []


@pytest.mark.django_db
def test_verify_leaves_out_todays_row_which_the_catch_up_job_keeps_writing(played: World) -> None:
    world, today = played, timezone.localdate()
    _filled()
    _new_case_on(world, today)
    rollup.catch_up()  # today's rollup rows change; the job's fill has not run yet
    # As a verify that read the state before that catch-up sees it: through today, today's old row.
    RollupState.objects.filter(pk=1).update(grid_totals_through=today)
    assert grid_totals.mismatched_days() == []
    call_command("rollup", "verify")


@pytest.mark.django_db
def test_totals_are_not_filled_while_a_rebuild_runs_nor_without_rollups(played: World) -> None:
    RollupState.objects.filter(pk=1).update(rebuilding_since=timezone.now())
    assert grid_totals.fill() == 0
    assert _through() is None


@pytest.mark.django_db
def test_without_rollups_there_is_nothing_to_fill() -> None:
    assert grid_totals.fill() == 0
    assert grid_totals.mismatched_days() == []
    assert grid_totals.period_sums_by_grid(D(2026, 1, 1), D(2026, 2, 1)) is None


@pytest.mark.django_db
def test_a_period_before_the_first_counted_day_has_no_grid(played: World) -> None:
    first = _filled()
    sums = grid_totals.period_sums_by_grid(first - 30 * DAY, first - DAY, None)
    assert sums is not None
    assert sums.ids.tolist() == []
    assert scored.lowest_scores(start=first - 30 * DAY, end=first - DAY, group_by="grid") == ([], 0)


@pytest.mark.django_db
def test_a_period_read_again_is_kept_until_new_counts_or_a_fill_change_the_state(played: World) -> None:
    world, today = played, timezone.localdate()
    first = grid_totals._first_rollup_day()
    assert first is not None
    grid_totals.fill(until=today - 3 * DAY)

    def registered_today_side() -> tuple[int, list[str]]:
        with CaptureQueriesContext(connection) as queries:
            sums = grid_totals.period_sums_by_grid(first, today, world.leader)
        assert sums is not None
        assert not sums.counts["registered"].flags.writeable  # shared by the reads that keep it
        return int(sums.counts["registered"].sum()), [q["sql"] for q in queries.captured_queries]

    before, first_read = registered_today_side()
    assert any(READS_A_ROW in sql for sql in first_read)
    again, second_read = registered_today_side()
    assert again == before
    assert len(second_read) == 2  # the state's version and the leader's scope: nothing summed again
    _new_case_on(world, today)
    rollup.catch_up()  # a new batch: the state's version moves on
    after, third_read = registered_today_side()
    assert after == before + 1
    assert any(READS_A_ROW in sql for sql in third_read)
    grid_totals.fill()  # so does a fill, with the same sums
    assert registered_today_side()[0] == after
    _assert_grid_tables_equal_the_rows(world, first, today, world.grid_worker_a1)


@pytest.mark.django_db
def test_a_period_that_ended_before_today_stays_kept_while_todays_counts_change(played: World) -> None:
    world, today = played, timezone.localdate()
    first = _filled()
    start, end = first + 3 * DAY, first + 40 * DAY
    before = grid_totals.period_sums_by_grid(start, end, world.leader)
    assert before is not None
    _new_case_on(world, today)
    rollup_catch_up.call()  # counts today's case and writes today's totals again
    assert _through() == today
    with CaptureQueriesContext(connection) as queries:
        kept = grid_totals.period_sums_by_grid(start, end, world.leader)
    assert kept is not None
    assert kept.counts["registered"] is before.counts["registered"]
    assert not [q["sql"] for q in queries.captured_queries if "SUM(" in q["sql"] or READS_A_ROW in q["sql"]]
    # A case counted on one of the period's days rewrites its rows: the period is summed again.
    _new_case_on(world, start + DAY)
    rollup_catch_up.call()
    with CaptureQueriesContext(connection) as queries:
        again = grid_totals.period_sums_by_grid(start, end, world.leader)
    assert again is not None
    assert int(again.counts["registered"].sum()) == int(before.counts["registered"].sum()) + 1
    assert any(READS_A_ROW in q["sql"] for q in queries.captured_queries)
    _assert_grid_tables_equal_the_rows(world, start, end, world.leader)


@pytest.mark.django_db
def test_a_row_rewritten_between_reading_its_id_and_its_totals_is_not_read_as_zeros(
    played: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    world, today = played, timezone.localdate()
    first = _filled()
    read_state = grid_totals._state_and_rows

    def then_a_fill_rewrites_the_rows(start: dt.date, end: dt.date) -> tuple[Any, ...] | None:
        state = read_state(start, end)
        grid_totals.stale_from(first + DAY)  # as counts of that day would: every later row is written again
        grid_totals.fill()
        return state

    monkeypatch.setattr(grid_totals, "_state_and_rows", then_a_fill_rewrites_the_rows)
    assert grid_totals.period_sums_by_grid(first, today, world.leader) is None  # the rollups answer
    raced = scored.lowest_scores(start=first, end=today, group_by="grid", user=world.leader, limit=None)
    monkeypatch.undo()
    assert grid_totals.period_sums_by_grid(first, today, world.leader) is not None
    assert (
        scored.lowest_scores(start=first, end=today, group_by="grid", user=world.leader, limit=None) == raced
    )


@pytest.mark.django_db
def test_a_kept_periods_ranking_sums_nothing_again_and_follows_new_weights(played: World) -> None:
    world, today = played, timezone.localdate()
    first = _filled()
    for user in (None, world.leader):  # two scopes: the unplaced row is kept for each
        _assert_grid_tables_equal_the_rows(world, first, today, user)
        with CaptureQueriesContext(connection) as queries:
            scored.lowest_scores(start=first, end=today, group_by="grid", user=user, limit=3)
            scored.values_by("score", start=first, end=today, group_by="grid", user=user)
        # Neither the grids' sums nor the unplaced row's are read again; the score is not recomputed.
        assert not [
            q["sql"] for q in queries.captured_queries if "SUM(" in q["sql"] or READS_A_ROW in q["sql"]
        ]
    changed = MetricSettings.objects.update(
        response_weight=Decimal("0.600"), solve_weight=Decimal("0.200"), satisfaction_weight=Decimal("0.200")
    )
    assert changed == 1
    for user in (None, world.leader):
        _assert_grid_tables_equal_the_rows(world, first, today, user)
