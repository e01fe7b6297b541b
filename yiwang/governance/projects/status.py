"""Red / yellow / green, KPI attainment and the dashboards of key projects.

Colours are computed from the deadlines, the progress and the active :class:`ColourRule` (data),
counting working days with the statutory calendar (``yiwang.core.calendar.get_calendar``):

* a node that is done is green;
* a node whose deadline has passed is red;
* a node with at most ``yellow_workdays`` working days left (after today, up to and including its
  deadline) and progress below ``yellow_progress`` % is yellow;
* otherwise green.

A project's colour is the worst of its open nodes and of its own end date (measured with the mean
progress of its nodes); a completed project is green; drafts and cancelled projects have none.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone

from yiwang.core.calendar import TZ, WorkCalendar, get_calendar
from yiwang.governance.projects.models import (
    DEFAULT_YELLOW_PROGRESS,
    DEFAULT_YELLOW_WORKDAYS,
    Colour,
    ColourRule,
    KpiIndicator,
    Node,
    NodeStatus,
    PeriodKind,
    Project,
    ProjectStatus,
    Supervision,
    SupervisionStatus,
)
from yiwang.people.models import Department

_RANK = {Colour.GREEN: 0, Colour.YELLOW: 1, Colour.RED: 2}
NO_COLOUR_STATUSES = frozenset({ProjectStatus.DRAFT.value, ProjectStatus.CANCELLED.value})


@dataclass(frozen=True)
class Rule:
    yellow_workdays: int = DEFAULT_YELLOW_WORKDAYS
    yellow_progress: Decimal = DEFAULT_YELLOW_PROGRESS


def active_rule() -> Rule:
    """The active colour rule, or the defaults when an administrator switched every rule off."""
    row = ColourRule.objects.filter(is_active=True).order_by("-updated_at", "-pk").first()
    if row is None:
        return Rule()
    return Rule(row.yellow_workdays, row.yellow_progress)


def today() -> dt.date:
    """Today in Beijing time (the calendar's zone), whatever the server's zone."""
    return timezone.now().astimezone(TZ).date()


def workdays_left(cal: WorkCalendar, on: dt.date, deadline: dt.date) -> int:
    """Working days after ``on`` up to and including ``deadline`` (0 on the deadline itself)."""
    return cal.workdays_between(on + dt.timedelta(days=1), deadline)


def deadline_colour(
    deadline: dt.date, progress: Decimal, on: dt.date, rule: Rule, cal: WorkCalendar
) -> Colour:
    if on > deadline:
        return Colour.RED
    if workdays_left(cal, on, deadline) <= rule.yellow_workdays and progress < rule.yellow_progress:
        return Colour.YELLOW
    return Colour.GREEN


def node_colour(node: Node, on: dt.date, rule: Rule, cal: WorkCalendar) -> Colour:
    if node.status == NodeStatus.DONE:
        return Colour.GREEN
    return deadline_colour(node.deadline, node.progress, on, rule, cal)


def worst(colours: Iterable[Colour]) -> Colour:
    return max(colours, key=lambda c: _RANK[c], default=Colour.GREEN)


def project_progress(nodes: list[Node]) -> Decimal:
    if not nodes:
        return Decimal("0")
    return (sum((n.progress for n in nodes), Decimal("0")) / len(nodes)).quantize(Decimal("0.1"))


def project_colour(
    project: Project,
    on: dt.date | None = None,
    rule: Rule | None = None,
    cal: WorkCalendar | None = None,
    nodes: list[Node] | None = None,
) -> Colour | None:
    if project.status in NO_COLOUR_STATUSES:
        return None
    if project.status == ProjectStatus.COMPLETED:
        return Colour.GREEN
    on = on or today()
    rule = rule or active_rule()
    cal = cal or get_calendar()
    nodes = list(project.nodes.all()) if nodes is None else nodes
    colours = [node_colour(n, on, rule, cal) for n in nodes]
    colours.append(deadline_colour(project.end_date, project_progress(nodes), on, rule, cal))
    return worst(colours)


# --- KPI ------------------------------------------------------------------------------------------


def period_start(day: dt.date, kind: str) -> dt.date:
    """The first day of the month or quarter containing ``day``."""
    if kind == PeriodKind.QUARTER:
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return day.replace(day=1)


def period_end(start: dt.date, kind: str) -> dt.date:
    months = 3 if kind == PeriodKind.QUARTER else 1
    year, month = divmod(start.month - 1 + months, 12)
    return dt.date(start.year + year, month + 1, 1) - dt.timedelta(days=1)


def period_label(start: dt.date, kind: str) -> str:
    if kind == PeriodKind.QUARTER:
        return f"{start.year}Q{(start.month - 1) // 3 + 1}"
    return f"{start:%Y-%m}"


@dataclass(frozen=True)
class Attainment:
    indicator: KpiIndicator
    total: Decimal
    percent: Decimal | None  # None when the goal is zero
    periods: list[tuple[str, Decimal]] = field(default_factory=list)


def attainment(indicator: KpiIndicator) -> Attainment:
    """Cumulative value of all periods against the goal, in percent (one decimal)."""
    values = sorted(indicator.values.all(), key=lambda v: v.period_start)
    total = sum((v.value for v in values), Decimal("0"))
    percent = None
    if indicator.goal > 0:
        percent = (total * 100 / indicator.goal).quantize(Decimal("0.1"))
    periods = [(period_label(v.period_start, indicator.period_kind), v.value) for v in values]
    return Attainment(indicator, total, percent, periods)


# --- dashboards -------------------------------------------------------------------------------------


@dataclass
class ProjectRow:
    project: Project
    colour: Colour | None
    progress: Decimal
    overdue_nodes: int


@dataclass
class UnitRow:
    department: Department
    total: int = 0
    red: int = 0
    yellow: int = 0
    green: int = 0
    overdue_nodes: int = 0


@dataclass
class Dashboard:
    rows: list[ProjectRow]
    by_colour: dict[str, int]
    overdue_nodes: list[Node]
    open_supervisions: int
    kpis: list[Attainment]
    units: list[UnitRow]
    unit: Department | None = None


def project_rows(projects: Iterable[Project], on: dt.date | None = None) -> list[ProjectRow]:
    """Colour, progress and overdue-node count of each project (nodes must be prefetched)."""
    on = on or today()
    rule = active_rule()
    cal = get_calendar()
    rows = []
    for p in projects:
        nodes = list(p.nodes.all())
        overdue = sum(1 for n in nodes if n.status != NodeStatus.DONE and n.deadline < on)
        if p.status in NO_COLOUR_STATUSES or p.status == ProjectStatus.COMPLETED:
            overdue = 0
        rows.append(ProjectRow(p, project_colour(p, on, rule, cal, nodes), project_progress(nodes), overdue))
    return rows


def dashboard(user: Any, *, unit: Department | None = None, on: dt.date | None = None) -> Dashboard:
    """The dashboard of the projects visible to ``user`` (the district for a district leader), or of
    one unit: projects owned by the unit's subtree or with a node it is responsible for."""
    on = on or today()
    qs = Project.objects.visible_to(user).select_related("owner", "owner_department", "division")
    if unit is not None:
        ids = sorted(Department.objects.subtree_ids({unit.pk}))
        qs = qs.filter(pk__in=Project.objects.filter(owner_department_id__in=ids).values("pk")) | qs.filter(
            pk__in=Node.objects.filter(responsible_department_id__in=ids).values("project_id")
        )
    projects = list(
        qs.distinct().prefetch_related(
            Prefetch("nodes", queryset=Node.objects.select_related("responsible", "responsible_department"))
        )
    )
    rows = project_rows(projects, on)
    by_colour = {c.value: 0 for c in Colour}
    units: dict[int, UnitRow] = {}
    overdue_nodes: list[Node] = []
    for row in rows:
        u = units.setdefault(row.project.owner_department_id, UnitRow(row.project.owner_department))
        u.total += 1
        u.overdue_nodes += row.overdue_nodes
        if row.colour is not None:
            by_colour[row.colour.value] += 1
            setattr(u, row.colour.value, getattr(u, row.colour.value) + 1)
        if row.overdue_nodes:
            overdue_nodes += [
                n for n in row.project.nodes.all() if n.status != NodeStatus.DONE and n.deadline < on
            ]
    project_ids = [p.pk for p in projects]
    open_supervisions = Supervision.objects.filter(
        project_id__in=project_ids, status=SupervisionStatus.OPEN
    ).count()
    indicators = KpiIndicator.objects.filter(project_id__in=project_ids).select_related("project")
    kpis = [attainment(k) for k in indicators.prefetch_related("values")]
    return Dashboard(
        rows=rows,
        by_colour=by_colour,
        overdue_nodes=sorted(overdue_nodes, key=lambda n: n.deadline),
        open_supervisions=open_supervisions,
        kpis=kpis,
        units=sorted(units.values(), key=lambda u: (-u.red, -u.yellow, u.department.code)),
        unit=unit,
    )


def kpi_totals(kpis: list[Attainment]) -> dict[str, Decimal]:
    """Sum of values per KPI kind (district view: 税收, 产值, 新增纳税人…)."""
    totals: dict[str, Decimal] = {}
    for a in kpis:
        totals[a.indicator.kind] = totals.get(a.indicator.kind, Decimal("0")) + a.total
    return totals
