from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.core.management import CommandError, call_command

from tests.grids.mapdata import COMMUNITY, division_rows, grid_row, self_intersecting
from yiwang.grids import actions
from yiwang.grids.exporters import division_rows as exported_divisions
from yiwang.grids.exporters import export_file
from yiwang.grids.exporters import grid_rows as exported_grids
from yiwang.grids.importers import COLUMNS, import_divisions, import_file, import_grids
from yiwang.grids.models import Division, Grid, GridLabel, LocatorVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def loaded() -> None:
    GridLabel.objects.create(code="red", name="红色网格")
    GridLabel.objects.create(code="full", name="全科网格")
    grids = [
        grid_row(1, 120.0, 35.9, labels=["red", "full"], kind="dedicated", dedicated_to="第一中学"),
        grid_row(2, 120.01, 35.9),
    ]
    report = actions.bulk_load(division_rows(), grids)
    assert report.ok, report


def counts() -> tuple[int, int, int]:
    return Division.objects.count(), Grid.objects.count(), LocatorVersion.current()


def write_xlsx(path: Path, rows: list[list[Any]]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def write_csv(path: Path, rows: list[list[Any]], encoding: str = "utf-8") -> Path:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def division_table(rows: list[dict[str, Any]] | None = None) -> list[list[Any]]:
    return [list(COLUMNS["divisions"])] + [
        [
            r["code"],
            r["name"],
            r["level"],
            r["kind"],
            r.get("parent_code", ""),
            json.dumps(r["boundary"]) if r.get("boundary") else "",
        ]
        for r in rows or division_rows()
    ]


# --- round trips ----------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".geojson", ".xlsx", ".csv"])
def test_export_then_import_gives_back_the_same_map(loaded: None, tmp_path: Path, suffix: str) -> None:
    divisions_before, grids_before = exported_divisions(), exported_grids()
    assert export_file("divisions", tmp_path / f"d{suffix}") == 3
    assert export_file("grids", tmp_path / f"g{suffix}") == 2
    Grid.objects.all().delete()
    for level in ("community", "street", "district"):
        Division.objects.filter(level=level).delete()

    divisions_report = import_divisions(tmp_path / f"d{suffix}")
    grids_report = import_grids(tmp_path / f"g{suffix}")

    assert divisions_report.ok, divisions_report
    assert grids_report.ok, grids_report
    assert exported_divisions() == divisions_before
    assert exported_grids() == grids_before
    assert Grid.objects.get(code=f"{COMMUNITY}001").center_lng == pytest.approx(120.005)


def test_cli_exports_and_imports_with_dry_run(loaded: None, tmp_path: Path) -> None:
    out = io.StringIO()
    call_command("yiwang_export", "grids", str(tmp_path / "g.xlsx"), stdout=out)
    assert "exported 2 rows" in out.getvalue()
    Grid.objects.all().delete()
    before = counts()
    call_command("yiwang_import", "grids", str(tmp_path / "g.xlsx"), "--dry-run", stdout=out)
    assert counts() == before
    call_command("yiwang_import", "grids", str(tmp_path / "g.xlsx"), stdout=out)
    assert Grid.objects.count() == 2
    assert "imported" in out.getvalue()


# --- bad files: a message naming row and column, nothing written -------------------------------------


def test_spreadsheet_with_wrong_column_is_refused(tmp_path: Path) -> None:
    table = division_table()
    table[0][2] = "levle"
    report = import_divisions(write_xlsx(tmp_path / "d.xlsx", table))
    messages = [str(p) for p in report.problems]
    assert any(
        "第 1 行，levle 列：未知的列「levle」" in m and "unknown column 'levle'" in m for m in messages
    )
    assert any("缺少必需的列「level」" in m and "missing required column 'level'" in m for m in messages)
    assert counts() == (0, 0, 0)


def test_csv_without_boundary_column_is_refused(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "g.csv", [["code", "name", "community_code"], [f"{COMMUNITY}001", "一", COMMUNITY]]
    )
    report = import_grids(path)
    assert [p.field for p in report.problems] == ["boundary"]
    assert "missing required column 'boundary'" in str(report)


def test_spreadsheet_row_with_self_intersecting_boundary_names_its_row(tmp_path: Path) -> None:
    rows = division_rows()
    rows[2]["boundary"] = self_intersecting()
    report = import_divisions(write_xlsx(tmp_path / "d.xlsx", division_table(rows)))
    assert [(p.row, p.field) for p in report.problems] == [(4, "boundary")]
    assert "Self-intersection" in report.problems[0].en
    assert counts() == (0, 0, 0)


def test_csv_row_with_code_not_matching_parent_names_its_row(tmp_path: Path) -> None:
    rows = division_rows()
    rows[2]["code"] = "370211006001"
    report = import_divisions(write_csv(tmp_path / "d.csv", division_table(rows)))
    assert [(p.row, p.field) for p in report.problems] == [(4, "code")]
    assert "与上级 370211005000 不一致" in report.problems[0].zh
    assert counts() == (0, 0, 0)


def test_geojson_feature_outside_china_and_duplicate_code_are_reported(loaded: None, tmp_path: Path) -> None:
    export_file("grids", tmp_path / "g.geojson")
    data = json.loads((tmp_path / "g.geojson").read_text(encoding="utf-8"))
    data["features"][1]["geometry"]["coordinates"] = [
        [[y, x] for x, y in data["features"][1]["geometry"]["coordinates"][0]]
    ]
    (tmp_path / "g.geojson").write_text(json.dumps(data), encoding="utf-8")
    before = counts()
    report = import_grids(tmp_path / "g.geojson")
    found = {(p.row, p.field, p.key) for p in report.problems}
    assert (1, "code", "duplicate_db") in found
    assert (2, "boundary", "geometry") in found
    assert "坐标超出中国范围" in str(report)
    assert counts() == before


def test_broken_geojson_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "d.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    report = import_divisions(path)
    assert not report.ok
    assert "GeoJSON 无法解析" in str(report)
    assert counts() == (0, 0, 0)


def test_unsupported_extension_is_refused(tmp_path: Path) -> None:
    report = import_file("grids", tmp_path / "g.shp")
    assert "unsupported file type '.shp'" in str(report)


def test_gbk_csv_with_chinese_headers_is_read(tmp_path: Path) -> None:
    table = division_table()
    table[0] = ["区划代码", "名称", "层级", "类型", "上级代码", "边界"]
    table[1][5] = ""
    table[2][2] = "街道"
    report = import_divisions(write_csv(tmp_path / "d.csv", table, encoding="gbk"))
    assert report.ok, report
    assert Division.objects.get(code="370211005000").name == "长江路街道"


def test_utf8_csv_with_bom_is_read(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "d.csv", division_table(), encoding="utf-8-sig")
    assert import_divisions(path).ok
    assert Division.objects.count() == 3


def test_cli_import_failure_prints_report_and_exits_non_zero(tmp_path: Path) -> None:
    rows = division_rows()
    rows[1]["code"] = "370211005001"
    path = write_xlsx(tmp_path / "d.xlsx", division_table(rows))
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing written"):
        call_command("yiwang_import", "divisions", str(path), stderr=err)
    assert "第 3 行，code 列" in err.getvalue()
    assert counts() == (0, 0, 0)
