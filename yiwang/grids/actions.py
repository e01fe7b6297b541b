"""The only write path for the map: divisions, grids, their codes, overlaps and the locator version.

Every function validates first (``grids.validation``), writes in one transaction, and moves the
locator version when a boundary changes, so every process rebuilds its point→grid index.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from django.db import transaction
from django.db.models import F, ProtectedError
from django.utils import timezone
from shapely.geometry.base import BaseGeometry

from yiwang.grids.geometry import extent, to_geojson
from yiwang.grids.models import (
    Division,
    DivisionLevel,
    ExternalGrid,
    ExternalGridLink,
    Grid,
    GridBeatLink,
    GridKind,
    GridLabel,
    LocatorVersion,
    PoliceBeat,
)
from yiwang.grids.validation import (
    DivisionRef,
    ImportReport,
    ProblemsError,
    ValidationProblem,
    check_boundary,
    check_division_code,
    check_grid_code,
    check_text,
    division_problems,
    grid_problems,
    implied_parent_code,
    parse_count,
    parse_kind,
    parse_level,
    problem,
    raise_if,
    text,
)

# Overlaps below this share are drawing noise, not links: police beats and other departments'
# grids are digitised separately, so shared edges never coincide exactly and produce thin slivers
# (typically well under 1% of a grid). 1% drops those while keeping any real corner overlap.
LINK_MIN_SHARE = 0.01

# Row bands for numbering: points whose latitude is within this fraction of the median grid height
# below the first (northernmost) point of a band belong to the same row.
BAND_FRACTION = 0.5

DIVISIONS_SHEET = "区划 divisions"
GRIDS_SHEET = "网格 grids"


# --- Locator version ------------------------------------------------------------------------------


def bump_locator_version() -> int:
    """Move the locator version by one (atomically, safe under concurrent writers); return it."""
    with transaction.atomic():
        LocatorVersion.objects.get_or_create(pk=1)
        LocatorVersion.objects.filter(pk=1).update(version=F("version") + 1, changed_at=timezone.now())
        return LocatorVersion.current()


# --- Single saves -------------------------------------------------------------------------------


def _ancestors(parent: Division | None) -> tuple[Division | None, Division | None]:
    """(district, street) for a child of ``parent``."""
    if parent is None:
        return None, None
    if parent.level == DivisionLevel.DISTRICT:
        return parent, None
    return parent.district, parent


@transaction.atomic
def save_division(
    *,
    code: str,
    name: str,
    level: str,
    kind: str = "",
    parent: Division | None = None,
    boundary: Any = None,
    instance: Division | None = None,
) -> Division:
    """Create a division, or update ``instance``; raises :class:`ProblemsError` if invalid."""
    geom, problems = division_problems(
        code=code, name=name, level=level, kind=kind, parent=parent, boundary=boundary, instance=instance
    )
    raise_if(problems)
    division = instance if instance is not None else Division()
    old_boundary = _saved_boundary(Division, division.pk)
    district, street = _ancestors(parent)
    division.code, division.name, division.level, division.kind = code, name, level, kind
    division.parent, division.district, division.street = parent, district, street
    division.boundary = to_geojson(geom) if geom is not None else None
    division.save()
    if division.boundary != old_boundary:
        bump_locator_version()
    return division


@transaction.atomic
def delete_division(division: Division) -> None:
    """Delete a division that has no children, grids or other rows pointing at it."""
    try:
        division.delete()
    except ProtectedError as exc:
        raise ProblemsError(
            [
                ValidationProblem(
                    "code",
                    f"{division.code} 仍被下级区划、网格或其他记录引用，不能删除",
                    f"{division.code} is still used by child divisions, grids or other records",
                )
            ]
        ) from exc
    bump_locator_version()


def _saved_boundary(model: type[Division] | type[Grid], pk: int | None) -> Any:
    if pk is None:
        return None
    return model.objects.filter(pk=pk).values_list("boundary", flat=True).first()


def _set_extent(grid: Grid, geom: BaseGeometry) -> None:
    (grid.min_lng, grid.min_lat, grid.max_lng, grid.max_lat, grid.center_lng, grid.center_lat) = extent(geom)


def next_free_code(community: Division, taken: Iterable[str] = ()) -> str:
    """The lowest unused 15-digit code in ``community`` (used when a single grid is added)."""
    used = set(Grid.objects.filter(community=community).values_list("code", flat=True)) | set(taken)
    for seq in range(1, 1000):
        code = f"{community.code}{seq:03d}"
        if code not in used:
            return code
    raise ProblemsError([problem("code", "sequence_full", code=community.code)])


@transaction.atomic
def save_grid(
    *,
    name: str,
    community: Division,
    boundary: Any,
    code: str = "",
    kind: str = GridKind.BASIC,
    dedicated_to: str = "",
    households: int = 0,
    population: int = 0,
    labels: Iterable[GridLabel] | None = None,
    instance: Grid | None = None,
) -> Grid:
    """Create a grid, or update ``instance``. An empty ``code`` takes the next free number.

    ``labels=None`` leaves the labels as they are (the admin saves them with the form).
    """
    geom, problems = grid_problems(
        code=code,
        name=name,
        community=community,
        kind=kind,
        boundary=boundary,
        dedicated_to=dedicated_to,
        instance=instance,
    )
    raise_if(problems)
    assert geom is not None
    grid = instance if instance is not None else Grid()
    old_boundary = _saved_boundary(Grid, grid.pk)
    grid.code = code or next_free_code(community)
    grid.name, grid.community, grid.kind, grid.dedicated_to = name, community, kind, dedicated_to
    grid.households, grid.population = households, population
    grid.boundary = to_geojson(geom)
    _set_extent(grid, geom)
    grid.save()
    if labels is not None:
        grid.labels.set(list(labels))
    if grid.boundary != old_boundary:
        bump_locator_version()
    return grid


@transaction.atomic
def delete_grid(grid: Grid) -> None:
    try:
        grid.delete()
    except ProtectedError as exc:
        raise ProblemsError(
            [
                ValidationProblem(
                    "code",
                    f"网格 {grid.code} 仍被其他记录引用，不能删除",
                    f"grid {grid.code} is still used by other records and cannot be deleted",
                )
            ]
        ) from exc
    bump_locator_version()


# --- Numbering ------------------------------------------------------------------------------------


def spatial_order(points: Sequence[tuple[float, float]], heights: Sequence[float]) -> list[int]:
    """Indices of ``points`` (lng, lat) in reading order: west→east within rows, rows north→south.

    Band rule: walk the points from north to south; a point starts a new row when it lies more
    than ``BAND_FRACTION`` × the median grid height below the first point of the current row.
    Irregular grids never share an exact latitude, so rows must be bands, and half a typical grid
    height keeps neighbours of one row together while splitting rows that are a grid apart.
    """
    if not points:
        return []
    positive = [h for h in heights if h > 0]
    band = BAND_FRACTION * (statistics.median(positive) if positive else 0.0)
    by_north = sorted(range(len(points)), key=lambda i: (-points[i][1], points[i][0]))
    rows: list[list[int]] = []
    top = float("inf")
    for i in by_north:
        lat = points[i][1]
        if not rows or top - lat > band:
            rows.append([])
            top = lat
        rows[-1].append(i)
    return [i for row in rows for i in sorted(row, key=lambda i: points[i][0])]


def number_grids(community: Division) -> list[tuple[Grid, str]]:
    """Every grid of ``community`` with the code the numbering rule gives it (001, 002 … in reading
    order, see :func:`spatial_order`). Nothing is saved; callers decide what to do with the codes."""
    grids = list(Grid.objects.filter(community=community))
    points = [(g.center_lng, g.center_lat) for g in grids]
    heights = [g.max_lat - g.min_lat for g in grids]
    order = spatial_order(points, heights)
    return [(grids[i], f"{community.code}{n:03d}") for n, i in enumerate(order, start=1)]


# --- Overlap links --------------------------------------------------------------------------------


def _geoms(boundaries: Sequence[Any]) -> np.ndarray:
    return np.array([shapely.geometry.shape(b) for b in boundaries], dtype=object)


def _overlaps(measured: np.ndarray, others: np.ndarray) -> list[tuple[int, int, float]]:
    """(i, j, share of measured[i] inside others[j]) for every pair at or above LINK_MIN_SHARE."""
    if len(measured) == 0 or len(others) == 0:
        return []
    tree = shapely.STRtree(others)
    left, right = tree.query(measured, predicate="intersects")
    if len(left) == 0:
        return []
    areas = shapely.area(shapely.intersection(measured[left], others[right]))
    shares = np.minimum(1.0, areas / shapely.area(measured[left]))
    keep = shares >= LINK_MIN_SHARE
    return [
        (int(i), int(j), round(float(s), 6))
        for i, j, s in zip(left[keep], right[keep], shares[keep], strict=True)
    ]


@transaction.atomic
def link_police_beats() -> int:
    """Recompute every grid↔beat link: the share of each grid's area that lies in each beat."""
    grids = list(Grid.objects.values_list("pk", "boundary"))
    beats = list(PoliceBeat.objects.values_list("pk", "boundary"))
    pairs = _overlaps(_geoms([b for _, b in grids]), _geoms([b for _, b in beats]))
    GridBeatLink.objects.all().delete()
    GridBeatLink.objects.bulk_create(
        GridBeatLink(grid_id=grids[i][0], beat_id=beats[j][0], share=share) for i, j, share in pairs
    )
    return len(pairs)


@transaction.atomic
def link_external_grids() -> int:
    """Recompute every external↔base grid link: the share of each external grid in each base grid."""
    externals = list(ExternalGrid.objects.values_list("pk", "boundary"))
    grids = list(Grid.objects.values_list("pk", "boundary"))
    pairs = _overlaps(_geoms([b for _, b in externals]), _geoms([b for _, b in grids]))
    ExternalGridLink.objects.all().delete()
    ExternalGridLink.objects.bulk_create(
        ExternalGridLink(external_id=externals[i][0], grid_id=grids[j][0], share=share)
        for i, j, share in pairs
    )
    return len(pairs)


# --- Bulk load ------------------------------------------------------------------------------------


@dataclass
class _DivisionPlan:
    row: int
    code: str
    name: str
    level: str
    kind: str
    parent_code: str
    boundary: dict[str, Any] | None


@dataclass
class _GridPlan:
    row: int
    code: str
    name: str
    community_code: str
    kind: str
    dedicated_to: str
    households: int
    population: int
    labels: list[str]
    boundary: dict[str, Any]
    point: tuple[float, float] = (0.0, 0.0)
    height: float = 0.0
    extent: tuple[float, float, float, float, float, float] = (0, 0, 0, 0, 0, 0)


@dataclass
class _Batch:
    report: ImportReport
    divisions: list[_DivisionPlan] = field(default_factory=list)
    grids: list[_GridPlan] = field(default_factory=list)

    def add(self, problems: list[ValidationProblem], row: int, sheet: str) -> None:
        self.report.problems.extend(p.at(row, sheet) for p in problems)


def _row_number(data: Mapping[str, Any], index: int) -> int:
    row = data.get("_row")
    return int(row) if row is not None else index + 1


def _label_codes(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        parts: Iterable[Any] = value.replace("，", ",").replace("、", ",").split(",")
    else:
        parts = value
    return [text(p) for p in parts if text(p)]


def _plan_divisions(rows: Sequence[Mapping[str, Any]], replace: bool, batch: _Batch) -> None:
    existing = {
        code: DivisionRef(code, level)
        for code, level in Division.objects.filter(code__in=[text(r.get("code")) for r in rows]).values_list(
            "code", "level"
        )
    }
    seen: dict[str, int] = {}
    refs: dict[str, DivisionRef] = {}
    parsed: list[tuple[_DivisionPlan, list[ValidationProblem], bool]] = []
    for index, data in enumerate(rows):
        row = _row_number(data, index)
        code = text(data.get("code"))
        problems = check_text("name", text(data.get("name")), max_length=100, required=True)
        problems += check_text("kind", text(data.get("kind")), max_length=16, required=False)
        level = parse_level(data.get("level"))
        if level is None:
            problems.append(problem("level", "level_invalid", value=text(data.get("level"))))
        geom, geometry_problems = check_boundary(data.get("boundary"), required=False)
        problems += geometry_problems
        if not code:
            problems.append(problem("code", "required"))
        elif code in seen:
            problems.append(problem("code", "duplicate_batch", code=code, row=seen[code]))
        elif code in existing and not replace:
            problems.append(problem("code", "duplicate_db", code=code))
        seen.setdefault(code, row)
        plan = _DivisionPlan(
            row=row,
            code=code,
            name=text(data.get("name")),
            level=level or "",
            kind=text(data.get("kind")),
            parent_code=text(data.get("parent_code")),
            boundary=to_geojson(geom) if geom is not None else None,
        )
        if level is not None and code:
            refs.setdefault(code, DivisionRef(code, level))
        parsed.append((plan, problems, level is not None))
    wanted_parents = {p.parent_code or implied_parent_code(p.code, p.level) for p, _, _ in parsed} - set(refs)
    saved_parents = {
        code: DivisionRef(code, level)
        for code, level in Division.objects.filter(code__in=wanted_parents).values_list("code", "level")
    }
    for plan, problems, level_ok in parsed:
        if level_ok and plan.code:
            explicit = bool(plan.parent_code)
            plan.parent_code = plan.parent_code or implied_parent_code(plan.code, plan.level)
            parent = refs.get(plan.parent_code) or saved_parents.get(plan.parent_code)
            if plan.parent_code and parent is None and (explicit or _well_formed(plan.code)):
                problems.append(problem("parent_code", "parent_missing", code=plan.parent_code))
            else:
                problems += check_division_code(plan.code, plan.level, parent)
        batch.add(problems, plan.row, DIVISIONS_SHEET)
        batch.divisions.append(plan)


def _well_formed(code: str) -> bool:
    return len(code) == 12 and code.isdigit()


def _plan_grids(
    rows: Sequence[Mapping[str, Any]], divisions: Sequence[_DivisionPlan], replace: bool, batch: _Batch
) -> None:
    batch_refs = {d.code: DivisionRef(d.code, d.level) for d in divisions if d.code and d.level}
    codes = [text(r.get("code")) for r in rows]
    community_codes = {text(r.get("community_code")) or text(r.get("code"))[:12] for r in rows}
    saved_refs = {
        code: DivisionRef(code, level)
        for code, level in Division.objects.filter(code__in=community_codes).values_list("code", "level")
    }
    existing = set(Grid.objects.filter(code__in=[c for c in codes if c]).values_list("code", flat=True))
    known_labels = set(GridLabel.objects.values_list("code", flat=True))
    seen: dict[str, int] = {}
    for index, data in enumerate(rows):
        row = _row_number(data, index)
        code = text(data.get("code"))
        community_code = text(data.get("community_code")) or code[:12]
        problems = check_text("name", text(data.get("name")), max_length=100, required=True)
        problems += check_text("dedicated_to", text(data.get("dedicated_to")), max_length=100, required=False)
        kind = parse_kind(data.get("kind"))
        if kind is None:
            problems.append(problem("kind", "kind_invalid", value=text(data.get("kind"))))
        households, count_problems = parse_count("households", data.get("households"))
        problems += count_problems
        population, count_problems = parse_count("population", data.get("population"))
        problems += count_problems
        labels = _label_codes(data.get("labels"))
        problems += [
            problem("labels", "label_unknown", code=label) for label in labels if label not in known_labels
        ]
        community = batch_refs.get(community_code) or saved_refs.get(community_code)
        if not community_code:
            problems.append(problem("community_code", "required"))
        elif community is None:
            problems.append(problem("community_code", "community_missing", code=community_code))
        problems += check_grid_code(code, community)
        if code and code in seen:
            problems.append(problem("code", "duplicate_batch", code=code, row=seen[code]))
        elif code in existing and not replace:
            problems.append(problem("code", "duplicate_db", code=code))
        if code:
            seen.setdefault(code, row)
        geom, geometry_problems = check_boundary(data.get("boundary"), required=True)
        problems += geometry_problems
        batch.add(problems, row, GRIDS_SHEET)
        plan = _GridPlan(
            row=row,
            code=code,
            name=text(data.get("name")),
            community_code=community_code,
            kind=kind or GridKind.BASIC,
            dedicated_to=text(data.get("dedicated_to")),
            households=households,
            population=population,
            labels=labels,
            boundary=to_geojson(geom) if geom is not None else {},
        )
        if geom is not None:
            plan.extent = extent(geom)
            plan.point = (plan.extent[4], plan.extent[5])
            plan.height = plan.extent[3] - plan.extent[1]
        batch.grids.append(plan)


def _assign_codes(batch: _Batch) -> None:
    """Give code-less grids the free numbers of their community in reading order."""
    by_community: dict[str, list[_GridPlan]] = {}
    for plan in batch.grids:
        if not plan.code:
            by_community.setdefault(plan.community_code, []).append(plan)
    for community_code, plans in by_community.items():
        taken = {p.code for p in batch.grids if p.code.startswith(community_code)}
        taken |= set(Grid.objects.filter(code__startswith=community_code).values_list("code", flat=True))
        free = (
            f"{community_code}{seq:03d}"
            for seq in range(1, 1000)
            if f"{community_code}{seq:03d}" not in taken
        )
        order = spatial_order([p.point for p in plans], [p.height for p in plans])
        for i in order:
            code = next(free, None)
            if code is None:
                batch.add([problem("code", "sequence_full", code=community_code)], plans[i].row, GRIDS_SHEET)
                return
            plans[i].code = code


_LEVEL_ORDER = {DivisionLevel.DISTRICT: 0, DivisionLevel.STREET: 1, DivisionLevel.COMMUNITY: 2}


def _write_divisions(plans: Sequence[_DivisionPlan], report: ImportReport) -> None:
    created = updated = 0
    for level in sorted(_LEVEL_ORDER, key=_LEVEL_ORDER.__getitem__):
        level_plans = [p for p in plans if p.level == level]
        if not level_plans:
            continue
        wanted = {p.parent_code for p in level_plans} | {p.code for p in level_plans}
        by_code = {d.code: d for d in Division.objects.filter(code__in=wanted)}
        new: list[Division] = []
        changed: list[Division] = []
        for plan in level_plans:
            parent = by_code.get(plan.parent_code) if plan.parent_code else None
            division = by_code.get(plan.code)
            if division is None:
                division = Division(code=plan.code)
                new.append(division)
            else:
                changed.append(division)
            division.name, division.level, division.kind, division.boundary = (
                plan.name,
                plan.level,
                plan.kind,
                plan.boundary,
            )
            division.parent_id = parent.pk if parent is not None else None
            division.district_id = None if parent is None else (parent.district_id or parent.pk)
            division.street_id = (
                parent.pk if parent is not None and parent.level == DivisionLevel.STREET else None
            )
        Division.objects.bulk_create(new, batch_size=500)
        fields = ["name", "level", "kind", "boundary", "parent", "district", "street", "updated_at"]
        now = timezone.now()
        for division in changed:
            division.updated_at = now
        Division.objects.bulk_update(changed, fields, batch_size=500)
        created += len(new)
        updated += len(changed)
    report.created["divisions"] = created
    report.updated["divisions"] = updated


def _write_grids(plans: Sequence[_GridPlan], report: ImportReport) -> None:
    communities = dict(
        Division.objects.filter(code__in={p.community_code for p in plans}).values_list("code", "pk")
    )
    existing = {g.code: g for g in Grid.objects.filter(code__in=[p.code for p in plans])}
    new: list[Grid] = []
    changed: list[Grid] = []
    for plan in plans:
        grid = existing.get(plan.code)
        if grid is None:
            grid = Grid(code=plan.code)
            new.append(grid)
        else:
            changed.append(grid)
        grid.name, grid.community_id, grid.kind = plan.name, communities[plan.community_code], plan.kind
        grid.dedicated_to, grid.households, grid.population = (
            plan.dedicated_to,
            plan.households,
            plan.population,
        )
        grid.boundary = plan.boundary
        (grid.min_lng, grid.min_lat, grid.max_lng, grid.max_lat, grid.center_lng, grid.center_lat) = (
            plan.extent
        )
        grid.updated_at = timezone.now()
    Grid.objects.bulk_create(new, batch_size=500)
    fields = ["name", "community", "kind", "dedicated_to", "households", "population", "boundary"]
    fields += ["min_lng", "min_lat", "max_lng", "max_lat", "center_lng", "center_lat", "updated_at"]
    Grid.objects.bulk_update(changed, fields, batch_size=500)
    _write_labels(
        plans, report_codes={g.code: g.pk for g in [*new, *changed]}, replaced=[g.pk for g in changed]
    )
    report.created["grids"] = len(new)
    report.updated["grids"] = len(changed)


def _write_labels(plans: Sequence[_GridPlan], *, report_codes: dict[str, int], replaced: list[int]) -> None:
    through = Grid.labels.through
    through.objects.filter(grid_id__in=replaced).delete()
    label_ids = dict(GridLabel.objects.values_list("code", "pk"))
    through.objects.bulk_create(
        [
            through(grid_id=report_codes[plan.code], gridlabel_id=label_ids[label])
            for plan in plans
            for label in dict.fromkeys(plan.labels)
        ],
        batch_size=1000,
    )


def bulk_load(
    divisions: Sequence[Mapping[str, Any]],
    grids: Sequence[Mapping[str, Any]],
    *,
    replace: bool = False,
    dry_run: bool = False,
) -> ImportReport:
    """Validate every row, then write all of them in one transaction, or nothing at all.

    Division dicts: code, name, level, kind, parent_code, boundary. ``parent_code`` may be left
    empty: a well-formed code implies its parent. Grid dicts: code, name, community_code, kind,
    dedicated_to, boundary, households, population, labels (label codes, list or comma text).
    An empty grid ``code`` is numbered in reading order after the codes its community already uses.
    An optional ``_row`` key gives the row number to report (a spreadsheet row); else the index + 1.

    ``replace=False``: a code that already exists is a problem. ``replace=True``: rows whose code
    exists update that row in place (upsert); nothing else is deleted.
    """
    report = ImportReport(dry_run=dry_run)
    batch = _Batch(report)
    _plan_divisions(divisions, replace, batch)
    _plan_grids(grids, batch.divisions, replace, batch)
    if not report.problems:
        _assign_codes(batch)
    if report.problems:
        return report
    if dry_run:
        report.created = {
            "divisions": len(batch.divisions),
            "grids": len(batch.grids),
        }
        return report
    with transaction.atomic():
        if batch.divisions:
            _write_divisions(batch.divisions, report)
        if batch.grids:
            _write_grids(batch.grids, report)
        bump_locator_version()
    return report
