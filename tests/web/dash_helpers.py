"""A small rollup fixture for the map and dashboard tests, with its numbers worked out by hand.

Street A (grid A1, department A, hotline, 11 March 2026): 12 registered, 10 dispatched, 8 signed in
time, 10 called back, 6 solved, 5 satisfied + 3 basically satisfied, 2 unsatisfied, 1 overdue, 6
closed → 响应率 80 %, 解决率 60 %, 满意率 (5 + 0.9·3)/10 = 77 %, 综合 100·(.1·.8 + .5·.6 + .4·.77) =
68.8, grade C. Street B (grid B1, department B, web, 18 March): 4 registered, dispatched and signed
in time, nobody called back → 响应率 100 %, the others None, 综合 100 (missing rates count as full).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from tests.world import World
from yiwang.analytics import rollup
from yiwang.cases.models import Category

MARCH = (dt.date(2026, 3, 1), dt.date(2026, 3, 31))
MARCH_QUERY = {"period": "custom", "start": "2026-03-01", "end": "2026-03-31"}
DAY_A = dt.date(2026, 3, 11)
DAY_B = dt.date(2026, 3, 18)

A_COUNTS = {
    "registered": 12,
    "dispatched": 10,
    "signed": 10,
    "signed_in_time": 8,
    "resolved": 8,
    "resolved_in_time": 6,
    "reworked": 2,
    "closed": 6,
    "closed_in_time": 5,
    "called_back": 10,
    "contacted": 10,
    "solved": 6,
    "satisfied": 5,
    "basically_satisfied": 3,
    "unsatisfied": 2,
    "overdue": 1,
}
B_COUNTS = {"registered": 4, "dispatched": 4, "signed": 4, "signed_in_time": 4}


def _add(
    day: dt.date,
    world: World,
    street: Any,
    grid: Any,
    channel: str,
    dept: Any,
    category: Category,
    counts: dict[str, int],
) -> None:
    # Through the rollup writer, so the daily rows and the month rows they sum into both exist.
    key = (day, world.district.pk, street.pk, grid.community_id, grid.pk, category.pk, channel, dept.pk)
    rollup.add({key: Counter(counts)})  # type: ignore[dict-item]


def rollup_example(world: World) -> tuple[Category, Category]:
    cats = list(Category.objects.filter(is_active=True).order_by("code")[:2])
    _add(DAY_A, world, world.street_a, world.grid_a1, "hotline_12345", world.dept_a, cats[0], A_COUNTS)
    _add(DAY_B, world, world.street_b, world.grid_b1, "web", world.dept_b, cats[1], B_COUNTS)
    return cats[0], cats[1]
