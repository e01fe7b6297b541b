"""A PostgreSQL rebuild's daily rows kept in files between counting them and summing them, by street.

Why: the ranges of a rebuild are cases by id, so two ranges count the same daily key (cases of both
on the same day, grid, category, channel and department), and a week or month of a grid is counted
by many ranges. Written straight into the daily table, the shared keys had to be merged and every
coarser level summed from the 41 M daily rows in SQL: at 10 M cases that end took 7.5 of the
rebuild's 13.8 minutes, most of it in four GROUP BYs over the daily rows and the merge.

Instead each range writes its daily rows to files (:func:`write_range`), ordered by the bucket of
their street (:data:`BUCKETS`, by street id). Then each bucket is read back from every range's files
(:func:`read_bucket`), summed in numpy into its daily rows and into every level that keeps the street
(:func:`sum_bucket`), and COPYed once: two buckets never share a key of such a level, so nothing is
merged. The levels without a street (a few per cent of the rows) are then summed in SQL from the
street levels.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt

from yiwang.analytics.columnar import DailyRows, copy_level, grouped_rows
from yiwang.analytics.models import DAILY, DIMENSIONS, MILESTONES, Level
from yiwang.analytics.rollup import fill_order, smallest_source

# Street buckets: enough for the two workers to share them evenly, few enough that a range's files
# hold a sizeable piece of each (at 10 M cases, ~2.5 M daily rows a bucket, ~1 GB of memory to sum).
BUCKETS = 16
# Days since 2000-01-01 (a Saturday: weekday 5, Monday being 0), as numpy dates.
_EPOCH = np.datetime64("2000-01-01", "D")
_SATURDAY = 5


def street_levels() -> list[Level]:
    """The coarser levels summed in the buckets (they keep the street), in fill order."""
    return [level for level in fill_order() if level is not DAILY and "street_id" in level.dims]


def _bucket(street: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    # NONE (no street, -2**63) is a multiple of BUCKETS: the rows without a street all go to bucket
    # 0, so their keys, like every street's, meet in one bucket.
    return street % BUCKETS


def _smallest_int(values: npt.NDArray[np.int64]) -> npt.NDArray[np.signedinteger]:
    """``values`` (counts, ≥ 0) in 16 bits where they fit: a daily row's counts are small, and the
    files of a 10 M-case rebuild take about 4 GB instead of 5.7."""
    fits = not len(values) or int(values.max()) <= np.iinfo(np.int16).max
    return values.astype(np.int16 if fits else np.int32)


def write_range(directory: Path, name: str, daily: DailyRows) -> None:
    """Keep one range's daily rows in ``directory`` (files ``name.*``), ordered by street bucket."""
    bucket = _bucket(daily.dims["street_id"])
    order = np.argsort(bucket, kind="stable")
    offsets = np.searchsorted(bucket[order], np.arange(BUCKETS + 1))
    # One row per key column, so that a bucket's part of each column is one contiguous slice.
    keys = np.vstack([daily.day, *(daily.dims[d] for d in DIMENSIONS)]).astype(np.int64)
    np.save(directory / f"{name}.keys.npy", keys[:, order])
    np.save(directory / f"{name}.counts.npy", _smallest_int(daily.counts[order]))
    meta = {"offsets": offsets.tolist(), "channels": daily.channels}
    (directory / f"{name}.json").write_text(json.dumps(meta, ensure_ascii=False))


def _pieces(
    directory: Path, bucket: int
) -> Iterator[tuple[npt.NDArray[np.int64], npt.NDArray[np.signedinteger], list[str]]]:
    """Each range's rows of ``bucket``: keys, counts (as small as the file keeps them: summed in
    grouped_rows), and the range's channel names."""
    for meta_file in sorted(directory.glob("*.json")):
        meta = json.loads(meta_file.read_text())
        lo, hi = meta["offsets"][bucket], meta["offsets"][bucket + 1]
        if lo == hi:
            continue
        name = meta_file.name.removesuffix(".json")
        # Memory-mapped: only this bucket's part of each file is read.
        keys = np.load(directory / f"{name}.keys.npy", mmap_mode="r")[:, lo:hi]
        counts = np.load(directory / f"{name}.counts.npy", mmap_mode="r")[lo:hi]
        yield np.array(keys), np.array(counts), meta["channels"]


def read_bucket(directory: Path, bucket: int) -> DailyRows:
    """Every range's daily rows of ``bucket`` (not summed yet), channels numbered anew across ranges."""
    channels: dict[str, int] = {}
    keys, counts = [], []
    channel = 1 + DIMENSIONS.index("channel")
    for piece_keys, piece_counts, names in _pieces(directory, bucket):
        renumber = np.array([channels.setdefault(c, len(channels)) for c in names], dtype=np.int64)
        piece_keys[channel] = renumber[piece_keys[channel]]
        keys.append(piece_keys)
        counts.append(piece_counts)
    if not keys:
        none = np.zeros(0, dtype=np.int64)
        return DailyRows(none, dict.fromkeys(DIMENSIONS, none), [], np.zeros((0, len(MILESTONES)), np.int64))
    joined = np.concatenate(keys, axis=1)
    dims = {d: joined[1 + i] for i, d in enumerate(DIMENSIONS)}
    return DailyRows(joined[0], dims, list(channels), np.concatenate(counts))


def period_start(period: str, day: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """The first day of the ``period`` holding each day (days since 2000-01-01), as
    :data:`.models.PERIOD_START` computes it for one date."""
    if period == "day":
        return day
    if period == "week":
        return day - (day + _SATURDAY) % 7
    unit = {"month": "M", "year": "Y"}[period]
    dates = (_EPOCH + day).astype(f"datetime64[{unit}]").astype("datetime64[D]")
    return (dates - _EPOCH).astype(np.int64)


def summed(level: Level, source: Level, rows: DailyRows) -> DailyRows:
    """``level``'s rows summed from the rows of ``source`` (a level keeping all its dimensions)."""
    period = rows.day if level.period == source.period else period_start(level.period, rows.day)
    return grouped_rows(period, {d: rows.dims[d] for d in level.dims}, rows.channels, rows.counts)


def sum_bucket(directory: Path, bucket: int) -> int:
    """Write ``bucket``'s rows of the daily level and of every street level; returns how many
    daily rows. The caller holds the transaction (the tables' indexes are set aside)."""
    raw = read_bucket(directory, bucket)
    if not len(raw):
        return 0
    written = {DAILY: grouped_rows(raw.day, raw.dims, raw.channels, raw.counts)}
    del raw
    copy_level(DAILY, written[DAILY])
    for level in street_levels():
        source = smallest_source(level, list(written))
        written[level] = summed(level, source, written[source])
        copy_level(level, written[level])
    return len(written[DAILY])
