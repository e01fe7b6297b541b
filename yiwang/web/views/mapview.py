"""一图总揽: the district map. Streets and grids coloured by open cases, live cases with overdue
ones in red, a panel per grid. No basemap unless ``YIWANG_TILE_URL`` is set: the boundaries are
the map (an isolated intranet has no tile server by default)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone

from yiwang.cases.choices import OPEN_STATUSES, Satisfaction
from yiwang.cases.models import Case
from yiwang.core.scoping import get_object_or_404_in_scope
from yiwang.grids.models import Division, DivisionLevel, Grid, GridStaff
from yiwang.party.queries import party_panel
from yiwang.registry.queries import grid_counts
from yiwang.registry.scope import read_q
from yiwang.web.access import page_view

# Live cases drawn as points; beyond this the newest are drawn (the counts stay exact).
MAX_POINTS = 3000
DIGITS = 5  # ~1 m: enough for a district map, and it halves the payload


def _round(geometry: Any) -> Any:
    if isinstance(geometry, dict):
        return {k: _round(v) for k, v in geometry.items()}
    if isinstance(geometry, list):
        return [_round(v) for v in geometry]
    if isinstance(geometry, float):
        return round(geometry, DIGITS)
    return geometry


def _late_q(now: Any) -> Q:
    return Q(suspended_at__isnull=True) & (Q(accept_due_at__lt=now) | Q(resolve_due_at__lt=now))


@page_view("map")
def map_page(request: HttpRequest) -> HttpResponse:
    return render(request, "web/map.html", {"tile_url": getattr(settings, "YIWANG_TILE_URL", "")})


@page_view("map")
def map_data(request: HttpRequest) -> JsonResponse:
    """Everything the map draws, in one response: streets and grids with their open and overdue
    counts (one grouped query each over the user's visible open cases) and the live case points."""
    now = timezone.now()
    open_cases = Case.objects.visible_to(request.user).filter(status__in=sorted(OPEN_STATUSES))
    counts = {"open": Count("id"), "late": Count("id", filter=_late_q(now))}
    by_grid: dict[int | None, dict[str, Any]] = {
        r["grid_id"]: dict(r) for r in open_cases.order_by().values("grid_id").annotate(**counts)
    }
    by_street: dict[int | None, dict[str, Any]] = {
        r["street_id"]: dict(r) for r in open_cases.order_by().values("street_id").annotate(**counts)
    }

    def feature(code: str, name: str, geometry: Any, row: dict[str, Any] | None) -> dict[str, Any]:
        return {
            "type": "Feature",
            "geometry": _round(geometry),
            "properties": {
                "code": code,
                "name": name,
                "open": row["open"] if row else 0,
                "late": row["late"] if row else 0,
            },
        }

    streets = Division.objects.visible_to(request.user).filter(
        level=DivisionLevel.STREET, boundary__isnull=False
    )
    grids = Grid.objects.visible_to(request.user).only("pk", "code", "name", "boundary")
    points = [
        {
            "id": pk,
            "n": number,
            "t": title,
            "s": status,
            "x": round(lng or 0, DIGITS),
            "y": round(lat or 0, DIGITS),
            "late": bool(late),
        }
        for pk, number, title, status, lng, lat, late in open_cases.filter(
            lng__isnull=False, lat__isnull=False
        )
        .annotate(late=Count("id", filter=_late_q(now)))
        .order_by("-created_at")
        .values_list("pk", "number", "title", "status", "lng", "lat", "late")[:MAX_POINTS]
    ]
    return JsonResponse(
        {
            "streets": {
                "type": "FeatureCollection",
                "features": [feature(s.code, s.name, s.boundary, by_street.get(s.pk)) for s in streets],
            },
            "grids": {
                "type": "FeatureCollection",
                "features": [feature(g.code, g.name, g.boundary, by_grid.get(g.pk)) for g in grids],
            },
            "cases": points,
            "total_open": sum(r["open"] for r in by_grid.values()),
        }
    )


def rate_counts() -> dict[str, Any]:
    """The counts behind 三率, for ``aggregate`` or a grouped ``annotate``."""
    return {
        "n_signed": Count("id", filter=Q(signed_at__isnull=False)),
        "n_on_time": Count("id", filter=Q(signed_at__isnull=False, accept_breached_at__isnull=True)),
        "n_contacted": Count("id", filter=Q(contacted=True)),
        "n_solved": Count("id", filter=Q(contacted=True, solved=True)),
        "n_rated": Count("id", filter=~Q(satisfaction="")),
        "n_satisfied": Count(
            "id", filter=Q(satisfaction__in=[Satisfaction.SATISFIED, Satisfaction.BASICALLY_SATISFIED])
        ),
    }


def rates_from(agg: dict[str, Any]) -> dict[str, float | None]:
    """三率 from the case table: 响应率 (signed within the acceptance limit), 解决率 (solved at
    call-back) and 满意率 (satisfied or basically satisfied among rated), in percent."""

    def share(a: int, b: int) -> float | None:
        return round(100 * a / b, 1) if b else None

    return {
        "response": share(agg["n_on_time"], agg["n_signed"]),
        "solved": share(agg["n_solved"], agg["n_contacted"]),
        "satisfied": share(agg["n_satisfied"], agg["n_rated"]),
    }


def rates(cases: Any) -> dict[str, float | None]:
    return rates_from(cases.aggregate(**rate_counts()))


def _may_read_registry(user: Any, grid: Grid) -> bool:
    return Grid.objects.filter(pk=grid.pk).filter(read_q(user, "")).exists()


@page_view("map")
def map_grid(request: HttpRequest, code: str) -> HttpResponse:
    """The panel of one grid: staff, base counts, open cases, 三率."""
    grid: Grid = get_object_or_404_in_scope(
        Grid.objects.visible_to(request.user).select_related("community"), code=code
    )
    cases = Case.objects.visible_to(request.user).filter(grid=grid)
    context = {
        "grid": grid,
        "staff": GridStaff.objects.filter(grid=grid).select_related("user").order_by("role"),
        "open_cases": cases.filter(status__in=sorted(OPEN_STATUSES)).order_by("-created_at")[:20],
        "open_count": cases.filter(status__in=sorted(OPEN_STATUSES)).count(),
        "rates": rates(cases),
        # The grid was fetched through the user's scope above, which is what these two expect; the
        # base data follows the registers' stricter read rule (a grid worker: own grids only).
        "base": grid_counts(grid, request.user) if _may_read_registry(request.user, grid) else None,
        "party": party_panel(grid),
    }
    return render(request, "web/map_grid.html", context)
