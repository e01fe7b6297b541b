from __future__ import annotations

import math

import numpy as np
import pytest

from yiwang.core.coords import (
    CRS,
    from_wgs84,
    from_wgs84_many,
    in_china,
    to_wgs84,
    to_wgs84_many,
    validate_lng_lat,
)

# Published reference pairs: (116.404, 39.915) from wandergis/coordtransform's tests, and the
# Shanghai/Shenzhen/Beijing pairs from googollee/eviltransform's tests (WGS84 → GCJ-02).
WGS_TO_GCJ = [
    ((116.404, 39.915), (116.41024449916938, 39.91640428150164)),
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),
]
# coordtransform: gcj02tobd09(116.404, 39.915)
GCJ_TO_BD = ((116.404, 39.915), (116.41036949371029, 39.92133699351021))


@pytest.mark.parametrize(("wgs", "gcj"), WGS_TO_GCJ)
def test_wgs84_to_gcj02_matches_published_reference(wgs, gcj):
    lng, lat = from_wgs84(*wgs, CRS.GCJ02)
    assert lng == pytest.approx(gcj[0], abs=1e-9)
    assert lat == pytest.approx(gcj[1], abs=1e-9)


@pytest.mark.parametrize(("wgs", "gcj"), WGS_TO_GCJ)
def test_gcj02_to_wgs84_inverts_to_within_1e_6_degree(wgs, gcj):
    lng, lat = to_wgs84(*gcj, "gcj02")
    assert abs(lng - wgs[0]) < 1e-8
    assert abs(lat - wgs[1]) < 1e-8


def test_gcj02_to_bd09_matches_published_reference():
    (lng, lat), (blng, blat) = GCJ_TO_BD
    # through WGS84: go to the WGS84 point whose GCJ-02 is (lng, lat), then to BD-09
    wlng, wlat = to_wgs84(lng, lat, CRS.GCJ02)
    got = from_wgs84(wlng, wlat, CRS.BD09)
    assert got == pytest.approx((blng, blat), abs=1e-8)


def test_bd09_inverse_is_better_than_the_one_step_formula():
    # coordtransform's one-step bd09→gcj02(116.404, 39.915) = (116.39762729119315, 39.90865673957631);
    # ours agrees to ~1e-6 and, unlike it, round-trips exactly.
    wlng, wlat = to_wgs84(116.404, 39.915, "bd09")
    g = from_wgs84(wlng, wlat, "gcj02")
    assert g == pytest.approx((116.39762729119315, 39.90865673957631), abs=2e-6)
    assert from_wgs84(wlng, wlat, "bd09") == pytest.approx((116.404, 39.915), abs=1e-9)


@pytest.mark.parametrize("crs", list(CRS))
def test_round_trip_is_within_1e_6_degree(crs):
    rng = np.random.default_rng(0)
    for lng, lat in zip(rng.uniform(74, 134, 200), rng.uniform(18, 53, 200), strict=True):
        back = to_wgs84(*from_wgs84(lng, lat, crs), crs)
        assert math.dist(back, (lng, lat)) < 1e-6


@pytest.mark.parametrize("crs", list(CRS))
def test_arrays_equal_scalar_results(crs):
    rng = np.random.default_rng(1)
    lngs, lats = rng.uniform(119.5, 120.4, 50), rng.uniform(35.5, 36.2, 50)
    many_to = to_wgs84_many(lngs, lats, crs)
    many_from = from_wgs84_many(lngs, lats, crs)
    for k, (lng, lat) in enumerate(zip(lngs, lats, strict=True)):
        assert to_wgs84(lng, lat, crs) == pytest.approx((many_to[0][k], many_to[1][k]), abs=1e-9)
        assert from_wgs84(lng, lat, crs) == pytest.approx((many_from[0][k], many_from[1][k]), abs=1e-12)


@pytest.mark.parametrize("point", [(2.35, 48.85), (-74.0, 40.7), (151.2, -33.9)])
def test_gcj02_leaves_points_outside_china_unchanged(point):
    assert from_wgs84(*point, CRS.GCJ02) == point
    assert to_wgs84(*point, CRS.GCJ02) == point


def test_unknown_crs_is_rejected():
    with pytest.raises(ValueError, match="unknown coordinate system"):
        to_wgs84(120.0, 36.0, "utm")


def test_in_china_uses_a_coarse_box():
    assert in_china(120.2, 35.96)
    assert not in_china(35.96, 120.2)  # swapped
    assert not in_china(0.0, 0.0)


def test_validate_accepts_numeric_strings_inside_china():
    assert validate_lng_lat("120.2", 35.96) == (120.2, 35.96)


@pytest.mark.parametrize(
    ("lng", "lat"),
    [
        (math.nan, 36.0),
        (120.0, math.inf),
        (200.0, 36.0),
        (120.0, -95.0),
        (0.0, 0.0),
        ("abc", 36.0),
        (None, 36.0),
    ],
)
def test_validate_rejects_bad_coordinates_with_bilingual_message(lng, lat):
    with pytest.raises(ValueError, match=" / ") as excinfo:
        validate_lng_lat(lng, lat)
    assert "coordinates" in str(excinfo.value)


def test_validate_names_outside_china():
    with pytest.raises(ValueError, match="坐标超出中国范围 / coordinates outside China"):
        validate_lng_lat(2.35, 48.85)
