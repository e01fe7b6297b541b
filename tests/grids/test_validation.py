from __future__ import annotations

import json

import pytest
from django.utils import translation
from shapely.geometry import Point

from tests.factories import square
from tests.grids.mapdata import self_intersecting
from yiwang.grids.geometry import GeometryError, extent, overlap_share, parse_geometry
from yiwang.grids.validation import (
    DivisionRef,
    ValidationProblem,
    check_division_code,
    check_grid_code,
    parse_level,
    problem,
)

DISTRICT = DivisionRef("370211000000", "district")
STREET = DivisionRef("370211005000", "street")
COMMUNITY = DivisionRef("370211005001", "community")


def test_parse_geometry_accepts_polygon_feature_and_text() -> None:
    polygon = square(120.0, 35.9)
    assert parse_geometry(polygon).area == pytest.approx(0.0001)
    assert parse_geometry({"type": "Feature", "properties": {}, "geometry": polygon}).equals(
        parse_geometry(polygon)
    )
    assert parse_geometry(json.dumps(polygon)).geom_type == "Polygon"


def test_parse_geometry_accepts_multipolygon() -> None:
    multi = {"type": "MultiPolygon", "coordinates": [square(120.0, 35.9)["coordinates"]]}
    assert parse_geometry(multi).geom_type == "MultiPolygon"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('{"type": "Polygon", "coordinates": [[', "GeoJSON 文本无法解析"),
        ({"type": "Point", "coordinates": [120.0, 35.9]}, "not Point"),
        ({"type": "Polygon"}, "no coordinates"),
        ({"type": "Polygon", "coordinates": [[[120.0, 35.9], [120.1]]]}, "malformed GeoJSON coordinates"),
        ([1, 2], "GeoJSON object"),
    ],
)
def test_parse_geometry_rejects_broken_geojson(value: object, expected: str) -> None:
    with pytest.raises(GeometryError, match=expected):
        parse_geometry(value)


def test_parse_geometry_rejects_self_intersecting_polygon_with_reason() -> None:
    with pytest.raises(GeometryError) as exc:
        parse_geometry(self_intersecting())
    assert "自相交" in exc.value.zh
    assert "Self-intersection" in exc.value.en


def test_parse_geometry_rejects_swapped_lng_lat_as_outside_china() -> None:
    swapped = square(35.9, 120.0)
    with pytest.raises(GeometryError) as exc:
        parse_geometry(swapped)
    assert "坐标超出中国范围" in exc.value.zh
    assert "outside China" in exc.value.en


def test_extent_center_is_inside_an_l_shaped_polygon() -> None:
    ring = [
        [120.0, 35.9],
        [120.02, 35.9],
        [120.02, 35.905],
        [120.005, 35.905],
        [120.005, 35.92],
        [120.0, 35.92],
    ]
    geom = parse_geometry({"type": "Polygon", "coordinates": [[*ring, ring[0]]]})
    min_lng, min_lat, max_lng, max_lat, lng, lat = extent(geom)
    assert (min_lng, min_lat, max_lng, max_lat) == pytest.approx((120.0, 35.9, 120.02, 35.92))
    assert geom.contains(Point(lng, lat))


def test_overlap_share_is_share_of_first_geometry() -> None:
    a = parse_geometry(square(120.0, 35.9))
    b = parse_geometry(square(120.005, 35.9))
    big = parse_geometry(square(119.99, 35.89, 0.1))
    assert overlap_share(a, b) == pytest.approx(0.5)
    assert overlap_share(a, big) == pytest.approx(1.0)
    assert overlap_share(big, a) == pytest.approx(0.01)


def test_well_formed_codes_pass() -> None:
    assert check_division_code(DISTRICT.code, "district", None) == []
    assert check_division_code(STREET.code, "street", DISTRICT) == []
    assert check_division_code(COMMUNITY.code, "community", STREET) == []
    assert check_grid_code("370211005001003", COMMUNITY) == []


@pytest.mark.parametrize(
    ("code", "level", "parent", "field", "expected"),
    [
        ("37021100500", "street", DISTRICT, "code", "12 位数字"),
        ("370211000001", "district", None, "code", "后 6 位必须为 0"),
        ("370211005001", "street", DISTRICT, "code", "街道/乡镇代码"),
        ("370211000000", "street", DISTRICT, "code", "第 7–9 位不能为 000"),
        ("370211005000", "community", STREET, "code", "后 3 位不能为 000"),
        ("370212005000", "street", DISTRICT, "code", "必须以 370211 开头"),
        ("370211006001", "community", STREET, "code", "必须以 370211005 开头"),
        ("370211005001", "community", DISTRICT, "parent_code", "上级必须是街道/乡镇"),
        ("370211000000", "district", STREET, "parent_code", "区县不能有上级"),
        ("370211005000", "street", None, "parent_code", "必须有上级"),
    ],
)
def test_division_code_problems_name_field_and_reason(
    code: str, level: str, parent: DivisionRef | None, field: str, expected: str
) -> None:
    problems = check_division_code(code, level, parent)
    assert [p.field for p in problems] == [field]
    assert expected in problems[0].zh


@pytest.mark.parametrize(
    ("code", "community", "field", "expected"),
    [
        ("37021100500100", COMMUNITY, "code", "15 位数字"),
        ("370211005002001", COMMUNITY, "code", "必须以所属社区代码 370211005001 开头"),
        ("370211005001000", COMMUNITY, "code", "后 3 位不能为 000"),
        ("370211005000001", STREET, "community_code", "网格必须属于社区/村"),
    ],
)
def test_grid_code_problems(code: str, community: DivisionRef, field: str, expected: str) -> None:
    problems = check_grid_code(code, community)
    assert problems[0].field == field
    assert expected in problems[0].zh


def test_problem_message_carries_both_languages_and_localizes() -> None:
    p = problem("code", "duplicate_db", code="370211005001")
    assert p.message == "代码 370211005001 已存在 / code 370211005001 already exists"
    with translation.override("en"):
        assert p.localized() == "code 370211005001 already exists"
    with translation.override("zh-hans"):
        assert p.localized() == "代码 370211005001 已存在"


def test_problem_with_row_names_row_and_column_in_both_languages() -> None:
    p = ValidationProblem("boundary", "边界为空", "the boundary is empty").at(4, "网格 grids")
    assert (
        str(p)
        == "网格 grids：第 4 行，boundary 列：边界为空 / 网格 grids: row 4, column boundary: the boundary is empty"
    )


def test_parse_level_accepts_chinese_labels() -> None:
    assert parse_level("街道/乡镇") == "street"
    assert parse_level("社区") == "community"
    assert parse_level("COMMUNITY") == "community"
    assert parse_level("city") is None
