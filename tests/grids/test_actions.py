from __future__ import annotations

import random
from typing import Any

import pytest

from tests.factories import square
from tests.grids.mapdata import COMMUNITY, DISTRICT, STREET, division_rows, grid_row, self_intersecting
from yiwang.grids import actions
from yiwang.grids.models import (
    Division,
    ExternalGrid,
    ExternalGridLink,
    Grid,
    GridBeatLink,
    GridLabel,
    LocatorVersion,
    PoliceBeat,
)
from yiwang.grids.validation import ProblemsError

pytestmark = pytest.mark.django_db


@pytest.fixture
def community() -> Division:
    report = actions.bulk_load(division_rows(), [])
    assert report.ok, report
    return Division.objects.get(code=COMMUNITY)


def counts() -> tuple[int, int, int]:
    return Division.objects.count(), Grid.objects.count(), LocatorVersion.current()


# --- locator version and single saves ---------------------------------------------------------------


def test_bump_locator_version_counts_up_from_nothing() -> None:
    assert LocatorVersion.current() == 0
    assert actions.bump_locator_version() == 1
    assert actions.bump_locator_version() == 2
    assert LocatorVersion.current() == 2


def test_save_division_fills_ancestors(community: Division) -> None:
    assert community.parent.code == STREET
    assert community.street.code == STREET
    assert community.district.code == DISTRICT
    village = actions.save_division(
        code="370211005002", name="村二", level="community", parent=community.parent
    )
    assert village.district_id == community.district_id
    assert village.street_id == community.parent_id


def test_save_division_with_code_not_matching_parent_raises_and_writes_nothing(community: Division) -> None:
    before = counts()
    with pytest.raises(ProblemsError) as exc:
        actions.save_division(code="370211006001", name="错社区", level="community", parent=community.parent)
    assert "必须以 370211005 开头" in exc.value.message_dict["code"][0]
    assert counts() == before


def test_save_grid_computes_extent_and_bumps_version(community: Division) -> None:
    version = LocatorVersion.current()
    grid = actions.save_grid(
        name="一号", community=community, boundary=square(120.0, 35.9), code=f"{COMMUNITY}001"
    )
    assert (grid.min_lng, grid.min_lat, grid.max_lng, grid.max_lat) == pytest.approx(
        (120.0, 35.9, 120.01, 35.91)
    )
    assert (grid.center_lng, grid.center_lat) == pytest.approx((120.005, 35.905))
    assert LocatorVersion.current() == version + 1


def test_save_grid_bumps_version_only_when_boundary_changes(community: Division) -> None:
    grid = actions.save_grid(name="一号", community=community, boundary=square(120.0, 35.9))
    version = LocatorVersion.current()
    actions.save_grid(name="改名", community=community, boundary=grid.boundary, code=grid.code, instance=grid)
    assert LocatorVersion.current() == version
    actions.save_grid(
        name="改名", community=community, boundary=square(120.0, 35.95), code=grid.code, instance=grid
    )
    assert LocatorVersion.current() == version + 1
    assert Grid.objects.get(pk=grid.pk).min_lat == pytest.approx(35.95)


def test_save_grid_without_code_takes_next_free_number(community: Division) -> None:
    actions.save_grid(name="一号", community=community, boundary=square(120.0, 35.9), code=f"{COMMUNITY}001")
    grid = actions.save_grid(name="二号", community=community, boundary=square(120.01, 35.9))
    assert grid.code == f"{COMMUNITY}002"


def test_save_grid_sets_labels(community: Division) -> None:
    red = GridLabel.objects.create(code="red", name="红色网格")
    grid = actions.save_grid(name="一号", community=community, boundary=square(120.0, 35.9), labels=[red])
    assert list(grid.labels.all()) == [red]


def test_save_grid_in_a_street_raises(community: Division) -> None:
    before = counts()
    with pytest.raises(ProblemsError) as exc:
        actions.save_grid(
            name="错", community=community.parent, boundary=square(120.0, 35.9), code="370211005000001"
        )
    assert "网格必须属于社区/村" in exc.value.message_dict["community"][0]
    assert counts() == before


def test_delete_grid_bumps_version(community: Division) -> None:
    grid = actions.save_grid(name="一号", community=community, boundary=square(120.0, 35.9))
    version = LocatorVersion.current()
    actions.delete_grid(grid)
    assert not Grid.objects.exists()
    assert LocatorVersion.current() == version + 1


# --- numbering -----------------------------------------------------------------------------------


def test_number_grids_reads_three_by_three_west_east_then_north_south(community: Division) -> None:
    cells = [(col, row) for row in range(3) for col in range(3)]
    random.Random(7).shuffle(cells)
    for n, (col, row) in enumerate(cells, start=1):
        # Rows a little ragged (as drawn by hand): the band rule must still keep them together.
        jitter = 0.002 * ((col + row) % 2)
        actions.save_grid(
            name=f"{col},{row}",
            community=community,
            boundary=square(120.0 + 0.01 * col, 35.93 - 0.01 * row + jitter),
            code=f"{COMMUNITY}{100 + n}",
        )
    numbered = actions.number_grids(community)
    assert [(g.name, code[-3:]) for g, code in numbered] == [
        ("0,0", "001"),
        ("1,0", "002"),
        ("2,0", "003"),
        ("0,1", "004"),
        ("1,1", "005"),
        ("2,1", "006"),
        ("0,2", "007"),
        ("1,2", "008"),
        ("2,2", "009"),
    ]


def test_bulk_load_numbers_code_less_grids_in_reading_order(community: Division) -> None:
    rows = [
        grid_row(0, 120.0 + 0.01 * col, 35.93 - 0.01 * row, code="", name=f"{col},{row}")
        for row, col in [(1, 1), (0, 2), (1, 0), (0, 0), (0, 1), (1, 2)]
    ]
    report = actions.bulk_load([], rows)
    assert report.ok, report
    codes = dict(Grid.objects.values_list("name", "code"))
    assert [codes[n][-3:] for n in ("0,0", "1,0", "2,0", "0,1", "1,1", "2,1")] == [
        "001",
        "002",
        "003",
        "004",
        "005",
        "006",
    ]


# --- bulk load -------------------------------------------------------------------------------------


def test_bulk_load_writes_everything_and_bumps_version_once() -> None:
    red = GridLabel.objects.create(code="red", name="红色网格")
    grids = [grid_row(1, 120.0, 35.9, labels="red"), grid_row(2, 120.01, 35.9, labels=["red"])]
    report = actions.bulk_load(division_rows(), grids)
    assert report.ok, report
    assert report.created == {"divisions": 3, "grids": 2}
    assert counts() == (3, 2, 1)
    grid = Grid.objects.get(code=f"{COMMUNITY}002")
    assert grid.community.code == COMMUNITY
    assert grid.households == 20
    assert grid.center_lng == pytest.approx(120.015)
    assert list(grid.labels.all()) == [red]


def test_bulk_load_replace_updates_existing_rows(community: Division) -> None:
    actions.bulk_load([], [grid_row(1, 120.0, 35.9)])
    report = actions.bulk_load([], [grid_row(1, 120.0, 35.95, name="新名")], replace=True)
    assert report.ok, report
    assert report.updated["grids"] == 1
    grid = Grid.objects.get()
    assert (grid.name, grid.min_lat) == ("新名", pytest.approx(35.95))


def test_bulk_load_dry_run_writes_nothing() -> None:
    report = actions.bulk_load(division_rows(), [grid_row(1, 120.0, 35.9)], dry_run=True)
    assert report.ok
    assert counts() == (0, 0, 0)


def _bad(rows: list[dict[str, Any]], **change: Any) -> list[dict[str, Any]]:
    return [*rows[:-1], {**rows[-1], **change}]


@pytest.mark.parametrize(
    ("divisions", "grids", "expected"),
    [
        (
            division_rows(),
            [
                grid_row(1, 120.0, 35.9),
                grid_row(2, 120.01, 35.9, boundary='{"type": "Polygon", "coordinates": [['),
            ],
            "网格 grids：第 2 行，boundary 列：边界错误：GeoJSON 文本无法解析",
        ),
        (
            division_rows(),
            [grid_row(1, 120.0, 35.9, boundary=self_intersecting())],
            "第 1 行，boundary 列：边界错误：多边形无效（如自相交）",
        ),
        (
            _bad(division_rows(), code="370211006001"),
            [],
            "区划 divisions：第 3 行，code 列：代码 370211006001 与上级 370211005000 不一致",
        ),
        (
            division_rows(),
            [grid_row(1, 120.0, 35.9, code="370211005002001")],
            "第 1 行，code 列：网格编码 370211005002001 必须以所属社区代码 370211005001 开头",
        ),
        (
            division_rows(),
            [grid_row(1, 120.0, 35.9), grid_row(1, 120.01, 35.9)],
            "第 2 行，code 列：代码 370211005001001 重复（与第 1 行相同）",
        ),
        (
            division_rows(),
            [grid_row(1, 35.9, 120.0)],
            "第 1 行，boundary 列：边界错误：坐标超出中国范围",
        ),
        (
            _bad(division_rows(), parent_code="370211099000"),
            [],
            "第 3 行，parent_code 列：上级区划 370211099000 不存在",
        ),
        (
            division_rows(),
            [grid_row(1, 120.0, 35.9, community_code=STREET, code="")],
            "第 1 行，community_code 列：网格必须属于社区/村",
        ),
        (
            division_rows(),
            [grid_row(1, 120.0, 35.9, households="many", labels="nope")],
            "第 1 行，households 列：必须是非负整数",
        ),
    ],
)
def test_bulk_load_with_any_bad_row_reports_row_and_field_and_writes_nothing(
    divisions: list[dict[str, Any]], grids: list[dict[str, Any]], expected: str
) -> None:
    report = actions.bulk_load(divisions, grids)
    assert not report.ok
    assert any(expected in str(p) for p in report.problems), report
    assert "nothing written" in str(report)
    assert counts() == (0, 0, 0)


def test_bulk_load_refuses_code_already_in_database(community: Division) -> None:
    before = counts()
    report = actions.bulk_load([division_rows()[2]], [])
    assert [str(p) for p in report.problems] == [
        "区划 divisions：第 1 行，code 列：代码 370211005001 已存在 / 区划 divisions: row 1, column code: "
        "code 370211005001 already exists"
    ]
    assert counts() == before


def test_bulk_load_reports_spreadsheet_row_numbers() -> None:
    rows = division_rows()
    rows[1]["_row"] = 7
    rows[1]["code"] = "370211005001"
    report = actions.bulk_load(rows[:2], [])
    assert report.problems[0].row == 7


# --- overlap links -----------------------------------------------------------------------------------


def test_link_police_beats_records_share_of_grid_area_and_drops_slivers(community: Division) -> None:
    a = actions.save_grid(name="A", community=community, boundary=square(120.0, 35.9))
    b = actions.save_grid(name="B", community=community, boundary=square(120.01, 35.9))
    # Covers the east half of A and 0.5% of B (a sliver along the shared edge).
    beat = PoliceBeat.objects.create(
        code="JG1", name="警格一", police_station="长江路派出所", boundary=square(120.005, 35.89, 0.00505)
    )
    beat.boundary = {
        "type": "Polygon",
        "coordinates": [
            [[120.005, 35.9], [120.01005, 35.9], [120.01005, 35.91], [120.005, 35.91], [120.005, 35.9]]
        ],
    }
    beat.save()
    assert actions.link_police_beats() == 1
    link = GridBeatLink.objects.get()
    assert (link.grid_id, link.beat_id) == (a.pk, beat.pk)
    assert link.share == pytest.approx(0.5)
    assert not GridBeatLink.objects.filter(grid=b).exists()


def test_link_external_grids_records_share_of_external_grid_in_each_base_grid(community: Division) -> None:
    a = actions.save_grid(name="A", community=community, boundary=square(120.0, 35.9))
    b = actions.save_grid(name="B", community=community, boundary=square(120.01, 35.9))
    ext = ExternalGrid.objects.create(
        code="CG1",
        name="城管一",
        owner="urban",
        boundary={
            "type": "Polygon",
            "coordinates": [
                [[120.005, 35.9], [120.015, 35.9], [120.015, 35.91], [120.005, 35.91], [120.005, 35.9]]
            ],
        },
    )
    assert actions.link_external_grids() == 2
    shares = dict(ExternalGridLink.objects.filter(external=ext).values_list("grid_id", "share"))
    assert shares == {a.pk: pytest.approx(0.5), b.pk: pytest.approx(0.5)}
    # Recomputing replaces rather than duplicates.
    assert actions.link_external_grids() == 2
    assert ExternalGridLink.objects.count() == 2
