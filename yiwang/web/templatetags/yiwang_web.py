"""Template helpers of the web pages: navigation by role, clock colours, masked contacts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.utils import timezone

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
