"""The active classifier of this process, and category suggestions for everyone else.

The model is loaded once per process and reloaded when the active ``ClassifierModel`` row changes:
the (id, sha256) of the active row is the version stamp, re-read at most every
``RECHECK_SECONDS`` (one indexed query), like ``grids.locator`` does with ``LocatorVersion``.
A broken model file never breaks the caller: the error is logged once per version and the
suggestions are empty until the file is fixed or another model is activated.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from yiwang.core.memory import release_freed_memory
from yiwang.dispatch.classifier import artifacts
from yiwang.dispatch.classifier.model import TextClassifier

logger = logging.getLogger(__name__)

# Re-read the active model's stamp at most this often (seconds) per process; tests may set it to 0.
RECHECK_SECONDS = 2.0


@dataclass(frozen=True)
class Suggestion:
    code: str  # the category code (the training label)
    name: str  # the category name, or the code when no such category exists (CSV labels)
    confidence: float  # calibrated probability, 0–1


@dataclass(frozen=True)
class _Loaded:
    stamp: tuple[int, str] | None
    model: TextClassifier | None
    names: dict[str, str]
    error: str = ""


_lock = threading.Lock()
_loaded = _Loaded(stamp=None, model=None, names={})
_checked_at = -math.inf


def _active_stamp() -> tuple[int, str, str] | None:
    from yiwang.dispatch.models import ClassifierModel

    row = ClassifierModel.objects.filter(is_active=True).values_list("pk", "sha256", "file_path").first()
    return (int(row[0]), str(row[1]), str(row[2])) if row else None


def _load(stamp: tuple[int, str, str]) -> _Loaded:
    from yiwang.cases.models import Category

    pk, sha, path = stamp
    try:
        model = artifacts.load(Path(path), sha).for_serving()
    except artifacts.ModelFileError as exc:
        logger.error("分类模型 #%s 无法载入，暂停分类建议 / classifier model #%s not loaded: %s", pk, pk, exc)
        return _Loaded(stamp=(pk, sha), model=None, names={}, error=str(exc))
    names = dict(Category.objects.filter(code__in=model.classes).values_list("code", "name"))
    release_freed_memory()  # the unpickling's temporaries
    return _Loaded(stamp=(pk, sha), model=model, names=names)


def _current() -> _Loaded:
    global _loaded, _checked_at
    now = time.monotonic()
    if now - _checked_at < RECHECK_SECONDS:
        return _loaded
    with _lock:
        if now - _checked_at < RECHECK_SECONDS:
            return _loaded
        stamp = _active_stamp()
        if stamp is None:
            _loaded = _Loaded(stamp=None, model=None, names={})
        elif _loaded.stamp != stamp[:2]:
            _loaded = _load(stamp)
        _checked_at = time.monotonic()
        return _loaded


def reset_cache() -> None:
    """Forget the loaded model (tests; after activating a model in the same process)."""
    global _loaded, _checked_at
    with _lock:
        _loaded, _checked_at = _Loaded(stamp=None, model=None, names={}), -math.inf


def active_classifier() -> TextClassifier | None:
    """The active model, or None (no model, or its file is broken: then an error was logged)."""
    return _current().model


def suggest_categories(text: str, limit: int = 3) -> list[Suggestion]:
    """Up to ``limit`` categories for ``text``, best first, with calibrated confidence.

    ``[]`` when there is no active model, the model file is broken (logged), or the text has no
    letters, digits or Chinese characters. Never raises for bad input or a bad model file."""
    if not isinstance(text, str) or limit <= 0:
        return []
    loaded = _current()
    if loaded.model is None:
        return []
    try:
        ranked = loaded.model.top(text, limit)
    except Exception:  # a model that loads but cannot score must not break intake
        logger.exception("分类模型预测失败 / classifier prediction failed")
        return []
    return [Suggestion(code, loaded.names.get(code, code), round(p, 6)) for code, p in ranked]
