"""Routing: category × place → lead and assisting departments (issue 5 item 2).

Resolution, among the active rules whose category is the case's category or one of its ancestors
and whose area is empty (anywhere) or one of the divisions containing the place:

1. the nearest category wins (the case's own category before its parent, before the grandparent…);
2. then the smallest area (community before street before district before anywhere);
3. then the highest ``priority``; then the oldest rule (lowest id), so the answer is deterministic.

No rule matches: 属地兜底 — the street office of the street the place lies in (a department of kind
"street" whose division is that street). No such office either: no suggestion.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from yiwang.cases.models import Category
from yiwang.dispatch.models import RoutingRule
from yiwang.grids.models import Division, DivisionLevel, Grid
from yiwang.people.models import Department, DepartmentKind

_AREA_DEPTH: dict[str | None, int] = {
    None: 0,
    DivisionLevel.DISTRICT: 1,
    DivisionLevel.STREET: 2,
    DivisionLevel.COMMUNITY: 3,
}


@dataclass
class RouteDecision:
    lead: Department
    assisting: list[Department] = field(default_factory=list)
    rule: RoutingRule | None = None
    source: str = "rule"  # "rule" or "fallback" (属地兜底)
    explanation: str = ""


def category_chain(category: Category) -> list[Category]:
    """The category and its ancestors, nearest first (cycles in bad data are cut)."""
    chain: list[Category] = []
    seen: set[int] = set()
    node: Category | None = category
    while node is not None and node.pk not in seen:
        chain.append(node)
        seen.add(node.pk)
        node = node.parent
    return chain


def divisions_at(
    *, lng: float | None = None, lat: float | None = None, grid: Grid | None = None
) -> list[Division]:
    """The divisions containing a grid or a point (community, street, district; as found)."""
    if grid is None and lng is not None and lat is not None:
        from yiwang.grids.locator import locate_point

        located = locate_point(lng, lat)
        grid_id = located.grid_id or located.nearest_grid_id
        grid = Grid.objects.select_related("community").filter(pk=grid_id).first() if grid_id else None
    if grid is None or grid.community is None:
        return []
    community = grid.community
    found = [community]
    for pk in (community.street_id, community.district_id):
        division = Division.objects.filter(pk=pk).first() if pk else None
        if division is not None:
            found.append(division)
    return found


def _explain(rule: RoutingRule, category: Category) -> str:
    where = rule.area.name if rule.area is not None else _("全区")
    via = (
        "" if rule.category_id == category.pk else _("（上级分类“%(name)s”）") % {"name": rule.category.name}
    )
    return _("规则 #%(id)s：%(category)s%(via)s · %(where)s → %(lead)s") % {
        "id": rule.pk,
        "category": category.name,
        "via": via,
        "where": where,
        "lead": rule.lead.name,
    }


def route(
    category: Category,
    *,
    lng: float | None = None,
    lat: float | None = None,
    grid: Grid | None = None,
    divisions: list[Division] | None = None,
) -> RouteDecision | None:
    """Where a case of ``category`` at a place (a grid, a point, or its divisions) should go."""
    if divisions is None:
        divisions = divisions_at(lng=lng, lat=lat, grid=grid)
    chain = category_chain(category)
    cat_rank = {c.pk: i for i, c in enumerate(chain)}
    area_ids = [d.pk for d in divisions]
    rules = (
        RoutingRule.objects.active()
        .filter(category_id__in=list(cat_rank))
        .select_related("category", "area", "lead")
        .prefetch_related("assisting")
    )
    matching = [r for r in rules if r.area_id is None or r.area_id in area_ids]
    matching = [r for r in matching if r.lead.is_active]
    if matching:
        best = min(
            matching,
            key=lambda r: (
                cat_rank[r.category_id],
                -_AREA_DEPTH[r.area.level if r.area is not None else None],
                -r.priority,
                r.pk,
            ),
        )
        helpers = [d for d in best.assisting.all() if d.is_active and d.pk != best.lead_id]
        return RouteDecision(best.lead, helpers, best, "rule", _explain(best, category))
    return _fallback(divisions)


def _fallback(divisions: list[Division]) -> RouteDecision | None:
    street = next((d for d in divisions if d.level == DivisionLevel.STREET), None)
    if street is None:
        return None
    office = (
        Department.objects.filter(kind=DepartmentKind.STREET, division=street, is_active=True)
        .order_by("code")
        .first()
    )
    if office is None:
        return None
    text = _("无匹配规则，属地兜底：%(street)s → %(office)s") % {"street": street.name, "office": office.name}
    return RouteDecision(office, [], None, "fallback", text)
