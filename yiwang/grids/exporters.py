"""Export divisions and grids as GeoJSON, Excel (.xlsx) or CSV, in the shape the importers read.

The columns and the boundary encoding (GeoJSON text in spreadsheets) are described in
``grids.importers``. CSV is written as UTF-8 with a BOM so that Excel opens the Chinese names
correctly. Callers pass a queryset already scoped to the user (``visible_to``); the CLI, run by an
operator, exports everything.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.db.models import QuerySet

from yiwang.grids.importers import COLUMNS, Kind, file_format
from yiwang.grids.models import Division, Grid

# Excel refuses longer cell texts; a boundary that long must go through GeoJSON.
EXCEL_CELL_LIMIT = 32_767


class ExportError(Exception):
    pass


def division_rows(queryset: QuerySet[Division] | None = None) -> list[dict[str, Any]]:
    qs = (
        (queryset if queryset is not None else Division.objects.all())
        .select_related("parent")
        .order_by("code")
    )
    return [
        {
            "code": d.code,
            "name": d.name,
            "level": d.level,
            "kind": d.kind,
            "parent_code": d.parent.code if d.parent is not None else "",
            "boundary": d.boundary,
        }
        for d in qs
    ]


def grid_rows(queryset: QuerySet[Grid] | None = None) -> list[dict[str, Any]]:
    qs = (queryset if queryset is not None else Grid.objects.all()).select_related("community")
    return [
        {
            "code": g.code,
            "name": g.name,
            "community_code": g.community.code,
            "kind": g.kind,
            "dedicated_to": g.dedicated_to,
            "households": g.households,
            "population": g.population,
            "labels": sorted(label.code for label in g.labels.all()),
            "boundary": g.boundary,
        }
        for g in qs.prefetch_related("labels").order_by("code")
    ]


def _geojson(rows: Iterable[dict[str, Any]]) -> str:
    features = [
        {
            "type": "Feature",
            "properties": {k: v for k, v in row.items() if k != "boundary"},
            "geometry": row["boundary"],
        }
        for row in rows
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)


def _cells(kind: Kind, row: dict[str, Any]) -> list[Any]:
    cells: list[Any] = []
    for column in COLUMNS[kind]:
        value = row[column]
        if column == "boundary":
            value = json.dumps(value, separators=(",", ":")) if value else ""
        elif column == "labels":
            value = ",".join(value)
        cells.append(value)
    return cells


def export_file(kind: Kind, path: str | Path, queryset: QuerySet[Any] | None = None) -> int:
    """Write the divisions or grids (of ``queryset``, default all) to ``path``; return the row count."""
    import openpyxl  # imported where used: see analytics.reports

    target = Path(path)
    fmt = file_format(target)
    rows = division_rows(queryset) if kind == "divisions" else grid_rows(queryset)
    if fmt == "geojson":
        target.write_text(_geojson(rows), encoding="utf-8")
    elif fmt == "csv":
        with target.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(COLUMNS[kind])
            writer.writerows(_cells(kind, row) for row in rows)
    else:
        workbook = openpyxl.Workbook()
        sheet = workbook.active
        assert sheet is not None
        sheet.title = kind
        sheet.append(COLUMNS[kind])
        for row in rows:
            cells = _cells(kind, row)
            if len(cells[-1]) > EXCEL_CELL_LIMIT:
                raise ExportError(
                    f"{row['code']} 的边界超过 Excel 单元格上限（{EXCEL_CELL_LIMIT} 字符），请导出为 GeoJSON / "
                    f"the boundary of {row['code']} exceeds Excel's cell limit ({EXCEL_CELL_LIMIT}); export GeoJSON"
                )
            sheet.append(cells)
        workbook.save(target)
    return len(rows)
