"""The demo district's map, generated: communities, grids, police beats and other departments' grids.

Pure functions, no database: :func:`generate_district` turns the shipped fixtures (the 23 real
streets/towns of 黄岛区 with their official codes and OpenStreetMap boundaries) plus a seed and a scale
into plain row dicts that ``grids.actions.bulk_load`` (or the fallback in ``demo.builder``) writes.

Everything random comes from one ``random.Random(seed)`` (names, choices) and one
``numpy.random.Generator`` (points), consumed in a fixed order, so the same seed and scale give the
same codes and the same geometry, byte for byte.

Geometry is built in a local plane (x = lng·cos φ₀, y = lat) so that Voronoi cells come out roughly
square on the ground rather than stretched east–west, then turned back into WGS84 lng/lat and clipped
against the *original* parent polygon, so a child never leaves its parent.
"""

from __future__ import annotations

import csv
import json
import math
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely import affinity
from shapely.geometry import MultiPoint, MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry

from yiwang.demo.names import NameBook
from yiwang.grids.actions import spatial_order
from yiwang.grids.geometry import extent, to_geojson

FIXTURES = Path(__file__).resolve().parent.parent / "grids" / "fixtures"
CODES_CSV = FIXTURES / "division_codes_370211.csv"
STREETS_GEOJSON = FIXTURES / "huangdao_streets.geojson"

DISTRICT_CODE = "370211"
DISTRICT_NAME = "黄岛区"
DISTRICT_ALIAS = "青岛西海岸新区"

# About 1,550 grids over the district at scale 1: with 320–560 households a grid and 2.6–3.2
# people a household that is ≈1.99 M residents, the district's 2020 census population.
BASE_GRIDS = 1550
DISTRICT_POPULATION = 1_990_000

# Grid density (weight per km²) and grids per community by kind of street. The old town centres and
# the new-area core (黄岛, 辛安, 薛家岛, 长江路, 珠海, 隐珠, 胶南) are dense; the outer 街道 half-rural;
# the towns rural, where a village is often a single grid.
URBAN_CORE = frozenset(
    {"黄岛街道", "辛安街道", "薛家岛街道", "长江路街道", "珠海街道", "隐珠街道", "胶南街道"}
)


@dataclass(frozen=True)
class Density:
    per_km2: float
    grids_per_community: float


DENSITY = {
    "urban": Density(per_km2=10.0, grids_per_community=6.0),
    "suburban": Density(per_km2=2.5, grids_per_community=4.0),
    "town": Density(per_km2=1.0, grids_per_community=1.6),
    "other": Density(per_km2=0.3, grids_per_community=1.0),
}

LABELS = (
    {"code": "quanke", "name": "全科网格"},
    {"code": "hongse", "name": "红色网格"},
    {"code": "wuhao", "name": "五好网格"},
)
LABEL_SHARE = {"quanke": 0.30, "hongse": 0.06, "wuhao": 0.12}

# 专属网格: (suffix of the site's name, households range, population range).
DEDICATED_SITES = (
    ("中学", (0, 0), (1800, 3200)),
    ("医院", (0, 0), (900, 2200)),
    ("智造产业园", (10, 60), (3000, 8000)),
)


@dataclass(frozen=True)
class Street:
    """One of the 23 street-level units of the fixture."""

    code9: str
    name: str
    kind: str  # 街道, 镇 or 其他
    geometry: Polygon | MultiPolygon

    @property
    def code(self) -> str:
        return self.code9 + "000"

    @property
    def short(self) -> str:
        """长江路街道 → 长江路, 大场镇 → 大场, 灵山岛省级自然保护区 → 灵山岛."""
        for suffix in ("省级自然保护区", "街道", "镇"):
            if self.name.endswith(suffix):
                return self.name[: -len(suffix)]
        return self.name

    @property
    def density_class(self) -> str:
        if self.kind == "镇":
            return "town"
        if self.kind != "街道":
            return "other"
        return "urban" if self.name in URBAN_CORE else "suburban"


@dataclass
class DemoDistrict:
    """Rows for the loader: dict keys follow ``grids.actions.bulk_load``."""

    divisions: list[dict[str, Any]] = field(default_factory=list)
    grids: list[dict[str, Any]] = field(default_factory=list)
    labels: list[dict[str, str]] = field(default_factory=list)
    beats: list[dict[str, Any]] = field(default_factory=list)
    external_grids: list[dict[str, Any]] = field(default_factory=list)


# --- fixtures ----------------------------------------------------------------------------------


def load_streets() -> list[Street]:
    """The 23 streets/towns: official names and codes from the CSV, boundaries from the GeoJSON.

    Both files must list the same codes under the same names; a mismatch is a broken fixture.
    """
    with CODES_CSV.open(encoding="utf-8", newline="") as fh:
        official = {
            row["code"]: row["name"] for row in csv.DictReader(fh) if row["areaCode"] == DISTRICT_CODE
        }
    data = json.loads(STREETS_GEOJSON.read_text(encoding="utf-8"))
    streets = []
    for feature in data["features"]:
        props = feature["properties"]
        code9, name = props["code"], props["name"]
        if official.get(code9) != name:
            raise ValueError(f"fixture mismatch: {code9} {name} is not in {CODES_CSV.name}")
        geom = shapely.geometry.shape(feature["geometry"])
        assert isinstance(geom, Polygon | MultiPolygon)
        streets.append(Street(code9=code9, name=name, kind=props["kind"], geometry=geom))
    if len(streets) != len(official):
        raise ValueError(f"{STREETS_GEOJSON.name} has {len(streets)} units, {CODES_CSV.name} {len(official)}")
    return sorted(streets, key=lambda s: s.code9)


def district_outline(streets: list[Street]) -> BaseGeometry:
    """The district outline: the union of the street polygons (the open-licensed source)."""
    return shapely.union_all([s.geometry for s in streets])


# --- geometry helpers ----------------------------------------------------------------------------


class Plane:
    """Local plane x = lng·cos φ₀, y = lat, in which distances are roughly isotropic."""

    def __init__(self, lat0: float) -> None:
        self.k = math.cos(math.radians(lat0))

    def to_plane(self, geom: BaseGeometry) -> BaseGeometry:
        return affinity.scale(geom, xfact=self.k, yfact=1.0, origin=(0, 0))

    def to_lnglat(self, geom: BaseGeometry) -> BaseGeometry:
        return affinity.scale(geom, xfact=1.0 / self.k, yfact=1.0, origin=(0, 0))

    def area(self, geom: BaseGeometry) -> float:
        return float(geom.area) * self.k

    def area_km2(self, geom: BaseGeometry) -> float:
        return self.area(geom) * 111.32**2


def polygonal(geom: BaseGeometry) -> Polygon | MultiPolygon:
    """Only the areal parts of an overlay result (clipping may leave stray lines or points)."""
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, Polygon) and not p.is_empty]
    if len(parts) == 1:
        return parts[0]
    return MultiPolygon(parts)


def sample_points(poly: BaseGeometry, n: int, nprng: np.random.Generator) -> np.ndarray:
    """``n`` points uniformly inside ``poly`` (rejection sampling in its bounding box)."""
    min_x, min_y, max_x, max_y = poly.bounds
    shapely.prepare(poly)
    found: list[np.ndarray] = []
    have = 0
    while have < n:
        batch = max(64, 3 * (n - have))
        xs = nprng.uniform(min_x, max_x, batch)
        ys = nprng.uniform(min_y, max_y, batch)
        inside = shapely.contains_xy(poly, xs, ys)
        pts = np.column_stack([xs[inside], ys[inside]])
        found.append(pts)
        have += len(pts)
    return np.concatenate(found)[:n]


def voronoi_cells(
    poly: Polygon | MultiPolygon, n: int, nprng: np.random.Generator, *, relax: int = 2
) -> list[Polygon]:
    """``n`` Voronoi cells (not clipped) of random points inside ``poly``; together they cover it.

    ``relax`` rounds of Lloyd relaxation (move each point to the centre of its clipped cell) make the
    cells more even, as real grids are drawn to similar sizes. The caller clips the cells: clipping
    here and again after a change of coordinates would leave near-duplicate vertices along the edge.
    """
    shapely.prepare(poly)
    points = sample_points(poly, n, nprng)
    envelope = box(*poly.bounds).buffer(max(1e-3, 0.5 * math.sqrt(poly.area)))
    for step in range(relax + 1):
        diagram = shapely.voronoi_polygons(MultiPoint(points), extend_to=envelope, ordered=True)
        cells = [c for c in shapely.get_parts(diagram) if isinstance(c, Polygon)]
        if step == relax:
            return cells
        moved = []
        for cell, point in zip(cells, points, strict=True):
            clipped = shapely.intersection(cell, poly)
            centre = clipped.centroid if not clipped.is_empty else shapely.Point(point)
            if not shapely.contains_xy(poly, centre.x, centre.y):
                # A crescent-shaped cell has its centroid outside: use a point that is inside.
                centre = clipped.representative_point() if not clipped.is_empty else shapely.Point(point)
            moved.append((centre.x, centre.y))
        points = np.array(moved)
    raise AssertionError("unreachable")


def cut(
    parent: Polygon | MultiPolygon, n: int, plane: Plane, nprng: np.random.Generator, *, relax: int = 2
) -> list[Polygon | MultiPolygon]:
    """``parent`` (lng/lat) cut into about ``n`` cells that tile it exactly: Voronoi cells computed
    in the plane, turned back into lng/lat and clipped once against the parent."""
    if n <= 1:
        return [parent]
    local = plane.to_plane(parent)
    assert isinstance(local, Polygon | MultiPolygon)
    cells = []
    for cell in voronoi_cells(local, n, nprng, relax=relax):
        back = polygonal(shapely.intersection(plane.to_lnglat(cell), parent))
        if not back.is_empty:
            cells.append(back)
    return cells


def numbering_order(cells: list[Polygon | MultiPolygon]) -> list[int]:
    """Indices of ``cells`` in code order: west→east, north→south, by the same rule (and the same
    points: representative point, bounding-box height) as ``grids.actions.number_grids``."""
    extents = [extent(c) for c in cells]
    return spatial_order([(e[4], e[5]) for e in extents], [e[3] - e[1] for e in extents])


def split_count(total: int, weights: list[float], minimum: int = 1) -> list[int]:
    """``total`` split in proportion to ``weights`` (largest remainder), each part ≥ ``minimum``."""
    total = max(total, minimum * len(weights))
    spare = total - minimum * len(weights)
    whole = sum(weights) or 1.0
    raw = [spare * w / whole for w in weights]
    counts = [minimum + int(r) for r in raw]
    left = total - sum(counts)
    for i in sorted(range(len(raw)), key=lambda i: (-(raw[i] - int(raw[i])), i))[:left]:
        counts[i] += 1
    return counts


# --- the generator -------------------------------------------------------------------------------


def street_grid_targets(streets: list[Street], plane: Plane) -> dict[str, float]:
    """Grids per street at scale 1, by area and density class (island: at least 2)."""
    weights = [plane.area_km2(s.geometry) * DENSITY[s.density_class].per_km2 for s in streets]
    whole = sum(weights)
    return {s.code9: max(2.0, BASE_GRIDS * w / whole) for s, w in zip(streets, weights, strict=True)}


def generate_district(seed: int = 2026, scale: float = 1.0) -> DemoDistrict:
    """All map rows of the demo district for ``seed`` and ``scale`` (scale multiplies the grids)."""
    if not scale > 0:
        raise ValueError("scale must be positive")
    rng = random.Random(seed)
    nprng = np.random.default_rng(seed)
    names = NameBook(rng)
    streets = load_streets()
    outline = district_outline(streets)
    plane = Plane(outline.centroid.y)
    out = DemoDistrict(labels=[dict(label) for label in LABELS])
    district_code = DISTRICT_CODE + "000000"
    out.divisions.append(
        {
            "code": district_code,
            "name": DISTRICT_NAME,
            "level": "district",
            "kind": "区",
            "parent_code": None,
            "boundary": to_geojson(outline),
        }
    )
    targets = street_grid_targets(streets, plane)
    for street in streets:
        out.divisions.append(
            {
                "code": street.code,
                "name": street.name,
                "level": "street",
                "kind": street.kind,
                "parent_code": district_code,
                "boundary": to_geojson(street.geometry),
            }
        )
        _generate_street(out, street, targets[street.code9], scale, plane, rng, nprng, names)
    _mark_dedicated(out, streets, scale, rng, names)
    _add_labels(out, rng)
    _normalise_population(out, scale)
    _generate_beats(out, streets, scale, plane, rng, nprng, names)
    _generate_external(out, streets, outline, scale, plane, nprng)
    return out


def _generate_street(
    out: DemoDistrict,
    street: Street,
    target: float,
    scale: float,
    plane: Plane,
    rng: random.Random,
    nprng: np.random.Generator,
    names: NameBook,
) -> None:
    density = DENSITY[street.density_class]
    # Communities do not multiply past scale 1 (a bigger benchmark district has denser grids, not
    # more villages); below 1 they shrink with the grids so every community keeps at least one.
    n_comm = max(1, round(target * min(scale, 1.0) / density.grids_per_community))
    n_grids = max(n_comm, round(target * scale))
    communities = cut(street.geometry, n_comm, plane, nprng)
    communities.sort(key=lambda c: (-c.representative_point().y, c.representative_point().x))
    counts = split_count(n_grids, [plane.area(c) for c in communities])
    villages = street.kind != "街道"
    for seq, (community, count) in enumerate(
        zip(communities, counts, strict=True), start=200 if villages else 1
    ):
        code = f"{street.code9}{seq:03d}"
        name = names.village() if villages else names.community()
        out.divisions.append(
            {
                "code": code,
                "name": name,
                "level": "community",
                "kind": "村" if villages else "社区",
                "parent_code": street.code,
                "boundary": to_geojson(community),
            }
        )
        cells = cut(community, count, plane, nprng)
        for number, index in enumerate(numbering_order(cells), start=1):
            households = rng.randint(320, 560)
            out.grids.append(
                {
                    "code": f"{code}{number:03d}",
                    "name": f"{name}第{number}网格",
                    "community_code": code,
                    "kind": "basic",
                    "dedicated_to": "",
                    "boundary": to_geojson(cells[index]),
                    "households": households,
                    "population": round(households * rng.uniform(2.6, 3.2)),
                    "labels": [],
                }
            )


def _mark_dedicated(
    out: DemoDistrict, streets: list[Street], scale: float, rng: random.Random, names: NameBook
) -> None:
    """Turn a few urban grids into 专属网格 for a school, a hospital and an industrial park."""
    urban = {s.code9 for s in streets if s.density_class == "urban"}
    candidates = [g for g in out.grids if g["community_code"][:9] in urban] or out.grids
    wanted = max(len(DEDICATED_SITES), round(len(DEDICATED_SITES) * 2 * min(scale, 5.0)))
    for i, grid in enumerate(rng.sample(candidates, min(wanted, len(candidates)))):
        suffix, households, population = DEDICATED_SITES[i % len(DEDICATED_SITES)]
        site = names.place(suffix)
        grid.update(
            kind="dedicated",
            dedicated_to=site,
            name=f"{site}专属网格",
            households=rng.randint(*households),
            population=rng.randint(*population),
        )


def _add_labels(out: DemoDistrict, rng: random.Random) -> None:
    for grid in out.grids:
        grid["labels"] = [code for code, share in LABEL_SHARE.items() if rng.random() < share]


def _normalise_population(out: DemoDistrict, scale: float) -> None:
    """Scale the residents of the basic grids so the district totals ≈1.99 M × scale."""
    basic = [g for g in out.grids if g["kind"] == "basic"]
    total = sum(g["population"] for g in basic)
    if not total:
        return
    factor = DISTRICT_POPULATION * scale / total
    # Keep 2.5–3.3 people a household whatever the factor (tiny test scales drift the most).
    for g in basic:
        g["population"] = min(
            round(g["households"] * 3.3), max(round(g["households"] * 2.5), round(g["population"] * factor))
        )


def _generate_beats(
    out: DemoDistrict,
    streets: list[Street],
    scale: float,
    plane: Plane,
    rng: random.Random,
    nprng: np.random.Generator,
    names: NameBook,
) -> None:
    """Police beats (警格): about one per ten grids, cut across each street by its 派出所."""
    per_street: dict[str, int] = {}
    for grid in out.grids:
        per_street[grid["community_code"][:9]] = per_street.get(grid["community_code"][:9], 0) + 1
    for street in streets:
        n_grids = per_street.get(street.code9, 1)
        cells = cut(street.geometry, max(1, round(n_grids / rng.uniform(8, 12))), plane, nprng, relax=1)
        cells.sort(key=lambda c: (c.representative_point().x, -c.representative_point().y))
        # Big urban streets have two stations: the west half of the beats goes to the first.
        two = street.density_class == "urban" and len(cells) >= 6
        stations = [f"{street.short}派出所"] + ([names.place("派出所")] if two else [])
        for i, cell in enumerate(cells, start=1):
            station = stations[0] if (not two or i <= len(cells) // 2) else stations[1]
            out.beats.append(
                {
                    "code": f"JG{street.code9}{i:03d}",
                    "name": f"{street.short}第{i}警格",
                    "police_station": station,
                    "boundary": to_geojson(cell),
                }
            )


def _generate_external(
    out: DemoDistrict,
    streets: list[Street],
    outline: BaseGeometry,
    scale: float,
    plane: Plane,
    nprng: np.random.Generator,
) -> None:
    """多网融合: 城管 responsibility squares over the urban core, 应急 areas over the whole district.

    Both are coarser than the base grids and ignore community lines, as real line-department grids do.
    """
    urban = shapely.union_all([s.geometry for s in streets if s.density_class == "urban"])
    n_urban = sum(
        1
        for g in out.grids
        if g["community_code"][:9] in {s.code9 for s in streets if s.density_class == "urban"}
    )
    side = math.sqrt(plane.area(urban) / max(4, round(n_urban / 10)))  # plane units ≈ degrees of latitude
    min_x, min_y, max_x, max_y = urban.bounds
    dx, dy = side / plane.k, side
    x0 = min_x - nprng.uniform(0, dx)
    y0 = max_y + nprng.uniform(0, dy)
    squares = []
    for row in range(math.ceil((y0 - min_y) / dy) + 1):
        for col in range(math.ceil((max_x - x0) / dx) + 1):
            square = box(x0 + col * dx, y0 - (row + 1) * dy, x0 + (col + 1) * dx, y0 - row * dy)
            piece = polygonal(shapely.intersection(square, urban))
            # Slivers along the edge are folded into nothing: a real 城管 grid has a usable size.
            if not piece.is_empty and piece.area > 0.1 * square.area:
                squares.append(piece)
    for i, piece in enumerate(squares, start=1):
        out.external_grids.append(
            {
                "code": f"CG{i:04d}",
                "name": f"城管责任网格{i:04d}",
                "owner": "urban",
                "boundary": to_geojson(piece),
            }
        )
    assert isinstance(outline, Polygon | MultiPolygon)
    areas = cut(outline, max(3, round(len(out.grids) / 40)), plane, nprng, relax=1)
    areas.sort(key=lambda c: (-c.representative_point().y, c.representative_point().x))
    for i, area in enumerate(areas, start=1):
        out.external_grids.append(
            {
                "code": f"YJ{i:03d}",
                "name": f"应急管理网格{i:03d}",
                "owner": "emergency",
                "boundary": to_geojson(area),
            }
        )
