"""Import is all-or-nothing with row/column/reason; templates and exports; encodings."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command

from tests.world import World
from yiwang.core.models_audit import AuditRecord
from yiwang.registry.importers import COLUMNS, export_file, import_file, write_template
from yiwang.registry.models import Building, House, Organisation, Resident

from .helpers import make_credit_code, make_id, with_full_pii

pytestmark = pytest.mark.django_db
HEADER = ["姓名", "身份证号码", "联系电话", "性别", "网格编码", "楼栋编码", "单元", "房号"]


def _csv(path: Path, rows: list[list[str]], encoding: str = "utf-8-sig", header: list[str] = HEADER) -> Path:
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _residents(world: World) -> list[list[str]]:
    grid = world.grid_a1.code
    return [
        ["张三", make_id(seq=121), "13812341234", "男", grid, "B-A1-1", "1单元", "301"],
        ["李梅", make_id(seq=122), "", "女", grid, "", "", ""],
    ]


def test_a_valid_gbk_csv_imports_every_row(world: World, house_a1: House, tmp_path: Path) -> None:
    report = import_file("residents", _csv(tmp_path / "r.csv", _residents(world), "gbk"))
    assert report.ok, report.lines()
    assert report.created == {"residents": 2}
    zhang = Resident.objects.get(name="张三")
    assert zhang.house == house_a1
    assert zhang.phone == "13812341234"


def test_one_bad_row_imports_nothing_and_names_row_and_column(
    world: World, house_a1: House, tmp_path: Path
) -> None:
    rows = _residents(world)
    bad_check = make_id(seq=125)[:17] + ("0" if make_id(seq=125)[17] != "0" else "1")
    rows.append(["王五", bad_check, "", "", world.grid_a1.code, "", "", ""])
    rows.append(
        ["赵六", make_id(seq=127), "", "女", world.grid_a1.code, "", "", ""]
    )  # sex contradicts the ID
    rows.append(["重复", make_id(seq=121), "", "", world.grid_a1.code, "", "", ""])  # same person as row 2
    rows.append(["外网格", make_id(seq=133), "", "", world.grid_b1.code, "B-A1-1", "1单元", "301"])
    report = import_file("residents", _csv(tmp_path / "r.csv", rows))
    assert not report.ok
    assert Resident.objects.count() == 0
    found = {(p.row, p.field.split(" ")[0]) for p in report.problems}
    assert found == {(4, "身份证号码"), (5, "性别"), (6, "身份证号码"), (7, "楼栋编码")}
    text = "\n".join(report.lines())
    assert "第 4 行" in text
    assert "row 4" in text
    assert "校验位" in text
    assert "check character" in text
    assert "第 2 行" in text  # the duplicate names the first occurrence


def test_a_person_already_in_the_database_is_a_duplicate(
    world: World, resident_a1: Resident, tmp_path: Path
) -> None:
    rows = [["张三", make_id(), "", "", world.grid_a1.code, "", "", ""]]
    report = import_file("residents", _csv(tmp_path / "r.csv", rows))
    assert next((p.row, p.key or p.field) for p in report.problems)[0] == 2
    assert Resident.objects.count() == 1


def test_missing_and_extra_columns_reject_the_file(world: World, tmp_path: Path) -> None:
    report = import_file("residents", _csv(tmp_path / "r.csv", [], header=["姓名", "网格编码", "籍贯"]))
    text = "\n".join(report.lines())
    assert "缺少必需的列「身份证号码」" in text
    assert "籍贯" in text


def test_an_undecodable_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(b"\xff\xfe\x00\xd8bad" * 10)
    report = import_file("residents", path)
    assert not report.ok
    assert "UTF-8" in str(report)


def test_a_grid_worker_imports_only_into_their_own_grids(world: World, tmp_path: Path) -> None:
    rows = [["张三", make_id(), "", "", world.grid_a2.code, "", "", ""]]
    report = import_file("residents", _csv(tmp_path / "r.csv", rows), actor=world.grid_worker_a1)
    assert not report.ok
    assert "管辖范围" in str(report)


def test_buildings_houses_and_organisations_import_from_excel(world: World, tmp_path: Path) -> None:
    for kind, rows in {
        "buildings": [["B1", "1号楼", "海润小区", "长江路1号", world.grid_a1.code, 6, 120.005, 35.905]],
        "houses": [["B1", "1单元", "101", 1, "住宅", "出租", 88.5, world.grid_a1.code]],
        "organisations": [
            [
                "海润物业",
                "物业服务企业",
                make_credit_code(),
                world.grid_a1.code,
                "",
                "",
                "",
                "",
                "",
                "13812341234",
                12,
            ]
        ],
    }.items():
        path = tmp_path / f"{kind}.xlsx"
        write_template(kind, path)
        workbook = openpyxl.load_workbook(path)
        for row in rows:
            workbook.active.append(row)  # type: ignore[union-attr]
        workbook.save(path)
        report = import_file(kind, path)
        assert report.ok, report.lines()
    assert Building.objects.get().estate.name == "海润小区"  # type: ignore[union-attr]
    assert House.objects.get().occupancy == "rented"
    assert Organisation.objects.get().contact_phone_masked == "138****1234"


def test_a_house_whose_stated_grid_differs_from_its_building_is_refused(
    world: World, building_a1: Building, tmp_path: Path
) -> None:
    header = [c.zh for c in COLUMNS["houses"]]
    report = import_file(
        "houses",
        _csv(tmp_path / "h.csv", [["B-A1-1", "", "101", "", "", "", "", world.grid_b1.code]], header=header),
    )
    assert not report.ok
    assert "另一个网格" in str(report)


def test_the_export_is_masked_and_scoped(
    world: World, resident_a1: Resident, resident_b1: Resident, tmp_path: Path
) -> None:
    path = tmp_path / "out.csv"
    assert export_file("residents", path, world.dispatcher_a) == 1
    content = path.read_text(encoding="utf-8-sig")
    assert resident_a1.id_number_masked in content
    assert "138****1234" in content
    assert make_id() not in content
    assert "13812341234" not in content
    assert "李四" not in content


def test_a_full_export_needs_the_grant_and_is_audited(
    world: World, resident_a1: Resident, tmp_path: Path
) -> None:
    with pytest.raises(PermissionDenied):
        export_file("residents", tmp_path / "x.xlsx", world.admin, reveal_reason="核查")
    admin = with_full_pii(world.admin)
    export_file("residents", tmp_path / "x.xlsx", admin, reveal_reason="低保复核")
    entry = AuditRecord.objects.filter(action="export", success=True).get()
    assert entry.data["ids"] == [resident_a1.pk]
    assert entry.reason == "低保复核"


def test_the_command_writes_a_template_and_imports(world: World, tmp_path: Path) -> None:
    call_command("registry", "template", "residents", str(tmp_path / "t.xlsx"))
    assert openpyxl.load_workbook(tmp_path / "t.xlsx").active["B1"].value == "身份证号码"  # type: ignore[index]
    call_command("registry", "import", "residents", str(_csv(tmp_path / "r.csv", _residents(world)[1:])))
    assert Resident.objects.count() == 1
