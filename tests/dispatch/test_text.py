"""Text normalisation: the fast paths of ``dispatch.text`` give exactly what the plain steps give."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

import opencc
import pytest
from hypothesis import example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from yiwang.dispatch import t2s_triggers, text
from yiwang.dispatch.text import nfkc, normalize, to_simplified

# --- the plain version: every step applied, as normalize was written before its fast paths ----------
_PLAIN_BOILERPLATE = re.compile(
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
_PLAIN_T2S = opencc.OpenCC("t2s")


def plain_normalize(value: str) -> str:
    if not value:
        return ""
    folded = unicodedata.normalize("NFKC", value)
    folded = str(_PLAIN_T2S.convert(folded)).lower()
    folded = re.sub(r"\s+", " ", folded).strip()
    folded = _PLAIN_BOILERPLATE.sub("", folded)
    folded = re.sub(r"(.)\1{3,}", lambda m: m.group(1) * 3, folded)
    return re.sub(r"\s+", " ", folded).strip()


def _trigger_chars() -> list[str]:
    out = []
    for item in t2s_triggers.CHAR_RANGES.split():
        lo, _dash, hi = item.partition("-")
        out += [chr(cp) for cp in range(int(lo, 16), int(hi or lo, 16) + 1)]
    return out


TRIGGER_CHARS = _trigger_chars()
PHRASES = t2s_triggers.PHRASES.split()
# Chinese-heavy text: common simplified characters, every kind of character the fast paths decide on
# (changing characters, anchors, full-width forms, case, whitespace, characters beyond the BMP), and
# fragments that the phrase list, the boilerplate and the run cap act on.
CHINESE = st.lists(
    st.one_of(
        st.sampled_from(list("市民反映小区门口垃圾清运不及时异味很大希望尽快处理一了坏打土陶毛覆沈藉瞭哩")),
        st.sampled_from(TRIGGER_CHARS),
        st.sampled_from(list(t2s_triggers.ANCHORS)),
        st.sampled_from(PHRASES),
        st.sampled_from(list("，。！？：；（）…．、\u3000\xa0\t\n \r\x1c\u2028ＡＢｃ１２ΣΑabcİǅ①㎡ﬁ\u0301")),
        st.sampled_from(["😀", "𠀀", "\U0002a6a5", "\U0002f800", "\uf900", "\ufa0e"]),
        st.sampled_from(
            [
                "尊敬的领导：",
                "您好，",
                "各位领导们你好！",
                "此致 敬礼！",
                "非常感谢您的关注！",
                "谢谢领导！！",
            ]
        ),
        st.sampled_from(["望相关部门重视！", "！！！！！", "aaaa", "好好好好好", "   ", "\n\t\t\n"]),
    ),
    max_size=40,
).map("".join)


@hypothesis_settings(max_examples=600, deadline=None)
@given(st.text())
@example("  ＡＢＣ１２３　路燈壞了\n\n")
@example("打坏了一坏土坏土")
@example("尊敬的领导您好，此致敬礼！谢谢！！！！！")
def test_normalize_equals_the_plain_steps_on_any_text(value: str) -> None:
    assert normalize(value) == plain_normalize(value)


@hypothesis_settings(max_examples=1500, deadline=None)
@given(CHINESE)
def test_normalize_equals_the_plain_steps_on_chinese_heavy_text(value: str) -> None:
    assert normalize(value) == plain_normalize(value)


@hypothesis_settings(max_examples=600, deadline=None)
@given(CHINESE)
def test_to_simplified_equals_opencc(value: str) -> None:
    folded = unicodedata.normalize("NFKC", value)
    assert to_simplified(folded) == _PLAIN_T2S.convert(folded)


def test_every_bmp_character_that_t2s_changes_is_caught() -> None:
    triggers = text._t2s_triggers()
    assert triggers is not None
    missed = [
        hex(cp)
        for cp in range(0x10000)
        if not 0xD800 <= cp < 0xE000
        and _PLAIN_T2S.convert(chr(cp)) != chr(cp)
        and not text._may_change(chr(cp), triggers)
    ]
    assert missed == []


def test_every_listed_phrase_is_caught_in_context() -> None:
    triggers = text._t2s_triggers()
    assert triggers is not None
    for phrase in PHRASES:
        assert text._may_change(f"市民{phrase}反映", triggers), phrase
        assert to_simplified(f"市民{phrase}反映") == _PLAIN_T2S.convert(f"市民{phrase}反映")


def test_an_anchor_without_its_phrases_is_not_converted() -> None:
    triggers = text._t2s_triggers()
    assert triggers is not None
    assert not text._may_change("路灯坏了，窗户坏了", triggers)
    assert text._may_change("路灯坏了，打坏了", triggers)


def test_the_trigger_list_matches_the_installed_opencc_dictionaries() -> None:
    from yiwang.dispatch import t2s_triggers_build

    # Fails after an opencc upgrade: regenerate with python -m yiwang.dispatch.t2s_triggers_build.
    assert t2s_triggers_build.fingerprint() == t2s_triggers.FILES
    assert all(any(anchor in phrase for anchor in t2s_triggers.ANCHORS) for phrase in PHRASES)


@pytest.fixture
def foreign_dictionaries(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(t2s_triggers, "FILES", {"t2s.json": "0" * 64})
    text._t2s_triggers.cache_clear()
    yield
    text._t2s_triggers.cache_clear()


def test_other_opencc_dictionaries_turn_the_skip_off_and_still_convert(
    foreign_dictionaries: None, caplog: pytest.LogCaptureFixture
) -> None:
    assert text._t2s_triggers() is None
    assert "regenerate" in caplog.text
    assert normalize("路燈壞了，打坏了") == "路灯坏了,打坯了"


def test_lone_surrogates_are_kept_and_the_rest_converted() -> None:
    assert normalize("\ud800路燈\udfff壞了") == "\ud800路灯\udfff坏了"
    assert normalize("\ud800") == "\ud800"


# --- NFKC ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value",
    [
        "市民反映：小区（三期）停水，？！",
        "全角ＡＢＣ１２３　空格\xa0与…省略号．",
        "한글 가각 ｶﾞ e\u0301 ﬁ ①②㎡℃",
        "合成字符 \u1100\u1161\u11a8 与 A\u030a，",
        "",
    ],
)
def test_fast_nfkc_gives_exactly_unicode_nfkc(value: str) -> None:
    assert nfkc(value) == unicodedata.normalize("NFKC", value)


@hypothesis_settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet=st.one_of(st.characters(), st.sampled_from("，\u3000\xa0？！：（）；…．\u0301\u0308")))
)
def test_fast_nfkc_equals_unicode_nfkc_on_any_text(value: str) -> None:
    assert nfkc(value) == unicodedata.normalize("NFKC", value)
