"""Knowledge base for the hotline operator: answers given to similar past questions.

The knowledge is the closed cases with a written result (办理结果) — among them the consultations
answered at intake (``answer_directly`` stores its answer as the result). :class:`KnowledgeIndex`
holds, per entry, three TF-IDF matrices (scikit-learn, sparse):

* the character 2–3-grams of the title (short questions are asked in the words of past titles, and
  character grams survive the segmenter's disagreements);
* the jieba words of the whole question (title twice + description);
* the jieba words of the answer (an answer often repeats the asker's key terms).

``score = 0.5 · cos(title grams) + 0.35 · cos(question words) + 0.15 · cos(answer words)``.

:func:`similar_answers` builds the index from the newest ``YIWANG_KNOWLEDGE_MAX_CASES`` (20,000)
closed cases and keeps it for ``YIWANG_KNOWLEDGE_TTL_S`` (600 s) per process; results are filtered
through ``Case.objects.visible_to(user)`` when a user is given. A district with millions of closed
cases needs a persistent index (a table of terms or the database's full-text search) instead.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.conf import settings

from yiwang.cases.choices import CaseStatus
from yiwang.cases.models import Case
from yiwang.dispatch.similarity import idf_table, is_stop
from yiwang.dispatch.text import normalize, words

WEIGHTS = (0.5, 0.35, 0.15)
# Characters of a description or answer that go into the index (the start says what it is about).
BODY_CHARS = 600


@dataclass(frozen=True)
class KnowledgeEntry:
    key: str
    title: str
    question: str
    answer: str
    case_id: int | None = None
    closed_at: dt.datetime | None = None
    category: str = ""


@dataclass(frozen=True)
class KnowledgeAnswer:
    """A past answer suggested for a question."""

    case_id: int | None
    number: str
    title: str
    answer: str
    score: float
    closed_at: dt.datetime | None
    category: str


def _words(text: str) -> list[str]:
    return [w for w in words(normalize(text)[:BODY_CHARS]) if not is_stop(w)]


def _title(text: str) -> str:
    return normalize(text)[:200]


class KnowledgeIndex:
    """TF-IDF index over knowledge entries (see the module docstring)."""

    def __init__(self, entries: Sequence[KnowledgeEntry]) -> None:
        self.entries = list(entries)
        self.empty = not self.entries
        if self.empty:
            return
        idf_table()  # warm the shared table once, outside the timed searches
        # Imported here: a web process that never builds a knowledge base never loads sklearn.
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.title_vec = TfidfVectorizer(analyzer="char", ngram_range=(2, 3), sublinear_tf=True)
        self.word_vec = TfidfVectorizer(analyzer=_identity, sublinear_tf=True, min_df=1)
        self.title_m = self.title_vec.fit_transform([_title(e.title) for e in self.entries])
        question_words = [_words(e.title) * 2 + _words(e.question) for e in self.entries]
        self.question_m = self.word_vec.fit_transform(question_words)
        self.answer_m = self.word_vec.transform([_words(e.answer) for e in self.entries])

    def search(self, question: str, limit: int = 3) -> list[tuple[KnowledgeEntry, float]]:
        if self.empty or not normalize(question):
            return []
        q_words = _words(question)
        title_q = self.title_vec.transform([_title(question)])
        word_q = self.word_vec.transform([q_words])
        scores = (
            WEIGHTS[0] * (self.title_m @ title_q.T).toarray().ravel()
            + WEIGHTS[1] * (self.question_m @ word_q.T).toarray().ravel()
            + WEIGHTS[2] * (self.answer_m @ word_q.T).toarray().ravel()
        )
        if limit <= 0 or not scores.any():
            return []
        k = min(limit, len(scores))
        best = np.argpartition(-scores, k - 1)[:k]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(self.entries[i], float(scores[i])) for i in best if scores[i] > 0]


def _identity(tokens: list[str]) -> list[str]:
    return tokens


_cache_lock = threading.Lock()
_cache: dict[str, Any] = {"index": None, "built": 0.0, "key": None}


def _case_entries() -> list[KnowledgeEntry]:
    limit = int(getattr(settings, "YIWANG_KNOWLEDGE_MAX_CASES", 20_000))
    rows = (
        Case.objects.filter(status=CaseStatus.CLOSED)
        .exclude(result="")
        .order_by("-closed_at", "-id")
        .values_list("id", "number", "title", "description", "result", "closed_at", "category__name")[:limit]
    )
    return [
        KnowledgeEntry(
            key=number,
            title=title,
            question=description,
            answer=result,
            case_id=pk,
            closed_at=closed,
            category=category or "",
        )
        for pk, number, title, description, result, closed, category in rows
    ]


def case_index() -> KnowledgeIndex:
    """The per-process index of closed cases, rebuilt after the TTL or when cases were closed."""
    ttl = float(getattr(settings, "YIWANG_KNOWLEDGE_TTL_S", 600))
    closed = Case.objects.filter(status=CaseStatus.CLOSED).exclude(result="")
    key = (
        closed.count(),
        closed.order_by("-id").values_list("id", flat=True).first(),
        closed.order_by("-closed_at").values_list("closed_at", flat=True).first(),
    )
    with _cache_lock:
        index = _cache["index"]
        if index is None or _cache["key"] != key or time.monotonic() - _cache["built"] > ttl:
            index = KnowledgeIndex(_case_entries())
            _cache.update(index=index, built=time.monotonic(), key=key)
        return index


def reset_cache() -> None:
    """Forget the per-process index (tests; after a bulk import)."""
    with _cache_lock:
        _cache.update(index=None, built=0.0, key=None)


def similar_answers(question: str, *, limit: int = 3, user: Any = None) -> list[KnowledgeAnswer]:
    """Past answers to questions like ``question`` (best first). With ``user``, only the cases they
    may see."""
    if limit <= 0:
        return []
    hits = case_index().search(question, limit=max(limit * 10, 30) if user is not None else limit)
    if user is not None and hits:
        visible = set(
            Case.objects.visible_to(user)
            .filter(pk__in=[e.case_id for e, _s in hits])
            .values_list("pk", flat=True)
        )
        hits = [(e, s) for e, s in hits if e.case_id in visible]
    return [
        KnowledgeAnswer(
            case_id=e.case_id,
            number=e.key,
            title=e.title,
            answer=e.answer,
            score=round(s, 4),
            closed_at=e.closed_at,
            category=e.category,
        )
        for e, s in hits[:limit]
    ]
