from __future__ import annotations

import numpy as np
import pytest
import shapely
from shapely.geometry import mapping

from tests.factories import square
from yiwang.grids import locator
from yiwang.grids.locator import GridIndex, Located, get_index, locate_point
from yiwang.grids.models import Grid, LocatorVersion


def reference(items, xs, ys):
    """Plain shapely answer with the documented rule: covers, smallest id wins."""
    out = np.full(len(xs), -1, dtype=np.int64)
    for gid, geo in sorted(items, key=lambda p: p[0], reverse=True):
        hit = shapely.intersects_xy(shapely.geometry.shape(geo), xs, ys)
        out[hit] = gid
    return out


def voronoi_tiling(n=60, seed=0):
    rng = np.random.default_rng(seed)
    pts = shapely.multipoints(rng.uniform((120.0, 35.9), (120.05, 35.95), (n, 2)))
    box = shapely.box(120.0, 35.9, 120.05, 35.95)
    cells = shapely.intersection(shapely.get_parts(shapely.voronoi_polygons(pts, extend_to=box)), box)
    return [(i * 3 + 1, mapping(c)) for i, c in enumerate(cells)]


def probe_points(items, n=3000, seed=1):
    """Random points plus every vertex and edge midpoint (exactly on boundaries)."""
    rng = np.random.default_rng(seed)
    geoms = [shapely.geometry.shape(g) for _, g in items]
    minx, miny, maxx, maxy = shapely.total_bounds(geoms)
    rand = rng.uniform((minx - 0.005, miny - 0.005), (maxx + 0.005, maxy + 0.005), (n, 2))
    coords = shapely.get_coordinates(geoms)
    mids = (coords[:-1] + coords[1:]) / 2
    pts = np.vstack([rand, coords, mids])
    return pts[:, 0], pts[:, 1]


def assert_same_as_shapely(items):
    index = GridIndex(items)
    xs, ys = probe_points(items)
    expected = reference(items, xs, ys)
    got = index.locate_many(xs, ys)
    np.testing.assert_array_equal(got, expected)
    single = np.array([index.locate(x, y) or -1 for x, y in zip(xs.tolist(), ys.tolist(), strict=True)])
    np.testing.assert_array_equal(single, got)


def test_voronoi_tiling_gives_shapely_answers_including_shared_edges_and_vertices():
    assert_same_as_shapely(voronoi_tiling())


def test_point_on_shared_edge_goes_to_smallest_id():
    index = GridIndex([(7, square(120.0, 35.9)), (3, square(120.01, 35.9))])
    assert index.locate(120.01, 35.905) == 3
    assert index.locate(120.005, 35.905) == 7
    assert index.locate(120.0, 35.9) == 7  # outer corner: boundary counts as inside


def test_multipolygons_and_holes_give_shapely_answers():
    ring = shapely.Polygon(
        [(120.0, 35.9), (120.04, 35.9), (120.04, 35.94), (120.0, 35.94)],
        holes=[[(120.01, 35.91), (120.03, 35.91), (120.03, 35.93), (120.01, 35.93)]],
    )
    inner = shapely.box(120.01, 35.91, 120.03, 35.93)
    islands = shapely.MultiPolygon(
        [shapely.box(120.05, 35.9, 120.06, 35.91), shapely.box(120.07, 35.92, 120.08, 35.93)]
    )
    items = [(1, mapping(ring)), (2, mapping(islands)), (5, mapping(inner))]
    assert_same_as_shapely(items)
    index = GridIndex(items)
    assert index.locate(120.02, 35.92) == 5  # in the hole of grid 1
    assert index.locate(120.075, 35.925) == 2
    assert index.locate(120.065, 35.915) is None


def test_overlapping_grids_give_shapely_answers():
    items = [
        (4, square(120.0, 35.9, 0.02)),
        (2, square(120.01, 35.91, 0.02)),
        (9, square(120.005, 35.905, 0.002)),
    ]
    assert_same_as_shapely(items)


# --- boundary cells: line cells (one edge, side test), parity cells (vertices), shapely ----------
def cell_mode(index, x, y):
    """How the index decides the point's raster cell: "grid", "none", "line", "parity", "shapely"."""
    u = int((x - index.x0) * index.inv_cell)
    v = int((y - index.y0) * index.inv_cell)
    code = int(index.cells[v * index.nx + u])
    if code >= 0:
        return "grid"
    if code == -1:
        return "none"
    mode = int(index.amb_mode[-2 - code])
    return "line" if mode >= 0 else {-2: "parity", -1: "shapely"}[mode]


def slanted_pair():
    """Two quadrilaterals sharing one long slanted edge; all coordinates are binary fractions,
    so points a + k/64·(b − a) lie exactly on the shared edge."""
    a, b = (120.0, 35.90625), (120.03125, 35.921875)
    left = shapely.Polygon([a, b, (120.03125, 35.9375), (120.0, 35.9375)])
    right = shapely.Polygon([a, (120.0, 35.875), (120.03125, 35.875), b])
    return a, b, [(8, mapping(left)), (5, mapping(right))]


def test_line_cells_decide_by_side_of_the_edge_and_edge_points_go_to_smallest_id():
    a, b, items = slanted_pair()
    index = GridIndex(items)
    t = np.arange(1, 64) / 64
    ex, ey = a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t
    assert "line" in {cell_mode(index, x, y) for x, y in zip(ex, ey, strict=True)}
    # exactly on the edge: both grids cover it, the smaller id (5) wins
    assert index.locate_many(ex, ey).tolist() == [5] * len(t)
    assert {index.locate(x, y) for x, y in zip(ex.tolist(), ey.tolist(), strict=True)} == {5}
    # one ulp above the edge (north-west side) is grid 8, one ulp below is grid 5
    up, down = np.nextafter(ey, np.inf), np.nextafter(ey, -np.inf)
    assert index.locate_many(ex, up).tolist() == [8] * len(t)
    assert index.locate_many(ex, down).tolist() == [5] * len(t)
    assert index.locate(float(ex[10]), float(up[10])) == 8
    assert index.locate(float(ex[10]), float(down[10])) == 5


def test_line_cells_on_the_outer_edge_count_the_boundary_as_inside():
    a, b, items = slanted_pair()
    index = GridIndex(items[:1])  # grid 8 alone: the slanted edge is its outer boundary
    t = np.arange(1, 64) / 64
    ex, ey = a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t
    assert index.locate_many(ex, ey).tolist() == [8] * len(t)
    assert index.locate_many(ex, np.nextafter(ey, -np.inf)).tolist() == [-1] * len(t)
    assert_same_as_shapely(items[:1])


def test_vertices_are_decided_in_parity_cells_with_shapely_answers():
    items = voronoi_tiling(80, seed=4)
    index = GridIndex(items)
    coords = shapely.get_coordinates([shapely.geometry.shape(g) for _, g in items])
    modes = {cell_mode(index, x, y) for x, y in coords.tolist()}
    assert "parity" in modes
    assert_same_as_shapely(items)


def test_points_on_lines_through_cell_centres_and_vertices_give_shapely_answers():
    # The parity test walks from the cell centre to the point; points collinear with the centre
    # and a vertex (and the centres themselves) are the degenerate cases.
    items = voronoi_tiling(40, seed=5)
    index = GridIndex(items)
    coords = shapely.get_coordinates([shapely.geometry.shape(g) for _, g in items])
    u = ((coords[:, 0] - index.x0) * index.inv_cell).astype(np.int64)
    v = ((coords[:, 1] - index.y0) * index.inv_cell).astype(np.int64)
    cx, cy = index._centre(v * index.nx + u)
    xs = np.concatenate([cx, *[cx + (coords[:, 0] - cx) * t for t in (0.5, 1.5, 2.0, -1.0)]])
    ys = np.concatenate([cy, *[cy + (coords[:, 1] - cy) * t for t in (0.5, 1.5, 2.0, -1.0)]])
    np.testing.assert_array_equal(index.locate_many(xs, ys), reference(items, xs, ys))


def test_holes_and_multipolygon_parts_are_decided_without_shapely():
    outer = shapely.Polygon(
        [(120.0, 35.9), (120.04, 35.9), (120.04, 35.94), (120.0, 35.94)],
        holes=[[(120.01, 35.91), (120.03, 35.915), (120.025, 35.93), (120.012, 35.925)]],
    )
    inner = shapely.Polygon([(120.01, 35.91), (120.03, 35.915), (120.025, 35.93), (120.012, 35.925)])
    islands = shapely.MultiPolygon(
        [
            shapely.Polygon([(120.05, 35.9), (120.06, 35.905), (120.055, 35.91)]),
            shapely.Polygon([(120.07, 35.92), (120.08, 35.925), (120.072, 35.93)]),
        ]
    )
    items = [(3, mapping(outer)), (2, mapping(islands)), (9, mapping(inner))]
    index = GridIndex(items)
    modes = {cell_mode(index, x, y) for x, y in shapely.get_coordinates([outer, islands]).tolist()}
    assert modes <= {"line", "parity"}
    assert "parity" in modes
    assert_same_as_shapely(items)
    assert index.locate(120.02, 35.92) == 9  # in the hole of grid 3
    assert index.locate(120.01, 35.91) == 3  # hole vertex: both cover it, 3 < 9
    assert index.locate(120.072, 35.93) == 2  # island vertex


def test_invalid_grid_is_checked_with_shapely():
    bowtie = shapely.Polygon([(120.0, 35.9), (120.01, 35.91), (120.01, 35.9), (120.0, 35.91)])
    items = [(1, mapping(bowtie)), (2, square(120.02, 35.9))]
    index = GridIndex(items)
    assert cell_mode(index, 120.005, 35.905) == "shapely"
    assert_same_as_shapely(items)


def test_cell_with_many_grids_is_checked_with_shapely():
    # 12 thin triangles meeting at one point: more candidates than a parity mask holds
    centre = (120.01, 35.91)
    angles = np.linspace(0, 2 * np.pi, 13)
    ring = [(centre[0] + 0.01 * np.cos(t), centre[1] + 0.01 * np.sin(t)) for t in angles]
    items = [(i + 1, mapping(shapely.Polygon([centre, ring[i], ring[i + 1]]))) for i in range(12)]
    index = GridIndex(items)
    assert cell_mode(index, *centre) == "shapely"
    assert index.locate(*centre) == 1
    assert_same_as_shapely(items)


def test_empty_index_finds_nothing():
    index = GridIndex([])
    assert len(index) == 0
    assert index.locate(120.0, 35.9) is None
    assert index.locate_many(np.array([120.0]), np.array([35.9])).tolist() == [-1]
    assert index.nearest(120.0, 35.9, 1000) is None


def test_nan_and_far_points_are_in_no_grid():
    index = GridIndex([(1, square(120.0, 35.9))])
    assert index.locate(float("nan"), 35.9) is None
    assert index.locate_many(np.array([np.nan, 0.0, 120.005]), np.array([35.9, 0.0, 35.905])).tolist() == [
        -1,
        -1,
        1,
    ]


def test_points_beyond_every_side_are_in_no_grid_in_batch():
    # Far points are clamped onto the raster's empty border, also in rows/columns of boundary cells.
    _, _, items = slanted_pair()
    index = GridIndex(items)
    xs = np.array([119.0, 121.0, 120.01, 120.01, -np.inf, np.inf, 120.01, 120.01, 1e300])
    ys = np.array([35.90625, 35.90625, 35.0, 37.0, 35.9, 35.9, -np.inf, np.inf, -1e300])
    assert index.locate_many(xs, ys).tolist() == [-1] * len(xs)
    assert [index.locate(x, y) for x, y in zip(xs.tolist(), ys.tolist(), strict=True)] == [None] * len(xs)


def test_locate_many_returns_int64():
    index = GridIndex(voronoi_tiling(10))
    assert index.locate_many([120.01], [35.91]).dtype == np.int64


def test_nearest_within_tolerance_reports_distance_in_metres():
    index = GridIndex([(1, square(120.0, 35.9)), (2, square(120.02, 35.9))])
    # 0.001° of longitude east of grid 1 at 35.905°N ≈ 90 m
    grid_id, dist = index.nearest(120.011, 35.905, 200)
    assert grid_id == 1
    assert dist == pytest.approx(90.2, abs=1.0)


def test_nearest_outside_tolerance_is_none():
    index = GridIndex([(1, square(120.0, 35.9))])
    assert index.nearest(120.011, 35.905, 50) is None


def test_nearest_inside_a_grid_is_that_grid_at_zero():
    index = GridIndex([(1, square(120.0, 35.9))])
    assert index.nearest(120.005, 35.905, 50) == (1, 0.0)


@pytest.fixture
def fresh_cache(monkeypatch):
    monkeypatch.setattr(locator, "LOCATOR_RECHECK_SECONDS", 0)
    locator.reset_cache()
    yield
    locator.reset_cache()


def test_locate_point_finds_grid_of_world(world, fresh_cache):
    assert locate_point(120.005, 35.905) == Located(world.grid_a1.pk, None, None)


def test_locate_point_suggests_nearest_grid_within_tolerance(world, fresh_cache, settings):
    settings.YIWANG_LOCATOR_TOLERANCE_M = 200
    found = locate_point(120.005, 35.9105)  # ≈ 55 m north of grid_a1
    assert found.grid_id is None
    assert found.nearest_grid_id == world.grid_a1.pk
    assert found.nearest_distance_m == pytest.approx(55.7, abs=1.0)
    assert locate_point(120.005, 35.95) == Located(None, None, None)


def test_cache_rebuilds_after_locator_version_changes(world, fresh_cache):
    first = get_index()
    assert get_index() is first  # same version: no rebuild
    Grid.objects.filter(pk=world.grid_b1.pk).update(boundary=square(120.30, 35.90))
    assert get_index() is first  # geometry changed but version not bumped yet
    LocatorVersion.objects.update_or_create(pk=1, defaults={"version": LocatorVersion.current() + 1})
    rebuilt = get_index()
    assert rebuilt is not first
    assert rebuilt.locate(120.305, 35.905) == world.grid_b1.pk
    assert rebuilt.locate(120.105, 35.905) is None


def test_cache_is_not_reread_within_recheck_interval(world, fresh_cache, monkeypatch):
    monkeypatch.setattr(locator, "LOCATOR_RECHECK_SECONDS", 3600)
    first = get_index()
    LocatorVersion.objects.update_or_create(pk=1, defaults={"version": LocatorVersion.current() + 1})
    assert get_index() is first
