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
