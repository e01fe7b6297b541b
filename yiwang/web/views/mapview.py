"""一图总揽: the district map. Streets and grids coloured by open cases or by any metric of the
rollups, live cases with overdue ones in red, a case-density heat layer, hotspots, grid staff on
duty, the registered overlays (yiwang/web/map_layers.py) and a panel per grid. No basemap unless
``YIWANG_TILE_URL`` is set: the boundaries are the map (an isolated intranet has no tile server).

One endpoint, ``map/data.json``; ``?layer=`` picks what it answers: ``shapes`` (the boundaries of
the streets and grids the user sees: heavy, and the same until a grid changes, so it carries an
ETag and a browser revalidates it with a 304), the live counts by default (open and overdue per
street and grid, the live case points), ``metric``, ``heat``, ``hotspots`` or ``duty`` on demand.
Responses are gzipped here when the client accepts it (no middleware)."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import math
import re
from array import array
from collections import OrderedDict
from typing import Any

import numpy as np
import numpy.typing as npt
from django.conf import settings
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Case as SqlCase
from django.db.models import Count, F, Q, Sum, When
from django.db.models.functions import Floor
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.analytics import queries
from yiwang.analytics.grid_totals import GRID_MILESTONES
from yiwang.analytics.metrics import Weights
from yiwang.analytics.scored import GroupValues, nan_as_none, values_by
from yiwang.cases.models import Case
from yiwang.core.calendar import get_calendar
from yiwang.core.pii import mask_phone
from yiwang.core.rawrows import raw_rows
from yiwang.core.scoping import get_object_or_404_in_scope
from yiwang.dispatch.hotspots import SNAPSHOT_DAYS, SNAPSHOT_LIMIT, hotspots_for_cases, map_json, snapshot_for
from yiwang.grids.models import Division, DivisionLevel, Grid, GridStaff, GridStaffRole
from yiwang.party.queries import party_panel
from yiwang.registry.queries import grid_counts
from yiwang.registry.scope import read_q
from yiwang.web.access import page_view
from yiwang.web.map_layers import visible_overlays
from yiwang.web.periods import Period, labels, parse_period

# Live cases drawn as points; beyond this the newest are drawn (the counts stay exact).
MAX_POINTS = 3000
DIGITS = 5  # ~1 m: enough for a district map, and it halves the payload
HEAT_STEP = 0.005  # degrees: cells of about 450 m × 550 m at 36° N
HOTSPOT_DAYS = SNAPSHOT_DAYS
HOTSPOT_LIMIT = SNAPSHOT_LIMIT  # cases read by the hotspot miner (the newest of the period)
# The default period is mined in the background per district and street (job mine_hotspots) for
# those who see whole areas; other periods and scopes are mined on request, which takes seconds
# for thousands of cases, so that answer is kept per user and period for a few minutes.
HOTSPOT_CACHE_SECONDS = 600
GZIP_MIN = 1024
# Gzipped shapes bodies kept per ETag (one per distinct scope in use: a few at most in practice).
SHAPES_BODIES_KEPT = 8

# What the metric colouring reads from the rollups (a grid layer sums 15 000 rows: only these).
MAP_MILESTONES = GRID_MILESTONES  # what the grid totals keep: the map reads them

# key → (label, unit, higher is better). "open" and "late" are the live state of open cases (the
# partial index over open statuses); the others are rollup sums over the selected period.
METRICS: dict[str, tuple[Any, str, bool]] = {
    "open": (gettext_lazy("在办案件"), "", False),
    "late": (gettext_lazy("超时在办"), "", False),
    "new": (gettext_lazy("期内新增"), "", False),
    "overdue": (gettext_lazy("期内超时"), "", False),
    "response": (gettext_lazy("响应率"), "%", True),
    "solve": (gettext_lazy("解决率"), "%", True),
    "satisfaction": (gettext_lazy("满意率"), "%", True),
    "score": (gettext_lazy("综合成绩"), "", True),
}


def _round(geometry: Any) -> Any:
    if isinstance(geometry, dict):
        return {k: _round(v) for k, v in geometry.items()}
    if isinstance(geometry, list):
        return [_round(v) for v in geometry]
    if isinstance(geometry, float):
        return round(geometry, DIGITS)
    return geometry


def _feature(code: str, name: str, geometry: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": _round(geometry), "properties": {"code": code, "name": name}}


_SHAPES: dict[str, Any] = {"key": None, "shapes": {}}


def grid_shapes() -> dict[int, tuple[str, bytes]]:
    """Every grid's code and its GeoJSON feature (rounded boundary, code, name) already encoded,
    kept by this process until a grid changes (the count, the latest ``updated_at`` or the locator
    version moves). Encoded once: parsing, rounding and encoding 15 000 boundaries cost more than
    the rest of the map, and bytes take a fraction of the memory of the parsed coordinates (a
    megacity's 50 000 grids live in every web process)."""
    from django.db.models import Max

    from yiwang.grids.models import LocatorVersion

    key = (
        Grid.objects.aggregate(n=Count("id"), last=Max("id"), changed=Max("updated_at")),
        LocatorVersion.stamp(),
    )
    if _SHAPES["key"] != key:
        shapes = {
            pk: (code, _encode(_feature(code, name, boundary)))
            for pk, code, name, boundary in Grid.objects.values_list(
                "pk", "code", "name", "boundary"
            ).iterator(chunk_size=5000)
        }
        _SHAPES.update(key=key, shapes=shapes)
        _SHAPES_BODIES.clear()
    return _SHAPES["shapes"]


def reset_grid_shapes() -> None:
    """Forget the cached shapes (tests; after a restore in the same process)."""
    _SHAPES.update(key=None, shapes={})
    _SHAPES_BODIES.clear()


_SHAPES_BODIES: OrderedDict[str, bytes] = OrderedDict()


def _late_q(now: Any) -> Q:
    return Q(suspended_at__isnull=True) & (Q(accept_due_at__lt=now) | Q(resolve_due_at__lt=now))


def _encode(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), cls=DjangoJSONEncoder).encode()


def _accepts_gzip(request: HttpRequest) -> bool:
    return re.search(r"\bgzip\b", request.headers.get("Accept-Encoding", "")) is not None


def json_response(request: HttpRequest, payload: Any) -> HttpResponse:
    """Compact JSON, gzipped when the client accepts gzip and the body is worth it. Map data holds
    no secret a compression oracle (BREACH) could reveal: only what the page displays anyway."""
    body = _encode(payload)
    response = HttpResponse(body, content_type="application/json")
    patch_vary_headers(response, ("Accept-Encoding",))
    if len(body) >= GZIP_MIN and _accepts_gzip(request):
        response.content = gzip.compress(body, compresslevel=6)
        response["Content-Encoding"] = "gzip"
    response["Content-Length"] = str(len(response.content))
    return response


def _open_cases(request: HttpRequest) -> Any:
    return Case.objects.visible_to(request.user).open()


@page_view("map")
def map_page(request: HttpRequest) -> HttpResponse:
    context = {
        "tile_url": getattr(settings, "YIWANG_TILE_URL", ""),
        "metrics": [(key, str(label)) for key, (label, _u, _h) in METRICS.items()],
        "periods": labels()[:3],
        "overlays": visible_overlays(request.user),
        "hotspot_days": HOTSPOT_DAYS,
    }
    return render(request, "web/map.html", context)


@page_view("map")
def map_data(request: HttpRequest) -> HttpResponse:
    layer = request.GET.get("layer", "base")
    if layer == "shapes":
        return shapes_response(request)
    builders = {
        "base": base_layer,
        "metric": metric_layer,
        "heat": heat_layer,
        "hotspots": hotspot_layer,
        "duty": duty_layer,
    }
    builder = builders.get(layer)
    if builder is None:
        return _bad(request)
    return json_response(request, builder(request))


def _bad(request: HttpRequest) -> HttpResponse:
    response = json_response(request, {"error": _("未知的图层 / unknown layer")})
    response.status_code = 400
    return response


def open_counts(user: Any, now: dt.datetime) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
    """``(by_street, by_grid)``: ``[open, overdue]`` of the user's visible open cases per street id
    and per grid id, from one grouped query that the database answers from the case_open_counts
    index alone (no column outside it: counting ids would send it to the table)."""
    rows = (
        Case.objects.visible_to(user)
        .open()
        .order_by()
        .values_list("street_id", "grid_id")
        .annotate(n=Count("*"), late=Sum(SqlCase(When(_late_q(now), then=1), default=0)))
    )
    by_street: dict[int, list[int]] = {}
    by_grid: dict[int, list[int]] = {}
    for street_id, grid_id, n, late in raw_rows(rows):
        for table, key in ((by_street, street_id), (by_grid, grid_id)):
            if key is not None:
                pair = table.setdefault(key, [0, 0])
                pair[0] += n
                pair[1] += late
    return by_street, by_grid


def _street_codes(user: Any) -> dict[int, str]:
    return dict(
        Division.objects.visible_to(user).filter(level=DivisionLevel.STREET).values_list("pk", "code")
    )


def _visible_streets(user: Any) -> Any:
    return Division.objects.visible_to(user).filter(level=DivisionLevel.STREET, boundary__isnull=False)


def base_layer(request: HttpRequest) -> dict[str, Any]:
    """The live state, light enough to fetch on every visit: ``[open, overdue]`` per street and grid
    code (codes without open cases are left out) and the newest live case points. The shapes they
    colour come from ``?layer=shapes``."""
    now = timezone.now()
    by_street, by_grid = open_counts(request.user, now)
    street_codes = _street_codes(request.user)
    shapes = grid_shapes()
    points = [
        {
            "id": pk,
            "n": number,
            "t": title,
            "s": status,
            "x": round(lng or 0, DIGITS),
            "y": round(lat or 0, DIGITS),
            "late": suspended is None
            and any(due is not None and due < now for due in (accept_due, resolve_due)),
        }
        for pk, number, title, status, lng, lat, suspended, accept_due, resolve_due in _open_cases(request)
        .filter(lng__isnull=False, lat__isnull=False)
        .order_by("-created_at", "-id")  # the area's (created_at, id) index, walked newest first
        .values_list(
            "pk", "number", "title", "status", "lng", "lat", "suspended_at", "accept_due_at", "resolve_due_at"
        )[:MAX_POINTS]
    ]
    return {
        "streets": {street_codes[pk]: pair for pk, pair in by_street.items() if pk in street_codes},
        "grids": {shapes[pk][0]: pair for pk, pair in by_grid.items() if pk in shapes},
        "cases": points,
        "total_open": sum(pair[0] for pair in by_grid.values()),
    }


def _shapes_etag(user: Any) -> str:
    """Names what the user's shapes answer holds: the shapes' version, the visible grids and the
    visible streets with their last change. Two users with the same scope share it."""
    grid_ids = array("q", Grid.objects.visible_to(user).order_by("pk").values_list("pk", flat=True))
    streets = list(_visible_streets(user).order_by("pk").values_list("pk", "updated_at"))
    digest = hashlib.sha256(repr((_SHAPES["key"], streets)).encode())
    digest.update(grid_ids.tobytes())
    return f'"{digest.hexdigest()[:32]}"'


def _shapes_body(user: Any, shapes: dict[int, tuple[str, bytes]]) -> bytes:
    """The user's streets (encoded here: a district has a few dozen) and grids (joined from the
    encoded ``shapes``) as one JSON object."""
    streets = _encode(
        {
            "type": "FeatureCollection",
            "features": [_feature(s.code, s.name, s.boundary) for s in _visible_streets(user)],
        }
    )
    visible = Grid.objects.visible_to(user).values_list("pk", flat=True).iterator(chunk_size=20_000)
    grids = b",".join(shapes[pk][1] for pk in visible if pk in shapes)
    return b'{"streets":%b,"grids":{"type":"FeatureCollection","features":[%b]}}' % (streets, grids)


def shapes_response(request: HttpRequest) -> HttpResponse:
    """The boundaries of the user's streets and grids. Compressing 15 000 boundaries costs more
    than everything else on the map, and they rarely change: the gzipped body is kept per ETag in
    this process, and a browser that has it gets a 304 (``no-cache``: it always asks)."""
    shapes = grid_shapes()  # also brings the shapes' version up to date before it is hashed
    etag = _shapes_etag(request.user)
    if etag in request.headers.get("If-None-Match", ""):
        response: HttpResponse = HttpResponseNotModified()
    else:
        zipped = _SHAPES_BODIES.get(etag)
        if zipped is None:
            zipped = gzip.compress(_shapes_body(request.user, shapes), compresslevel=6)
            _SHAPES_BODIES[etag] = zipped
            while len(_SHAPES_BODIES) > SHAPES_BODIES_KEPT:
                _SHAPES_BODIES.popitem(last=False)
        _SHAPES_BODIES.move_to_end(etag)
        if _accepts_gzip(request):
            response = HttpResponse(zipped, content_type="application/json")
            response["Content-Encoding"] = "gzip"
        else:
            response = HttpResponse(gzip.decompress(zipped), content_type="application/json")
        patch_vary_headers(response, ("Accept-Encoding",))
        response["Content-Length"] = str(len(response.content))
    response["ETag"] = etag
    response["Cache-Control"] = "private, no-cache"
    return response


# --- metric colouring -------------------------------------------------------------------------------
# The map's metrics that are sums of a rollup milestone (the others are rates or the score).
_ROLLUP_VALUES = {"new": "registered", "overdue": "overdue"}


def _shown(metric: str, codes: dict[int, str], values: GroupValues) -> dict[str, float | None]:
    """The groups' ``values`` keyed by their ``codes`` as the map shows them: counts as they are,
    rates as percentages and the score, both to one decimal; a group without a value shows 0 for a
    count and nothing for a rate. Matched in numpy: the map colours 50 000 grids."""
    pks = np.fromiter(codes, dtype=np.int64, count=len(codes))
    at = np.searchsorted(values.ids, pks)
    found = at < values.ids.size
    found[found] = values.ids[at[found]] == pks[found]
    raw = np.full(pks.size, 0.0 if metric in _ROLLUP_VALUES else np.nan)
    raw[found] = values.values[at[found]]
    if metric in _ROLLUP_VALUES:
        shown: list[float | None] = raw.tolist()
    else:
        shown = _one_decimal(raw if metric == "score" else 100 * raw)
    return dict(zip(codes.values(), shown, strict=True))


def _one_decimal(values: npt.NDArray[np.float64]) -> list[float | None]:
    """``round(v, 1)`` of each value, None for NaN, in numpy. numpy's rounding (``rint(10 v) / 10``)
    gives Python's result except where ``10 v`` lies at a half, where the product's own rounding can
    decide: those few go through ``round``."""
    tens = values * 10
    out = np.rint(tens) / 10
    at_half = np.flatnonzero(np.abs(tens - np.floor(tens) - 0.5) < 1e-6)
    out[at_half] = [round(v, 1) for v in values[at_half].tolist()]
    return nan_as_none(out)


def _count_breaks(values: list[float]) -> list[float]:
    """Four class limits for counts: quartiles and the 90th percentile of the non-zero values."""
    positive = sorted(v for v in values if v > 0)
    if not positive:
        return [1, 2, 3, 4]
    limits: list[float] = []
    for q in (0.25, 0.5, 0.75, 0.9):
        v = float(math.ceil(positive[min(len(positive) - 1, int(q * len(positive)))]))
        limits.append(max(v, limits[-1] + 1 if limits else 1.0))
    return limits


def metric_values(user: Any, metric: str, period: Period) -> dict[str, dict[str, float | None]]:
    """``{"streets": {code: value}, "grids": {code: value}}`` for one metric over the period,
    limited to the user's visible streets and grids."""
    street_codes = _street_codes(user)
    grid_codes = dict(raw_rows(Grid.objects.visible_to(user).values_list("pk", "code")))
    if metric in ("open", "late"):
        by_street, by_grid = open_counts(user, timezone.now())
        i = 0 if metric == "open" else 1
        return {
            "streets": {code: float(by_street.get(pk, (0, 0))[i]) for pk, code in street_codes.items()},
            "grids": {code: float(by_grid.get(pk, (0, 0))[i]) for pk, code in grid_codes.items()},
        }
    out: dict[str, dict[str, float | None]] = {}
    for key, group_by, codes in (("streets", "street", street_codes), ("grids", "grid", grid_codes)):
        # Computed by the database: a Python row per grid cost a second at 50 000 grids.
        values = values_by(
            _ROLLUP_VALUES.get(metric, metric),
            start=period.start,
            end=period.end,
            group_by=group_by,  # type: ignore[arg-type]
            user=user,
            milestones=MAP_MILESTONES,
        )
        out[key] = _shown(metric, codes, values)
    return out


def metric_layer(request: HttpRequest) -> dict[str, Any]:
    metric = request.GET.get("metric", "open")
    if metric not in METRICS:
        metric = "open"
    label, unit, higher_is_better = METRICS[metric]
    period = parse_period(request.GET)
    values = metric_values(request.user, metric, period)
    if unit == "%" or metric == "score":
        # The grade thresholds, lowest (D) first.
        breaks = [low for _letter, low in reversed(Weights.current().grades)]
    else:
        breaks = _count_breaks([v for v in values["grids"].values() if v is not None])
    return {
        "metric": metric,
        "label": str(label),
        "unit": unit,
        "higher_is_better": higher_is_better,
        "breaks": breaks,
        "period": {"start": period.start, "end": period.end, "error": period.error},
        **values,
    }


# --- heat and hotspots ------------------------------------------------------------------------------
def heat_cells(cases: Any, step: float = HEAT_STEP) -> list[list[float]]:
    """Open cases binned into square cells of ``step`` degrees, grouped in the database:
    ``[lng, lat, count]`` of each non-empty cell's centre."""
    rows = (
        cases.filter(lng__isnull=False, lat__isnull=False)
        .order_by()
        .annotate(
            ix=Floor(F("lng") / step),
            iy=Floor(F("lat") / step),
        )
        .values_list("ix", "iy")
        .annotate(n=Count("id"))
    )
    return [
        [round((ix + 0.5) * step, DIGITS), round((iy + 0.5) * step, DIGITS), n]
        for ix, iy, n in rows
        if ix is not None and iy is not None
    ]


def heat_layer(request: HttpRequest) -> dict[str, Any]:
    cells = heat_cells(_open_cases(request))
    return {"step": HEAT_STEP, "cells": cells, "max": max((c[2] for c in cells), default=0)}


def _days(request: HttpRequest) -> int:
    try:
        return min(365, max(1, int(request.GET.get("days", HOTSPOT_DAYS))))
    except ValueError:
        return HOTSPOT_DAYS


def hotspot_layer(request: HttpRequest) -> dict[str, Any]:
    """热点 of the last N days (dispatch.hotspots over the user's visible cases): centre, count,
    label. Hotspots without a position (no member has one) are not drawn."""
    days = _days(request)
    snapshot = snapshot_for(request.user, days)
    if snapshot is not None:  # mined in the background (job mine_hotspots)
        return {"days": days, "hotspots": snapshot.hotspots, "computed_at": snapshot.computed_at.isoformat()}
    key = f"web:map:hotspots:{request.user.pk}:{days}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    now = timezone.now()
    spots = hotspots_for_cases(
        Case.objects.visible_to(request.user),
        start=now - dt.timedelta(days=days),
        end=now,
        top=20,
        period_days=days,
        limit=HOTSPOT_LIMIT,
    )
    answer = {
        "days": days,
        "hotspots": [map_json(h) for h in spots if h.center is not None],
        "computed_at": now.isoformat(),
    }
    cache.set(key, answer, HOTSPOT_CACHE_SECONDS)
    return answer


# --- grid staff on duty -----------------------------------------------------------------------------
def on_duty(user: Any, day: dt.date | None = None) -> dict[str, Any]:
    """Grid staff on duty. There is no duty roster: a person is on duty on ``day`` when they hold
    an active GridStaff post and the day is a working day of the calendar (CalendarDay)."""
    day = day or timezone.localdate()
    workday = get_calendar().is_workday(day)
    grids: dict[str, list[dict[str, str]]] = {}
    if workday:
        # Plain values, not model instances: a district has thousands of posts, and loading each
        # grid (its boundary) and user to print two names cost half a second.
        roles = {value: str(label) for value, label in GridStaffRole.choices}
        posts = (
            GridStaff.objects.filter(grid__in=Grid.objects.visible_to(user), user__is_active=True)
            .order_by("grid__code", "role", "user__username")
            .values_list("grid__code", "role", "user__display_name", "user__username")
        )
        for code, role, display_name, username in posts:
            grids.setdefault(code, []).append(
                {"name": display_name or username, "role": roles.get(role, role)}
            )
    return {"date": day, "workday": workday, "grids": grids}


def duty_layer(request: HttpRequest) -> dict[str, Any]:
    return on_duty(request.user)


# --- grid panel -------------------------------------------------------------------------------------
def _may_read_registry(user: Any, grid: Grid) -> bool:
    return Grid.objects.filter(pk=grid.pk).filter(read_q(user, "")).exists()


def _percent(rate: float | None) -> float | None:
    return None if rate is None else round(100 * rate, 1)


@page_view("map")
def map_grid(request: HttpRequest, code: str) -> HttpResponse:
    """The panel of one grid: staff (phones masked), base counts, open cases, 三率 of the period
    from the rollups."""
    grid: Grid = get_object_or_404_in_scope(
        Grid.objects.visible_to(request.user).select_related("community"), code=code
    )
    cases = Case.objects.visible_to(request.user).open().filter(grid=grid)
    period = parse_period(request.GET)
    row = queries.overall(start=period.start, end=period.end, user=request.user, grid_id=grid.pk)
    workday = get_calendar().is_workday(timezone.localdate())
    staff = [
        {
            "name": str(s.user),
            "role": s.get_role_display(),
            "phone": mask_phone(s.user.phone) if s.user.phone else "",
            "on_duty": workday and s.user.is_active,
        }
        for s in GridStaff.objects.filter(grid=grid).select_related("user").order_by("role", "user__username")
    ]
    context = {
        "grid": grid,
        "staff": staff,
        "open_cases": cases.order_by("-created_at")[:20],
        "open_count": cases.count(),
        "period": period,
        "rates": {
            "response": _percent(row.rates["response"]),
            "solved": _percent(row.rates["solve"]),
            "satisfied": _percent(row.rates["satisfaction"]),
            "score": None if row.score is None else round(row.score, 1),
        },
        # The grid was fetched through the user's scope above, which is what these two expect; the
        # base data follows the registers' stricter read rule (a grid worker: own grids only).
        "base": grid_counts(grid, request.user) if _may_read_registry(request.user, grid) else None,
        "party": party_panel(grid),
    }
    return render(request, "web/map_grid.html", context)
