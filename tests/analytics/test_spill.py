"""A PostgreSQL rebuild's daily rows in files by street bucket: every row read back once, in the
bucket of its street, with its channel and counts; and the periods numpy sums them into."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from yiwang.analytics import spill
from yiwang.analytics.columnar import EPOCH_DAY, NONE, DailyRows
from yiwang.analytics.models import DAILY, DIMENSIONS, LEVELS, MILESTONES, PERIOD_START

STREETS = [NONE, 1, 2, 3, 17, 18, 33, 1_000_003]


def _rows(rng: random.Random, n: int, channels: list[str]) -> DailyRows:
    street = np.array([rng.choice(STREETS) for _ in range(n)], dtype=np.int64)
    dims = {d: np.array([rng.choice([NONE, 7, 9]) for _ in range(n)], dtype=np.int64) for d in DIMENSIONS}
    dims["street_id"] = street
    dims["channel"] = np.array([rng.randrange(len(channels)) for _ in range(n)], dtype=np.int64)
    day = np.array([rng.randrange(9000, 9010) for _ in range(n)], dtype=np.int64)
    counts = np.array([[rng.randrange(3) for _ in MILESTONES] for _ in range(n)], dtype=np.int64)
    return DailyRows(day, dims, channels, counts)


def _as_set(rows: DailyRows) -> list[tuple[Any, ...]]:
    """Each row as (day, dimensions with the channel's name, counts), sorted."""
    out = []
    for i in range(len(rows)):
        dims = [rows.channels[v[i]] if d == "channel" else int(v[i]) for d, v in rows.dims.items()]
        out.append((int(rows.day[i]), *dims, *rows.counts[i].tolist()))
    return sorted(out)


def test_every_row_comes_back_once_in_the_bucket_of_its_street(tmp_path: Path) -> None:
    rng = random.Random(3)
    # Two ranges naming their channels in different orders, and one without rows.
    first = _rows(rng, 300, ["web", "hotline_12345"])
    second = _rows(rng, 200, ["hotline_12345", "grid_patrol", "web"])
    empty = _rows(rng, 0, [])
    for name, rows in (("a", first), ("b", second), ("c", empty)):
        spill.write_range(tmp_path, name, rows)
    back = [spill.read_bucket(tmp_path, bucket) for bucket in range(spill.BUCKETS)]
    assert sorted(row for rows in back for row in _as_set(rows)) == sorted(_as_set(first) + _as_set(second))
    buckets_of_street: dict[int, set[int]] = {}
    for bucket, rows in enumerate(back):
        for street in rows.dims["street_id"].tolist():
            buckets_of_street.setdefault(street, set()).add(bucket)
    assert set(buckets_of_street) == set(STREETS)
    assert all(len(buckets) == 1 for buckets in buckets_of_street.values())
    assert len({min(b) for b in buckets_of_street.values()}) > 1  # the streets are spread over buckets


def test_counts_beyond_16_bits_are_kept_whole(tmp_path: Path) -> None:
    rows = _rows(random.Random(5), 4, ["web"])
    rows.counts[2, 0] = 40_000
    rows.counts[3, 1] = 70_000
    spill.write_range(tmp_path, "a", rows)
    back = [spill.read_bucket(tmp_path, bucket) for bucket in range(spill.BUCKETS)]
    assert sorted(row for r in back for row in _as_set(r)) == _as_set(rows)


def test_summing_a_bucket_adds_the_rows_that_share_a_key_across_ranges(tmp_path: Path) -> None:
    rng = random.Random(8)
    first = _rows(rng, 200, ["web", "grid_patrol"])
    # The second range: the same keys, with the channels named in the other order, other counts.
    flipped = {**first.dims, "channel": 1 - first.dims["channel"]}
    second = DailyRows(first.day, flipped, ["grid_patrol", "web"], _rows(rng, 200, ["web"]).counts)
    spill.write_range(tmp_path, "a", first)
    spill.write_range(tmp_path, "b", second)
    expected: dict[tuple[object, ...], list[int]] = {}
    for row in _as_set(first) + _as_set(second):
        key, counts = row[: 1 + len(DIMENSIONS)], row[1 + len(DIMENSIONS) :]
        expected[key] = [a + b for a, b in zip(expected.get(key, [0] * len(counts)), counts, strict=True)]
    summed = {}
    for bucket in range(spill.BUCKETS):
        for row in _as_set(spill.summed(DAILY, DAILY, spill.read_bucket(tmp_path, bucket))):
            summed[row[: 1 + len(DIMENSIONS)]] = list(row[1 + len(DIMENSIONS) :])
    assert len(summed) <= len(first)
    assert summed == expected


# Every day across two year ends, a leap day and the days around month ends, and random days.
_DAYS = [
    *(dt.date(2025, 12, 20) + dt.timedelta(days=n) for n in range(25)),
    *(dt.date(2028, 2, 25) + dt.timedelta(days=n) for n in range(7)),
    dt.date(2000, 1, 1),
    dt.date(2026, 6, 30),
    dt.date(2026, 7, 1),
    *(dt.date(2000, 1, 1) + dt.timedelta(days=random.Random(1).randrange(20_000)) for _ in range(200)),
]


@pytest.mark.parametrize("period", ["day", "week", "month", "year"])
def test_the_period_of_a_day_is_the_one_the_incremental_path_computes(period: str) -> None:
    days = np.array([(d - EPOCH_DAY).days for d in _DAYS], dtype=np.int64)
    starts = spill.period_start(period, days)
    assert [EPOCH_DAY + dt.timedelta(days=int(s)) for s in starts] == [PERIOD_START[period](d) for d in _DAYS]


def test_a_street_level_kept_by_each_bucket_comes_back_whole_with_its_channels(tmp_path: Path) -> None:
    # The levels without a street are summed from these rows at the end of a rebuild.
    rng = random.Random(4)
    level = next(lv for lv in spill.streetless_sources() if "channel" in lv.dims)
    first, second = _rows(rng, 50, ["web", "grid_patrol"]), _rows(rng, 30, ["grid_patrol", "hotline_12345"])
    keep = {d: v for d, v in first.dims.items() if d in level.dims}
    spill.keep_level(tmp_path, level, 0, DailyRows(first.day, keep, first.channels, first.counts))
    keep = {d: v for d, v in second.dims.items() if d in level.dims}
    spill.keep_level(tmp_path, level, 3, DailyRows(second.day, keep, second.channels, second.counts))
    back = spill.kept_level(tmp_path, level)
    assert list(back.dims) == list(level.dims)
    expected = [
        (*row[:1], *(row[1 + DIMENSIONS.index(d)] for d in level.dims), *row[1 + len(DIMENSIONS) :])
        for row in _as_set(first) + _as_set(second)
    ]
    assert _as_set(back) == sorted(expected)
    assert list(tmp_path.glob("*.json")) == []  # apart from the ranges' files, which buckets read


def test_the_buckets_and_the_sums_at_the_end_fill_every_level_once() -> None:
    street, streetless = spill.street_levels(), spill.streetless_levels()
    assert sorted([DAILY, *street, *streetless], key=LEVELS.index) == list(LEVELS)
    assert all("street_id" in level.dims for level in spill.streetless_sources())
    assert not any("street_id" in level.dims for level in streetless)
