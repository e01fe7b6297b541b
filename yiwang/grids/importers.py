"""Import divisions and grids from GeoJSON, Excel (.xlsx) or CSV, all-or-nothing.

Formats (chosen by the file extension):

- ``.geojson`` / ``.json``: a FeatureCollection; each feature's ``properties`` carry the columns
  below and its ``geometry`` is the boundary. Rows are numbered by feature, from 1.
- ``.xlsx`` (first sheet) and ``.csv``: a header row with the columns below (English names as
  written by the exporter, or the Chinese names in :data:`ALIASES`), one row per division or grid;
  the ``boundary`` column holds the geometry as **GeoJSON text** (the same parser as the GeoJSON
  format, and lossless). Rows are numbered as in the spreadsheet: the header is row 1.
  CSV may be UTF-8 (with or without BOM) or GBK/GB18030.

Columns — divisions: code, name, level, kind, parent_code, boundary;
grids: code, name, community_code, kind, dedicated_to, households, population, labels, boundary
(``labels``: label codes separated by commas). Every row is checked before anything is written
(:func:`grids.actions.bulk_load`); on any problem nothing is written and the report lists row,
column and reason in Chinese and English.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any, Literal

from yiwang.grids.actions import DIVISIONS_SHEET, GRIDS_SHEET, bulk_load
from yiwang.grids.validation import ImportReport, ValidationProblem

Kind = Literal["divisions", "grids"]

COLUMNS: dict[str, list[str]] = {
    "divisions": ["code", "name", "level", "kind", "parent_code", "boundary"],
    "grids": [
        "code",
        "name",
        "community_code",
        "kind",
        "dedicated_to",
        "households",
        "population",
        "labels",
        "boundary",
    ],
}
# Columns a spreadsheet must have; any one of each tuple is enough.
REQUIRED: dict[str, list[tuple[str, ...]]] = {
    "divisions": [("code",), ("name",), ("level",)],
    "grids": [("name",), ("boundary",), ("code", "community_code")],
}
ALIASES: dict[str, str] = {
    "代码": "code",
    "编码": "code",
    "区划代码": "code",
    "统计用区划代码": "code",
    "网格编码": "code",
    "名称": "name",
    "层级": "level",
    "类型": "kind",
    "上级代码": "parent_code",
    "上级区划代码": "parent_code",
    "所属社区代码": "community_code",
    "社区代码": "community_code",
    "专属对象": "dedicated_to",
    "户数": "households",
    "人口": "population",
    "标签": "labels",
    "边界": "boundary",
    "geometry": "boundary",
    "geojson": "boundary",
}
SHEETS = {"divisions": DIVISIONS_SHEET, "grids": GRIDS_SHEET}
FORMATS = {".geojson": "geojson", ".json": "geojson", ".xlsx": "xlsx", ".csv": "csv"}


class FileProblem(Exception):
    """The file as a whole cannot be read; carries the problems to report."""

    def __init__(self, problems: list[ValidationProblem]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


def _file_problem(zh: str, en: str, *, row: int | None = None, field: str = "file") -> FileProblem:
    return FileProblem([ValidationProblem(field, zh, en, row)])


def file_format(path: Path) -> str:
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise _file_problem(
            f"不支持的文件类型「{path.suffix}」，应为 .geojson、.json、.xlsx 或 .csv",
            f"unsupported file type '{path.suffix}': use .geojson, .json, .xlsx or .csv",
        )
    return fmt


# --- Readers ------------------------------------------------------------------------------------


def _read_geojson(path: Path, kind: Kind) -> list[dict[str, Any]]:
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise _file_problem("GeoJSON 文件必须是 UTF-8 编码", "a GeoJSON file must be UTF-8") from exc
    except json.JSONDecodeError as exc:
        raise _file_problem(
            f"GeoJSON 无法解析（第 {exc.lineno} 行第 {exc.colno} 列）：{exc.msg}",
            f"the GeoJSON cannot be parsed (line {exc.lineno}, column {exc.colno}): {exc.msg}",
        ) from exc
    if (
        not isinstance(data, dict)
        or data.get("type") != "FeatureCollection"
        or not isinstance(data.get("features"), list)
    ):
        raise _file_problem(
            "文件必须是 GeoJSON FeatureCollection", "the file must be a GeoJSON FeatureCollection"
        )
    rows: list[dict[str, Any]] = []
    allowed = set(COLUMNS[kind]) - {"boundary"}
    for index, feature in enumerate(data["features"], start=1):
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            raise _file_problem(
                "不是 GeoJSON 要素 (Feature)", "not a GeoJSON Feature", row=index, field="feature"
            )
        properties = feature.get("properties") or {}
        if not isinstance(properties, dict):
            raise _file_problem(
                "properties 必须是对象", "properties must be an object", row=index, field="properties"
            )
        row: dict[str, Any] = {
            ALIASES.get(str(k), str(k)): v
            for k, v in properties.items()
            if ALIASES.get(str(k), str(k)) in allowed
        }
        row["boundary"] = feature.get("geometry")
        row["_row"] = index
        rows.append(row)
    return rows


def _decode_csv(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _file_problem("CSV 编码无法识别，请使用 UTF-8 或 GBK", "unknown CSV encoding: use UTF-8 or GBK")


def _read_table(path: Path, fmt: str) -> list[list[Any]]:
    import openpyxl  # imported where used: see analytics.reports

    if fmt == "csv":
        return [list(r) for r in csv.reader(io.StringIO(_decode_csv(path.read_bytes()), newline=""))]
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise _file_problem(
            f"无法读取 Excel 文件：{exc.__class__.__name__}",
            f"cannot read the Excel file: {exc.__class__.__name__}",
        ) from exc
    try:
        sheet = workbook.worksheets[0]
        return [list(r) for r in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


def _header(cells: list[Any], kind: Kind) -> list[str | None]:
    """Column names by position (None for blank headers), or a FileProblem naming what is wrong."""
    names: list[str | None] = []
    problems: list[ValidationProblem] = []
    expected = ", ".join(COLUMNS[kind])
    for cell in cells:
        raw = "" if cell is None else str(cell).strip()
        if not raw:
            names.append(None)
            continue
        name = ALIASES.get(raw, ALIASES.get(raw.lower(), raw.lower()))
        if name not in COLUMNS[kind]:
            problems.append(
                ValidationProblem(
                    raw,
                    f"未知的列「{raw}」，应为：{expected}",
                    f"unknown column '{raw}'; expected: {expected}",
                    1,
                )
            )
        elif name in names:
            problems.append(ValidationProblem(raw, f"列「{raw}」重复", f"column '{raw}' appears twice", 1))
        names.append(name)
    for options in REQUIRED[kind]:
        if not any(o in names for o in options):
            wanted = " / ".join(options)
            problems.append(
                ValidationProblem(
                    wanted, f"缺少必需的列「{wanted}」", f"missing required column '{wanted}'", 1
                )
            )
    if problems:
        raise FileProblem(problems)
    return names


def _read_spreadsheet(path: Path, fmt: str, kind: Kind) -> list[dict[str, Any]]:
    table = _read_table(path, fmt)
    if not table:
        raise _file_problem("文件为空", "the file is empty")
    names = _header(table[0], kind)
    rows: list[dict[str, Any]] = []
    for number, cells in enumerate(table[1:], start=2):
        if all(c is None or str(c).strip() == "" for c in cells):
            continue
        row: dict[str, Any] = {str(n): v for n, v in zip(names, cells, strict=False) if n is not None}
        row["_row"] = number
        rows.append(row)
    return rows


def read_rows(kind: Kind, path: Path) -> list[dict[str, Any]]:
    """The rows of ``path`` as bulk_load dicts; raises FileProblem when the file cannot be read."""
    fmt = file_format(path)
    if fmt == "geojson":
        return _read_geojson(path, kind)
    return _read_spreadsheet(path, fmt, kind)


# --- Import ----------------------------------------------------------------------------------------


def import_file(
    kind: Kind, path: str | Path, *, dry_run: bool = False, replace: bool = False
) -> ImportReport:
    """Validate every row of ``path`` and write them all, or nothing (see the module docstring)."""
    try:
        rows = read_rows(kind, Path(path))
    except FileProblem as exc:
        return ImportReport(problems=[p.at(p.row, SHEETS[kind]) for p in exc.problems], dry_run=dry_run)
    except OSError as exc:
        problem = ValidationProblem(
            "file", f"无法打开文件：{exc.strerror}", f"cannot open the file: {exc.strerror}"
        )
        return ImportReport(problems=[problem], dry_run=dry_run)
    if kind == "divisions":
        return bulk_load(rows, [], replace=replace, dry_run=dry_run)
    return bulk_load([], rows, replace=replace, dry_run=dry_run)


def import_divisions(path: str | Path, *, dry_run: bool = False, replace: bool = False) -> ImportReport:
    return import_file("divisions", path, dry_run=dry_run, replace=replace)


def import_grids(path: str | Path, *, dry_run: bool = False, replace: bool = False) -> ImportReport:
    return import_file("grids", path, dry_run=dry_run, replace=replace)
