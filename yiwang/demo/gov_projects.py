"""The demo's key projects (攻坚项目): ten projects across the district's streets, each with nodes
whose deadlines are placed around *today* so that the dashboard shows every colour, monthly KPI
values, and one open supervision notice. Everything goes through ``governance.projects.actions``
and is flagged ``is_demo=True``; names are our own, fictitious.

Needs the district, departments and users steps (the personas ``leader``, ``handler_cg``,
``handler_water`` and ``handler_cjl``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from shapely.geometry import shape

from yiwang.core.calendar import get_calendar
from yiwang.governance.projects import actions
from yiwang.governance.projects.models import Evidence, KpiKind, Project
from yiwang.governance.projects.status import period_start, today
from yiwang.grids.models import Division, DivisionLevel, Grid
from yiwang.people.models import User

if TYPE_CHECKING:
    from yiwang.demo.builder import DemoContext

# (name, description, KPI kind, KPI name, unit, goal) — fictitious projects of kinds the district runs.
PROJECTS = (
    (
        "滨海大道综合整治工程",
        "道路拓宽、雨污分流与沿线立面整治",
        KpiKind.INVESTMENT,
        "完成投资",
        "万元",
        8000,
    ),
    (
        "老旧小区改造提升（一期）",
        "12 个老旧小区的管网、屋面和加装电梯",
        KpiKind.INVESTMENT,
        "完成投资",
        "万元",
        5200,
    ),
    ("海洋新材料产业园招商", "园区标准厂房招商与企业入驻", KpiKind.NEW_TAXPAYERS, "新增纳税人", "户", 40),
    ("港区物流园提质增效", "物流企业入园与仓储设施升级", KpiKind.OUTPUT, "物流产值", "万元", 36000),
    ("农村人居环境整治", "村庄道路硬化、厕所改造和垃圾分类", KpiKind.INVESTMENT, "完成投资", "万元", 2600),
    ("总部经济楼宇招商", "商务楼宇招商、企业注册落地", KpiKind.TAX, "税收", "万元", 9000),
    ("河道综合治理工程", "河道清淤、护岸建设与水质提升", KpiKind.INVESTMENT, "完成投资", "万元", 4300),
    ("智慧农业示范基地", "大棚改造、水肥一体化和品牌建设", KpiKind.OUTPUT, "农业产值", "万元", 12000),
    ("商圈夜经济提升行动", "街区亮化、业态调整与市场主体培育", KpiKind.TAX, "税收", "万元", 3000),
    ("学校扩容建设项目", "新建教学楼与运动场，新增学位", KpiKind.INVESTMENT, "完成投资", "万元", 6800),
)
# (name, unit, target) of each project's nodes.
NODES = (
    ("前期手续办结", "项", 6),
    ("主体工程推进", "%", 100),
    ("配套设施完成", "项", 8),
    ("竣工验收", "项", 1),
)
# Per project: its fate. red / yellow / green while in progress; draft and completed for variety.
PLAN = ("red", "yellow", "green", "green", "red", "yellow", "green", "draft", "completed", "green")


def _persona(username: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        raise RuntimeError(f"演示用户 {username} 不存在：请先生成用户 / demo user {username} is missing")
    return user


def _inside(geojson: dict[str, Any]) -> tuple[float, float]:
    point = shape(geojson.get("geometry", geojson)).representative_point()
    return round(point.x, 6), round(point.y, 6)


def _point(division: Division) -> tuple[float | None, float | None]:
    """A point inside the street: from its boundary, else from one of its grids."""
    if division.boundary:
        return _inside(division.boundary)
    grid = Grid.objects.filter(community__street=division).order_by("code").first()
    if grid is None:
        return None, None
    if grid.center_lng and grid.center_lat:
        return grid.center_lng, grid.center_lat
    return _inside(grid.boundary) if grid.boundary else (None, None)


def _workday_after(start: dt.date, workdays: int) -> dt.date:
    cal = get_calendar()
    day = start
    while workdays > 0:
        day += dt.timedelta(days=1)
        if cal.is_workday(day):
            workdays -= 1
    return day


@transaction.atomic
def build_projects(ctx: DemoContext) -> str:
    """The ``projects`` step of ``yiwang demo``."""
    rng = ctx.rng("projects")
    leader = _persona("leader")
    handlers = [_persona(u) for u in ("handler_cg", "handler_cjl", "handler_water")]
    streets = list(Division.objects.filter(level=DivisionLevel.STREET).order_by("code"))
    if not streets:
        raise RuntimeError("演示区划不存在：请先生成区划 / build the district first")
    on = today()
    colours: dict[str, int] = {}
    node_count = 0
    for i, (name, description, kind, kpi_name, unit, goal) in enumerate(PROJECTS):
        fate = PLAN[i % len(PLAN)]
        street = streets[(i * 7) % len(streets)]
        owner = handlers[i % len(handlers)]
        assert owner.department is not None
        start = on - dt.timedelta(days=150 + 10 * i)
        end = on + dt.timedelta(days=90 + 15 * i)
        lng, lat = _point(street)
        project = actions.create_project(
            leader,
            name=f"{street.name}{name}",
            description=description,
            division=street,
            owner=owner,
            owner_department=owner.department,
            start_date=start,
            end_date=end,
            lng=lng,
            lat=lat,
            code=f"GJ-DEMO-{i + 1:02d}",
            is_demo=True,
        )
        deadlines = [
            on - dt.timedelta(days=60),  # done long ago
            # the node that sets the colour: overdue (red), due in 3 working days (yellow), or later
            on - dt.timedelta(days=6)
            if fate == "red"
            else _workday_after(on, 3)
            if fate == "yellow"
            else on + dt.timedelta(days=40),
            on + dt.timedelta(days=60),
            end,
        ]
        nodes = []
        for n, ((node_name, node_unit, target), deadline) in enumerate(zip(NODES, deadlines, strict=True)):
            responsible = handlers[(i + n) % len(handlers)]
            nodes.append(
                actions.add_node(
                    leader,
                    project,
                    name=node_name,
                    deadline=deadline,
                    target_value=target,
                    unit=node_unit,
                    responsible=responsible,
                )
            )
        node_count += len(nodes)
        indicator = actions.add_kpi(leader, project, kind=kind, name=kpi_name, goal=goal, unit=unit)
        if fate == "draft":
            colours["draft"] = colours.get("draft", 0) + 1
            continue
        actions.approve_project(leader, project)
        actions.start_project(owner, project)
        actions.start_node(nodes[0].responsible, nodes[0])
        actions.complete_node(nodes[0].responsible, nodes[0], note="手续已全部办结")
        actions.start_node(nodes[1].responsible, nodes[1])
        share = {"red": 0.4, "yellow": 0.5}.get(fate, 0.9)
        actions.report_progress(
            nodes[1].responsible,
            project,
            node=nodes[1],
            value=Decimal(round(nodes[1].target_value * Decimal(str(share)))),
            text=f"{nodes[1].name}：按计划推进，已完成约 {int(share * 100)}%。",
        )
        # Monthly KPI values from the start month to the last full month.
        month = period_start(start, "month")
        while month < period_start(on, "month"):
            value = Decimal(goal) / 8 * Decimal(str(rng.uniform(0.5, 1.2)))
            actions.record_kpi_value(owner, indicator, period=month, value=value.quantize(Decimal("0.01")))
            month = (month + dt.timedelta(days=32)).replace(day=1)
        if fate == "completed":
            for node in nodes[1:]:
                node.refresh_from_db()
                if node.status == "pending":
                    actions.start_node(leader, node)
                actions.complete_node(leader, node)
            actions.complete_project(leader, project, note="全部节点完成，通过验收")
        colours[fate] = colours.get(fate, 0) + 1
    red = Project.objects.filter(is_demo=True, code="GJ-DEMO-01").first()
    if red is not None:
        actions.issue_supervision(
            leader,
            red,
            notice="主体工程节点已逾期，请责任单位说明原因并提出整改措施。",
            reply_due=_workday_after(on, 3),
            node=red.nodes.order_by("seq")[1],
        )
    total = Project.objects.filter(is_demo=True).count()
    summary = " / ".join(f"{k} {v}" for k, v in sorted(colours.items()))
    return f"{total} projects ({summary}), {node_count} nodes, 1 supervision"


@transaction.atomic
def delete_projects() -> None:
    """Delete what :func:`build_projects` made (every demo project, with its nodes, reports, files)."""
    for item in Evidence.objects.filter(report__project__is_demo=True):
        item.file.delete(save=False)
    Project.objects.filter(is_demo=True).delete()
