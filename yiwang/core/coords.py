"""Coordinate systems used by Chinese map SDKs, and conversions to the WGS84 we store.

* WGS84 — GPS, OpenStreetMap, 天地图 (CGCS2000 differs from WGS84 by centimetres; treated as equal).
* GCJ-02 — the "Mars" datum required for published maps in China: 高德/Amap, 腾讯, Google China.
  A published obfuscation of WGS84 (offsets of up to ~700 m); its inverse has no closed form.
* BD-09 — Baidu: a further shift and rotation applied on top of GCJ-02.

Forward transforms (WGS84 → GCJ-02 → BD-09) follow the widely published algorithm (Krasovsky
ellipsoid constants, as in wandergis/coordtransform and googollee/eviltransform). The inverses are
computed by fixed-point iteration starting from the one-step approximation, so that applying the
forward transform to the result reproduces the input to better than 1e-9 degree (≈ 0.1 mm); the
common one-step inverse is off by up to a few metres.

The GCJ-02 obfuscation is only applied inside a coarse bounding box of China (see :func:`in_china`);
outside it WGS84 and GCJ-02 are equal, as in every published implementation.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 algorithm.
_A = 6378245.0
_EE = 0.00669342162296594323
# Baidu's BD-09 angular constant.
_X_PI = math.pi * 3000.0 / 180.0

# Coarse bounding box of mainland China (the same box coordtransform uses). It contains all of
# China's territory, and also parts of neighbouring countries; it is used to decide whether the
# GCJ-02 offset applies and whether a coordinate is plausible for this platform, not for borders.
CHINA_MIN_LNG, CHINA_MAX_LNG = 73.66, 135.05
CHINA_MIN_LAT, CHINA_MAX_LAT = 3.86, 53.55

# Fixed-point iterations stop when the forward transform of the estimate is this close (degrees).
_INVERSE_TOLERANCE = 1e-10
_INVERSE_MAX_STEPS = 30


class CRS(StrEnum):
    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"


def _crs(value: CRS | str) -> CRS:
    try:
        return CRS(str(value).lower())
    except ValueError:
        raise ValueError(f"未知坐标系 {value!r} / unknown coordinate system (wgs84, gcj02, bd09)") from None


def _in_china_mask(lng: FloatArray, lat: FloatArray) -> npt.NDArray[np.bool_]:
    return (lng >= CHINA_MIN_LNG) & (lng <= CHINA_MAX_LNG) & (lat >= CHINA_MIN_LAT) & (lat <= CHINA_MAX_LAT)


def _gcj_delta(lng: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    """The GCJ-02 offset (degrees) at a WGS84 position, ignoring the China box."""
    x = lng - 105.0
    y = lat - 35.0
    sqrt_abs_x = np.sqrt(np.abs(x))
    common = (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * sqrt_abs_x + common
    d_lat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    d_lat += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    d_lng = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * sqrt_abs_x + common
    d_lng += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    d_lng += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad_lat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * np.pi)
    d_lng = (d_lng * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    return d_lng, d_lat


def _wgs_to_gcj(lng: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    d_lng, d_lat = _gcj_delta(lng, lat)
    inside = _in_china_mask(lng, lat)
    return np.where(inside, lng + d_lng, lng), np.where(inside, lat + d_lat, lat)


def _gcj_to_wgs(lng: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    # Solve wgs + delta(wgs) = gcj by fixed-point iteration; delta varies slowly (its derivative
    # is ~1e-3), so each step gains about three digits.
    inside = _in_china_mask(lng, lat)
    w_lng, w_lat = lng.copy(), lat.copy()
    for _ in range(_INVERSE_MAX_STEPS):
        d_lng, d_lat = _gcj_delta(w_lng, w_lat)
        err_lng = w_lng + d_lng - lng
        err_lat = w_lat + d_lat - lat
        w_lng = w_lng - err_lng
        w_lat = w_lat - err_lat
        if not (
            np.any(np.abs(err_lng[inside]) > _INVERSE_TOLERANCE)
            or np.any(np.abs(err_lat[inside]) > _INVERSE_TOLERANCE)
        ):
            break
    return np.where(inside, w_lng, lng), np.where(inside, w_lat, lat)


def _gcj_to_bd(lng: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    z = np.sqrt(lng * lng + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lng) + 0.000003 * np.cos(lng * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def _bd_to_gcj(lng: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    # One-step approximation (the usual published inverse), then refine by fixed-point iteration:
    # the one-step result can be off by ~1e-6 degree.
    x, y = lng - 0.0065, lat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    g_lng, g_lat = z * np.cos(theta), z * np.sin(theta)
    for _ in range(_INVERSE_MAX_STEPS):
        b_lng, b_lat = _gcj_to_bd(g_lng, g_lat)
        err_lng, err_lat = b_lng - lng, b_lat - lat
        g_lng, g_lat = g_lng - err_lng, g_lat - err_lat
        if not (np.any(np.abs(err_lng) > _INVERSE_TOLERANCE) or np.any(np.abs(err_lat) > _INVERSE_TOLERANCE)):
            break
    return g_lng, g_lat


def _as_arrays(lngs: Any, lats: Any) -> tuple[FloatArray, FloatArray]:
    lng = np.asarray(lngs, dtype=np.float64)
    lat = np.asarray(lats, dtype=np.float64)
    if lng.shape != lat.shape:
        raise ValueError("经度与纬度数组长度不一致 / longitude and latitude arrays differ in shape")
    return lng, lat


def to_wgs84_many(lngs: Any, lats: Any, crs: CRS | str) -> tuple[FloatArray, FloatArray]:
    """Vectorised :func:`to_wgs84` over arrays (any shape); returns new float64 arrays."""
    lng, lat = _as_arrays(lngs, lats)
    match _crs(crs):
        case CRS.WGS84:
            return lng.copy(), lat.copy()
        case CRS.GCJ02:
            return _gcj_to_wgs(lng, lat)
        case CRS.BD09:
            return _gcj_to_wgs(*_bd_to_gcj(lng, lat))


def from_wgs84_many(lngs: Any, lats: Any, crs: CRS | str) -> tuple[FloatArray, FloatArray]:
    """Vectorised :func:`from_wgs84` over arrays (any shape); returns new float64 arrays."""
    lng, lat = _as_arrays(lngs, lats)
    match _crs(crs):
        case CRS.WGS84:
            return lng.copy(), lat.copy()
        case CRS.GCJ02:
            return _wgs_to_gcj(lng, lat)
        case CRS.BD09:
            return _gcj_to_bd(*_wgs_to_gcj(lng, lat))


def to_wgs84(lng: float, lat: float, crs: CRS | str) -> tuple[float, float]:
    """Convert one position given in ``crs`` to WGS84 ``(lng, lat)``."""
    x, y = to_wgs84_many(np.array([lng]), np.array([lat]), crs)
    return float(x[0]), float(y[0])


def from_wgs84(lng: float, lat: float, crs: CRS | str) -> tuple[float, float]:
    """Convert one WGS84 position to ``crs`` (e.g. to draw it on an Amap or Baidu base map)."""
    x, y = from_wgs84_many(np.array([lng]), np.array([lat]), crs)
    return float(x[0]), float(y[0])


def in_china(lng: float, lat: float) -> bool:
    """True inside the coarse China bounding box (73.66–135.05°E, 3.86–53.55°N).

    Coarse on purpose: the box also covers parts of neighbouring countries. Good enough to reject
    swapped lng/lat, (0, 0) and other obviously wrong positions.
    """
    return CHINA_MIN_LNG <= lng <= CHINA_MAX_LNG and CHINA_MIN_LAT <= lat <= CHINA_MAX_LAT


def validate_lng_lat(lng: Any, lat: Any) -> tuple[float, float]:
    """Return ``(lng, lat)`` as floats, or raise ``ValueError`` with a bilingual message."""
    try:
        x, y = float(lng), float(lat)
    except (TypeError, ValueError):
        raise ValueError(f"坐标不是数字 / coordinates are not numbers: ({lng!r}, {lat!r})") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ValueError(f"坐标不是有限数值 / coordinates are not finite numbers: ({x}, {y})")
    if not (-180.0 <= x <= 180.0 and -90.0 <= y <= 90.0):
        raise ValueError(f"坐标超出经纬度范围 / coordinates out of range: ({x}, {y})")
    if not in_china(x, y):
        raise ValueError(f"坐标超出中国范围 / coordinates outside China: ({x}, {y})")
    return x, y
