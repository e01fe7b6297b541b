"""统计看板 from the analytics rollups (issue 6): 三率 by street, department and grid with the
configured weights (MetricSettings), rankings by combined score, categories, channels, the daily or
weekly trend, for a period (this month, last month, this year or a custom range), limited to the
user's visible area. Every table of the page is one :class:`Table`; the page and the Excel export
render the same tables, so they hold the same numbers.

The one list that is not a rollup: the overdue cases open right now, longest overdue first (a live
list of cases, read along the due-moment indexes); the period's overdue counts come from the
rollups."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.analytics import queries
from yiwang.analytics.metrics import RATE_MILESTONES, Row, three_rates
from yiwang.analytics.models import MetricSettings
from yiwang.analytics.scored import lowest_scores
from yiwang.cases.choices import Satisfaction
from yiwang.cases.models import Case
from yiwang.web.access import page_view
from yiwang.web.periods import Period, labels, parse_period
from yiwang.web.views.governance_summary import governance_rows

TOP_CHART = 15
OVERDUE_ROWS = 50
GRID_ROWS = 50  # grids on the page: the lowest combined scores first


@dataclass
class Table:
    """One table of the dashboard: the page shows it, the export writes it as one sheet."""

    key: str
    title: str
    header: list[str]
    rows: list[list[Any]]
    links: list[str] = field(default_factory=list)  # per row, for the first cell ("" = none)
    # How many rows the table has when the page holds only the first ones (None: all are here).
    total: int | None = None

    @property
    def lines(self) -> list[tuple[list[Any], str]]:
        """The rows with the link of their first cell, for the template."""
        return list(zip(self.rows, self.links or [""] * len(self.rows), strict=True))

    @property
    def count(self) -> int:
        return len(self.rows) if self.total is None else self.total

    @property
    def cut(self) -> bool:
        return self.count > len(self.rows)


def pct(rate: float | None) -> float | None:
    return None if rate is None else round(100 * rate, 1)


def score(row: Row) -> float | None:
    return None if row.score is None else round(row.score, 1)


def _rate_header(first: str) -> list[str]:
    return [
        first,
        _("派遣数"),
        _("按时签收数"),
        _("回访数"),
        _("解决数"),
        _("满意数"),
        _("基本满意数"),
        _("响应率%"),
        _("解决率%"),
        _("满意率%"),
        _("综合成绩"),
        _("等级"),
    ]


def _rate_row(r: Row) -> list[Any]:
    c = r.counts
    return [
        r.name,
        c["dispatched"],
        c["signed_in_time"],
        c["called_back"],
        c["solved"],
        c["satisfied"],
        c["basically_satisfied"],
        pct(r.rates["response"]),
        pct(r.rates["solve"]),
        pct(r.rates["satisfaction"]),
        score(r),
        r.grade,
    ]


def _ranking(key: str, title: str, first: str, rows: list[Row]) -> Table:
    """Groups with a score, best first (ties by name); groups with nothing to score are left out."""
    ranked = sorted((r for r in rows if r.score is not None), key=lambda r: (-(r.score or 0), r.name))
    return Table(
        key,
        title,
        [_("名次"), first, _("综合成绩"), _("等级"), _("响应率%"), _("解决率%"), _("满意率%")],
        [
            [
                i,
                r.name,
                score(r),
                r.grade,
                pct(r.rates["response"]),
                pct(r.rates["solve"]),
                pct(r.rates["satisfaction"]),
            ]
            for i, r in enumerate(ranked, start=1)
        ],
    )


# What a count table (_count_table) shows and rates: its rows sum only these (a tenth of a
# millisecond per column at 10 M cases).
COUNT_TABLE_MILESTONES = ("registered", "closed", "unsatisfied", "overdue", *RATE_MILESTONES)


def _count_table(key: str, title: str, first: str, rows: list[Row]) -> Table:
    return Table(
        key,
        title,
        [first, _("立案数"), _("结案数"), _("回访数"), _("不满意数"), _("超时数"), _("满意率%")],
        [
            [
                r.name,
                r.counts["registered"],
                r.counts["closed"],
                r.counts["called_back"],
                r.counts["unsatisfied"],
                r.counts["overdue"],
                pct(r.rates["satisfaction"]),
            ]
            for r in rows
        ],
    )


def _by_name(rows: list[Row]) -> list[Row]:
    # The unplaced group (id None) last.
    return sorted(rows, key=lambda r: (r.id is None, r.name))


def longest_overdue(cases: QuerySet[Case], now: dt.datetime, limit: int) -> list[Case]:
    """The first ``limit`` overdue cases, longest overdue first: those not even signed for by
    their due moment (by that moment), then those late in handling (by theirs). Two walks of the
    due-moment indexes that stop after ``limit`` rows; sorting every overdue case of a district
    (tens of thousands at 1 M cases) took 0.3 s."""
    running = cases.filter(suspended_at__isnull=True).select_related("street", "lead_department")
    unsigned = Q(accept_due_at__lt=now)
    rows = list(running.filter(unsigned).order_by("accept_due_at", "-created_at", "-id")[:limit])
    if len(rows) < limit:
        late = running.filter(resolve_due_at__lt=now).exclude(unsigned)
        rows += late.order_by("resolve_due_at", "-created_at", "-id")[: limit - len(rows)]
    return rows


def build(user: Any, period: Period, *, full: bool = False) -> dict[str, Any]:
    """Everything the page shows for ``period``, read from the rollups the user may see.
    ``full``: every row of every table (the export); the page holds the 50 lowest grids."""
    span = {"start": period.start, "end": period.end, "user": user}
    # The rate tables and rankings show only what the 三率 read.
    streets = three_rates(group_by="street", milestones=RATE_MILESTONES, **span)
    departments = three_rates(group_by="department", milestones=RATE_MILESTONES, **span)
    # The grids that need attention first: the page shows the lowest ones, the export every grid.
    grids, grid_count = lowest_scores(group_by="grid", limit=None if full else GRID_ROWS, **span)
    categories = queries.by_category(milestones=COUNT_TABLE_MILESTONES, **span)
    channels = queries.by_channel(milestones=COUNT_TABLE_MILESTONES, **span)
    step = period.step
    trend = queries.series(step=step, **span)  # type: ignore[arg-type]
    total = queries.overall(**span)
    overdue = longest_overdue(Case.objects.visible_to(user), timezone.now(), OVERDUE_ROWS)
    tables = [
        Table(
            "street_rates",
            _("三率（按街道）"),
            _rate_header(_("街道")),
            [_rate_row(r) for r in _by_name(streets)],
        ),
        Table(
            "department_rates",
            _("三率（按承办单位）"),
            _rate_header(_("承办单位")),
            [_rate_row(r) for r in _by_name(departments)],
        ),
        Table(
            "grid_rates",
            _("三率（按网格，综合成绩由低到高）"),
            _rate_header(_("网格")),
            [_rate_row(r) for r in grids],
            total=grid_count,
        ),
        _ranking("street_ranking", _("街道排名（综合成绩）"), _("街道"), streets),
        _ranking("department_ranking", _("承办单位排名（综合成绩）"), _("承办单位"), departments),
        _count_table("categories", _("按分类"), _("分类"), categories),
        _count_table("channels", _("按来源渠道"), _("渠道"), channels),
        Table(
            "trend",
            _("趋势（按日）") if step == "day" else _("趋势（按周）"),
            [
                _("日期") if step == "day" else _("周（周一）"),
                _("立案数"),
                _("派遣数"),
                _("结案数"),
                _("超时数"),
                _("响应率%"),
                _("解决率%"),
                _("满意率%"),
            ],
            [
                [
                    p.day.isoformat(),
                    p.row.counts["registered"],
                    p.row.counts["dispatched"],
                    p.row.counts["closed"],
                    p.row.counts["overdue"],
                    pct(p.row.rates["response"]),
                    pct(p.row.rates["solve"]),
                    pct(p.row.rates["satisfaction"]),
                ]
                for p in trend
            ],
        ),
        Table(
            "overdue",
            _("当前超时案件"),
            [_("编号"), _("标题"), _("街道"), _("主办单位"), _("状态")],
            [
                [
                    c.number,
                    c.title,
                    c.street.name if c.street else "",
                    c.lead_department.name if c.lead_department else "",
                    c.get_status_display(),
                ]
                for c in overdue
            ],
            links=[reverse("web:case", args=[c.pk]) for c in overdue],
        ),
    ]
    governance, governance_links = governance_rows(user, period.start, period.end)
    if governance:
        tables.append(
            Table(
                "governance",
                _("共建共治"),
                [_("模块"), _("指标"), _("数值")],
                governance,
                links=governance_links,
            )
        )
    cfg = MetricSettings.current()
    summary = [
        (_("立案数"), total.counts["registered"]),
        (_("结案数"), total.counts["closed"]),
        (_("超时数"), total.counts["overdue"]),
        (_("响应率%"), pct(total.rates["response"])),
        (_("解决率%"), pct(total.rates["solve"])),
        (_("满意率%"), pct(total.rates["satisfaction"])),
        (_("综合成绩"), score(total)),
    ]
    chart = {
        "trend": {
            "labels": [p.day.isoformat() for p in trend],
            "registered": [p.row.counts["registered"] for p in trend],
            "closed": [p.row.counts["closed"] for p in trend],
            "response": [pct(p.row.rates["response"]) for p in trend],
            "solve": [pct(p.row.rates["solve"]) for p in trend],
            "satisfaction": [pct(p.row.rates["satisfaction"]) for p in trend],
        },
        "categories": [{"name": r.name, "value": r.counts["registered"]} for r in categories[:TOP_CHART]],
        "channels": [
            {"name": r.name, "value": r.counts["registered"]} for r in channels if r.counts["registered"]
        ],
        "streets": [{"name": r.name, "value": score(r)} for r in _by_name(streets) if r.id is not None],
        "names": {
            "registered": _("立案数"),
            "closed": _("结案数"),
            "response": _("响应率%"),
            "solve": _("解决率%"),
            "satisfaction": _("满意率%"),
            "score": _("综合成绩"),
        },
    }
    weights = {
        "response": cfg.response_weight,
        "solve": cfg.solve_weight,
        "satisfaction": cfg.satisfaction_weight,
        "basic": cfg.basically_satisfied_weight,
    }
    return {"tables": tables, "summary": summary, "chart": chart, "weights": weights}


@page_view("dashboard")
def dashboard(request: HttpRequest) -> HttpResponse:
    period = parse_period(request.GET)
    data = build(request.user, period)
    context = {**data, "period": period, "periods": labels()}
    return render(request, "web/dashboard.html", context, status=400 if period.error else 200)


def _cell(value: Any) -> Any:
    # A cell starting with = + - @ would be a formula in Excel: case titles are user input.
    return f"'{value}" if isinstance(value, str) and value[:1] in "=+-@" else value


def workbook(tables: list[Table]) -> bytes:
    """Every table as a sheet of one workbook, rows exactly as on the page (empty cell for —)."""
    from openpyxl import Workbook  # only here: see analytics.reports

    book = Workbook()
    book.remove(book.active)
    for table in tables:
        sheet = book.create_sheet(table.title[:31])
        sheet.append([str(h) for h in table.header])
        for row in table.rows:
            sheet.append([_cell(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@page_view("dashboard")
def dashboard_export(request: HttpRequest) -> HttpResponse:
    period = parse_period(request.GET)
    if period.error:
        return HttpResponse(period.error, status=400, content_type="text/plain; charset=utf-8")
    response = HttpResponse(
        workbook(build(request.user, period, full=True)["tables"]),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="yiwang-dashboard-{period.start:%Y%m%d}-{period.end:%Y%m%d}.xlsx"'
    )
    return response


# --- 群众不满意诉求集中攻坚 -------------------------------------------------------------------------------
@dataclass
class Topic:
    name: str
    cases: list[dict[str, Any]]


@dataclass
class DepartmentGroup:
    name: str
    topics: list[Topic]

    @property
    def count(self) -> int:
        return sum(len(t.cases) for t in self.topics)


def second_round(case: Case) -> tuple[str, Any]:
    """The state of a case's second round (二次办理) and its deadline: not started yet (rated
    unsatisfied, not reopened), running (with the running clock's due moment), or done."""
    if case.reopen_count == 0:
        return _("待启动二次办理"), None
    if case.accept_due_at or case.resolve_due_at:
        return _("二次办理中"), case.accept_due_at or case.resolve_due_at
    return str(case.get_status_display()), None


def unsatisfied_groups(user: Any, limit: int = 500) -> list[DepartmentGroup]:
    """Every visible case rated 不满意 or sent to a second round, by lead department, then by topic
    (the category), newest first inside a topic."""
    cases = (
        Case.objects.visible_to(user)
        .filter(Q(satisfaction=Satisfaction.UNSATISFIED) | Q(reopen_count__gt=0))
        .select_related("lead_department", "category", "street")
        .order_by("lead_department__name", "category__name", "-updated_at")[:limit]
    )
    groups: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for case in cases:
        department = case.lead_department.name if case.lead_department else "—"
        topic = case.category.name if case.category else "—"
        state, due = second_round(case)
        groups.setdefault(department, {}).setdefault(topic, []).append(
            {"case": case, "round_state": state, "round_due": due}
        )
    return [
        DepartmentGroup(name, [Topic(t, rows) for t, rows in sorted(topics.items())])
        for name, topics in sorted(groups.items())
    ]


@page_view("unsatisfied")
def unsatisfied(request: HttpRequest) -> HttpResponse:
    """群众不满意诉求集中攻坚: by department, then topic, with the second round's state and deadline."""
    return render(request, "web/unsatisfied.html", {"groups": unsatisfied_groups(request.user)})
