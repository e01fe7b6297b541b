"""Small map fixtures for the grids tests: plain dicts in the shape ``bulk_load`` takes."""

from __future__ import annotations

from typing import Any

from tests.factories import square

DISTRICT = "370211000000"
STREET = "370211005000"
COMMUNITY = "370211005001"


def division_rows() -> list[dict[str, Any]]:
    return [
        {
            "code": DISTRICT,
            "name": "黄岛区",
            "level": "district",
            "kind": "区",
            "boundary": square(119.9, 35.8, 0.4),
        },
        {"code": STREET, "name": "长江路街道", "level": "street", "kind": "街道", "parent_code": DISTRICT},
        {"code": COMMUNITY, "name": "社区一", "level": "community", "kind": "社区", "parent_code": STREET},
    ]


def grid_row(seq: int, lng: float, lat: float, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "code": f"{COMMUNITY}{seq:03d}",
        "name": f"第{seq}网格",
        "community_code": COMMUNITY,
        "boundary": square(lng, lat),
        "households": 10 * seq,
        "population": 25 * seq,
    }
    row.update(extra)
    return row


def self_intersecting() -> dict[str, Any]:
    """A bow-tie: the ring crosses itself."""
    ring = [[120.0, 35.9], [120.01, 35.91], [120.01, 35.9], [120.0, 35.91], [120.0, 35.9]]
    return {"type": "Polygon", "coordinates": [ring]}
