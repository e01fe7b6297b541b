"""Topology checks of the grid map: overlaps, gaps, grids outside their community, bad geometry.

Areas are approximate: geometries are projected to metres with a local equirectangular projection
around the district's centre (error well under 1 % over a district), which is plenty to rank and
filter problems.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.validation import explain_validity

from yiwang.grids.models import Division, Grid

# Problems smaller than these (m²) are ignored: digitising noise along shared edges.
OVERLAP_TOLERANCE_M2 = 10.0
GAP_TOLERANCE_M2 = 100.0
OUTSIDE_TOLERANCE_M2 = 100.0
_METRES_PER_DEGREE = 111_320.0


@dataclass(frozen=True)
class TopologyIssue:
    kind: str  # "invalid" | "overlap" | "gap" | "outside"
    codes: tuple[str, ...]
    area_m2: float
    message: str
    extra: dict[str, Any] = field(default_factory=dict, compare=False)


class _Projector:
    def __init__(self, lat0: float) -> None:
        self.kx = _METRES_PER_DEGREE * math.cos(math.radians(lat0))

    def area(self, geom: shapely.Geometry) -> float:
        # Area scales by kx·ky under x·kx, y·ky.
        return float(shapely.area(geom)) * self.kx * _METRES_PER_DEGREE


def _geometry(geojson: Any) -> shapely.Geometry | None:
    try:
        return shape(geojson) if geojson else None
    except (TypeError, ValueError, KeyError, AttributeError):
        return None


def check_topology(grids_qs: Iterable[Grid] | None = None) -> list[TopologyIssue]:
    """All topology problems of ``grids_qs`` (default: every grid), worst first within each kind."""
    grids = list(grids_qs if grids_qs is not None else Grid.objects.select_related("community"))
    issues: list[TopologyIssue] = []
    geoms: dict[int, shapely.Geometry] = {}
    for grid in grids:
        geom = _geometry(grid.boundary)
        if geom is None or geom.is_empty or geom.geom_type not in ("Polygon", "MultiPolygon"):
            issues.append(TopologyIssue("invalid", (grid.code,), 0.0, f"网格 {grid.code} 的边界不是有效的面"))
            continue
        if not geom.is_valid:
            issues.append(
                TopologyIssue(
                    "invalid", (grid.code,), 0.0, f"网格 {grid.code} 的边界无效：{explain_validity(geom)}"
                )
            )
            geom = shapely.make_valid(geom)
        geoms[grid.pk] = geom
    if not geoms:
        return issues
    lat0 = float(np.mean([g.centroid.y for g in geoms.values()]))
    proj = _Projector(lat0)
    by_community: dict[int, list[Grid]] = defaultdict(list)
    for grid in grids:
        if grid.pk in geoms:
            by_community[grid.community_id].append(grid)
    communities = Division.objects.in_bulk(list(by_community))
    for community_id, members in sorted(by_community.items()):
        issues += _overlaps(members, geoms, proj)
        community = communities.get(community_id)
        outline = _geometry(community.boundary) if community is not None else None
        if community is not None and outline is not None and not outline.is_empty:
            outline = outline if outline.is_valid else shapely.make_valid(outline)
            issues += _outside_and_gaps(community, outline, members, geoms, proj)
    order = {"invalid": 0, "overlap": 1, "gap": 2, "outside": 3}
    return sorted(issues, key=lambda i: (order[i.kind], -i.area_m2, i.codes))


def _overlaps(
    members: list[Grid], geoms: dict[int, shapely.Geometry], proj: _Projector
) -> list[TopologyIssue]:
    arr = np.array([geoms[g.pk] for g in members], dtype=object)
    tree = shapely.STRtree(arr)
    left, right = tree.query(arr, predicate="intersects")
    out = []
    for i, j in zip(left.tolist(), right.tolist(), strict=True):
        if i >= j:
            continue
        area = proj.area(shapely.intersection(arr[i], arr[j]))
        if area > OVERLAP_TOLERANCE_M2:
            a, b = sorted((members[i].code, members[j].code))
            out.append(TopologyIssue("overlap", (a, b), area, f"网格 {a} 与 {b} 重叠约 {area:.0f} 平方米"))
    return out


def _outside_and_gaps(
    community: Division,
    outline: shapely.Geometry,
    members: list[Grid],
    geoms: dict[int, shapely.Geometry],
    proj: _Projector,
) -> list[TopologyIssue]:
    out = []
    for grid in members:
        area = proj.area(shapely.difference(geoms[grid.pk], outline))
        if area > OUTSIDE_TOLERANCE_M2:
            out.append(
                TopologyIssue(
                    "outside",
                    (grid.code, community.code),
                    area,
                    f"网格 {grid.code} 约 {area:.0f} 平方米超出所属社区 {community.name} 的边界",
                )
            )
    covered = shapely.union_all([geoms[g.pk] for g in members])
    gap = shapely.difference(outline, covered)
    area = proj.area(gap)
    if area > GAP_TOLERANCE_M2:
        out.append(
            TopologyIssue(
                "gap",
                (community.code,),
                area,
                f"社区 {community.name} 约 {area:.0f} 平方米未被任何网格覆盖",
                extra={"geometry": shapely.to_geojson(gap)},
            )
        )
    return out
