"""Normalisation of citizen text before any model sees it.

Citizens type on phones and in web forms: full-width letters and digits (ＡＢＣ１２３), traditional
characters from some input methods, stray whitespace and line breaks, and the same polite openings
and closings in every letter (尊敬的领导您好 … 此致敬礼). None of that says anything about the
problem, so it is folded away here, once, for the classifier, duplicate detection, hotspots and the
knowledge base alike.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache

import opencc

# Openings and closings that carry no information about the matter (longest first where they overlap).
# Every alternative starts with a literal character (optional prefixes such as 各位 / 非常 are spelled
# out as separate alternatives, in the same order), so the regex engine can skip ahead to candidate
# characters instead of trying each alternative at every position: ~3× faster, same matches.
_BOILERPLATE = re.compile(
    "|".join(
        (
            r"尊敬的[^，,。！!：:]{0,12}(?:领导|同志|书记|市长|县长|区长|局长|主任|部门)?[，,：:！!]?",
            r"各位领导(?:们)?(?:你|您)好[，,。！!：:]?",
            r"领导(?:们)?(?:你|您)好[，,。！!：:]?",
            r"[你您]好[，,。！!：:]",
            r"此致[，,]?\s*敬礼[！!。]?",
            r"非常感谢(?:您|你|各位领导)?(?:的)?(?:关注|关心|支持|帮助)?[！!。]?$",
            r"十分感谢(?:您|你|各位领导)?(?:的)?(?:关注|关心|支持|帮助)?[！!。]?$",
            r"感谢(?:您|你|各位领导)?(?:的)?(?:关注|关心|支持|帮助)?[！!。]?$",
            r"[谢多]谢(?:领导|您|你们)?[！!。]*$",
            r"望(?:领导|政府|相关部门)?(?:予以)?(?:重视|关注)[！!。]*$",
        )
    )
)
_SPACE = re.compile(r"\s+")
# A run of one character longer than this is noise (4000 × "！"), kept at this length.
_MAX_RUN = 3
_RUN = re.compile(rf"(.)\1{{{_MAX_RUN},}}")

_local = threading.local()


def _converter() -> opencc.OpenCC:
    # OpenCC objects are not documented as thread-safe; one per thread costs ~1 ms once.
    converter = getattr(_local, "t2s", None)
    if converter is None:
        converter = _local.t2s = opencc.OpenCC("t2s")
    return converter


def to_simplified(text: str) -> str:
    return str(_converter().convert(text))


def normalize(text: str | None) -> str:
    """Text as the models see it: NFKC (full-width → half-width), simplified characters, lower-case
    Latin letters, boilerplate removed, runs of one character capped, whitespace collapsed to single
    spaces. Empty or whitespace-only input gives ``""``."""
    if not text:
        return ""
    folded = unicodedata.normalize("NFKC", text)
    folded = to_simplified(folded).lower()
    # " ".join(s.split()) is _SPACE.sub(" ", s).strip() (both split on str.isspace()), 3× faster.
    folded = " ".join(folded.split())
    folded = _BOILERPLATE.sub("", folded)
    folded = _RUN.sub(lambda m: m.group(1) * _MAX_RUN, folded)
    return " ".join(folded.split())


@lru_cache(maxsize=1)
def _jieba() -> object:
    import jieba

    jieba.setLogLevel(60)  # its start-up chatter goes to stderr on every process otherwise
    jieba.initialize()
    return jieba


def words(text: str) -> list[str]:
    """jieba words of already normalised text, without spaces and punctuation-only tokens."""
    jieba = _jieba()
    return [w for w in jieba.lcut(text) if w.strip() and not _is_punct(w)]  # type: ignore[attr-defined]


def _is_punct(token: str) -> bool:
    return all(unicodedata.category(ch).startswith(("P", "S", "Z")) for ch in token)
