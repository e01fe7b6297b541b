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
* "boundary" (some grid boundary may pass through the cell). Such a cell is decided one of three ways:

  - a **line cell** (one straight edge crosses the whole cell, no vertex in it; ~80 % of them)
    stores the edge and the answer on each side: one orientation test per point;
  - a **parity cell** (a vertex, several edges) stores its edges, the grids covering its centre
    and, per edge, the grids owning it; a point's grids are the centre's grids flipped once per
    edge the segment centre→point crosses (ring-crossing parity, valid polygons only);
  - otherwise (invalid polygons, > 8 candidate grids) the point is tested with shapely (prepared
    geometries) against the cell's few candidate grids.

Which cells are boundary cells is found by rasterising every boundary edge conservatively (each edge
is cut into pieces no longer than a cell, and every cell a piece's bounding box touches, widened by
a small epsilon, is marked). Along a row, a run of unmarked cells is crossed by no boundary, so one
exact query at one cell centre labels the whole run. Both steps err only towards "boundary", never
towards a wrong answer.

Exactness of the orientation tests: each is computed with Shewchuk's orient2d formula and error
bound, so a sign outside the bound is the exact sign (GEOS decides orientation exactly as well). A
point within the bound (on an edge, or on the line through the centre and a vertex) goes to shapely.
Hence the index gives identical answers to the plain shapely query, boundary points included.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import shape

from yiwang.core.memory import release_freed_memory

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
# A line cell's edge must reach this far (cell units) beyond the cell on both ends.
_CHORD_MARGIN = 1e-3
# Orientation error band (see _orient): relative to |left| + |right|, plus an absolute floor.
_ORIENT_REL_ERROR = 1e-14
_ORIENT_ABS_ERROR = 1e-300
# How the points of a boundary cell are decided (GridIndex.amb_mode; >= 0: line cell of that edge).
_MODE_SHAPELY = -1
_MODE_PARITY = -2
# Lowest set bit of a byte (-1 for 0): the first, i.e. smallest-id, grid of a membership mask.
_LOWEST_BIT = np.array([-1] + [(m & -m).bit_length() - 1 for m in range(1, 256)], dtype=np.int64)


def _to_geometry(geojson: Any) -> shapely.Geometry:
    if isinstance(geojson, str):
        return shapely.from_geojson(geojson)
    geom = shape(geojson)
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise ValueError(
            f"网格边界必须是面 / grid boundary must be a Polygon or MultiPolygon, got {geom.geom_type}"
        )
    return geom


def _orient(
    ax: FloatArray, ay: FloatArray, bx: FloatArray, by: FloatArray, px: FloatArray, py: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Orientation of p against the line a→b (> 0: left), and the error bound of that value.

    The formula and the bound are Shewchuk's orient2d filter: when ``abs(det) > tol`` the sign of
    the floating-point ``det`` is the sign of the exact determinant, so the side is decided exactly
    (GEOS decides it exactly too). Otherwise the caller asks shapely. ``tol`` is ~30× Shewchuk's
    bound, plus a tiny absolute term against underflow.
    """
    left = (ax - px) * (by - py)
    right = (ay - py) * (bx - px)
    return left - right, (np.abs(left) + np.abs(right)) * _ORIENT_REL_ERROR + _ORIENT_ABS_ERROR


def _min_per_group(group: IntArray, value: IntArray, size: int) -> npt.NDArray[np.int32]:
    """Smallest value per group number in ``range(size)``; -1 for an empty group."""
    out = np.full(size, np.iinfo(np.int32).max, dtype=np.int32)
    np.minimum.at(out, group, value.astype(np.int32))
    out[out == np.iinfo(np.int32).max] = _NONE
    return out


def _sorted_unique(values: IntArray, return_index: bool = False) -> Any:
    """``np.unique`` by sorting (numpy's hash-based unique is several times slower on big arrays);
    with ``return_index`` also the first index of each value in the sorted array."""
    values = np.sort(values)
    first = np.flatnonzero(np.r_[True, values[1:] != values[:-1]]) if len(values) else np.zeros(0, np.int64)
    return (values[first], first) if return_index else values[first]


def _ranges(start: IntArray, count: IntArray) -> IntArray:
    """Concatenation of ``range(start[i], start[i] + count[i])`` for all i."""
    total = np.repeat(start - np.cumsum(count) + count, count)
    return total + np.arange(len(total))


@dataclass
class _Edges:
    """Build-time view of the boundary edges (``GridIndex.seg`` holds their coordinates)."""

    offsets: IntArray  # owners of edge e: owners[offsets[e]:offsets[e + 1]] (grid positions)
    owners: IntArray
    valid: npt.NDArray[np.bool_]  # every owner is a valid polygon
    simple: npt.NDArray[np.bool_]  # valid, and owned by one grid or by two different grids


@dataclass
class _BoundaryCells:
    """Build-time view of the boundary ("ambiguous") cells."""

    amb: IntArray  # flat cell number of boundary cell k
    pair_amb: IntArray  # (boundary cell, edge) pairs, sorted by cell
    pair_seg: IntArray
    centre_amb: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    centre_grid: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    cand_key: IntArray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


class GridIndex:
    """Immutable point→grid index over ``(grid id, GeoJSON geometry in WGS84)`` pairs."""

    # 64-bit while building, 32-bit once built (see _build_raster).
    candidates: npt.NDArray[np.signedinteger[Any]]
    cand_offsets: npt.NDArray[np.signedinteger[Any]]
    par_offsets: npt.NDArray[np.signedinteger[Any]]

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
        self.ids_or_none = np.append(self.ids, _NONE)  # ids_or_none[-1] == -1
        self.seg = np.zeros((4, 0), dtype=np.float64)
        if n == 0:
            self.x0 = self.y0 = 0.0
            self.cell_size = self.inv_cell = 1.0
            self.nx = self.ny = 0
            self.cells = np.zeros(0, dtype=np.int32)
            self.cand_offsets = np.zeros(1, dtype=np.int64)
            self.candidates = np.zeros(0, dtype=np.int64)
            self._init_boundary_cells(0)
            return
        bounds = shapely.total_bounds(self.geometries)
        width, height = max(bounds[2] - bounds[0], 1e-9), max(bounds[3] - bounds[1], 1e-9)
        area = float(np.sum(shapely.area(shapely.envelope(self.geometries))))
        cell = math.sqrt(area / n) / _CELLS_PER_GRID_WIDTH
        cell = max(cell, math.sqrt(width * height / _MAX_CELLS))
        self.cell_size = cell
        self.inv_cell = 1.0 / cell
        # Two cells of margin on every side: a batch query clamps far-away points onto the outer
        # border, whose cells no edge can touch (edges are widened by _EPS only), so they are "none".
        self.x0, self.y0 = float(bounds[0]) - 2 * cell, float(bounds[1]) - 2 * cell
        self.nx = math.floor(width * self.inv_cell) + 5
        self.ny = math.floor(height * self.inv_cell) + 5

        edges = self._collect_edges()
        pair_cell, pair_seg = self._rasterise_edges()
        boundary = np.zeros(self.nx * self.ny, dtype=bool)
        boundary[pair_cell] = True
        cells = np.full(self.nx * self.ny, _NONE, dtype=np.int32)
        self._label_runs(boundary, cells)
        amb = _sorted_unique(pair_cell)
        cells[amb] = (-2 - np.arange(len(amb))).astype(np.int32)
        self.cells = cells
        self._init_boundary_cells(len(amb))
        b = _BoundaryCells(amb=amb, pair_amb=np.searchsorted(amb, pair_cell), pair_seg=pair_seg)
        self._label_candidates(edges, b)
        self._label_lines(edges, b)
        self._label_parity(edges, b)
        # Positions and offsets fit in 32 bits (the raster is capped at _MAX_CELLS): the largest
        # arrays a web process keeps take half the memory (a megacity's index: 17 MB less).
        self.candidates = self.candidates.astype(np.int32)
        self.cand_offsets = self.cand_offsets.astype(np.int32)
        self.par_offsets = self.par_offsets.astype(np.int32)
        self._keep_prepared_for_shapely_cells()

    def _keep_prepared_for_shapely_cells(self) -> None:
        """Prepared geometries (GEOS's own index of each polygon) sped up the build; at query time
        only the grids of cells decided by shapely need them. A point exactly on an edge elsewhere
        is rare and tested unprepared (same answer, slower): 8 MB less per process at 50 000 grids."""
        shapely.destroy_prepared(self.geometries)
        shapely_cells = np.flatnonzero(self.amb_mode == _MODE_SHAPELY)
        start = self.cand_offsets[shapely_cells].astype(np.int64)
        count = self.cand_offsets[shapely_cells + 1] - start
        shapely.prepare(self.geometries[np.unique(self.candidates[_ranges(start, count)])])

    def _init_boundary_cells(self, count: int) -> None:
        # Per boundary cell: how its points are decided (amb_mode: an edge number >= 0 for a
        # line cell, _MODE_PARITY or _MODE_SHAPELY) and the data each way needs.
        self.amb_mode = np.full(count, _MODE_SHAPELY, dtype=np.int32)
        self.line_pos = np.full(count, _NONE, dtype=np.int32)
        self.line_neg = np.full(count, _NONE, dtype=np.int32)
        self.par_offsets = np.zeros(count + 1, dtype=np.int64)
        self.par_centre_mask = np.zeros(count, dtype=np.uint8)
        self.par_seg = np.zeros(0, dtype=np.int32)
        self.par_flip = np.zeros(0, dtype=np.uint8)
        self.par_centre_left = np.zeros(0, dtype=bool)

    def _collect_edges(self) -> _Edges:
        """Every boundary edge once (a shared edge of two grids is one row) with its owner grids."""
        parts, part_geom = shapely.get_parts(self.geometries, return_index=True)
        rings, ring_part = shapely.get_rings(parts, return_index=True)
        coords, ring_of = shapely.get_coordinates(rings, return_index=True)
        same = ring_of[:-1] == ring_of[1:]
        a, b = coords[:-1][same], coords[1:][same]
        owner = part_geom[ring_part[ring_of[:-1][same]]]
        # Canonical direction, so the two grids on either side of an edge give the same row.
        swap = (a[:, 0] > b[:, 0]) | ((a[:, 0] == b[:, 0]) & (a[:, 1] > b[:, 1]))
        rows = np.where(swap[:, None], np.hstack([b, a]), np.hstack([a, b]))
        uniq, seg_of = np.unique(rows, axis=0, return_inverse=True)
        nseg, n = len(uniq), len(self.ids)
        key = np.sort(seg_of.ravel() * n + owner)  # one entry per (edge, ring using it)
        owner_seg, owners = key // n, key % n
        count = np.bincount(owner_seg, minlength=nseg)
        offsets = np.zeros(nseg + 1, dtype=np.int64)
        offsets[1:] = np.cumsum(count)
        # Point-in-polygon is ring-crossing parity only for valid polygons (that is what GEOS
        # answers for them); edges of an invalid grid are always left to shapely.
        valid = shapely.is_valid(self.geometries)
        ok = np.bincount(owner_seg, weights=~valid[owners], minlength=nseg) == 0
        second = owners[np.minimum(offsets[:-1] + 1, len(owners) - 1)]
        one_or_two = (count == 1) | ((count == 2) & (owners[offsets[:-1]] != second))
        self.seg = np.ascontiguousarray(uniq.T)  # rows ax, ay, bx, by: contiguous for gathers
        return _Edges(offsets=offsets, owners=owners, valid=ok, simple=ok & one_or_two)

    def _rasterise_edges(self) -> tuple[IntArray, IntArray]:
        """Unique (cell, edge) pairs for every cell an edge may touch, sorted by cell."""
        ax, ay, bx, by = self.seg
        ua, va = (ax - self.x0) * self.inv_cell, (ay - self.y0) * self.inv_cell
        ub, vb = (bx - self.x0) * self.inv_cell, (by - self.y0) * self.inv_cell
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
        out_cells, out_segs = [], []
        for di in range(3):
            for dj in range(3):
                i, j = i0 + di, j0 + dj
                ok = (i <= i1) & (j <= j1) & (i >= 0) & (j >= 0) & (i < self.nx) & (j < self.ny)
                out_cells.append(j[ok] * self.nx + i[ok])
                out_segs.append(seg[ok])
        nseg = max(len(ua), 1)
        key = _sorted_unique(np.concatenate(out_cells) * nseg + np.concatenate(out_segs))
        return key // nseg, key % nseg

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

    def _label_candidates(self, edges: _Edges, b: _BoundaryCells) -> None:
        # Candidates of a boundary cell: owners of the edges touching it, plus grids covering its
        # centre (a grid with no edge in the cell either covers all of it or none of it).
        n = len(self.ids)
        b.centre_amb, b.centre_grid = self.tree.query(
            shapely.points(*self._centre(b.amb)), predicate="intersects"
        )
        start = edges.offsets[b.pair_seg]
        count = edges.offsets[b.pair_seg + 1] - start
        owner_amb = np.repeat(b.pair_amb, count)
        owner = edges.owners[_ranges(start, count)]
        key = _sorted_unique(np.concatenate([owner_amb * n + owner, b.centre_amb * n + b.centre_grid]))
        kamb = key // n
        self.candidates = key % n  # sorted by cell, then position
        self.cand_offsets = np.searchsorted(kamb, np.arange(len(b.amb) + 1)).astype(np.int64)
        b.cand_key = key

    def _label_lines(self, edges: _Edges, b: _BoundaryCells) -> None:
        """Find the "line cells": boundary cells crossed by one straight edge and nothing else.

        In such a cell the answer depends only on the side of the edge a point lies on, so the
        answer for each side is stored and a query costs one orientation test. The side's answer
        is derived from the exact answer at the cell centre: crossing the edge flips membership of
        exactly the grids that own it (valid polygons: point-in-polygon is ring-crossing parity).
        """
        n, namb = len(self.ids), len(b.amb)
        count = np.bincount(b.pair_amb, minlength=namb)
        first = np.searchsorted(b.pair_amb, np.arange(namb))
        k = np.flatnonzero(count == 1)
        s = b.pair_seg[first[k]]
        keep = edges.simple[s]
        k, s = k[keep], s[keep]
        # The edge must cross the whole cell (with a margin): every point of the widened cell
        # projects inside the segment, so no endpoint (vertex) lies in the cell.
        ax, ay, bx, by = self.seg[:, s]
        ua, va = (ax - self.x0) * self.inv_cell, (ay - self.y0) * self.inv_cell
        du, dv = (bx - ax) * self.inv_cell, (by - ay) * self.inv_cell
        length2 = du * du + dv * dv
        ci, cj = (b.amb[k] % self.nx).astype(np.float64), (b.amb[k] // self.nx).astype(np.float64)
        tmin, tmax = np.full(len(k), np.inf), np.full(len(k), -np.inf)
        for cu in (ci - _CHORD_MARGIN, ci + 1 + _CHORD_MARGIN):
            for cv in (cj - _CHORD_MARGIN, cj + 1 + _CHORD_MARGIN):
                t = (cu - ua) * du + (cv - va) * dv
                tmin, tmax = np.minimum(tmin, t), np.maximum(tmax, t)
        chord = (length2 > 0) & (tmin > 0) & (tmax < length2)
        # The centre must be clearly off the edge (its exact answer is the reference).
        det, tol = _orient(ax, ay, bx, by, *self._centre(b.amb[k]))
        keep = chord & (np.abs(det) > tol)
        k, s, centre_left = k[keep], s[keep], det[keep] > 0
        # Membership at the centre, and across the edge (symmetric difference with the owners).
        is_line = np.zeros(namb, dtype=bool)
        is_line[k] = True
        at = is_line[b.centre_amb]
        c_amb, c_grid = b.centre_amb[at], b.centre_grid[at]
        here = _min_per_group(c_amb, c_grid, namb)
        start = edges.offsets[s]
        count = edges.offsets[s + 1] - start
        flip_key = np.concatenate(
            [c_amb * n + c_grid, np.repeat(k, count) * n + edges.owners[_ranges(start, count)]]
        )
        flip_key.sort()
        key, start = _sorted_unique(flip_key, return_index=True)
        odd = key[np.diff(np.append(start, len(flip_key))) % 2 == 1]
        there = _min_per_group(odd // n, odd % n, namb)
        self.amb_mode[k] = s
        self.line_pos[k] = np.where(centre_left, here[k], there[k])
        self.line_neg[k] = np.where(centre_left, there[k], here[k])

    def _label_parity(self, edges: _Edges, b: _BoundaryCells) -> None:
        """Prepare the other boundary cells (vertices, several edges) for a ring-crossing test.

        A point's grids differ from the centre's grids by the owners of the edges that the segment
        centre→point crosses, an odd number of times each. Memberships are bit masks over the
        cell's candidates (at most 8). Cells with more candidates, an edge of an invalid grid, or
        a centre too close to an edge's line keep the plain shapely check.
        """
        n, namb = len(self.ids), len(b.amb)
        cand_count = np.diff(self.cand_offsets)
        usable = (self.amb_mode == _MODE_SHAPELY) & (cand_count <= 8)
        usable &= np.bincount(b.pair_amb, weights=~edges.valid[b.pair_seg], minlength=namb) == 0
        sel = usable[b.pair_amb]
        p_amb, p_seg = b.pair_amb[sel], b.pair_seg[sel]
        ax, ay, bx, by = self.seg[:, p_seg]
        det, tol = _orient(ax, ay, bx, by, *self._centre(b.amb[p_amb]))
        usable &= np.bincount(p_amb, weights=np.abs(det) <= tol, minlength=namb) == 0
        sel = usable[p_amb]
        p_amb, p_seg, centre_left = p_amb[sel], p_seg[sel], det[sel] > 0
        # Bit of each owner within the cell's candidate list.
        start = edges.offsets[p_seg]
        count = edges.offsets[p_seg + 1] - start
        pair_of = np.repeat(np.arange(len(p_seg)), count)
        owner_amb = p_amb[pair_of]
        bit = np.searchsorted(b.cand_key, owner_amb * n + edges.owners[_ranges(start, count)])
        bit -= self.cand_offsets[owner_amb]
        flip = np.zeros(len(p_seg), dtype=np.uint8)
        np.bitwise_xor.at(flip, pair_of, (1 << bit).astype(np.uint8))
        at = usable[b.centre_amb]
        c_amb, c_grid = b.centre_amb[at], b.centre_grid[at]
        c_bit = np.searchsorted(b.cand_key, c_amb * n + c_grid) - self.cand_offsets[c_amb]
        np.bitwise_or.at(self.par_centre_mask, c_amb, (1 << c_bit).astype(np.uint8))
        self.par_offsets[1:] = np.cumsum(np.bincount(p_amb, minlength=namb))
        self.par_seg = p_seg.astype(np.int32)
        self.par_flip = flip
        self.par_centre_left = centre_left
        self.amb_mode[usable] = _MODE_PARITY

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
        s = int(self.amb_mode[k])
        if s >= 0:
            ax, ay, bx, by = self.seg[:, s].tolist()
            left = (ax - lng) * (by - lat)
            right = (ay - lat) * (bx - lng)
            if abs(left - right) > (abs(left) + abs(right)) * _ORIENT_REL_ERROR + _ORIENT_ABS_ERROR:
                pos = int(self.line_pos[k] if left > right else self.line_neg[k])
                return int(self.ids[pos]) if pos >= 0 else None
        for pos in self.candidates[self.cand_offsets[k] : self.cand_offsets[k + 1]]:
            if shapely.intersects_xy(self.geometries[pos], lng, lat):
                return int(self.ids[pos])
        return None

    def locate_many(self, lngs: npt.ArrayLike, lats: npt.ArrayLike) -> IntArray:
        """Vectorised :meth:`locate`: int64 grid ids, -1 where no grid covers the point."""
        x = np.asarray(lngs, dtype=np.float64).ravel()
        y = np.asarray(lats, dtype=np.float64).ravel()
        if not self.nx or not len(x):
            return np.full(len(x), _NONE, dtype=np.int64)
        flat = self._cell_of(x, self.x0, self.nx)
        flat += self._cell_of(y, self.y0, self.ny) * self.nx
        code = self.cells[flat]
        out = self.ids_or_none[np.maximum(code, _NONE)]
        pts = np.flatnonzero(code <= -2)
        if len(pts):
            k = -2 - code[pts].astype(np.int64)
            mode = self.amb_mode[k]
            rest = mode == _MODE_SHAPELY
            line = mode >= 0
            rest[line] = self._resolve_lines(pts[line], k[line], mode[line], x, y, out)
            par = mode == _MODE_PARITY
            rest[par] = self._resolve_parity(pts[par], k[par], flat[pts[par]], x, y, out)
            if np.any(rest):
                self._resolve(pts[rest], k[rest], x, y, out)
        return out

    def _cell_of(self, coord: FloatArray, origin: float, size: int) -> IntArray:
        # Column (row) of each coordinate; anything outside, NaN included, lands on the empty
        # border column (row) 0 or size - 1. Same rounding as locate(): floor of (c - origin) / cell.
        t = coord - origin
        t *= self.inv_cell
        np.fmax(t, 0.0, out=t)
        np.fmin(t, size - 1, out=t)
        return t.astype(np.int64)

    def _resolve_lines(
        self,
        pts: IntArray,
        k: IntArray,
        seg: npt.NDArray[np.int32],
        x: FloatArray,
        y: FloatArray,
        out: IntArray,
    ) -> npt.NDArray[np.bool_]:
        """Points in line cells: the side of the edge decides. Returns the undecided points."""
        det, tol = _orient(
            self.seg[0, seg], self.seg[1, seg], self.seg[2, seg], self.seg[3, seg], x[pts], y[pts]
        )
        decided = np.abs(det) > tol
        pos = np.where(det > 0, self.line_pos[k], self.line_neg[k])
        hit = decided & (pos >= 0)
        out[pts[hit]] = self.ids[pos[hit]]
        return ~decided

    def _resolve_parity(
        self, pts: IntArray, k: IntArray, flat: IntArray, x: FloatArray, y: FloatArray, out: IntArray
    ) -> npt.NDArray[np.bool_]:
        """Points in parity cells: flip the centre's memberships per edge crossed on the way."""
        if not len(pts):
            return np.zeros(0, dtype=bool)
        start = self.par_offsets[k]
        count = self.par_offsets[k + 1] - start
        first = np.cumsum(count) - count
        pair = _ranges(start, count)
        of = np.repeat(np.arange(len(pts)), count)
        rx, ry = self._centre(flat)  # exactly the centre used at build time
        px, py, rx, ry = x[pts][of], y[pts][of], rx[of], ry[of]
        s = self.par_seg[pair]
        ax, ay, bx, by = self.seg[0, s], self.seg[1, s], self.seg[2, s], self.seg[3, s]
        d1, t1 = _orient(ax, ay, bx, by, px, py)
        d2, t2 = _orient(rx, ry, px, py, ax, ay)
        d3, t3 = _orient(rx, ry, px, py, bx, by)
        crossed = ((d1 > 0) != self.par_centre_left[pair]) & ((d2 > 0) != (d3 > 0))
        unsure = (np.abs(d1) <= t1) | (np.abs(d2) <= t2) | (np.abs(d3) <= t3)
        flips = np.bitwise_xor.reduceat(np.where(crossed, self.par_flip[pair], 0).astype(np.uint8), first)
        bit = _LOWEST_BIT[self.par_centre_mask[k] ^ flips]
        undecided = np.logical_or.reduceat(unsure, first)
        hit = ~undecided & (bit >= 0)
        out[pts[hit]] = self.ids[self.candidates[self.cand_offsets[k[hit]] + bit[hit]]]
        return undecided

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
_version: tuple[int, Any] | None = None
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
        version = LocatorVersion.stamp()
        if _index is None or version != _version:
            _index = GridIndex(Grid.objects.values_list("id", "boundary"))
            _version = version
            release_freed_memory()  # the build's temporaries: ~100 MB at 15 000 grids
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
