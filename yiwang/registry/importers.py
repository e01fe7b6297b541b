"""Import, export and templates for the registers (residents, buildings, houses, organisations).

Files: ``.xlsx`` (first sheet) or ``.csv`` (UTF-8 with or without BOM, or GBK/GB18030, detected).
Row 1 is the header: the Chinese names of :data:`COLUMNS` (as in the templates) or their English
keys. A missing required column, an unknown (extra) column or a repeated one rejects the file.

**All-or-nothing.** An import runs in one transaction. Rows are validated one by one (the same
``prepare_*`` checks as the single-row actions: ID check digit, stated sex and birth date against
the ID, duplicates in the file and in the database, a house in a building of another grid, credit
code check character, grids outside the importer's scope…) and written in batches while no problem
has been found. At the first problem writing stops, validation continues to list up to
:data:`MAX_PROBLEMS` problems (row, column, reason in Chinese and English), and the transaction is
rolled back: nothing of the file is imported. Fix the file and import it again. ``dry_run`` always
rolls back. Buildings must be imported before their houses, houses before the residents living in
them.

**Export** uses the viewer's scope and masks personal values (``370211********123X``,
``138****1234``). A full export needs ``core.view_full_pii`` and a reason; it is limited to
``settings.YIWANG_PII_EXPORT_MAX_ROWS`` rows (default 5,000: 最小必要) and writes one audit record
naming every exported row. A masked export cannot be imported back (the masked ID is not an ID).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction

from yiwang.core.audit import can_view_full_pii, record
from yiwang.core.models_audit import AuditAction
from yiwang.grids.importers import FileProblem
from yiwang.grids.models import Grid
from yiwang.grids.validation import ImportReport, ValidationProblem, text
from yiwang.registry import actions
from yiwang.registry.errors import RegistryError, RegistryInputError
from yiwang.registry.models import Building, Estate, House, Organisation, Resident
from yiwang.registry.scope import write_q
from yiwang.registry.validation import parse_date, parse_sex

Kind = Literal["residents", "buildings", "houses", "organisations"]
KINDS: tuple[Kind, ...] = ("residents", "buildings", "houses", "organisations")
MAX_PROBLEMS = 200
BATCH = 2000


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    required: bool = False
    hint: str = ""


COLUMNS: dict[str, list[Column]] = {
    "residents": [
        Column("name", "姓名", True),
        Column("id_number", "身份证号码", True, "18 位，末位可为 X；性别和出生日期由此推导"),
        Column("phone", "联系电话", hint="11 位手机号或带区号的固定电话"),
        Column("sex", "性别", hint="可不填；填写时须与身份证号码一致（男/女）"),
        Column("birth_date", "出生日期", hint="可不填；填写时须与身份证号码一致（YYYY-MM-DD）"),
        Column("registration", "人口类型", hint="户籍人口 / 流动人口 / 境外人员，默认户籍人口"),
        Column("grid_code", "网格编码", True, "15 位网格编码"),
        Column("building_code", "楼栋编码", hint="与单元、房号一起指明所住房屋（须已导入）"),
        Column("unit", "单元"),
        Column("room", "房号"),
        Column("relation_to_head", "与户主关系"),
    ],
    "buildings": [
        Column("code", "楼栋编码", True),
        Column("name", "楼栋名称", True, "如 3号楼"),
        Column("estate", "小区名称", hint="同一社区内同名即同一小区"),
        Column("address", "地址", True),
        Column("grid_code", "网格编码", True),
        Column("floors", "层数", hint="默认 1"),
        Column("lng", "经度", hint="WGS84，可不填"),
        Column("lat", "纬度"),
    ],
    "houses": [
        Column("building_code", "楼栋编码", True),
        Column("unit", "单元"),
        Column("room", "房号", True),
        Column("floor", "楼层"),
        Column("use", "用途", hint="住宅 / 商铺 / 办公 / 商住两用 / 其他"),
        Column("occupancy", "居住状态", hint="自住 / 出租 / 空置"),
        Column("area", "面积（平方米）"),
        Column("grid_code", "网格编码", hint="可不填；填写时须与楼栋所在网格一致"),
    ],
    "organisations": [
        Column("name", "名称", True),
        Column(
            "kind",
            "类型",
            True,
            "企业 / 个体工商户 / 物业服务企业 / 社会组织 / 学校 / 医院 / 机关事业单位 / 其他",
        ),
        Column("credit_code", "统一社会信用代码", hint="18 位，校验位按 GB 32100"),
        Column("grid_code", "网格编码", True),
        Column("address", "地址"),
        Column("lng", "经度"),
        Column("lat", "纬度"),
        Column("legal_representative", "法定代表人/负责人"),
        Column("contact_name", "联系人"),
        Column("contact_phone", "联系电话"),
        Column("employees", "从业人数"),
    ],
}


# --- reading -------------------------------------------------------------------------------------


def _file_problem(zh: str, en: str, column: str = "file") -> FileProblem:
    return FileProblem([ValidationProblem(column, zh, en, 1)])


def _decode(raw: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _file_problem("CSV 编码无法识别，请使用 UTF-8 或 GBK", "unknown CSV encoding: use UTF-8 or GBK")


def _table(path: Path) -> Iterator[list[Any]]:
    import openpyxl  # imported where used: see analytics.reports

    suffix = path.suffix.lower()
    if suffix == ".csv":
        yield from csv.reader(io.StringIO(_decode(path.read_bytes()), newline=""))
        return
    if suffix != ".xlsx":
        raise _file_problem(
            f"不支持的文件类型「{suffix}」，应为 .xlsx 或 .csv",
            f"unsupported file type '{suffix}': use .xlsx or .csv",
        )
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise _file_problem(
            f"无法读取 Excel 文件：{exc.__class__.__name__}",
            f"cannot read the Excel file: {exc.__class__.__name__}",
        ) from exc
    try:
        for cells in workbook.worksheets[0].iter_rows(values_only=True):
            yield list(cells)
    finally:
        workbook.close()


def _header(cells: list[Any], kind: str) -> list[str | None]:
    columns = COLUMNS[kind]
    by_name = {c.zh: c.key for c in columns} | {c.key: c.key for c in columns}
    expected = "、".join(c.zh for c in columns)
    names: list[str | None] = []
    problems: list[ValidationProblem] = []
    for cell in cells:
        raw = text(cell)
        if not raw:
            names.append(None)
            continue
        key = by_name.get(raw, by_name.get(raw.lower()))
        if key is None:
            problems.append(
                ValidationProblem(
                    raw, f"多余或未知的列「{raw}」，应为：{expected}", f"unknown or extra column '{raw}'", 1
                )
            )
        elif key in names:
            problems.append(ValidationProblem(raw, f"列「{raw}」重复", f"column '{raw}' appears twice", 1))
        names.append(key)
    for column in columns:
        if column.required and column.key not in names:
            problems.append(
                ValidationProblem(
                    column.zh, f"缺少必需的列「{column.zh}」", f"missing required column '{column.key}'", 1
                )
            )
    if problems:
        raise FileProblem(problems)
    return names


def read_rows(kind: str, path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(spreadsheet row number, {column key: cell}) for every non-empty row; header is row 1."""
    rows = _table(path)
    first = next(rows, None)
    if first is None:
        raise _file_problem("文件为空", "the file is empty")
    names = _header(first, kind)
    for number, cells in enumerate(rows, start=2):
        if all(c is None or str(c).strip() == "" for c in cells):
            continue
        if len(cells) > len(names) and any(text(c) for c in cells[len(names) :]):
            raise FileProblem(
                [
                    ValidationProblem(
                        "file", "该行的列数多于表头", "the row has more cells than the header", number
                    )
                ]
            )
        yield number, {n: v for n, v in zip(names, cells, strict=False) if n is not None}


# --- row conversion --------------------------------------------------------------------------------


def _float(value: Any, column: str) -> float | None:
    raw = text(value)
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise RegistryInputError(f"「{raw}」不是数字", f"'{raw}' is not a number", field=column) from None


class _Importer:
    """State of one import: lookups loaded once, duplicates seen so far, the batch to write."""

    def __init__(self, kind: str, actor: Any) -> None:
        self.kind = kind
        self.actor = actor
        grids = Grid.objects.all() if actor is None else Grid.objects.filter(write_q(actor, ""))
        self.grids = {g.code: g for g in grids}
        self._houses: dict[tuple[str, str, str], House] | None = None
        self._buildings: dict[str, Building] | None = None
        self.seen: dict[str, int] = {}
        self.batch: list[Any] = []
        self.created = 0
        self.estates: dict[tuple[int, str], Estate] = {}
        self.today = dt.date.today()

    def grid(self, row: dict[str, Any], *, required: bool = True) -> Grid | None:
        code = text(row.get("grid_code"))
        if not code and not required:
            return None
        grid = self.grids.get(code)
        if grid is None:
            raise RegistryInputError(
                f"网格 {code or '（空）'} 不存在或不在您的管辖范围内",
                f"grid {code or '(empty)'} does not exist or is outside your scope",
                field="grid_code",
            )
        return grid

    def buildings(self) -> dict[str, Building]:
        if self._buildings is None:
            qs = Building.objects.filter(grid__in=list(self.grids.values())).only("pk", "code", "grid_id")
            self._buildings = {b.code: b for b in qs}
        return self._buildings

    def house(self, row: dict[str, Any], grid: Grid) -> House | None:
        code, unit, room = text(row.get("building_code")), text(row.get("unit")), text(row.get("room"))
        if not (code or room):
            return None
        if self._houses is None:
            buildings = {b.pk: b for b in self.buildings().values()}
            self._houses = {}
            for pk, building_id, h_unit, h_room in House.objects.filter(
                building_id__in=list(buildings)
            ).values_list("pk", "building_id", "unit", "room"):
                building = buildings[building_id]
                known = House(pk=pk, building_id=building_id, unit=h_unit, room=h_room)
                known.building = building
                self._houses[(building.code, h_unit, h_room)] = known
        house = self._houses.get((code, unit, room))
        if house is None:
            raise RegistryInputError(
                f"房屋 {code} {unit}{room} 不存在（请先导入楼栋和房屋）",
                f"house {code} {unit} {room} does not exist (import buildings and houses first)",
                field="room",
            )
        return house

    def duplicate(self, key: str, number: int, error: RegistryInputError) -> None:
        first = self.seen.get(key)
        if first is not None:
            raise RegistryInputError(
                f"{error.zh}（与第 {first} 行重复）", f"{error.en} (same as row {first})", field=error.field
            )
        self.seen[key] = number

    # One method per kind: validate the row, append the unsaved object to the batch.

    def residents(self, number: int, row: dict[str, Any]) -> None:
        grid = self.grid(row)
        assert grid is not None
        sex = parse_sex(row["sex"]) if text(row.get("sex")) else None
        resident = actions.resident_columns(
            name=row.get("name"),
            id_number=row.get("id_number"),
            phone=text(row.get("phone")),
            grid=grid,
            house=self.house(row, grid),
            registration=text(row.get("registration")),
            sex=sex,
            birth_date=parse_date(row.get("birth_date"), field="birth_date"),
            relation_to_head=row.get("relation_to_head"),
            today=self.today,
        )
        self.duplicate(resident["id_number_hash"], number, actions.duplicate_error())
        self.batch.append((number, resident))

    def buildings_row(self, number: int, row: dict[str, Any]) -> None:
        grid = self.grid(row)
        assert grid is not None
        building = actions.prepare_building(
            code=text(row.get("code")),
            name=row.get("name"),
            grid=grid,
            address=row.get("address"),
            floors=text(row.get("floors")),
            lng=_float(row.get("lng"), "lng"),
            lat=_float(row.get("lat"), "lat"),
        )
        self.duplicate(
            building.code,
            number,
            RegistryInputError(
                f"楼栋编码 {building.code} 重复", f"duplicate building code {building.code}", field="code"
            ),
        )
        estate_name = text(row.get("estate"))
        if estate_name:
            key = (grid.community_id, estate_name)
            if key not in self.estates:
                estate = actions.estate_for(estate_name, grid)
                assert estate is not None
                self.estates[key] = estate
            else:
                self.estates[key].grids.add(grid)
            building.estate = self.estates[key]
        self.batch.append((number, building))

    def houses(self, number: int, row: dict[str, Any]) -> None:
        code = text(row.get("building_code"))
        building = self.buildings().get(code)
        if building is None:
            raise RegistryInputError(
                f"楼栋 {code} 不存在或不在您的管辖范围内",
                f"building {code} does not exist or is outside your scope",
                field="building_code",
            )
        house = actions.prepare_house(
            building=building,
            unit=row.get("unit"),
            room=row.get("room"),
            floor=text(row.get("floor")),
            use=text(row.get("use")),
            occupancy=text(row.get("occupancy")),
            area=text(row.get("area")),
            grid=self.grid(row, required=False),
        )
        self.duplicate(
            f"{code}\x00{house.unit}\x00{house.room}",
            number,
            RegistryInputError("房屋重复", "duplicate house", field="room"),
        )
        self.batch.append((number, house))

    def organisations(self, number: int, row: dict[str, Any]) -> None:
        grid = self.grid(row)
        assert grid is not None
        organisation = actions.prepare_organisation(
            name=row.get("name"),
            kind=text(row.get("kind")),
            credit_code=row.get("credit_code"),
            grid=grid,
            address=row.get("address"),
            lng=_float(row.get("lng"), "lng"),
            lat=_float(row.get("lat"), "lat"),
            legal_representative=row.get("legal_representative"),
            contact_name=row.get("contact_name"),
            contact_phone=text(row.get("contact_phone")),
            employees=text(row.get("employees")),
        )
        if organisation.credit_code:
            self.duplicate(
                organisation.credit_code, number, actions.credit_code_taken(organisation.credit_code)
            )
        self.batch.append((number, organisation))

    def handler(self) -> Callable[[int, dict[str, Any]], None]:
        return {
            "residents": self.residents,
            "buildings": self.buildings_row,
            "houses": self.houses,
            "organisations": self.organisations,
        }[self.kind]

    def existing(self) -> list[tuple[int, RegistryInputError]]:
        """Rows of the batch that clash with rows already in the database."""
        if self.kind == "residents":
            by_key = {r["id_number_hash"]: n for n, r in self.batch}
            taken = Resident.objects.filter(id_number_hash__in=list(by_key)).values_list(
                "id_number_hash", flat=True
            )
            return [(by_key[k], actions.duplicate_error()) for k in taken]
        if self.kind == "buildings":
            by_key = {b.code: n for n, b in self.batch}
            codes = Building.objects.filter(code__in=list(by_key)).values_list("code", flat=True)
            return [
                (
                    by_key[k],
                    RegistryInputError(f"楼栋编码 {k} 已存在", f"building code {k} exists", field="code"),
                )
                for k in codes
            ]
        if self.kind == "organisations":
            by_key = {o.credit_code: n for n, o in self.batch if o.credit_code}
            credit_codes = Organisation.objects.filter(credit_code__in=list(by_key)).values_list(
                "credit_code", flat=True
            )
            return [(by_key[k], actions.credit_code_taken(k)) for k in credit_codes]
        clashes = []
        for n, house in self.batch:
            if House.objects.filter(building_id=house.building_id, unit=house.unit, room=house.room).exists():
                clashes.append(
                    (
                        n,
                        RegistryInputError(
                            f"房屋 {house.unit}{house.room} 已存在", "house already exists", field="room"
                        ),
                    )
                )
        return clashes

    def flush(self, *, write: bool) -> list[tuple[int, RegistryInputError]]:
        """Check the batch against the database; write it when ``write`` and nothing clashes."""
        clashes = self.existing() if self.batch else []
        if write and not clashes and self.batch:
            objs = [obj for _, obj in self.batch]
            if self.kind == "residents":
                actions.bulk_register_residents(objs)
            else:
                type(objs[0]).objects.bulk_create(objs, batch_size=BATCH)
            self.created += len(self.batch)
        self.batch = []
        return clashes


class _Rollback(Exception):
    pass


def _problem(number: int, error: RegistryError, kind: str) -> ValidationProblem:
    names = {c.key: c.zh for c in COLUMNS[kind]}
    column = {"house": "building_code", "household": "relation_to_head"}.get(
        error.field, error.field
    ) or "row"
    label = f"{names[column]} ({column})" if column in names else column
    return ValidationProblem(label, error.zh, error.en, number, kind)


def import_file(kind: str, path: str | Path, *, actor: Any = None, dry_run: bool = False) -> ImportReport:
    """Import every row of ``path`` into register ``kind``, or nothing (see the module docstring)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    report = ImportReport(dry_run=dry_run)
    try:
        with transaction.atomic():
            state = _Importer(kind, actor)
            handle = state.handler()
            for number, row in read_rows(kind, Path(path)):
                try:
                    handle(number, row)
                except RegistryError as exc:
                    report.problems.append(_problem(number, exc, kind))
                if len(state.batch) >= BATCH:
                    # After a problem nothing more is written, but rows are still checked.
                    report.problems += [
                        _problem(n, e, kind) for n, e in state.flush(write=not report.problems)
                    ]
                if len(report.problems) >= MAX_PROBLEMS:
                    break
            report.problems += [_problem(n, e, kind) for n, e in state.flush(write=not report.problems)]
            report.created = {kind: state.created} if not report.problems else {}
            if report.problems or dry_run:
                raise _Rollback
    except _Rollback:
        pass
    except FileProblem as exc:
        report.problems = [p.at(p.row, kind) for p in exc.problems]
        report.created = {}
    except OSError as exc:
        report.problems = [
            ValidationProblem(
                "file", f"无法打开文件：{exc.strerror}", f"cannot open the file: {exc.strerror}"
            )
        ]
    if report.problems:
        report.created = {}
        report.problems.sort(key=lambda p: p.row or 0)
    return report


# --- export and templates ----------------------------------------------------------------------------


def _cells(kind: str, obj: Any, full: bool) -> list[Any]:
    if kind == "residents":
        house = obj.house
        return [
            obj.name,
            obj.id_number if full else obj.id_number_masked,
            (obj.phone if full else obj.phone_masked) if obj.phone_hash else "",
            obj.get_sex_display(),
            obj.birth_date.isoformat(),
            obj.get_registration_display(),
            obj.grid.code,
            house.building.code if house else "",
            house.unit if house else "",
            house.room if house else "",
            obj.relation_to_head,
        ]
    if kind == "buildings":
        return [
            obj.code,
            obj.name,
            obj.estate.name if obj.estate else "",
            obj.address,
            obj.grid.code,
            obj.floors,
            obj.lng,
            obj.lat,
        ]
    if kind == "houses":
        area = str(obj.area) if obj.area is not None else ""
        return [
            obj.building.code,
            obj.unit,
            obj.room,
            obj.floor,
            obj.get_use_display(),
            obj.get_occupancy_display(),
            area,
            obj.building.grid.code,
        ]
    phone = (obj.contact_phone if full else obj.contact_phone_masked) if obj.contact_phone_hash else ""
    return [obj.name, obj.get_kind_display(), obj.credit_code, obj.grid.code, obj.address, obj.lng, obj.lat,
            obj.legal_representative, obj.contact_name, phone, obj.employees]  # fmt: skip


def _queryset(kind: str, user: Any) -> Any:
    if kind == "residents":
        return Resident.objects.visible_to(user).select_related("grid", "house__building").order_by("pk")
    if kind == "buildings":
        return Building.objects.visible_to(user).select_related("grid", "estate").order_by("pk")
    if kind == "houses":
        return House.objects.visible_to(user).select_related("building__grid").order_by("pk")
    return Organisation.objects.visible_to(user).select_related("grid").order_by("pk")


def _write(path: Path, header: list[str], rows: Iterator[list[Any]]) -> int:
    import openpyxl  # imported where used: see analytics.reports

    count = 0
    if path.suffix.lower() == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            for row in rows:
                writer.writerow(["" if v is None else v for v in row])
                count += 1
        return count
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(header)
    for row in rows:
        sheet.append(row)
        count += 1
    workbook.save(path)
    return count


def export_file(kind: str, path: str | Path, user: Any, *, reveal_reason: str = "", ip: str = "") -> int:
    """Write the rows of register ``kind`` that ``user`` may see; returns the row count.

    Personal values are masked unless ``reveal_reason`` is given, which needs ``core.view_full_pii``
    and writes one audit record listing every exported row (see the module docstring).
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    path = Path(path)
    header = [c.zh for c in COLUMNS[kind]]
    queryset = _queryset(kind, user)
    full = bool(reveal_reason.strip())
    if not full:
        return _write(path, header, (_cells(kind, obj, False) for obj in queryset.iterator(chunk_size=2000)))
    limit = int(getattr(settings, "YIWANG_PII_EXPORT_MAX_ROWS", 5000))
    if not can_view_full_pii(user):
        record(
            AuditAction.EXPORT,
            actor=user,
            reason=reveal_reason,
            ip=ip,
            success=False,
            data={"register": kind, "full": True},
        )
        raise PermissionDenied("无权导出完整个人信息 / not allowed to export full personal data")
    ids = list(queryset.values_list("pk", flat=True)[: limit + 1])
    if len(ids) > limit:
        raise PermissionDenied(
            f"完整个人信息导出最多 {limit} 行，请缩小范围 / a full export is limited to {limit} rows: narrow it down"
        )
    with transaction.atomic():
        record(
            AuditAction.EXPORT,
            actor=user,
            reason=reveal_reason,
            ip=ip,
            data={"register": kind, "full": True, "rows": len(ids), "ids": ids},
        )
        return _write(path, header, (_cells(kind, obj, True) for obj in queryset.filter(pk__in=ids)))


def write_template(kind: str, path: str | Path) -> None:
    """An empty Excel template: the header row, and a second sheet explaining every column."""
    import openpyxl  # imported where used: see analytics.reports

    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}")
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = kind
    sheet.append([c.zh for c in COLUMNS[kind]])
    for index, column in enumerate(COLUMNS[kind], start=1):
        sheet.cell(row=1, column=index).font = openpyxl.styles.Font(bold=column.required)
        sheet.column_dimensions[openpyxl.utils.get_column_letter(index)].width = max(12, len(column.zh) * 3)
    notes = workbook.create_sheet("说明")
    notes.append(["列名", "英文键", "必填", "说明"])
    for column in COLUMNS[kind]:
        notes.append([column.zh, column.key, "是" if column.required else "", column.hint])
    notes.append([])
    notes.append(["整表导入：任何一行有误则全部不导入，报告列出行号、列名和原因。"])
    notes.append(
        ["All-or-nothing: if any row is wrong nothing is imported; the report names row, column and reason."]
    )
    workbook.save(Path(path))
