"""Finding untranslated Chinese in the chrome of a rendered page (nav, headings, buttons, labels)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from html.parser import HTMLParser

CJK = re.compile(r"[\u3400-\u9fff]+")
# Elements whose own text is interface wording, never data.
CHROME_TAGS = frozenset(
    {"title", "nav", "h1", "h2", "h3", "h4", "button", "label", "legend", "th", "dt", "caption", "summary"}
)
CHROME_ATTRS = ("aria-label", "placeholder", "title", "alt")


class _Chrome(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in CHROME_ATTRS and value:
                self.texts.append(value)
        if tag in CHROME_TAGS:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in CHROME_TAGS and self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth and data.strip():
            self.texts.append(data.strip())


def chrome_texts(html: str) -> list[str]:
    parser = _Chrome()
    parser.feed(html)
    return parser.texts


def untranslated(html: str, data: Iterable[str] = ()) -> list[str]:
    """The chrome texts that still hold Chinese once the given data strings (place, department,
    category and person names: data, not interface) and the language's own name are taken out."""
    known = sorted({d for d in data if d} | {"简体中文"}, key=len, reverse=True)
    left = []
    for text in chrome_texts(html):
        rest = text
        for d in known:
            rest = rest.replace(d, "")
        if CJK.search(rest):
            left.append(text)
    return left
