"""The English catalogue: complete, not fuzzy, placeholders kept, and the committed .mo compiled from
the committed .po (checked in Python, so CI needs no GNU gettext)."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import re
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest
from django.conf import settings
from django.utils import translation

ROOT = Path(__file__).resolve().parents[2]


def _load_checker() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader(
        "translate_check", str(ROOT / "scripts" / "translate-check")
    )
    spec = importlib.util.spec_from_loader("translate_check", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["translate_check"] = module  # dataclasses look their module up here
    loader.exec_module(module)
    return module


checker = _load_checker()
EN_PO = ROOT / "yiwang" / "locale" / "en" / "LC_MESSAGES" / "django.po"


@pytest.fixture(scope="module")
def entries() -> list:
    return checker.parse_po(EN_PO)


def test_the_locale_directory_is_the_one_django_reads() -> None:
    assert Path(settings.LOCALE_PATHS[0]).resolve() == EN_PO.parents[2].resolve()


def test_english_catalogue_has_no_empty_fuzzy_or_broken_entry(entries: list) -> None:
    assert len(entries) > 1000
    assert checker.check_entries(entries, "en") == []


def test_committed_mo_is_compiled_from_the_committed_po(entries: list) -> None:
    # Fails when the .po changed and compilemessages was not rerun (or the .mo was not committed).
    assert checker.check_mo(entries, EN_PO.with_suffix(".mo")) == []


def test_django_serves_the_catalogue_in_english(entries: list) -> None:
    sample = [e for e in entries if e.msgid and e.plural is None][::20]
    plurals = [e for e in entries if e.plural is not None]
    with translation.override("en"):
        served = {e.msgid: translation.gettext(e.msgid) for e in sample}
        served_plurals = {e.msgid: translation.ngettext(e.msgid, e.plural, 1) for e in plurals}
    assert served == {e.msgid: e.msgstr for e in sample}
    assert served_plurals == {e.msgid: e.plurals[0] for e in plurals}
    with translation.override("zh-hans"):
        assert translation.gettext("派遣队列") == "派遣队列"


def test_the_check_notices_a_stale_mo_and_an_untranslated_entry(tmp_path: Path) -> None:
    copy = tmp_path / "locale"
    shutil.copytree(EN_PO.parents[2], copy)
    po = copy / "en" / "LC_MESSAGES" / "django.po"
    text = po.read_text(encoding="utf-8")
    text = text.replace('msgid "派遣队列"\nmsgstr "Dispatch queue"', 'msgid "派遣队列"\nmsgstr "Queue"', 1)
    text = text.replace('msgid "承办收件箱"\nmsgstr "Department inbox"', 'msgid "承办收件箱"\nmsgstr ""', 1)
    po.write_text(text, encoding="utf-8")
    problems = "\n".join(checker.check(copy))
    assert "stale .mo  '派遣队列'" in problems
    assert re.search(r"empty +line \d+: '承办收件箱'", problems)


def test_english_counts_use_singular_and_plural() -> None:
    with translation.override("en"):
        one = translation.ngettext("已派遣 %(n)d 件", "已派遣 %(n)d 件", 1) % {"n": 1}
        two = translation.ngettext("已派遣 %(n)d 件", "已派遣 %(n)d 件", 2) % {"n": 2}
    assert (one, two) == ("Dispatched 1 case", "Dispatched 2 cases")
