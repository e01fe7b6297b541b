"""Model files: a pickled :class:`TextClassifier` in an envelope with a format name and version.

A file is only unpickled after its sha256 matched the one recorded when it was written (pickle runs
code, so an unverified file is never loaded), and then only if its format version is one this code
reads. Any problem is a :class:`ModelFileError` with a message saying which.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

from yiwang.dispatch.classifier.model import TextClassifier

FORMAT_NAME = "yiwang-text-classifier"
FORMAT_VERSION = 2  # 2: head features (TextClassifier.head, head_chars)


class ModelFileError(Exception):
    """A model file is missing, corrupt, altered or of an unknown format."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save(model: TextClassifier, path: Path) -> tuple[str, int]:
    """Write ``model`` to ``path`` atomically; return its sha256 and size in bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    envelope = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "model": model}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            pickle.dump(envelope, handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return sha256_of(path), path.stat().st_size


def load(path: Path, sha256: str) -> TextClassifier:
    """Read a model file after checking its hash and format; :class:`ModelFileError` otherwise."""
    try:
        actual = sha256_of(path)
    except OSError as exc:
        raise ModelFileError(f"模型文件无法读取 / model file unreadable: {path}: {exc}") from exc
    if actual != sha256:
        raise ModelFileError(
            f"模型文件校验失败（文件已损坏或被改动）/ model file checksum mismatch: {path} "
            f"(expected {sha256[:12]}…, found {actual[:12]}…)"
        )
    try:
        with path.open("rb") as handle:
            envelope: Any = pickle.load(handle)  # noqa: S301 - the sha256 above vouches for the file
    except Exception as exc:
        raise ModelFileError(f"模型文件格式错误 / model file cannot be decoded: {path}: {exc}") from exc
    if not isinstance(envelope, dict) or envelope.get("format") != FORMAT_NAME:
        raise ModelFileError(f"不是分类模型文件 / not a classifier model file: {path}")
    if envelope.get("version") != FORMAT_VERSION:
        raise ModelFileError(
            f"模型文件版本 {envelope.get('version')} 不受支持（当前 {FORMAT_VERSION}），请重新训练 / "
            f"unsupported model file version {envelope.get('version')} (this code reads "
            f"{FORMAT_VERSION}); retrain the model"
        )
    model = envelope.get("model")
    if not isinstance(model, TextClassifier):
        raise ModelFileError(f"模型文件内容错误 / model file holds no classifier: {path}")
    return model
