"""Polygon checks and measures over GeoJSON boundaries (WGS84), done in process with shapely.

Boundaries are stored as GeoJSON dicts (see ``grids.models``); everything here turns them into shapely
geometries, refuses what cannot be a district boundary, and measures extents and overlaps.
Areas are measured in squared degrees: only *ratios* of areas are used (overlap shares), and over
the few kilometres of a district the distortion between two nearby polygons cancels out.
"""

from __future__ import annotations

import json
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.geometry.base import BaseGeometry

from yiwang.core.coords import CHINA_MAX_LAT, CHINA_MAX_LNG, CHINA_MIN_LAT, CHINA_MIN_LNG, in_china

# The project's one coarse box around China (core.coords): it catches swapped lng/lat and
# projected (metre) coordinates, not exact borders.
CHINA_LNG = (CHINA_MIN_LNG, CHINA_MAX_LNG)
CHINA_LAT = (CHINA_MIN_LAT, CHINA_MAX_LAT)


class GeometryError(ValueError):
    """A boundary that cannot be used. ``zh`` and ``en`` carry the reason in both languages."""

    def __init__(self, zh: str, en: str) -> None:
        self.zh = zh
        self.en = en
        super().__init__(f"{zh} / {en}")


def _as_dict(obj: Any) -> dict[str, Any]:
    if isinstance(obj, str):
        try:
            obj = json.loads(obj)
        except json.JSONDecodeError as exc:
            raise GeometryError(
                f"GeoJSON 文本无法解析（第 {exc.lineno} 行第 {exc.colno} 列）",
                f"GeoJSON text cannot be parsed (line {exc.lineno}, column {exc.colno})",
            ) from exc
    if not isinstance(obj, dict):
        raise GeometryError("边界必须是 GeoJSON 对象", "the boundary must be a GeoJSON object")
    if obj.get("type") == "Feature":
        geometry = obj.get("geometry")
        if not isinstance(geometry, dict):
            raise GeometryError("GeoJSON 要素缺少 geometry", "the GeoJSON Feature has no geometry")
        return geometry
    return obj


def _check_in_china(geom: BaseGeometry) -> None:
    min_lng, min_lat, max_lng, max_lat = geom.bounds
    if not (in_china(min_lng, min_lat) and in_china(max_lng, max_lat)):
        raise GeometryError(
            f"坐标超出中国范围（经度 {CHINA_LNG[0]:g}–{CHINA_LNG[1]:g}，纬度 {CHINA_LAT[0]:g}–{CHINA_LAT[1]:g}）："
            f"范围为 {min_lng:.6f},{min_lat:.6f} – {max_lng:.6f},{max_lat:.6f}；请确认经纬度顺序和坐标系为 WGS84",
            f"coordinates outside China (lng {CHINA_LNG[0]:g}–{CHINA_LNG[1]:g}, lat {CHINA_LAT[0]:g}–"
            f"{CHINA_LAT[1]:g}): bounds {min_lng:.6f},{min_lat:.6f} – {max_lng:.6f},{max_lat:.6f}; "
            "check the lng/lat order and that the datum is WGS84",
        )


def parse_geometry(obj: Any) -> Polygon | MultiPolygon:
    """A valid Polygon or MultiPolygon from a GeoJSON geometry, Feature, or their JSON text.

    Raises :class:`GeometryError` for broken GeoJSON, other geometry types, empty or invalid
    (self-intersecting, unclosed…) polygons and coordinates outside China.
    """
    data = _as_dict(obj)
    kind = data.get("type")
    if kind not in ("Polygon", "MultiPolygon"):
        raise GeometryError(
            f"边界必须是 Polygon 或 MultiPolygon，而不是 {kind!s}",
            f"the boundary must be a Polygon or MultiPolygon, not {kind!s}",
        )
    if "coordinates" not in data:
        raise GeometryError("GeoJSON 缺少 coordinates", "the GeoJSON has no coordinates")
    try:
        geom = shape(data)
    except (ValueError, TypeError, IndexError, KeyError, AttributeError, shapely.errors.ShapelyError) as exc:
        raise GeometryError(f"GeoJSON 坐标格式错误：{exc}", f"malformed GeoJSON coordinates: {exc}") from exc
    if geom.is_empty:
        raise GeometryError("边界为空", "the boundary is empty")
    if not shapely.is_valid(geom):
        reason = shapely.is_valid_reason(geom)
        raise GeometryError(
            f"多边形无效（如自相交）：{reason}", f"invalid polygon (e.g. self-intersecting): {reason}"
        )
    _check_in_china(geom)
    assert isinstance(geom, Polygon | MultiPolygon)
    return geom


def extent(geom: BaseGeometry) -> tuple[float, float, float, float, float, float]:
    """``(min_lng, min_lat, max_lng, max_lat, center_lng, center_lat)``.

    The center is the representative point, which is always inside the polygon (a centroid of an
    L- or U-shaped grid can fall outside it, and map labels and "locate me" pins must not).
    """
    min_lng, min_lat, max_lng, max_lat = geom.bounds
    point = geom.representative_point()
    return (min_lng, min_lat, max_lng, max_lat, point.x, point.y)


def overlap_share(a: BaseGeometry, b: BaseGeometry) -> float:
    """The share (0–1) of ``a``'s area that lies inside ``b``."""
    if a.area <= 0:
        return 0.0
    return float(min(1.0, a.intersection(b).area / a.area))


def to_geojson(geom: BaseGeometry) -> dict[str, Any]:
    """A GeoJSON geometry dict (plain lists, JSON-serialisable) for a shapely geometry."""
    data: dict[str, Any] = json.loads(shapely.to_geojson(geom))
    return data
