"""The text classifier: normalised text → character n-gram TF-IDF → linear SVM → calibrated
probabilities. By default (see :func:`fit`) the opening characters are a feature block of their
own, and an NB-SVM is averaged with the SVM.

The opening characters get their own features because a message usually starts with its subject
line (主题加详情 is subject then details), which names the topic more densely than the body does.
The two linear models are a one-vs-rest LinearSVC and an NB-SVM (the same, on features scaled by
each class's log-count ratio, Wang & Manning 2012); they err on different messages, and their
average, each scaled by the spread of its own decision values, beat either alone on the 12345-style
messages (bench/classify.py). Both are linear in the features, and so is their sum: the fitted model
keeps one weight matrix, so prediction costs one sparse product, as for a single SVM.

Calibration: an SVM's decision values are not probabilities. They are turned into a softmax with one
temperature, fitted (by log-loss) on decision values the model did not train on: out-of-fold values
from an inner cross-validation on small training sets, a held-out tenth on large ones. One parameter
cannot overfit, keeps the ranking of the classes, and makes "0.9" mean right about nine times in ten
(the reliability table and ECE on held-out folds are in ``evaluate.calibration`` and bench/classify.py).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from yiwang.dispatch.classifier.features import CharTfidf
from yiwang.dispatch.text import normalize

ALGORITHM = "char-ngram-tfidf+linear-svc+temperature"  # options in params: head_chars, nbsvm, solver
# Inner folds for the calibration scores below this many texts; a held-out share above it.
_SMALL = 20_000
_HOLDOUT = 0.1
_PRUNE_FROM = 1_000
# Solver: liblinear's LinearSVC below ``_SMALL`` texts; above, averaged SGD on the same hinge loss,
# streamed over chunks of featurised texts (see :func:`_fit_sgd`), because the dual coordinate
# descent of liblinear takes more than linear time (50 k texts 36 s, 200 k 293 s, 1 M ~ 30 min).
_SGD_CHUNK = 20_000
# SGD passes over the data: enough for about this many updates, at least one, at most _SGD_EPOCHS.
_SGD_UPDATES = 500_000
_SGD_EPOCHS = 10
# Training rows sampled (streaming solver) for the NB-SVM ratios and the spreads of the decision values.
_NB_SAMPLE = 50_000
# Keep the weight matrix under ~64 MB (float32) however many categories the district uses.
_MAX_WEIGHTS = 16_000_000
# A space between two non-ASCII characters is a segmentation artefact (pre-tokenised text) or noise.
# Matched as whole chains of non-ASCII runs joined by single spaces, whose spaces are then dropped:
# one match per chain instead of one per space (a tokenised message has ~100), 2× faster than
# ``(?<=[^\x00-\x7f]) (?=[^\x00-\x7f])`` and the same result. A match only starts where a run
# starts (the look-behind) and never gives back characters of a run (possessive ``++``): otherwise a
# run of n characters with no space after it is re-scanned from each of its n positions, O(n²)
# (a 450-character message: 540 µs instead of 30).
_CJK_CHAIN = re.compile(r"(?<![^\x00-\x7f])[^\x00-\x7f]++(?: [^\x00-\x7f]++)+")


def _join_chain(match: re.Match[str]) -> str:
    return match.group().replace(" ", "")


class ClassifierInputError(ValueError):
    """Training data the classifier cannot learn from (Chinese first, English after the slash)."""


def prepare(text: str | None) -> str:
    """Text as the classifier sees it: :func:`normalize`, then spaces between Chinese characters
    dropped (so jieba-tokenised training text and raw text look alike)."""
    normal = normalize(text)
    return _CJK_CHAIN.sub(_join_chain, normal) if " " in normal else normal


def is_meaningful(prepared: str) -> bool:
    """Whether a prepared text has at least one letter, digit or Chinese character."""
    return any(unicodedata.category(ch)[0] in "LN" for ch in prepared)


@dataclass
class TextClassifier:
    """A fitted classifier. Pickled as a whole into the model file (see ``classifier.artifacts``)."""

    features: CharTfidf
    classes: list[str]
    coef: npt.NDArray[np.float32]  # (n_features [+ head.n_features], n_classes)
    intercept: npt.NDArray[np.float32]  # (n_classes,)
    temperature: float = 1.0
    # No confidence above what the calibration data can vouch for: with n held-out texts,
    # (n + 1) / (n + 2) (Laplace's rule of succession), however separable the training data were.
    max_confidence: float = 1.0
    params: dict[str, Any] = field(default_factory=dict)
    # Features of the first ``head_chars`` characters alone (their weights follow the main ones in
    # ``coef``); ``None`` when the model was trained without them.
    head: CharTfidf | None = None
    head_chars: int = 0

    def decision(self, prepared: Sequence[str]) -> npt.NDArray[np.float64]:
        if len(prepared) > _SGD_CHUNK:  # bounded working memory on large sets
            return np.vstack(
                [self.decision(prepared[i : i + _SGD_CHUNK]) for i in range(0, len(prepared), _SGD_CHUNK)]
            )
        n_main = self.features.n_features
        if len(prepared) == 1:
            return self._decision_one(prepared[0])
        scores = _times(self.features.transform(prepared), self.coef[:n_main])
        if self.head is not None:
            heads = [text[: self.head_chars] for text in prepared]
            scores = scores + _times(self.head.transform(heads), self.coef[n_main:])
        return np.asarray(scores, dtype=np.float64) + self.intercept

    def _decision_one(self, text: str) -> npt.NDArray[np.float64]:
        """:meth:`decision` of a single text by gathering the weight rows of its features."""
        cols, values = self.features.transform_one(text)
        scores = values @ self.coef[cols]
        if self.head is not None:
            cols, values = self.head.transform_one(text[: self.head_chars])
            scores = scores + values @ self.coef[cols + self.features.n_features]
        return (np.asarray(scores, dtype=np.float64) + self.intercept.astype(np.float64))[np.newaxis, :]

    def for_serving(self) -> TextClassifier:
        """This model with its weights held as float16, as a web process keeps it: half the memory
        (32 instead of 64 MB at 300 categories) for scores that move by rounding only. Training,
        evaluation and the model file keep float32."""
        return replace(self, coef=self.coef.astype(np.float16))

    def predict_proba_prepared(self, prepared: Sequence[str]) -> npt.NDArray[np.float64]:
        if not prepared:
            return np.zeros((0, len(self.classes)))
        return softmax(self.decision(prepared) / self.temperature)

    def predict_proba(self, texts: Sequence[str]) -> npt.NDArray[np.float64]:
        return self.predict_proba_prepared([prepare(t) for t in texts])

    def predict(self, texts: Sequence[str]) -> list[str]:
        proba = self.predict_proba(texts)
        return [self.classes[i] for i in proba.argmax(axis=1)] if len(proba) else []

    def top(self, text: str, limit: int) -> list[tuple[str, float]]:
        """``[(label, probability)]`` best first, or ``[]`` for empty / symbol-only text."""
        prepared = prepare(text)
        if not is_meaningful(prepared):
            return []
        proba = self.predict_proba_prepared([prepared])[0]
        order = np.argsort(-proba, kind="stable")[: max(0, limit)]
        return [(self.classes[i], min(float(proba[i]), self.max_confidence)) for i in order]


# Classes widened to float32 at a time when the weights are float16 (scipy has no float16 product).
_WIDEN_CLASSES = 32


def _times(x: Any, coef: npt.NDArray[Any]) -> npt.NDArray[np.float32]:
    """``x @ coef`` for a sparse ``x``; float16 weights are widened a block of classes at a time,
    so a batch never holds a float32 copy of the whole matrix."""
    if coef.dtype != np.float16:
        return np.asarray(x @ coef)
    step = _WIDEN_CLASSES
    return np.hstack([x @ coef[:, j : j + step].astype(np.float32) for j in range(0, coef.shape[1], step)])


def _fit_linear(
    x: Any, y: npt.NDArray[np.int64], n_classes: int, c: float
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """One-vs-rest LinearSVC: ``(coef (n_features, n_classes), intercept (n_classes,))``."""
    from sklearn.svm import LinearSVC  # training only: the web process never loads sklearn

    svm = LinearSVC(C=c, random_state=0)
    svm.fit(x, y)
    return _columns(svm.coef_, svm.intercept_, n_classes)


def _columns(
    coef_: Any, intercept_: Any, n_classes: int
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """scikit-learn's one-vs-rest weights ``(n_classes | 1, n_features)`` as ``(n_features, n_classes)``."""
    coef = np.asarray(coef_, dtype=np.float32)
    intercept = np.asarray(intercept_, dtype=np.float32)
    if n_classes == 2:  # binary LinearSVC has one weight vector: class 1 against class 0
        coef = np.vstack([-coef / 2, coef / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2], dtype=np.float32)
    return np.ascontiguousarray(coef.T), intercept


def _fit_sgd(
    featurise: Callable[[npt.NDArray[np.int64]], Any],
    rows: npt.NDArray[np.int64],
    y: npt.NDArray[np.int64],
    n_classes: int,
    c: float,
    random_state: int,
    nbsvm: bool = False,
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """One-vs-rest linear SVM by averaged SGD (hinge loss), streamed: ``featurise(rows)`` gives the
    feature rows of one chunk at a time, so memory holds one chunk, not the whole matrix, and the time
    is linear in the number of texts. With ``nbsvm``, the NB-SVM is trained in the same passes (one
    binary SGD per class on the chunk scaled by that class's ratios, estimated beforehand on a sample)
    and averaged with the SVM as in :func:`_fit_ensemble`.

    ``alpha = 1 / (C·n)`` is the regularisation of LinearSVC's objective with the same ``C``, so the
    two solvers fit the same model (5-fold CV on the 12345-style messages: within 0.002 macro-F1 of
    LinearSVC, bench/classify.py). The rows are shuffled for every pass: training files are often
    sorted by category, and one pass of SGD over sorted rows would end up predicting the last one."""
    from sklearn.linear_model import SGDClassifier

    n = len(rows)
    epochs = max(1, min(_SGD_EPOCHS, -(-_SGD_UPDATES // max(1, n))))
    rng = np.random.default_rng(random_state)

    def sgd() -> SGDClassifier:
        return SGDClassifier(loss="hinge", alpha=1.0 / (c * n), average=True, random_state=random_state)

    # A sample of the training rows for the NB ratios and for the spreads of the decision values.
    sample = np.sort(rng.choice(rows, size=min(n, _NB_SAMPLE), replace=False))
    x_sample = featurise(sample)
    ratios = _nb_ratios(x_sample, y[sample], n_classes) if nbsvm else np.zeros((0, 0))
    plain, per_class = sgd(), [sgd() for _k in range(len(ratios))]
    classes, binary = np.arange(n_classes), np.arange(2)
    for _epoch in range(epochs):
        order = rng.permutation(rows)
        for start in range(0, n, _SGD_CHUNK):
            chunk = order[start : start + _SGD_CHUNK]
            x = featurise(chunk)
            plain.partial_fit(x, y[chunk], classes=classes)
            for k, model in enumerate(per_class):
                scaled = x.copy()
                scaled.data *= ratios[k][scaled.indices].astype(scaled.data.dtype)
                model.partial_fit(scaled, (y[chunk] == k).astype(np.int64), classes=binary)
    parts = [_columns(plain.coef_, plain.intercept_, n_classes)]
    if per_class:
        coef = np.stack([ratios[k] * m.coef_[0] for k, m in enumerate(per_class)], axis=1)
        intercept = np.array([m.intercept_[0] for m in per_class])
        parts.append((coef.astype(np.float32), intercept.astype(np.float32)))
    return _average(parts, x_sample)


def _nb_ratios(
    x: Any, y: npt.NDArray[np.int64], n_classes: int, alpha: float = 1.0
) -> npt.NDArray[np.float64]:
    """Each class's log-count ratio against the rest (feature presence, add-``alpha`` smoothing),
    ``(n_classes, n_features)``, scaled so that the scaled rows keep a mean squared norm of 1, as the
    TF-IDF rows have: larger rows act as a larger C, and the dual solver then needs many times the
    iterations."""
    present = x.copy()
    present.data[:] = 1.0
    per_class = np.zeros((n_classes, x.shape[1]))
    for k in range(n_classes):
        per_class[k] = np.asarray(present[y == k].sum(axis=0)).ravel()
    total = per_class.sum(axis=0)
    squared = x.multiply(x)
    ratios = np.zeros((n_classes, x.shape[1]))
    for k in range(n_classes):
        pos, neg = per_class[k] + alpha, total - per_class[k] + alpha
        ratio = np.log(pos / pos.sum()) - np.log(neg / neg.sum())
        ratios[k] = ratio / (np.sqrt(float((squared @ (ratio * ratio)).mean())) or 1.0)
    return ratios


def _fit_nbsvm(
    x: Any, y: npt.NDArray[np.int64], n_classes: int, c: float, alpha: float = 1.0
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """NB-SVM, one vs rest: for each class, a LinearSVC on the features scaled by the log-count
    ratio ``r`` of that class against the rest (:func:`_nb_ratios`). The scaling is folded into the
    weights (``x·(r∘w)`` = ``(x∘r)·w``), so the result is a plain linear model on ``x``:
    ``(coef (n_features, n_classes), intercept (n_classes,))``."""
    from sklearn.svm import LinearSVC  # training only: the web process never loads sklearn

    ratios = _nb_ratios(x, y, n_classes, alpha)
    coef = np.zeros((x.shape[1], n_classes), dtype=np.float32)
    intercept = np.zeros(n_classes, dtype=np.float32)
    for k in range(n_classes):
        scaled = x.copy()  # one scaled copy at a time: memory stays at twice the feature matrix
        scaled.data *= ratios[k][scaled.indices].astype(scaled.data.dtype)
        svm = LinearSVC(C=c, random_state=0).fit(scaled, (y == k).astype(np.int64))
        coef[:, k] = ratios[k] * svm.coef_[0]
        intercept[k] = svm.intercept_[0]
    return coef, intercept


def _fit_ensemble(
    x: Any, y: npt.NDArray[np.int64], n_classes: int, c: float, nbsvm: bool
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """The SVM, plus the NB-SVM when ``nbsvm``, averaged (:func:`_average`) on the training set."""
    parts = [_fit_linear(x, y, n_classes, c)] + ([_fit_nbsvm(x, y, n_classes, c)] if nbsvm else [])
    return _average(parts, x)


def _average(
    parts: list[tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]], x: Any
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Linear models added, each divided by the standard deviation of its decision values on ``x``
    (so neither dominates by scale)."""
    coef = np.zeros_like(parts[0][0])
    intercept = np.zeros_like(parts[0][1])
    for w, b in parts:
        spread = float(np.std(np.asarray(x @ w) + b)) or 1.0
        coef += w / spread
        intercept += b / spread
    return coef, intercept


def softmax(scores: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Each row's softmax, as scipy.special.softmax computes it. Written here because importing
    scipy.special (and scipy.optimize, which training uses) cost every web process 27 MB."""
    shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
    return np.asarray(shifted / shifted.sum(axis=1, keepdims=True), dtype=np.float64)


def fit_temperature(scores: npt.NDArray[np.float64], y: npt.NDArray[np.int64]) -> float:
    """The softmax temperature minimising the log-loss of ``scores`` for the true classes ``y``."""
    from scipy.optimize import minimize_scalar  # training only, as sklearn
    from scipy.special import log_softmax

    def loss(log_t: float) -> float:
        logp = log_softmax(scores / np.exp(log_t), axis=1)
        return float(-logp[np.arange(len(y)), y].mean())

    result = minimize_scalar(loss, bounds=(-6.0, 4.0), method="bounded")
    return float(np.exp(result.x))


def check_training_set(labels: Sequence[str]) -> Counter[str]:
    counts = Counter(labels)
    if not labels:
        raise ClassifierInputError("没有训练样本 / no training examples")
    if len(counts) < 2:
        raise ClassifierInputError(
            f"训练样本只有一个类别（{next(iter(counts))}），至少需要两个 / "
            "the training set has a single category; at least two are needed"
        )
    return counts


def fit(
    texts: Sequence[str],
    labels: Sequence[str],
    *,
    c: float = 1.0,
    ngram_range: tuple[int, int] = (1, 3),
    min_df: int = 2,
    max_features: int = 80_000,
    head_chars: int = 30,
    nbsvm: bool = True,
    calibration_folds: int = 3,
    random_state: int = 0,
    solver: str = "auto",
) -> TextClassifier:
    """Train on raw texts and their labels; raises :class:`ClassifierInputError` on unusable data.

    ``head_chars`` > 0 adds the first that many characters as a second feature block (30 by default,
    about a subject line; 0 turns it off), and ``nbsvm`` averages an NB-SVM with the SVM. In 5-fold
    CV on the 12345-style messages (bench/classify.py): 0.923 macro-F1 with neither, 0.927 with the
    head block, 0.929 with both. Both defaults were also chosen by an inner 3-fold CV inside every
    outer fold (it picked both every time; nested CV 0.929). The cost: ~10 % more featurising for the
    head block, and for the NB-SVM one more linear model per class to train (prediction costs the
    same: the average is folded into one weight matrix).

    ``solver``: ``"liblinear"`` (LinearSVC, the whole feature matrix in memory), ``"sgd"`` (averaged
    SGD streamed over chunks, linear time and bounded memory, see :func:`_fit_sgd`) or ``"auto"``:
    SGD from ``_SMALL`` texts up."""
    if len(texts) != len(labels):
        raise ClassifierInputError("文本与标签数量不一致 / texts and labels differ in length")
    counts = check_training_set(labels)
    if solver not in ("auto", "liblinear", "sgd"):
        raise ValueError(f"unknown solver {solver!r}")
    if solver == "auto":
        solver = "sgd" if len(texts) >= _SMALL else "liblinear"
    classes = sorted(counts)
    index = {label: i for i, label in enumerate(classes)}
    y = np.array([index[label] for label in labels], dtype=np.int64)
    prepared = [prepare(t) for t in texts]
    blocks = 2 if head_chars > 0 else 1  # the head block has at most as many features again
    max_features = min(max_features, _MAX_WEIGHTS // (len(classes) * blocks))
    # Pruning rare n-grams saves memory on large sets; on small ones it would drop most of the signal.
    min_df = min_df if len(texts) >= _PRUNE_FROM else 1
    params: dict[str, Any] = {
        "c": c,
        "ngram_range": list(ngram_range),
        "min_df": min_df,
        "max_features": max_features,
        "head_chars": head_chars,
        "nbsvm": nbsvm,
        "calibration_folds": calibration_folds,
        "solver": solver,
    }

    def train(rows: npt.NDArray[np.int64]) -> TextClassifier:
        features = CharTfidf(ngram_range=ngram_range, min_df=min_df, max_features=max_features)
        features.fit([prepared[i] for i in rows])
        head = None
        if head_chars > 0:
            head = CharTfidf(ngram_range=ngram_range, min_df=min_df, max_features=max_features)
            head.fit([prepared[i][:head_chars] for i in rows])

        def featurise(chunk: npt.NDArray[np.int64]) -> Any:
            x = features.transform([prepared[i] for i in chunk])
            if head is None:
                return x
            return sp.hstack([x, head.transform([prepared[i][:head_chars] for i in chunk])], format="csr")

        if solver == "sgd":
            coef, intercept = _fit_sgd(featurise, rows, y, len(classes), c, random_state, nbsvm)
        else:
            coef, intercept = _fit_ensemble(featurise(rows), y[rows], len(classes), c, nbsvm)
        return TextClassifier(
            features, classes, coef, intercept, params=params, head=head, head_chars=max(0, head_chars)
        )

    everything = np.arange(len(y))
    scores, truth = _calibration_scores(prepared, y, train, calibration_folds, random_state)
    model = train(everything) if scores is None or len(y) < _SMALL else scores[2]
    if scores is not None:
        model.temperature = fit_temperature(scores[0], truth)
        model.max_confidence = (len(truth) + 1) / (len(truth) + 2)
    else:
        model.max_confidence = (len(y) + 1) / (len(y) + 2)
    return model


def _calibration_scores(
    prepared: list[str],
    y: npt.NDArray[np.int64],
    train: Any,
    folds: int,
    random_state: int,
) -> tuple[Any, npt.NDArray[np.int64]]:
    """Decision values on texts each model did not see: ``((scores, rows, model), truth)``; the model
    is the one trained on the rest (reused as the final model for large sets). ``(None, ...)`` when
    the smallest class is too small to hold any out."""
    from sklearn.model_selection import StratifiedKFold  # training only

    smallest = int(np.bincount(y).min())
    if len(y) >= _SMALL:
        rng = np.random.default_rng(random_state)
        held = np.zeros(len(y), dtype=bool)
        held[rng.choice(len(y), size=int(len(y) * _HOLDOUT), replace=False)] = True
        model = train(np.flatnonzero(~held))
        rows = np.flatnonzero(held)
        return (model.decision([prepared[i] for i in rows]), rows, model), y[rows]
    k = min(folds, smallest)
    if k < 2:
        return None, y
    out = np.zeros((len(y), int(y.max()) + 1))
    for fit_rows, held_rows in StratifiedKFold(k, shuffle=True, random_state=random_state).split(out, y):
        out[held_rows] = train(fit_rows).decision([prepared[i] for i in held_rows])
    return (out, np.arange(len(y)), None), y
