"""Template helpers of the web pages: navigation by role, clock colours, masked contacts, the
dashboard's table rows."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils import formats, timezone
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

from yiwang.cases.models import Case
from yiwang.core.pii import mask_phone
from yiwang.web.access import Page, pages_for

register = template.Library()


@register.simple_tag(takes_context=True)
def nav_pages(context: template.Context) -> list[Page]:
    request = context.get("request")
    return pages_for(getattr(request, "user", None))


@register.filter
def clock(case: Case, now: dt.datetime | None = None) -> str:
    """``green`` / ``yellow`` / ``red`` for the case's running clock, ``none`` when none runs."""
    colour = case.clock_colour(now or timezone.now())
    return str(colour) if colour else "none"


@register.filter
def masked_phone(value: Any) -> str:
    return mask_phone(value) if value else ""


@register.filter
def clock_label(colour: str) -> str:
    from yiwang.core.calendar import ClockColour

    return str(ClockColour(colour).label) if colour in ClockColour.values else "—"


def _cell(value: Any, decimal_separator: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, int):  # most cells: no locale formatting to apply (no thousands separator)
        return str(value)
    if isinstance(value, float) and "e" not in (text := repr(value)):
        return text.replace(".", decimal_separator)  # what localize() gives, without its lookups
    return str(conditional_escape(formats.localize(value)))


@register.simple_tag
def table_rows(lines: list[tuple[list[Any], str]]) -> SafeString:
    """The ``<tr>`` rows of a dashboard table, every value escaped, an empty value as —, the first
    cell a link when the row has one. Written here rather than as template loops: a dashboard
    has some 5 000 cells, and the template engine spent more time on them than the queries."""
    out = []
    separator = str(formats.get_format("DECIMAL_SEPARATOR"))
    for row, href in lines:
        first = str(conditional_escape("" if row[0] is None else formats.localize(row[0])))
        if href:
            first = f'<a href="{conditional_escape(href)}">{first}</a>'
        cells = "".join(f"<td>{_cell(v, separator)}</td>" for v in row[1:])
        out.append(f"<tr><td>{first}</td>{cells}</tr>")
    return mark_safe("".join(out))  # noqa: S308 — every value above is escaped
