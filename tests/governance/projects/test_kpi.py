"""KPI attainment on a hand-computed fixture and the dashboards."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from tests.governance.projects.conftest import TODAY, ProjectWorld
from yiwang.governance.projects import actions
from yiwang.governance.projects.models import KpiKind, PeriodKind
from yiwang.governance.projects.status import attainment, dashboard, period_end, period_start


def test_attainment_is_cumulative_value_over_goal(pw: ProjectWorld) -> None:
    tax = actions.add_kpi(
        pw.world.leader, pw.project, kind=KpiKind.TAX, name="税收", goal="1200", unit="万元"
    )
    for day, value in (
        (dt.date(2026, 1, 20), "100"),
        (dt.date(2026, 2, 3), "250.5"),
        (dt.date(2026, 3, 1), "300"),
    ):
        actions.record_kpi_value(pw.world.handler_a, tax, period=day, value=value)
    result = attainment(tax)
    # 100 + 250.5 + 300 = 650.5; 650.5 / 1200 = 54.208… % → 54.2 %
    assert result.total == Decimal("650.50")
    assert result.percent == Decimal("54.2")
    assert [label for label, _ in result.periods] == ["2026-01", "2026-02", "2026-03"]


def test_recording_a_period_again_corrects_it(pw: ProjectWorld) -> None:
    kpi = actions.add_kpi(
        pw.world.leader,
        pw.project,
        kind=KpiKind.NEW_TAXPAYERS,
        name="新增纳税人",
        goal="40",
        unit="户",
        period_kind=PeriodKind.QUARTER,
    )
    actions.record_kpi_value(pw.world.handler_a, kpi, period=dt.date(2026, 2, 15), value="8")
    row = actions.record_kpi_value(pw.world.handler_a, kpi, period=dt.date(2026, 1, 2), value="10")
    assert row.period_start == dt.date(2026, 1, 1)
    assert attainment(kpi).total == 10
    assert attainment(kpi).percent == Decimal("25.0")
    assert attainment(kpi).periods == [("2026Q1", Decimal("10.00"))]


def test_periods_of_months_and_quarters() -> None:
    assert period_start(dt.date(2026, 11, 30), PeriodKind.QUARTER) == dt.date(2026, 10, 1)
    assert period_end(dt.date(2026, 10, 1), PeriodKind.QUARTER) == dt.date(2026, 12, 31)
    assert period_end(dt.date(2026, 2, 1), PeriodKind.MONTH) == dt.date(2026, 2, 28)


def test_dashboard_counts_colours_overdue_nodes_and_supervision(pw: ProjectWorld) -> None:
    actions.add_node(
        pw.world.leader,
        pw.project,
        name="已逾期节点",
        deadline=dt.date(2026, 2, 27),
        target_value="5",
        responsible=pw.world.handler_b,
        responsible_department=pw.world.dept_b,
    )
    actions.issue_supervision(pw.world.leader, pw.project, notice="请说明逾期原因", reply_due=TODAY)
    kpi = actions.add_kpi(pw.world.leader, pw.project, kind=KpiKind.OUTPUT, name="产值", goal="500")
    actions.record_kpi_value(pw.world.handler_a, kpi, period=TODAY, value="125")
    board = dashboard(pw.world.leader)
    assert board.by_colour == {"green": 0, "yellow": 0, "red": 1}
    assert [n.name for n in board.overdue_nodes] == ["已逾期节点"]
    assert board.open_supervisions == 1
    assert [(k.indicator.name, k.percent) for k in board.kpis] == [("产值", Decimal("25.0"))]
    assert [(u.department, u.red) for u in board.units] == [(pw.world.dept_a, 1)]


def test_unit_dashboard_includes_projects_where_the_unit_holds_a_node(pw: ProjectWorld) -> None:
    assert len(dashboard(pw.world.leader, unit=pw.world.dept_b).rows) == 1
    from tests.factories import DepartmentFactory

    assert dashboard(pw.world.leader, unit=DepartmentFactory(code="QT")).rows == []


def test_dashboard_shows_only_visible_projects(pw: ProjectWorld) -> None:
    assert dashboard(pw.world.outsider).rows == []
