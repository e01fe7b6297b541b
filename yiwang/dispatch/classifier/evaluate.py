"""Quality measurement: CSV loading, train/test and cross-validated scores, calibration (ECE).

Used by ``yiwang classify evaluate`` and bench/classify.py. Labelled third-party data (teddy2020) is
only ever read from a path given on the command line.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold

from yiwang.dispatch.classifier.model import ClassifierInputError, TextClassifier, fit

csv.field_size_limit(10_000_000)


@dataclass
class LabelledTexts:
    texts: list[str]
    labels: list[str]


def _decode(raw: bytes, path: Path) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ClassifierInputError(f"无法识别文件编码（应为 UTF-8 或 GBK）/ {path}: not UTF-8 or GBK")


def read_csv(
    path: Path,
    *,
    text_column: str = "text",
    label_column: str = "label",
    fallback_text_column: str | None = None,
) -> LabelledTexts:
    """Rows of a labelled CSV (UTF-8 with or without BOM, or GBK). The text is ``text_column``, or
    ``fallback_text_column`` where the first is empty; rows without text or label are skipped."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ClassifierInputError(f"无法读取文件 / cannot read {path}: {exc}") from exc
    reader = csv.DictReader(io.StringIO(_decode(raw, path), newline=""))
    header = reader.fieldnames or []
    wanted = [text_column, label_column] + ([fallback_text_column] if fallback_text_column else [])
    missing = [c for c in wanted if c not in header]
    if missing:
        raise ClassifierInputError(
            f"缺少列 {', '.join(missing)}（现有列：{', '.join(header)}）/ "
            f"missing column(s) {', '.join(missing)} in {path}"
        )
    out = LabelledTexts([], [])
    for row in reader:
        text = (row.get(text_column) or "").strip()
        if not text and fallback_text_column:
            text = (row.get(fallback_text_column) or "").strip()
        label = (row.get(label_column) or "").strip()
        if text and label:
            out.texts.append(text)
            out.labels.append(label)
    return out


def expected_calibration_error(
    proba: npt.NDArray[np.float64], truth: npt.NDArray[np.int64], bins: int = 10
) -> tuple[float, list[dict[str, float]]]:
    """ECE of the top-class confidence (equal-width bins) and the reliability table."""
    confidence = proba.max(axis=1)
    correct = (proba.argmax(axis=1) == truth).astype(np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1]), 0, bins - 1)
    ece, table = 0.0, []
    for b in range(bins):
        inside = which == b
        n = int(inside.sum())
        if not n:
            continue
        conf, acc = float(confidence[inside].mean()), float(correct[inside].mean())
        ece += n / len(truth) * abs(conf - acc)
        table.append(
            {"bin": float(edges[b]), "n": n, "confidence": round(conf, 4), "accuracy": round(acc, 4)}
        )
    return ece, table


def _scores(model: TextClassifier, texts: Sequence[str], labels: Sequence[str]) -> dict[str, Any]:
    start = time.perf_counter()
    proba = model.predict_proba(texts)
    seconds = time.perf_counter() - start
    index = {label: i for i, label in enumerate(model.classes)}
    predicted = [model.classes[i] for i in proba.argmax(axis=1)]
    truth = np.array([index.get(label, -1) for label in labels])
    ece, table = expected_calibration_error(proba, truth)
    return {
        "macro_f1": float(f1_score(labels, predicted, average="macro")),
        "accuracy": float(accuracy_score(labels, predicted)),
        "predict_per_second": len(texts) / seconds if seconds > 0 else None,
        "ece": ece,
        "reliability": table,
    }


def evaluate_split(train: LabelledTexts, test: LabelledTexts, **params: Any) -> dict[str, Any]:
    start = time.perf_counter()
    model = fit(train.texts, train.labels, **params)
    train_seconds = time.perf_counter() - start
    result = _scores(model, test.texts, test.labels)
    return {
        "macro_f1": round(result["macro_f1"], 4),
        "accuracy": round(result["accuracy"], 4),
        "n_train": len(train.texts),
        "n_test": len(test.texts),
        "train_seconds": round(train_seconds, 2),
        "predict_per_second": round(result["predict_per_second"] or 0.0, 1),
        "ece": round(result["ece"], 4),
        "reliability": result["reliability"],
    }


def cross_validate(
    data: LabelledTexts, folds: int = 5, random_state: int = 0, **params: Any
) -> dict[str, Any]:
    """Stratified k-fold: the mean of each figure over the folds, plus the per-fold values."""
    labels = np.array(data.labels)
    smallest = min(np.unique(labels, return_counts=True)[1]) if len(labels) else 0
    if folds < 2 or smallest < folds:
        raise ClassifierInputError(
            f"每个类别至少需要 {folds} 个样本才能做 {folds} 折交叉验证 / "
            f"every label needs at least {folds} examples for {folds}-fold cross-validation"
        )
    per_fold: list[dict[str, Any]] = []
    splitter = StratifiedKFold(folds, shuffle=True, random_state=random_state)
    for train_rows, test_rows in splitter.split(labels, labels):
        train = LabelledTexts([data.texts[i] for i in train_rows], [data.labels[i] for i in train_rows])
        test = LabelledTexts([data.texts[i] for i in test_rows], [data.labels[i] for i in test_rows])
        result = evaluate_split(train, test, **params)
        result.pop("reliability")
        per_fold.append(result)
    summary: dict[str, Any] = {
        key: round(float(np.mean([f[key] for f in per_fold])), 4)
        for key in ("macro_f1", "accuracy", "train_seconds", "predict_per_second", "ece")
    }
    summary["macro_f1_std"] = round(float(np.std([f["macro_f1"] for f in per_fold])), 4)
    summary["n_train"] = int(np.mean([f["n_train"] for f in per_fold]))
    summary["n_test"] = int(np.mean([f["n_test"] for f in per_fold]))
    summary["folds"] = per_fold
    return summary
