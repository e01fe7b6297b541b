"""The generated map of the demo district (pure: no database)."""

from __future__ import annotations

import hashlib
import json
from functools import cache

import pytest
import shapely
from shapely.geometry import shape

from yiwang.demo.district import DemoDistrict, generate_district, load_streets
from yiwang.grids.actions import spatial_order
from yiwang.grids.geometry import extent

OFFICIAL_STREETS = {
    "370211001": "黄岛街道",
    "370211002": "辛安街道",
    "370211003": "薛家岛街道",
    "370211004": "灵珠山街道",
    "370211005": "长江路街道",
    "370211006": "红石崖街道",
    "370211007": "灵山卫街道",
    "370211009": "珠海街道",
    "370211010": "隐珠街道",
    "370211011": "铁山街道",
    "370211012": "滨海街道",
    "370211013": "胶南街道",
    "370211014": "王台街道",
    "370211015": "张家楼街道",
    "370211102": "琅琊镇",
    "370211103": "泊里镇",
    "370211104": "大场镇",
    "370211105": "大村镇",
    "370211106": "六汪镇",
    "370211107": "海青镇",
    "370211108": "宝山镇",
    "370211109": "藏马镇",
    "370211401": "灵山岛省级自然保护区",
}

# Boundaries are doubles; a child may stick out of its parent by rounding only.
TOLERANCE = 1e-7


@cache
def demo(seed: int = 2026, scale: float = 0.1) -> DemoDistrict:
    return generate_district(seed, scale)


def geometry_hash(district: DemoDistrict) -> str:
    rows = [(d["code"], d["boundary"]) for d in district.divisions] + [
        (g["code"], g["boundary"]) for g in district.grids
    ]
    return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()


def test_fixture_has_the_23_streets_with_their_official_codes_and_names() -> None:
    assert {s.code9: s.name for s in load_streets()} == OFFICIAL_STREETS


def test_divisions_use_12_digit_statistical_codes() -> None:
    divisions = demo().divisions
    district = [d for d in divisions if d["level"] == "district"]
    streets = {d["code"]: d["name"] for d in divisions if d["level"] == "street"}
    assert [d["code"] for d in district] == ["370211000000"]
    assert streets == {code + "000": name for code, name in OFFICIAL_STREETS.items()}
    assert all(len(d["code"]) == 12 and d["code"].isdigit() for d in divisions)


def test_communities_in_streets_are_numbered_001_and_villages_in_towns_200() -> None:
    kinds = {d["code"][:9]: d["kind"] for d in demo().divisions if d["level"] == "street"}
    for community in (d for d in demo().divisions if d["level"] == "community"):
        street9, seq = community["code"][:9], int(community["code"][9:])
        assert community["parent_code"] == street9 + "000"
        if kinds[street9] == "街道":
            assert community["kind"] == "社区"
            assert community["name"].endswith("社区")
            assert 1 <= seq <= 199
        else:
            assert community["kind"] == "村"
            assert community["name"].endswith("村")
            assert seq >= 200


def test_community_names_are_unique_over_the_district() -> None:
    names = [d["name"] for d in demo().divisions if d["level"] == "community"]
    assert len(names) == len(set(names))


def test_every_grid_code_is_its_community_code_plus_three_digits() -> None:
    communities = {d["code"] for d in demo().divisions if d["level"] == "community"}
    for grid in demo().grids:
        assert grid["community_code"] in communities
        assert grid["code"][:12] == grid["community_code"]
        assert grid["code"][12:].isdigit()
        assert grid["code"][12:] != "000"
    codes = [g["code"] for g in demo().grids]
    assert len(codes) == len(set(codes))


def test_grids_are_numbered_west_to_east_then_north_to_south() -> None:
    by_community: dict[str, list[dict]] = {}
    for grid in demo(2026, 1.0).grids:
        by_community.setdefault(grid["community_code"], []).append(grid)
    sample = max(by_community.values(), key=len)
    assert len(sample) >= 6
    sample.sort(key=lambda g: g["code"])
    assert [g["code"][12:] for g in sample] == [f"{n:03d}" for n in range(1, len(sample) + 1)]
    extents = [extent(shape(g["boundary"])) for g in sample]
    points = [(e[4], e[5]) for e in extents]
    # The same rule the grids app numbers by: code order is reading order.
    assert spatial_order(points, [e[3] - e[1] for e in extents]) == list(range(len(sample)))
    # And it reads like a page: the first grid is in the top row, the numbers drift south.
    third = len(sample) // 3
    assert sum(p[1] for p in points[:third]) / third > sum(p[1] for p in points[-third:]) / third
    heights = sorted(e[3] - e[1] for e in extents)
    assert max(p[1] for p in points) - points[0][1] <= heights[len(heights) // 2]


def test_grids_lie_within_their_community_and_communities_within_their_street() -> None:
    district = demo()
    shapes = {d["code"]: shape(d["boundary"]) for d in district.divisions}
    for grid in district.grids:
        community = shapes[grid["community_code"]]
        assert shape(grid["boundary"]).difference(community).area < TOLERANCE**2 * 1e3
    for division in district.divisions:
        if division["level"] == "community":
            street = shapes[division["parent_code"]]
            assert shapes[division["code"]].within(street.buffer(TOLERANCE))


def test_communities_tile_their_street_and_grids_tile_their_community() -> None:
    district = demo()
    shapes = {d["code"]: shape(d["boundary"]) for d in district.divisions}
    children: dict[str, list] = {}
    for d in district.divisions:
        if d["parent_code"]:
            children.setdefault(d["parent_code"], []).append(shapes[d["code"]])
    for g in district.grids:
        children.setdefault(g["community_code"], []).append(shape(g["boundary"]))
    for parent, parts in children.items():
        assert shapely.union_all(parts).area == pytest.approx(shapes[parent].area, rel=1e-6)
        assert sum(p.area for p in parts) == pytest.approx(shapes[parent].area, rel=1e-6)


def test_same_seed_gives_the_same_codes_and_geometry() -> None:
    first = generate_district(7, 0.05)
    again = generate_district(7, 0.05)
    assert [g["code"] for g in first.grids] == [g["code"] for g in again.grids]
    assert [d["name"] for d in first.divisions] == [d["name"] for d in again.divisions]
    assert geometry_hash(first) == geometry_hash(again)


def test_another_seed_gives_another_district() -> None:
    assert geometry_hash(generate_district(8, 0.05)) != geometry_hash(generate_district(7, 0.05))


def test_scale_changes_the_grid_count_roughly_proportionally() -> None:
    small, double = len(demo(2026, 0.1).grids), len(demo(2026, 0.2).grids)
    assert 1.7 <= double / small <= 2.3
    assert 0.85 * 155 <= small <= 1.15 * 155  # scale 1 ≈ 1,550 grids


def test_households_and_population_are_plausible() -> None:
    grids = demo(2026, 1.0).grids
    basic = [g for g in grids if g["kind"] == "basic"]
    assert all(320 <= g["households"] <= 560 for g in basic)
    assert all(2.5 <= g["population"] / g["households"] <= 3.3 for g in basic)
    assert sum(g["population"] for g in grids) == pytest.approx(1_990_000, rel=0.03)
    assert 1300 <= len(grids) <= 1800


def test_urban_streets_have_denser_grids_than_towns() -> None:
    district = demo(2026, 1.0)
    area = {d["code"][:9]: shape(d["boundary"]).area for d in district.divisions if d["level"] == "street"}
    count: dict[str, int] = {}
    for grid in district.grids:
        count[grid["code"][:9]] = count.get(grid["code"][:9], 0) + 1
    density = {code: count[code] / area[code] for code in area}
    assert density["370211005"] > 3 * density["370211104"]  # 长江路街道 vs 大场镇


def test_a_few_grids_are_dedicated_to_a_school_a_hospital_and_a_park() -> None:
    dedicated = [g for g in demo().grids if g["kind"] == "dedicated"]
    sites = {g["dedicated_to"][-2:] for g in dedicated}
    assert {"中学", "医院", "业园"} <= sites
    assert all(g["name"].endswith("专属网格") for g in dedicated)


def test_labels_are_data_and_used_by_some_grids() -> None:
    district = demo(2026, 1.0)
    codes = {label["code"] for label in district.labels}
    assert {label["name"] for label in district.labels} == {"全科网格", "红色网格", "五好网格"}
    used = {code for g in district.grids for code in g["labels"]}
    assert used == codes


def test_police_beats_are_coarser_than_grids_and_belong_to_stations() -> None:
    district = demo(2026, 1.0)
    assert 8 <= len(district.grids) / len(district.beats) <= 12
    assert all(b["police_station"].endswith("派出所") for b in district.beats)
    assert "长江路派出所" in {b["police_station"] for b in district.beats}


def test_external_grids_cover_urban_management_and_emergency() -> None:
    owners = {e["owner"] for e in demo().external_grids}
    assert owners == {"urban", "emergency"}
    assert len(demo().external_grids) < len(demo().grids)
