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
merged. The street levels that the levels without a street are summed from (a few per cent of the
rows) are also kept in files (:func:`keep_level`); at the end those levels are summed from them in
numpy (:func:`sum_streetless`). In SQL, from the street levels' tables, that took 90 s at 10 M cases.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
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


def streetless_levels() -> list[Level]:
    """The coarser levels without a street, in fill order: summed at the end (:func:`sum_streetless`)."""
    street = street_levels()
    return [level for level in fill_order() if level is not DAILY and level not in street]


def streetless_sources() -> list[Level]:
    """The street levels that the levels without a street are summed from (:func:`.rollup.smallest_source`
    among the daily and street levels and the levels without a street summed before)."""
    street = street_levels()
    filled, sources = [DAILY, *street], []
    for level in streetless_levels():
        source = smallest_source(level, filled)
        if source is DAILY:  # a bucket's daily rows are not kept: they are most of the rows
            raise ValueError(f"{level.model.__name__} would be summed from the daily rows")
        if source in street and source not in sources:
            sources.append(source)
        filled.append(level)
    return sources


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


def _joined(
    pieces: Iterable[tuple[npt.NDArray[np.int64], npt.NDArray[np.signedinteger], list[str]]],
    dims: Sequence[str],
) -> DailyRows:
    """Rows kept in pieces (keys: the period then ``dims``; counts; channel names), as one set of
    rows (not summed), channels numbered anew across pieces."""
    channels: dict[str, int] = {}
    keys, counts = [], []
    channel = 1 + dims.index("channel") if "channel" in dims else None
    for piece_keys, piece_counts, names in pieces:
        if channel is not None:
            renumber = np.array([channels.setdefault(c, len(channels)) for c in names], dtype=np.int64)
            piece_keys[channel] = renumber[piece_keys[channel]]
        keys.append(piece_keys)
        counts.append(piece_counts)
    if not keys:
        none = np.zeros(0, dtype=np.int64)
        return DailyRows(none, dict.fromkeys(dims, none), [], np.zeros((0, len(MILESTONES)), np.int64))
    joined = np.concatenate(keys, axis=1)
    return DailyRows(
        joined[0], {d: joined[1 + i] for i, d in enumerate(dims)}, list(channels), np.concatenate(counts)
    )


def read_bucket(directory: Path, bucket: int) -> DailyRows:
    """Every range's daily rows of ``bucket`` (not summed yet)."""
    return _joined(_pieces(directory, bucket), DIMENSIONS)


def _level_files(directory: Path, level: Level) -> tuple[Path, str]:
    # Beside the ranges' files, not among them: the buckets still being summed read every *.json there.
    return directory / "levels", level.model._meta.model_name or ""


def keep_level(directory: Path, level: Level, bucket: int, rows: DailyRows) -> None:
    """Keep ``bucket``'s rows of the street level ``level`` (one of :func:`streetless_sources`)."""
    folder, stem = _level_files(directory, level)
    folder.mkdir(exist_ok=True)
    name = f"{stem}.{bucket:02d}"
    keys = np.vstack([rows.day, *(rows.dims[d] for d in level.dims)]).astype(np.int64)
    np.save(folder / f"{name}.keys.npy", keys)
    np.save(folder / f"{name}.counts.npy", _smallest_int(rows.counts))
    (folder / f"{name}.channels.json").write_text(json.dumps(rows.channels, ensure_ascii=False))


def kept_level(directory: Path, level: Level) -> DailyRows:
    """Every bucket's rows of ``level`` kept by :func:`keep_level` (no two share a key)."""
    folder, stem = _level_files(directory, level)

    def pieces() -> Iterator[tuple[npt.NDArray[np.int64], npt.NDArray[np.signedinteger], list[str]]]:
        for channels in sorted(folder.glob(f"{stem}.*.channels.json")):
            name = channels.name.removesuffix(".channels.json")
            keys, counts = np.load(folder / f"{name}.keys.npy"), np.load(folder / f"{name}.counts.npy")
            yield keys, counts, json.loads(channels.read_text())

    return _joined(pieces(), level.dims)


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
    _write_summed(street_levels(), written)
    for level in streetless_sources():
        keep_level(directory, level, bucket, written[level])
    return len(written[DAILY])


def sum_streetless(directory: Path) -> None:
    """Write the levels without a street, summed from the street levels kept by every bucket. The
    caller holds the transaction (the tables' indexes are set aside)."""
    _write_summed(
        streetless_levels(), {level: kept_level(directory, level) for level in streetless_sources()}
    )


def _write_summed(levels: list[Level], written: dict[Level, DailyRows]) -> None:
    """Sum each of ``levels`` (in fill order) from the smallest level in ``written`` that keeps its
    dimensions, COPY it, and add it to ``written``."""
    for level in levels:
        source = smallest_source(level, list(written))
        written[level] = summed(level, source, written[source])
        copy_level(level, written[level])
