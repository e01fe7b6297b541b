"""``rollup rebuild``: cases replayed range by range (in parallel processes on PostgreSQL), the
catch-up standing aside meanwhile, and a rebuild that died half-way refusing to be doubled."""

from __future__ import annotations

import datetime as dt
import io
import random
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from tests.analytics.helpers import play, stored
from tests.cases.conftest import WEDNESDAY, new_case
from tests.world import World
from yiwang.analytics import rebuild, rollup
from yiwang.analytics.models import LEVELS, MILESTONES, PERIOD_START, DailyRollup, ProcessedEvent, RollupState
from yiwang.analytics.rollup_store import drop_indexes, period_start_sql, set_autovacuum


def _all_levels() -> dict[str, set[tuple]]:
    return {
        level.model._meta.model_name or "": set(
            level.model._default_manager.values_list(
                "key", "registered", "dispatched", "closed", "called_back"
            )
        )
        for level in LEVELS
    }


@pytest.mark.django_db(transaction=True)
def test_a_parallel_rebuild_counts_what_the_incremental_path_counted(world: World) -> None:
    # Committed data (transaction=True): on PostgreSQL the worker processes read it from their own
    # connections; on SQLite the rebuild counts in this process (one writer).
    rng = random.Random(11)
    play(world, rng, cases=9, steps=120, between=lambda: rollup.catch_up(batch=rng.choice([2, 30])))
    rollup.catch_up()
    incremental, levels = stored(), _all_levels()
    counted = rebuild.rebuild(workers=2, chunk=2)
    assert counted == sum(1 for _ in rollup.CaseEvent.objects.all())
    assert stored() == incremental
    assert _all_levels() == levels
    assert rollup.verify() == []
    assert RollupState.objects.get().rebuilding_since is None


@pytest.mark.django_db(transaction=True)
def test_a_rebuild_marks_the_events_of_its_overlap_window_as_counted(world: World, settings: Any) -> None:
    # The next catch-up re-reads the window below the mark: the events a rebuild counted there
    # must be listed as processed, or they would be counted twice.
    settings.YIWANG_ROLLUP_OVERLAP = 5
    for day in range(8):
        new_case(world, at=WEDNESDAY + dt.timedelta(days=day))
    ids = sorted(rollup.CaseEvent.objects.values_list("pk", flat=True))
    assert len(ids) > 5
    assert rebuild.rebuild(workers=2, chunk=1) == len(ids)  # its own last catch-up found nothing
    window = [i for i in ids if i > ids[-1] - 5]
    assert sorted(ProcessedEvent.objects.values_list("event_id", flat=True)) == window
    assert rollup.verify() == []


def test_catch_up_stands_aside_while_a_rebuild_is_under_way(world: World) -> None:
    new_case(world, at=WEDNESDAY)
    RollupState.objects.create(pk=1, rebuilding_since=timezone.now())
    assert rollup.catch_up() == 0
    assert stored() == {}


def test_a_rebuild_that_never_finished_blocks_a_second_one_until_forced(world: World) -> None:
    new_case(world, at=WEDNESDAY)
    RollupState.objects.create(pk=1, rebuilding_since=timezone.now())
    with pytest.raises(CommandError, match="--force"):
        call_command("rollup", "rebuild")
    call_command("rollup", "rebuild", "--force")
    assert RollupState.objects.get().rebuilding_since is None
    assert sum(c["registered"] for c in stored().values()) == 1
    assert rollup.verify() == []


def test_rebuild_of_an_empty_database_counts_nothing(db: None) -> None:
    assert rebuild.rebuild(workers=2) == 0
    assert rollup.verify() == []


@pytest.mark.django_db(transaction=True)
def test_a_rebuild_reports_its_progress_through_every_step(world: World) -> None:
    for _ in range(3):
        new_case(world, at=WEDNESDAY)
    seen: list[rebuild.Progress] = []
    rebuild.rebuild(workers=2, chunk=1, progress=seen.append)
    steps = ["ranges", "buckets", "indexes"] if connection.vendor == "postgresql" else ["ranges"]
    assert list(dict.fromkeys(p.step for p in seen)) == steps
    for step in steps:
        reports = [p for p in seen if p.step == step]
        assert [p.done for p in reports] == list(range(1, reports[0].total + 1))
    assert next(p.total for p in seen if p.step == "ranges") == 3
    assert seen[-1].events == rollup.CaseEvent.objects.count()
    out = io.StringIO()
    call_command("rollup", "rebuild", "--workers", "2", stdout=out)
    assert "case ranges counted" in out.getvalue()
    if connection.vendor == "postgresql":
        assert "street buckets summed" in out.getvalue()
        assert "indexes built" in out.getvalue()


def _autovacuum_off() -> set[str]:
    """The rollup tables whose options keep autovacuum off them."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relname = ANY(%s) AND 'autovacuum_enabled=false' = ANY(reloptions)",
            [[level.model._meta.db_table for level in LEVELS]],
        )
        return {name for (name,) in cursor.fetchall()}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_autovacuum_stays_off_the_rollup_tables_while_a_rebuild_fills_them(world: World) -> None:
    new_case(world, at=WEDNESDAY)
    tables = {level.model._meta.db_table for level in LEVELS}
    off_while: dict[str, set[str]] = {}
    rebuild.rebuild(workers=2, progress=lambda p: off_while.setdefault(p.step, _autovacuum_off()))
    assert off_while == {"ranges": tables, "buckets": tables, "indexes": tables}
    assert _autovacuum_off() == set()
    # One that died leaves it off; the forced rebuild that follows gives the tables back to autovacuum.
    set_autovacuum(*(level.model for level in LEVELS), enabled=False)
    RollupState.objects.filter(pk=1).update(rebuilding_since=timezone.now())
    call_command("rollup", "rebuild", "--force")
    assert _autovacuum_off() == set()


def _declared_keys_and_indexes() -> set[str]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, DailyRollup._meta.db_table)
    declared = {i.name for i in DailyRollup._meta.indexes} | {c.name for c in DailyRollup._meta.constraints}
    return declared & set(found)


@pytest.mark.django_db(transaction=True)
def test_cases_of_different_ranges_sharing_a_daily_key_end_up_in_one_row(world: World) -> None:
    for _ in range(3):
        new_case(world, at=WEDNESDAY)  # same day, grid, category, channel; no department yet
    rollup.catch_up()
    before = stored()
    rebuild.rebuild(workers=2, chunk=1)  # one case per range: each range writes the same key
    daily = list(DailyRollup.objects.values_list("key", "registered"))
    assert len(daily) == 1
    assert daily[0][1] == 3
    assert stored() == before
    assert rollup.verify() == []


@pytest.mark.django_db(transaction=True)
def test_a_forced_rebuild_builds_the_keys_and_indexes_a_dead_one_dropped(world: World) -> None:
    new_case(world, at=WEDNESDAY)
    rollup.catch_up()
    declared = _declared_keys_and_indexes()
    assert len(declared) == len(DailyRollup._meta.indexes) + len(DailyRollup._meta.constraints)
    # Where a rebuild that died in its ranges left the table (PostgreSQL): no key, index or primary key.
    drop_indexes(DailyRollup)
    RollupState.objects.filter(pk=1).update(rebuilding_since=timezone.now())
    call_command("rollup", "rebuild", "--force")
    assert _declared_keys_and_indexes() == declared
    assert rollup.verify() == []
    if connection.vendor == "postgresql":
        # The key is the primary key again, a constraint and not only a unique index.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'p' "
                "AND conrelid = CAST(%s AS regclass)",
                [DailyRollup._meta.db_table],
            )
            assert cursor.fetchall() == [(f"{DailyRollup._meta.db_table}_pkey", "PRIMARY KEY (key)")]
    new_case(world, at=WEDNESDAY)
    rollup.catch_up()  # the upsert names the key as its conflict target
    assert sum(c["registered"] for c in stored().values()) == 2


# Every weekday across a year's end, a leap day and the days around month ends.
_EDGE_DAYS = [
    *(dt.date(2025, 12, 20) + dt.timedelta(days=n) for n in range(25)),
    *(dt.date(2028, 2, 27) + dt.timedelta(days=n) for n in range(5)),
    dt.date(2026, 6, 30),
    dt.date(2026, 7, 1),
    dt.date(2024, 12, 31),
]


@pytest.mark.parametrize("period", ["week", "month", "year"])
def test_the_databases_period_start_is_the_one_the_incremental_path_computes(db: None, period: str) -> None:
    # A rebuild sums the coarser levels in SQL, the incremental path keys them in Python: both must
    # put a day in the same week, month and year.
    day = "CAST(%s AS date)" if connection.vendor == "postgresql" else "%s"
    found = {}
    sql = f"SELECT {period_start_sql(period, day)}"  # the expression may name the day twice
    with connection.cursor() as cursor:
        for value in _EDGE_DAYS:
            cursor.execute(sql, [value.isoformat()] * sql.count("%s"))
            start = cursor.fetchone()[0]
            found[value] = start if isinstance(start, dt.date) else dt.date.fromisoformat(start)
    assert found == {value: PERIOD_START[period](value) for value in _EDGE_DAYS}


def test_every_rollup_key_compares_as_bytes(db: None) -> None:
    # Keys are only matched, never read by people: byte order makes their index builds and lookups
    # cheaper than the database locale's (migration 0012, PostgreSQL; SQLite compares bytes anyway).
    tables = [level.model._meta.db_table for level in LEVELS]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT table_name, collation_name FROM information_schema.columns "
                "WHERE column_name = 'key' AND table_name = ANY(%s)",
                [tables],
            )
            assert dict(cursor.fetchall()) == dict.fromkeys(tables, "C")
    keys = ["2026-01-01|a", "2026-01-01|B", "2026-01-01|市", "2026-01-01|Z", "2026-01-01|", "2026-01-01|1"]
    for key in keys:
        DailyRollup.objects.create(key=key, day=dt.date(2026, 1, 1))
    assert list(DailyRollup.objects.order_by("key").values_list("key", flat=True)) == sorted(keys)


def test_each_rollup_table_is_keyed_by_its_key_alone(db: None) -> None:
    # The key is the primary key (migration 0013): no id column, and no second index on the key (the
    # LIKE index Django adds to a text primary key on PostgreSQL, or the former unique constraint).
    for level in LEVELS:
        table = level.model._meta.db_table
        with connection.cursor() as cursor:
            on_key = [
                c
                for c in connection.introspection.get_constraints(cursor, table).values()
                if c["columns"] == ["key"]
            ]
            columns = {c.name for c in connection.introspection.get_table_description(cursor, table)}
        assert [c["primary_key"] for c in on_key] == [True], table
        assert "id" not in columns


@pytest.mark.parametrize("level", LEVELS, ids=lambda level: level.model.__name__)
def test_the_database_refuses_a_negative_count_in_any_rollup(db: None, level: Any) -> None:
    # One check per row over all the counts (migration 0014), not one per count.
    day = {level.period_field: dt.date(2026, 1, 1)}
    level.model.objects.create(key="zero", **day)
    for milestone in MILESTONES:
        with pytest.raises(IntegrityError), transaction.atomic():
            level.model.objects.create(key=milestone, **day, **{milestone: -1})
    assert list(level.model.objects.values_list("key", flat=True)) == ["zero"]
