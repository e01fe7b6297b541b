"""Point → grid: an in-process spatial index over all unit grids, rebuilt when geometry changes.

Rule (the one every caller and the benchmark reference use): a point belongs to a grid when the grid
**covers** it, i.e. the point lies in the grid's interior *or on its boundary* (shapely ``covers``;
for a point this is the same as ``intersects``, and the reference is
``STRtree.query(points, predicate="intersects")``). A point covered by several grids (on a shared
edge or vertex, or inside an overlap) goes to the grid with the **smallest id**, so answers are
deterministic.

How it is fast: a raster lookup table over the bounding box of all grids. Each cell holds

* a grid (the cell lies in exactly the same set of grids everywhere, and that set's smallest id is
  the answer), or
* "none" (no grid touches the cell), or
* "ambiguous" (some grid boundary passes through the cell): then the point is tested exactly with
  shapely (prepared geometries) against the few candidate grids of that cell.

Which cells are ambiguous is found by rasterising every boundary edge conservatively (each edge is
cut into pieces no longer than a cell, and every cell a piece's bounding box touches, widened by a
small epsilon, is marked). Along a row, a run of unmarked cells is crossed by no boundary, so one
exact query at one cell centre labels the whole run. Both steps err only towards "ambiguous", never
towards a wrong answer, which is why the index gives identical answers to the plain shapely query.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import shape

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

# Re-read LocatorVersion at most this often (seconds) per process; tests may set it to 0.
LOCATOR_RECHECK_SECONDS = 1.0

_NONE = -1
# Cell codes: >= 0 a grid position; -1 none; <= -2 ambiguous cell number (-2 - code).
_METRES_PER_DEGREE = 111_320.0
# Cap on raster size (cells); 4 M int32 cells = 16 MB per process.
_MAX_CELLS = 4_000_000
# Aim for this many cells along a typical grid's width (more → fewer exact checks, more memory).
_CELLS_PER_GRID_WIDTH = 10
# Widening (in cell units) applied to edge pieces; far above float rounding of cell coordinates.
_EPS = 1e-6


def _to_geometry(geojson: Any) -> shapely.Geometry:
    if isinstance(geojson, str):
        return shapely.from_geojson(geojson)
    geom = shape(geojson)
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise ValueError(
            f"网格边界必须是面 / grid boundary must be a Polygon or MultiPolygon, got {geom.geom_type}"
        )
    return geom


class GridIndex:
    """Immutable point→grid index over ``(grid id, GeoJSON geometry in WGS84)`` pairs."""

    def __init__(self, grids: Iterable[tuple[int, Any]]) -> None:
        pairs = [(int(gid), _to_geometry(geo)) for gid, geo in grids]
        pairs = [(gid, g) for gid, g in pairs if not g.is_empty]
        pairs.sort(key=lambda p: p[0])  # position order == id order: min position == min id
        self.ids: IntArray = np.array([p[0] for p in pairs], dtype=np.int64)
        self.geometries: npt.NDArray[np.object_] = np.array([p[1] for p in pairs], dtype=object)
        if len(set(self.ids.tolist())) != len(self.ids):
            raise ValueError("网格编号重复 / duplicate grid ids")
        shapely.prepare(self.geometries)
        self.tree = shapely.STRtree(self.geometries)
        self._build_raster()

    def __len__(self) -> int:
        return len(self.ids)

    # --- building --------------------------------------------------------------------------
    def _build_raster(self) -> None:
        n = len(self.geometries)
        if n == 0:
            self.x0 = self.y0 = 0.0
            self.inv_cell = 1.0
            self.nx = self.ny = 0
            self.cells = np.zeros(0, dtype=np.int32)
            self.cand_offsets = np.zeros(1, dtype=np.int64)
            self.candidates = np.zeros(0, dtype=np.int64)
            return
        bounds = shapely.total_bounds(self.geometries)
        width, height = max(bounds[2] - bounds[0], 1e-9), max(bounds[3] - bounds[1], 1e-9)
        area = float(np.sum(shapely.area(shapely.envelope(self.geometries))))
        cell = math.sqrt(area / n) / _CELLS_PER_GRID_WIDTH
        cell = max(cell, math.sqrt(width * height / _MAX_CELLS))
        self.cell_size = cell
        self.inv_cell = 1.0 / cell
        self.x0, self.y0 = float(bounds[0]), float(bounds[1])
        self.nx = math.floor(width * self.inv_cell) + 1
        self.ny = math.floor(height * self.inv_cell) + 1

        edge_cells, edge_grids = self._rasterise_edges()
        boundary = np.zeros(self.nx * self.ny, dtype=bool)
        boundary[edge_cells] = True
        cells = np.full(self.nx * self.ny, _NONE, dtype=np.int32)
        self._label_runs(boundary, cells)
        self._label_ambiguous(edge_cells, edge_grids, cells)
        self.cells = cells

    def _rasterise_edges(self) -> tuple[IntArray, IntArray]:
        """Unique (cell, grid position) pairs for every cell a grid's boundary may touch."""
        rings, ring_geom = shapely.get_rings(shapely.get_parts(self.geometries), return_index=True)
        # get_parts flattens MultiPolygons; map parts back to grid positions.
        _, part_geom = shapely.get_parts(self.geometries, return_index=True)
        coords, ring_of = shapely.get_coordinates(rings, return_index=True)
        u = (coords[:, 0] - self.x0) * self.inv_cell
        v = (coords[:, 1] - self.y0) * self.inv_cell
        same = ring_of[:-1] == ring_of[1:]
        ua, va, ub, vb = u[:-1][same], v[:-1][same], u[1:][same], v[1:][same]
        seg_grid = part_geom[ring_geom[ring_of[:-1][same]]]
        pieces = np.maximum(np.ceil(np.maximum(np.abs(ub - ua), np.abs(vb - va))), 1).astype(np.int64)
        seg = np.repeat(np.arange(len(ua)), pieces)
        k = np.arange(len(seg)) - np.repeat(np.cumsum(pieces) - pieces, pieces)
        t0, t1 = k / pieces[seg], (k + 1) / pieces[seg]
        pu0, pu1 = ua[seg] + (ub - ua)[seg] * t0, ua[seg] + (ub - ua)[seg] * t1
        pv0, pv1 = va[seg] + (vb - va)[seg] * t0, va[seg] + (vb - va)[seg] * t1
        i0 = np.floor(np.minimum(pu0, pu1) - _EPS).astype(np.int64)
        i1 = np.floor(np.maximum(pu0, pu1) + _EPS).astype(np.int64)
        j0 = np.floor(np.minimum(pv0, pv1) - _EPS).astype(np.int64)
        j1 = np.floor(np.maximum(pv0, pv1) + _EPS).astype(np.int64)
        grid = seg_grid[seg]
        out_cells, out_grids = [], []
        for di in range(3):
            for dj in range(3):
                i, j = i0 + di, j0 + dj
                ok = (i <= i1) & (j <= j1) & (i >= 0) & (j >= 0) & (i < self.nx) & (j < self.ny)
                out_cells.append(j[ok] * self.nx + i[ok])
                out_grids.append(grid[ok])
        key = np.unique(np.concatenate(out_cells) * len(self.ids) + np.concatenate(out_grids))
        return key // len(self.ids), key % len(self.ids)

    def _centre(self, flat: IntArray) -> tuple[FloatArray, FloatArray]:
        i, j = (flat % self.nx).astype(np.float64), (flat // self.nx).astype(np.float64)
        return self.x0 + (i + 0.5) * self.cell_size, self.y0 + (j + 0.5) * self.cell_size

    def _min_cover(self, xs: FloatArray, ys: FloatArray) -> IntArray:
        """Exact answer (grid position or -1) for points, through the STRtree."""
        out = np.full(len(xs), _NONE, dtype=np.int64)
        if len(xs) == 0:
            return out
        pt, g = self.tree.query(shapely.points(xs, ys), predicate="intersects")
        if len(pt):
            # pairs come sorted by point; take the smallest position per point
            order = np.lexsort((g, pt))
            pt, g = pt[order], g[order]
            first = np.r_[True, pt[1:] != pt[:-1]]
            out[pt[first]] = g[first]
        return out

    def _label_runs(self, boundary: npt.NDArray[np.bool_], cells: npt.NDArray[np.int32]) -> None:
        # A run = maximal stretch of non-boundary cells in one row; one query per run.
        grid2d = boundary.reshape(self.ny, self.nx)
        starts = np.zeros_like(grid2d)
        starts[:, 0] = ~grid2d[:, 0]
        starts[:, 1:] = ~grid2d[:, 1:] & grid2d[:, :-1]
        flat_starts = np.flatnonzero(starts.ravel())
        run_id = np.cumsum(starts.ravel()) - 1
        labels = self._min_cover(*self._centre(flat_starts))
        free = ~boundary
        cells[free] = labels[run_id[free]]

    def _label_ambiguous(
        self, edge_cells: IntArray, edge_grids: IntArray, cells: npt.NDArray[np.int32]
    ) -> None:
        # Candidates of a boundary cell: grids whose edges touch it, plus grids covering its
        # centre (a grid with no edge in the cell either covers all of it or none of it).
        amb = np.unique(edge_cells)
        pt, g = self.tree.query(shapely.points(*self._centre(amb)), predicate="intersects")
        all_cells = np.concatenate([edge_cells, amb[pt]])
        all_grids = np.concatenate([edge_grids, g])
        key = np.unique(all_cells * len(self.ids) + all_grids)  # sorted by cell, then position
        kc, kg = key // len(self.ids), key % len(self.ids)
        amb_no = np.searchsorted(amb, kc)
        self.candidates = kg.astype(np.int64)
        self.cand_offsets = np.searchsorted(amb_no, np.arange(len(amb) + 1)).astype(np.int64)
        cells[amb] = (-2 - np.arange(len(amb))).astype(np.int32)

    # --- queries -----------------------------------------------------------------------------
    def locate(self, lng: float, lat: float) -> int | None:
        """The id of the grid covering the point (smallest id on shared boundaries), or None."""
        if not self.nx:
            return None
        u = (lng - self.x0) * self.inv_cell
        v = (lat - self.y0) * self.inv_cell
        if not (0.0 <= u < self.nx and 0.0 <= v < self.ny):  # also False for NaN
            return None
        code = int(self.cells[int(v) * self.nx + int(u)])
        if code >= 0:
            return int(self.ids[code])
        if code == _NONE:
            return None
        k = -2 - code
        for pos in self.candidates[self.cand_offsets[k] : self.cand_offsets[k + 1]]:
            if shapely.intersects_xy(self.geometries[pos], lng, lat):
                return int(self.ids[pos])
        return None

    def locate_many(self, lngs: npt.ArrayLike, lats: npt.ArrayLike) -> IntArray:
        """Vectorised :meth:`locate`: int64 grid ids, -1 where no grid covers the point."""
        x = np.asarray(lngs, dtype=np.float64).ravel()
        y = np.asarray(lats, dtype=np.float64).ravel()
        out = np.full(len(x), _NONE, dtype=np.int64)
        if not self.nx or not len(x):
            return out
        u = (x - self.x0) * self.inv_cell
        v = (y - self.y0) * self.inv_cell
        ok = (u >= 0) & (u < self.nx) & (v >= 0) & (v < self.ny)
        idx = np.flatnonzero(ok)
        code = self.cells[v[idx].astype(np.int64) * self.nx + u[idx].astype(np.int64)]
        sure = code >= 0
        out[idx[sure]] = self.ids[code[sure]]
        amb = code <= -2
        if np.any(amb):
            self._resolve(idx[amb], -2 - code[amb].astype(np.int64), x, y, out)
        return out

    def _resolve(self, pts: IntArray, amb_no: IntArray, x: FloatArray, y: FloatArray, out: IntArray) -> None:
        start, stop = self.cand_offsets[amb_no], self.cand_offsets[amb_no + 1]
        count = stop - start
        pair_pt = np.repeat(np.arange(len(pts)), count)
        pair_cand = self.candidates[
            np.repeat(start, count) + (np.arange(len(pair_pt)) - np.repeat(np.cumsum(count) - count, count))
        ]
        hit = shapely.intersects_xy(self.geometries[pair_cand], x[pts[pair_pt]], y[pts[pair_pt]])
        hp, hc = pair_pt[hit], pair_cand[hit]
        if len(hp):
            # candidates are in position (= id) order within each point, so the first hit wins
            first = np.r_[True, hp[1:] != hp[:-1]]
            out[pts[hp[first]]] = self.ids[hc[first]]

    def nearest(self, lng: float, lat: float, max_distance_m: float) -> tuple[int, float] | None:
        """``(grid id, distance in metres)`` of the closest grid within ``max_distance_m``.

        A point inside a grid gets that grid at distance 0. Distances use a local equirectangular
        projection around the point (error well under 1 % at a few kilometres). Ties go to the
        smallest id.
        """
        inside = self.locate(lng, lat)
        if inside is not None:
            return inside, 0.0
        if not self.nx or not (math.isfinite(lng) and math.isfinite(lat)) or max_distance_m < 0:
            return None
        kx = _METRES_PER_DEGREE * math.cos(math.radians(lat))
        ky = _METRES_PER_DEGREE
        dx, dy = max_distance_m / max(kx, 1e-9), max_distance_m / ky
        found = self.tree.query(shapely.box(lng - dx, lat - dy, lng + dx, lat + dy), predicate="intersects")
        if not len(found):
            return None
        local = shapely.transform(
            self.geometries[found], lambda c: np.column_stack(((c[:, 0] - lng) * kx, (c[:, 1] - lat) * ky))
        )
        dist = shapely.distance(local, shapely.Point(0.0, 0.0))
        best = min(zip(dist.tolist(), self.ids[found].tolist(), strict=True))
        if best[0] > max_distance_m:
            return None
        return int(best[1]), float(best[0])


# --- process cache ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Located:
    grid_id: int | None
    nearest_grid_id: int | None
    nearest_distance_m: float | None


_lock = threading.Lock()
_index: GridIndex | None = None
_version: int | None = None
_checked_at = -math.inf


def get_index() -> GridIndex:
    """This process's grid index; rebuilt when ``LocatorVersion`` has moved since it was built.

    The version row is re-read at most once every ``LOCATOR_RECHECK_SECONDS``, so the hot path
    costs no query; a geometry change reaches every process within that delay.
    """
    global _index, _version, _checked_at
    from yiwang.grids.models import Grid, LocatorVersion

    now = time.monotonic()
    if _index is not None and now - _checked_at < LOCATOR_RECHECK_SECONDS:
        return _index
    with _lock:
        if _index is not None and now - _checked_at < LOCATOR_RECHECK_SECONDS:
            return _index
        version = LocatorVersion.current()
        if _index is None or version != _version:
            _index = GridIndex(Grid.objects.values_list("id", "boundary"))
            _version = version
        _checked_at = time.monotonic()
        return _index


def reset_cache() -> None:
    """Forget the cached index (tests; after bulk loads in the same process)."""
    global _index, _version, _checked_at
    with _lock:
        _index, _version, _checked_at = None, None, -math.inf


def locate_point(lng: float, lat: float) -> Located:
    """Locate a WGS84 point; when it is in no grid, suggest the nearest one within tolerance."""
    from django.conf import settings

    index = get_index()
    grid_id = index.locate(lng, lat)
    if grid_id is not None:
        return Located(grid_id=grid_id, nearest_grid_id=None, nearest_distance_m=None)
    near = index.nearest(lng, lat, float(settings.YIWANG_LOCATOR_TOLERANCE_M))
    if near is None:
        return Located(grid_id=None, nearest_grid_id=None, nearest_distance_m=None)
    return Located(grid_id=None, nearest_grid_id=near[0], nearest_distance_m=near[1])
