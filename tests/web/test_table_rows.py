"""The dashboard's table rows, written in Python (``table_rows``): escaped, — for an empty value,
numbers exactly as the template engine would show them in either language."""

from __future__ import annotations

import pytest
from django.template import Context, Template
from django.utils import translation

from yiwang.web.templatetags.yiwang_web import table_rows


def test_rows_escape_text_link_the_first_cell_and_show_none_as_a_dash() -> None:
    html = table_rows([(["<b>街道</b>", 3, None, 92.5], "/case/1/?a=1&b=2"), (["x", 0, 1, None], "")])
    assert html == (
        '<tr><td><a href="/case/1/?a=1&amp;b=2">&lt;b&gt;街道&lt;/b&gt;</a></td><td>3</td><td>—</td>'
        "<td>92.5</td></tr><tr><td>x</td><td>0</td><td>1</td><td>—</td></tr>"
    )


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("value", [0.0, 92.5, 100.0, 68.8, 1234567.25, 3.14159, 1e-7, True])
def test_numbers_read_as_the_template_engine_shows_them(language: str, value: object) -> None:
    with translation.override(language):
        expected = Template("{{ v }}").render(Context({"v": value}))
        assert table_rows([(["g", value], "")]) == f"<tr><td>g</td><td>{expected}</td></tr>"
