""" "Which department would get this text at this place?" — shared by the admin preview and
``yiwang route``. Reads only."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from yiwang.cases.models import Category
from yiwang.dispatch.classifier import Suggestion, suggest_categories
from yiwang.dispatch.routing import RouteDecision, divisions_at, route
from yiwang.grids.models import Division


@dataclass
class Preview:
    suggestions: list[Suggestion] = field(default_factory=list)
    category: Category | None = None
    divisions: list[Division] = field(default_factory=list)
    route: RouteDecision | None = None


def preview(text: str, lng: float, lat: float, *, category_code: str | None = None) -> Preview:
    if not (math.isfinite(lng) and math.isfinite(lat) and -180 <= lng <= 180 and -90 <= lat <= 90):
        raise ValueError("经纬度无效 / invalid longitude or latitude")
    result = Preview(suggestions=suggest_categories(text, limit=3))
    code = category_code or (result.suggestions[0].code if result.suggestions else None)
    if code:
        result.category = Category.objects.filter(code=code).first()
        if result.category is None and category_code:
            raise ValueError(f"分类 {code} 不存在 / unknown category {code}")
    result.divisions = divisions_at(lng=lng, lat=lat)
    if result.category is not None:
        result.route = route(result.category, divisions=result.divisions)
    return result
