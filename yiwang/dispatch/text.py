"""Normalisation of citizen text before any model sees it.

Citizens type on phones and in web forms: full-width letters and digits (ＡＢＣ１２３), traditional
characters from some input methods, stray whitespace and line breaks, and the same polite openings
and closings in every letter (尊敬的领导您好 … 此致敬礼). None of that says anything about the
problem, so it is folded away here, once, for the classifier, duplicate detection, hotspots and the
knowledge base alike.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import opencc

from yiwang.dispatch import t2s_triggers, t2s_triggers_build

# Openings and closings that carry no information about the matter (longest first where they overlap).
# Every alternative starts with a literal character, not a class (optional prefixes such as 各位 /
# 非常 and classes such as [你您] are spelled out as separate alternatives, in the same order, which
# matches the same: at one position at most one of them can start). Only then does the regex engine
# skip ahead to candidate characters (re's charset prefix wants a literal at the head of every
# branch) instead of trying each alternative at every position: ~20× faster, same matches.
_BOILERPLATE = re.compile(
    "|".join(
        (
            r"尊敬的[^，,。！!：:]{0,12}(?:领导|同志|书记|市长|县长|区长|局长|主任|部门)?[，,：:！!]?",
            r"各位领导(?:们)?(?:你|您)好[，,。！!：:]?",
            r"领导(?:们)?(?:你|您)好[，,。！!：:]?",
            r"你好[，,。！!：:]",
            r"您好[，,。！!：:]",
            r"此致[，,]?\s*敬礼[！!。]?",
            r"非常感谢(?:您|你|各位领导)?(?:的)?(?:关注|关心|支持|帮助)?[！!。]?$",
            r"十分感谢(?:您|你|各位领导)?(?:的)?(?:关注|关心|支持|帮助)?[！!。]?$",
            r"感谢(?:您|你|各位领导)?(?:的)?(?:关注|关心|支持|帮助)?[！!。]?$",
            r"谢谢(?:领导|您|你们)?[！!。]*$",
            r"多谢(?:领导|您|你们)?[！!。]*$",
            r"望(?:领导|政府|相关部门)?(?:予以)?(?:重视|关注)[！!。]*$",
        )
    )
)
# A run of one character longer than this is noise (4000 × "！"), kept at this length.
_MAX_RUN = 3
_RUN = re.compile(rf"(.)\1{{{_MAX_RUN},}}")
_RUN_PAIRS = b"\x01" * _MAX_RUN  # _MAX_RUN equal neighbours in a row: a run of _MAX_RUN + 1

# Characters that are not NFKC-stable and common in Chinese messages (full-width punctuation, the
# ideographic and no-break spaces), with their NFKC forms; see :func:`nfkc`.
_NFKC_COMMON = tuple((ch, unicodedata.normalize("NFKC", ch)) for ch in "，\u3000\xa0？！：（）；…．")

_local = threading.local()
_log = logging.getLogger(__name__)


def nfkc(text: str) -> str:
    """``unicodedata.normalize("NFKC", text)``, ~10× faster on Chinese messages.

    NFKC of a Chinese message costs ~70 µs, mostly because full-width punctuation fails the quick
    check and sends the whole text through decomposition and recomposition. Replacing a character by
    its own NFKC form does not change the NFKC of the text (both decompose to the same sequence), so
    the common offenders are replaced with ``str.replace`` first; the result is returned if it passes
    the quick check, and normalised in full otherwise: the same string either way."""
    if unicodedata.is_normalized("NFKC", text):
        return text
    for ch, folded in _NFKC_COMMON:
        text = text.replace(ch, folded)
    return text if unicodedata.is_normalized("NFKC", text) else unicodedata.normalize("NFKC", text)


def _converter() -> opencc.OpenCC:
    # OpenCC objects are not documented as thread-safe; one per thread costs ~1 ms once.
    converter = getattr(_local, "t2s", None)
    if converter is None:
        converter = _local.t2s = opencc.OpenCC(t2s_triggers_build.CONFIG)
    return converter


@dataclass(frozen=True)
class _Triggers:
    # Finds a changing character or an anchor (a character every changing phrase contains one of).
    pattern: re.Pattern[str]
    # Anchor → the changing phrases that contain it.
    phrases: dict[str, tuple[str, ...]]


@lru_cache(maxsize=1)
def _t2s_triggers() -> _Triggers | None:
    """What can make t2s change a text of the Basic Multilingual Plane (``t2s_triggers``), or
    ``None`` (convert every text) when the installed OpenCC dictionaries are not the ones that list
    was derived from.

    The character class has BMP characters only, so that re compiles it to a bitmap (one lookup per
    character, ~3 µs for a message); with the ~350 ranges of rare characters beyond it, re tests the
    ranges one by one (~600 µs). Texts with characters beyond the BMP are simply converted."""
    try:
        installed = t2s_triggers_build.fingerprint()
    except (OSError, ValueError) as exc:
        installed = {"error": str(exc)}
    if installed != t2s_triggers.FILES:
        _log.warning(
            "OpenCC dictionaries differ from yiwang/dispatch/t2s_triggers.py (regenerate it with "
            "python -m yiwang.dispatch.t2s_triggers_build); converting every text"
        )
        return None
    members = [re.escape(ch) for ch in t2s_triggers.ANCHORS]
    for item in t2s_triggers.CHAR_RANGES.split():
        lo, _dash, hi = item.partition("-")
        first, last = int(lo, 16), int(hi or lo, 16)
        if last <= 0xFFFF:
            members.append(f"\\u{first:04x}" + (f"-\\u{last:04x}" if last != first else ""))
    phrases = t2s_triggers.PHRASES.split()
    return _Triggers(
        re.compile(f"[{''.join(members)}]"),
        {anchor: tuple(p for p in phrases if anchor in p) for anchor in t2s_triggers.ANCHORS},
    )


def _may_change(text: str, triggers: _Triggers) -> bool:
    """Whether t2s may change ``text``: ``False`` only if it certainly does not."""
    if _beyond_bmp(text):
        return True
    checked: set[str] = set()
    found = triggers.pattern.search(text)
    while found is not None:
        ch = found.group()
        phrases = triggers.phrases.get(ch)
        if phrases is None:  # a character t2s changes
            return True
        # An anchor alone changes nothing (坏 stays 坏, 打坏 becomes 打坯): look for its phrases, once.
        if ch not in checked:
            if any(phrase in text for phrase in phrases):
                return True
            checked.add(ch)
        found = triggers.pattern.search(text, found.end())
    return False


def _beyond_bmp(text: str) -> bool:
    # A character beyond U+FFFF takes two UTF-16 code units (~1 µs for a message).
    return len(text.encode("utf-16-le", "surrogatepass")) != 2 * len(text)


def _convert(text: str) -> str:
    try:
        return str(_converter().convert(text))
    except UnicodeEncodeError:
        # Lone surrogates (from JSON "\ud800" escapes) cannot go to OpenCC as UTF-8: convert the
        # text between them and keep them as they are.
        parts = _SURROGATES.split(text)
        return "".join(part if i % 2 else str(_converter().convert(part)) for i, part in enumerate(parts))


_SURROGATES = re.compile("([\ud800-\udfff]+)")


def to_simplified(text: str) -> str:
    """OpenCC t2s of ``text``. Most texts have nothing t2s changes; a regex search for what could
    change one (~3 µs for a message, :func:`_may_change`) skips the conversion (~35 µs) for those,
    with the same result."""
    triggers = _t2s_triggers()
    return _convert(text) if triggers is None or _may_change(text, triggers) else text


def _has_run(collapsed: str) -> bool:
    """Whether ``_RUN`` matches ``collapsed`` (text without line breaks, which ``.`` would not match):
    whether some character equals its next ``_MAX_RUN`` neighbours. Compared as code-point arrays,
    ~4× faster than the regex search, which tries a group and a back-reference at every position."""
    if len(collapsed) <= _MAX_RUN:
        return False
    codes = np.frombuffer(collapsed.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    return _RUN_PAIRS in (codes[1:] == codes[:-1]).tobytes()


def normalize(text: str | None) -> str:
    """Text as the models see it: NFKC (full-width → half-width), simplified characters, lower-case
    Latin letters, boilerplate removed, runs of one character capped, whitespace collapsed to single
    spaces. Empty or whitespace-only input gives ``""``.

    Each step is skipped when it provably changes nothing (see :func:`nfkc`, :func:`to_simplified`,
    :func:`_has_run`), so the result is always that of applying every step
    (``tests/dispatch/test_text.py`` checks it against the plain version)."""
    if not text:
        return ""
    folded = to_simplified(nfkc(text)).lower()
    # " ".join(s.split()) is re.sub(r"\s+", " ", s).strip() (both split on str.isspace()), 3× faster.
    folded = " ".join(folded.split())
    folded, changed = _BOILERPLATE.subn("", folded)
    if _has_run(folded):
        folded = _RUN.sub(lambda m: m.group(1) * _MAX_RUN, folded)
        changed += 1
    # Collapsing again is only needed where something was cut out (it leaves collapsed text alone).
    return " ".join(folded.split()) if changed else folded


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
