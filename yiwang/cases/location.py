"""Resolve an intake location to grid → community → street → district through the grid locator."""

from __future__ import annotations

from dataclasses import dataclass

from yiwang.cases.errors import InvalidCaseInput
from yiwang.core.coords import CRS, to_wgs84, validate_lng_lat
from yiwang.grids.locator import get_index, locate_point
from yiwang.grids.models import Division, DivisionLevel, Grid


@dataclass(frozen=True)
class Place:
    lng: float | None
    lat: float | None
    grid_id: int | None
    community_id: int | None
    street_id: int | None
    district_id: int | None


def resolve_place(lng: float | None, lat: float | None, crs: CRS | str = CRS.WGS84) -> Place:
    """The place of a point given in ``crs`` (stored as WGS84).

    A point in no grid but within the locator's tolerance of one takes the nearest grid; a point
    farther away is outside the district and refused. A case without a point (a consultation by
    phone) belongs to the district only, so district-wide roles see it.
    """
    if lng is None and lat is None:
        district = (
            Division.objects.filter(level=DivisionLevel.DISTRICT)
            .order_by("code")
            .values_list("pk", flat=True)
        )
        return Place(None, None, None, None, None, district.first())
    try:
        x, y = validate_lng_lat(lng, lat)
        x, y = to_wgs84(x, y, crs)
    except ValueError as exc:
        raise InvalidCaseInput(f"位置无效：{exc}", f"invalid location: {exc}", field="location") from exc
    located = locate_point(x, y)
    grid_id = located.grid_id or located.nearest_grid_id
    if grid_id is None:
        raise InvalidCaseInput(
            f"位置（{x:.6f}, {y:.6f}）不在本区范围内，未登记",
            f"the location ({x:.6f}, {y:.6f}) is outside the district; nothing was registered",
            field="location",
        )
    community_id, street_id, district_id = _areas_of(grid_id)
    return Place(x, y, grid_id, community_id, street_id, district_id)


# grid id → (community, street, district) for every grid, loaded in one query and kept as long as
# the locator's index object is the same (the index is rebuilt whenever any grid changes, and a new
# index reloads this map): intake then needs no query to place a point.
_areas: dict[int, tuple[int, int | None, int | None]] = {}
_areas_index: list[object] = [None]


def _areas_of(grid_id: int) -> tuple[int, int | None, int | None]:
    index = get_index()
    if _areas_index[0] is not index or grid_id not in _areas:
        rows = Grid.objects.values_list(
            "pk", "community_id", "community__street_id", "community__district_id"
        )
        _areas.clear()
        _areas.update({pk: (c, s, d) for pk, c, s, d in rows})
        _areas_index[0] = index
    return _areas[grid_id]
