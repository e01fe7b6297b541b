"""Hashed character n-gram TF-IDF features, computed with numpy for a whole batch at once.

Why not scikit-learn's ``TfidfVectorizer(analyzer="char")``: it builds every n-gram as a Python
string, about 1,000 per message, which caps prediction near 2,000 messages a second; jieba words are
slower still (~500 a second). Here a batch is one array of code points and each n-gram is an integer
hash computed in vectorised arithmetic, so featurising costs a few microseconds per message.

Chinese needs no word segmentation for this: character unigrams to trigrams cover most words
(two or three characters) and their overlaps, and measured as well as jieba words on the 12345-style
messages (see bench/classify.py).

Hash buckets that occur in fewer than ``min_df`` training texts are dropped and the rest renumbered
(``columns``), so the model's weight matrix has one column per used feature, not per bucket.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

# Padding between texts in the batch array (a control character, never in a normalised text).
# Each text is preceded by ``_PAD`` copies (the longest n-gram minus one), so an n-gram starting in a
# text's stretch never reaches the next text, and begin/end-of-text n-grams exist (like char_wb).
_PAD = 2
_MAX_N = _PAD + 1
# Texts featurised at once: the arrays of a batch of ~1000 messages stay in the CPU caches; batches
# of 20,000 ran at half the speed per text.
_CHUNK = 1_000
# At most this many texts are read to count document frequencies.
_DF_SAMPLE = 200_000
# Odd 32-bit multipliers mixing the code points of an n-gram (position-dependent), and the final
# multiplicative (Fibonacci) hash whose top bits pick the bucket.
_MULT = (np.uint32(0x9E3779B1), np.uint32(0x85EBCA77), np.uint32(0xC2B2AE3D))
_FINAL = (np.uint32(0x27D4EB2F), np.uint32(0x165667B1), np.uint32(0xD3A2646C))


def _codes(texts: Sequence[str]) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64]]:
    """All texts as one array of code points, each preceded by padding, plus trailing padding; and
    each text's start position (its first padding character)."""
    pad = "\x00" * _PAD
    joined = pad + pad.join(texts) + pad
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
    lengths = np.fromiter((len(t) + _PAD for t in texts), dtype=np.int64, count=len(texts))
    starts = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(lengths, out=starts[1:])
    return codes, starts


def hashed_ngrams(
    texts: Sequence[str], ngram_range: tuple[int, int], bits: int
) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.int64]]:
    """The bucket (in ``2**bits``) of every character n-gram of every text, in text order, with
    repeats; and the CSR-style offsets of each text's n-grams in that array."""
    lo, hi = ngram_range
    if not 1 <= lo <= hi <= _MAX_N:
        raise ValueError(f"ngram_range must lie within 1..{_MAX_N}: {ngram_range}")
    codes, starts = _codes(texts)
    positions = int(starts[-1])  # n-grams start at every position before the trailing padding
    shift = np.uint32(32 - bits)
    per_position = hi - lo + 1
    buckets = np.empty((positions, per_position), dtype=np.uint32)
    h = codes[:positions] * _MULT[0]
    for n in range(1, hi + 1):
        if n > 1:
            h += codes[n - 1 : n - 1 + positions] * _MULT[n - 1]
        if n >= lo:
            buckets[:, n - lo] = ((h ^ (h >> np.uint32(15))) * _FINAL[n - 1]) >> shift
    return buckets.ravel(), starts * per_position


def count_matrix(cols: npt.NDArray[Any], indptr: npt.NDArray[np.int64], n_cols: int) -> sp.csr_matrix:
    """CSR counts from unsorted column numbers with repeats (row r owns ``cols[indptr[r]:indptr[r+1]]``).

    One sort of ``row * n_cols + col`` keys groups equal (row, column) pairs; measured faster than
    scipy's per-row ``sort_indices`` or a transpose round trip over a wide matrix. The keys are 32-bit
    when they fit (every batch of up to a few thousand texts): the sort then moves half the bytes."""
    n_rows = len(indptr) - 1
    dtype: type[np.unsignedinteger[Any]] | type[np.signedinteger[Any]] = (
        np.uint32 if n_rows * n_cols < 1 << 32 else np.int64
    )
    rows: npt.NDArray[Any] = np.repeat(np.arange(n_rows, dtype=dtype), np.diff(indptr))
    keys = rows * dtype(n_cols) + cols.astype(dtype, copy=False)
    keys.sort()
    if not keys.size:
        return sp.csr_matrix((n_rows, n_cols), dtype=np.float32)
    change = np.empty(keys.size + 1, dtype=bool)
    change[0] = change[-1] = True
    np.not_equal(keys[1:], keys[:-1], out=change[1:-1])
    bounds = np.flatnonzero(change)
    counts = np.diff(bounds).astype(np.float32)
    unique = keys[bounds[:-1]]
    out_rows = unique // dtype(n_cols)
    out_ptr = np.searchsorted(out_rows, np.arange(n_rows + 1, dtype=dtype)).astype(np.int64)
    return sp.csr_matrix((counts, (unique % dtype(n_cols)).astype(np.int32), out_ptr), shape=(n_rows, n_cols))


@dataclass
class CharTfidf:
    """Character n-gram TF-IDF (sublinear tf, smoothed idf, L2 rows) over hashed, pruned buckets."""

    ngram_range: tuple[int, int] = (1, 3)
    bits: int = 21
    min_df: int = 2
    max_features: int = 300_000
    columns: npt.NDArray[np.int32] = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    idf: npt.NDArray[np.float32] = field(default_factory=lambda: np.zeros(0, dtype=np.float32))

    @property
    def n_features(self) -> int:
        return len(self.idf)

    def fit_transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        return self.fit(texts).transform(texts)

    def fit(self, texts: Sequence[str]) -> CharTfidf:
        """Choose the columns and their idf from ``texts`` (a sample of at most ``_DF_SAMPLE``)."""
        df = np.zeros(1 << self.bits, dtype=np.int64)
        # Document frequencies from an evenly spread sample on large sets: the idf of anything
        # frequent enough to matter is the same, and the pass costs a fraction.
        step = max(1, -(-len(texts) // _DF_SAMPLE))
        sample = texts[::step]
        for start in range(0, len(sample), _CHUNK):
            buckets, indptr = hashed_ngrams(sample[start : start + _CHUNK], self.ngram_range, self.bits)
            counts = count_matrix(buckets, indptr, 1 << self.bits)
            df += np.bincount(counts.indices, minlength=1 << self.bits)
        kept = np.flatnonzero(df >= max(1, round(self.min_df * len(sample) / max(1, len(texts)))))
        if len(kept) > self.max_features:
            # The most frequent buckets; ties broken by bucket number so the choice is reproducible.
            order = np.lexsort((kept, -df[kept]))
            kept = np.sort(kept[order[: self.max_features]])
        self.columns = np.full(1 << self.bits, -1, dtype=np.int32)
        self.columns[kept] = np.arange(len(kept), dtype=np.int32)
        self.idf = (np.log((1 + len(sample)) / (1 + df[kept])) + 1).astype(np.float32)
        return self

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        if not len(self.idf):
            raise RuntimeError("CharTfidf is not fitted")
        if len(texts) <= _CHUNK:
            return self._transform(texts)
        # Cache-sized pieces; also bounds the working memory on large sets.
        return sp.vstack(
            [self._transform(texts[i : i + _CHUNK]) for i in range(0, len(texts), _CHUNK)], format="csr"
        )

    def transform_one(self, text: str) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float32]]:
        """The columns and values of one text's row of :meth:`transform`, without a sparse matrix:
        building one costs more than the arithmetic for a single message (suggestions at intake)."""
        if not len(self.idf):
            raise RuntimeError("CharTfidf is not fitted")
        buckets, _offsets = hashed_ngrams([text], self.ngram_range, self.bits)
        col = self.columns[buckets]
        cols, counts = np.unique(col[col >= 0], return_counts=True)
        value = (1.0 + np.log(counts.astype(np.float32))) * self.idf[cols]
        norm = np.sqrt(np.dot(value, value))
        return cols.astype(np.intp), (value / norm if norm > 0 else value).astype(np.float32)

    def _transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        buckets, indptr = hashed_ngrams(texts, self.ngram_range, self.bits)
        # Drop unused buckets first: fewer entries to sort.
        col = self.columns[buckets]
        keep = col >= 0
        kept_before = np.r_[0, np.cumsum(keep)]
        counts = count_matrix(col[keep], kept_before[indptr], len(self.idf))
        value = (1.0 + np.log(counts.data)) * self.idf[counts.indices]
        lengths = np.diff(counts.indptr)
        norms = np.zeros(len(lengths), dtype=np.float32)
        nonempty = lengths > 0
        if value.size:
            norms[nonempty] = np.sqrt(np.add.reduceat(value * value, counts.indptr[:-1][nonempty]))
        norms[~nonempty] = 1.0
        counts.data = (value / np.repeat(norms, lengths)).astype(np.float32)
        return counts
