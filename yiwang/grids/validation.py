"""The rules a division or grid must pass before it is written, with messages in Chinese and English.

Message convention (used everywhere in ``grids``): every problem carries a Chinese and an English
text taken from :data:`MESSAGES`, and its display form is ``"中文 / English"``. Import reports are
read by district staff and by the vendors who prepare the files, often outside the UI language,
so both languages are always shown; this also works without compiled translation catalogues.
:meth:`ValidationProblem.localized` gives only the active language when one is wanted.

The pure checks here take plain values; :func:`division_problems` and :func:`grid_problems` add the
database lookups (parent, duplicates) for single saves (``grids.actions`` and the admin forms).
Bulk loads run the same pure checks against the batch and the database together.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import get_language
from shapely.geometry import MultiPolygon, Polygon

from yiwang.grids.geometry import GeometryError, parse_geometry
from yiwang.grids.models import SIGNIFICANT_DIGITS, Division, DivisionLevel, Grid, GridKind

MESSAGES: dict[str, tuple[str, str]] = {
    "required": ("必填", "required"),
    "too_long": ("不能超过 {max} 个字符", "must be at most {max} characters"),
    "division_code_digits": (
        "区划代码必须是 12 位数字，而不是「{value}」",
        "a division code must be 12 digits, not '{value}'",
    ),
    "district_code_tail": ("区县代码 {code} 的后 6 位必须为 0", "district code {code} must end in six zeros"),
    "street_code_tail": (
        "街道/乡镇代码 {code} 的后 3 位必须为 0，第 7–9 位不能为 000",
        "street/town code {code} must end in 000 and have a non-zero street part (digits 7–9)",
    ),
    "community_code_tail": (
        "社区/村代码 {code} 的后 3 位不能为 000，第 7–9 位不能为 000",
        "community/village code {code} must not end in 000 and needs a non-zero street part (digits 7–9)",
    ),
    "level_invalid": (
        "层级「{value}」无效，应为 district、street 或 community（区县、街道/乡镇、社区/村）",
        "invalid level '{value}': expected district, street or community",
    ),
    "district_has_parent": ("区县不能有上级区划", "a district cannot have a parent division"),
    "parent_required": ("{level_zh}必须有上级区划", "a {level_en} needs a parent division"),
    "parent_missing": ("上级区划 {code} 不存在", "parent division {code} does not exist"),
    "parent_level": (
        "{level_zh}的上级必须是{want_zh}，而 {parent} 是{got_zh}",
        "the parent of a {level_en} must be a {want_en}, but {parent} is a {got_en}",
    ),
    "parent_prefix": (
        "代码 {code} 与上级 {parent} 不一致：必须以 {prefix} 开头",
        "code {code} does not match its parent {parent}: it must start with {prefix}",
    ),
    "duplicate_db": ("代码 {code} 已存在", "code {code} already exists"),
    "duplicate_batch": ("代码 {code} 重复（与第 {row} 行相同）", "duplicate code {code} (same as row {row})"),
    "grid_code_digits": (
        "网格编码必须是 15 位数字，而不是「{value}」",
        "a grid code must be 15 digits, not '{value}'",
    ),
    "grid_code_prefix": (
        "网格编码 {code} 必须以所属社区代码 {community} 开头",
        "grid code {code} must start with its community's code {community}",
    ),
    "grid_code_zero": ("网格编码 {code} 的后 3 位不能为 000", "grid code {code} must not end in 000"),
    "community_missing": ("所属社区 {code} 不存在", "community {code} does not exist"),
    "community_level": (
        "网格必须属于社区/村，而 {code} 是{level_zh}",
        "a grid must belong to a community/village, but {code} is a {level_en}",
    ),
    "kind_invalid": (
        "类型「{value}」无效，应为 basic 或 dedicated（基础网格、专属网格）",
        "invalid kind '{value}': expected basic or dedicated",
    ),
    "not_count": ("必须是非负整数，而不是「{value}」", "must be a non-negative whole number, not '{value}'"),
    "label_unknown": (
        "标签 {code} 不存在（请先在网格标签中添加）",
        "label {code} does not exist (add it under grid labels first)",
    ),
    "sequence_full": (
        "社区 {code} 的网格序号已用完（最多 999 个）",
        "community {code} has no free grid number left (999 max)",
    ),
    "has_dependents": (
        "{code} 已有下级区划或网格，不能修改代码或层级",
        "{code} already has child divisions or grids; its code and level cannot change",
    ),
    "geometry": ("边界错误：{zh}", "boundary error: {en}"),
}

LEVEL_NAMES: dict[str, tuple[str, str]] = {
    DivisionLevel.DISTRICT: ("区县", "district"),
    DivisionLevel.STREET: ("街道/乡镇", "street/town"),
    DivisionLevel.COMMUNITY: ("社区/村", "community/village"),
}
# The level a parent must have, for each level.
PARENT_LEVEL: dict[str, str | None] = {
    DivisionLevel.DISTRICT: None,
    DivisionLevel.STREET: DivisionLevel.DISTRICT,
    DivisionLevel.COMMUNITY: DivisionLevel.STREET,
}

_DIGITS = {12: re.compile(r"^\d{12}$"), 15: re.compile(r"^\d{15}$")}


@dataclass(frozen=True)
class ValidationProblem:
    """One thing wrong with one field (and, in imports, one row of one sheet)."""

    field: str
    zh: str
    en: str
    row: int | None = None
    sheet: str = ""
    key: str = ""  # the MESSAGES key, for code that needs to tell problems apart

    @property
    def message(self) -> str:
        return f"{self.zh} / {self.en}"

    def localized(self) -> str:
        return self.en if (get_language() or "zh").startswith("en") else self.zh

    def at(self, row: int | None, sheet: str = "") -> ValidationProblem:
        return ValidationProblem(self.field, self.zh, self.en, row, sheet or self.sheet, self.key)

    def __str__(self) -> str:
        if self.row is None:
            return f"{self.field}: {self.message}"
        sheet_zh = f"{self.sheet}：" if self.sheet else ""
        sheet_en = f"{self.sheet}: " if self.sheet else ""
        return f"{sheet_zh}第 {self.row} 行，{self.field} 列：{self.zh} / {sheet_en}row {self.row}, column {self.field}: {self.en}"


def problem(field_name: str, key: str, **params: Any) -> ValidationProblem:
    zh, en = MESSAGES[key]
    return ValidationProblem(field_name, zh.format(**params), en.format(**params), key=key)


class ProblemsError(ValidationError):
    """A Django ValidationError (so forms and DRF show it per field) that keeps the problems."""

    def __init__(self, problems: list[ValidationProblem]) -> None:
        self.problems = problems
        by_field: dict[str, list[str]] = {}
        for p in problems:
            by_field.setdefault(p.field, []).append(p.message)
        super().__init__(by_field)


@dataclass
class ImportReport:
    """What a bulk load or import did, or why it wrote nothing."""

    problems: list[ValidationProblem] = field(default_factory=list)
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        if self.problems:
            head = f"发现 {len(self.problems)} 个问题，未写入任何数据 / {len(self.problems)} problem(s), nothing written"
            return [head, *(str(p) for p in self.problems)]
        counts = ", ".join(
            f"{what}: +{self.created.get(what, 0)} ~{self.updated.get(what, 0)}"
            for what in sorted(set(self.created) | set(self.updated))
        )
        if self.dry_run:
            return [f"校验通过（试运行，未写入） / valid (dry run, nothing written) — {counts}"]
        return [f"导入成功 / imported — {counts}"]

    def __str__(self) -> str:
        return "\n".join(self.lines())


# --- Pure checks --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DivisionRef:
    """Enough of a division (saved or in the same batch) to check codes against it."""

    code: str
    level: str


def text(value: Any) -> str:
    """A cell or form value as stripped text; whole floats (Excel numbers) lose their ``.0``."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def check_text(field_name: str, value: str, *, max_length: int, required: bool) -> list[ValidationProblem]:
    if required and not value:
        return [problem(field_name, "required")]
    if len(value) > max_length:
        return [problem(field_name, "too_long", max=max_length)]
    return []


def parse_level(value: Any) -> str | None:
    """A DivisionLevel value from its value or its Chinese label (区县 / 街道 / 社区 …)."""
    raw = text(value)
    aliases = {"区县": "district", "区": "district", "县": "district", "街道": "street", "乡镇": "street"}
    aliases |= {"镇": "street", "乡": "street", "社区": "community", "村": "community"}
    for choice in DivisionLevel:
        aliases[str(choice.label)] = choice.value
    level = aliases.get(raw, raw.lower())
    return level if level in DivisionLevel.values else None


def parse_kind(value: Any) -> str | None:
    raw = text(value) or GridKind.BASIC
    aliases = {str(choice.label): choice.value for choice in GridKind} | {
        "基础": "basic",
        "专属": "dedicated",
    }
    kind = aliases.get(raw, raw.lower())
    return kind if kind in GridKind.values else None


def parse_count(field_name: str, value: Any) -> tuple[int, list[ValidationProblem]]:
    raw = text(value)
    if raw == "":
        return 0, []
    try:
        number = int(raw)
    except ValueError:
        return 0, [problem(field_name, "not_count", value=raw)]
    if number < 0:
        return 0, [problem(field_name, "not_count", value=raw)]
    return number, []


def implied_parent_code(code: str, level: str) -> str:
    """The parent code a well-formed code implies (district of a street, street of a community)."""
    if level == DivisionLevel.STREET:
        return code[:6] + "000000"
    if level == DivisionLevel.COMMUNITY:
        return code[:9] + "000"
    return ""


def check_division_code(
    code: str, level: str, parent: DivisionRef | None, *, parent_field: str = "parent_code"
) -> list[ValidationProblem]:
    """12 digits, zeros where the level says, and the parent's significant prefix."""
    if not _DIGITS[12].match(code):
        return [problem("code", "division_code_digits", value=code)]
    problems: list[ValidationProblem] = []
    if level == DivisionLevel.DISTRICT and code[6:] != "000000":
        problems.append(problem("code", "district_code_tail", code=code))
    if level == DivisionLevel.STREET and (code[9:] != "000" or code[6:9] == "000"):
        problems.append(problem("code", "street_code_tail", code=code))
    if level == DivisionLevel.COMMUNITY and (code[9:] == "000" or code[6:9] == "000"):
        problems.append(problem("code", "community_code_tail", code=code))
    want = PARENT_LEVEL[level]
    zh, en = LEVEL_NAMES[level]
    if want is None:
        if parent is not None:
            problems.append(problem(parent_field, "district_has_parent"))
        return problems
    if parent is None:
        problems.append(problem(parent_field, "parent_required", level_zh=zh, level_en=en))
        return problems
    if parent.level != want:
        want_zh, want_en = LEVEL_NAMES[want]
        got_zh, got_en = LEVEL_NAMES.get(parent.level, (parent.level, parent.level))
        problems.append(
            problem(
                parent_field,
                "parent_level",
                level_zh=zh,
                level_en=en,
                want_zh=want_zh,
                want_en=want_en,
                got_zh=got_zh,
                got_en=got_en,
                parent=parent.code,
            )
        )
        return problems
    prefix = parent.code[: SIGNIFICANT_DIGITS[DivisionLevel(want)]]
    if not code.startswith(prefix):
        problems.append(problem("code", "parent_prefix", code=code, parent=parent.code, prefix=prefix))
    return problems


def check_grid_code(
    code: str, community: DivisionRef | None, *, community_field: str = "community_code"
) -> list[ValidationProblem]:
    """15 digits starting with the community's 12-digit code; the community must be a community."""
    problems: list[ValidationProblem] = []
    if community is not None and community.level != DivisionLevel.COMMUNITY:
        zh, en = LEVEL_NAMES.get(community.level, (community.level, community.level))
        problems.append(
            problem(community_field, "community_level", code=community.code, level_zh=zh, level_en=en)
        )
    if not code:
        return problems  # numbered later (see grids.actions.number_grids)
    if not _DIGITS[15].match(code):
        problems.append(problem("code", "grid_code_digits", value=code))
        return problems
    if code.endswith("000"):
        problems.append(problem("code", "grid_code_zero", code=code))
    if community is not None and not code.startswith(community.code):
        problems.append(problem("code", "grid_code_prefix", code=code, community=community.code))
    return problems


def check_boundary(
    value: Any, *, required: bool, field_name: str = "boundary"
) -> tuple[Polygon | MultiPolygon | None, list[ValidationProblem]]:
    if value is None or value == "" or value == {}:
        return None, ([problem(field_name, "required")] if required else [])
    try:
        return parse_geometry(value), []
    except GeometryError as exc:
        return None, [problem(field_name, "geometry", zh=exc.zh, en=exc.en)]


# --- Checks with database lookups (single saves) -------------------------------------------------


def division_problems(
    *,
    code: str,
    name: str,
    level: str,
    kind: str = "",
    parent: Division | None,
    boundary: Any,
    instance: Division | None = None,
) -> tuple[Polygon | MultiPolygon | None, list[ValidationProblem]]:
    """Everything wrong with one division as it would be saved (admin field names)."""
    problems = check_text("name", name, max_length=100, required=True)
    problems += check_text("kind", kind, max_length=16, required=False)
    if level not in DivisionLevel.values:
        problems.append(problem("level", "level_invalid", value=level))
    else:
        ref = DivisionRef(parent.code, parent.level) if parent is not None else None
        problems += check_division_code(code, level, ref, parent_field="parent")
    others = Division.objects.filter(code=code)
    if instance is not None and instance.pk is not None:
        others = others.exclude(pk=instance.pk)
        problems += _dependents_problems(instance, code, level)
    if others.exists():
        problems.append(problem("code", "duplicate_db", code=code))
    geom, geometry_problems = check_boundary(boundary, required=False)
    return geom, problems + geometry_problems


def _dependents_problems(instance: Division, code: str, level: str) -> list[ValidationProblem]:
    saved = Division.objects.filter(pk=instance.pk).values_list("code", "level").first()
    if saved is None or saved == (code, level):
        return []
    if instance.children.exists() or Grid.objects.filter(community_id=instance.pk).exists():
        return [problem("code", "has_dependents", code=saved[0])]
    return []


def grid_problems(
    *,
    code: str,
    name: str,
    community: Division | None,
    kind: str,
    boundary: Any,
    dedicated_to: str = "",
    instance: Grid | None = None,
) -> tuple[Polygon | MultiPolygon | None, list[ValidationProblem]]:
    """Everything wrong with one grid as it would be saved (admin field names)."""
    problems = check_text("name", name, max_length=100, required=True)
    problems += check_text("dedicated_to", dedicated_to, max_length=100, required=False)
    if kind not in GridKind.values:
        problems.append(problem("kind", "kind_invalid", value=kind))
    if community is None:
        problems.append(problem("community", "required"))
    ref = DivisionRef(community.code, community.level) if community is not None else None
    problems += check_grid_code(code, ref, community_field="community")
    if code:
        others = Grid.objects.filter(code=code)
        if instance is not None and instance.pk is not None:
            others = others.exclude(pk=instance.pk)
        if others.exists():
            problems.append(problem("code", "duplicate_db", code=code))
    geom, geometry_problems = check_boundary(boundary, required=True)
    return geom, problems + geometry_problems


def raise_if(problems: Iterable[ValidationProblem]) -> None:
    found = list(problems)
    if found:
        raise ProblemsError(found)
