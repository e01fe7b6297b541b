"""The dashboard (issue 6) reads the rollups: its numbers equal the hand-computed metrics of a small
fixture (tests/web/dash_helpers.py), the Excel export holds the same rows, the area is scoped, and
the unsatisfied-demand board groups by department and topic with the second round's state."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from tests.web.dash_helpers import MARCH_QUERY, rollup_example
from tests.world import World
from yiwang.analytics.models import MetricSettings
from yiwang.cases import actions
from yiwang.cases.choices import Satisfaction
from yiwang.cases.models import Case
from yiwang.web.periods import parse_period


def _client(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def _tables(user: object, query: dict[str, str]) -> dict[str, Any]:
    response = _client(user).get(reverse("web:dashboard"), query)
    assert response.status_code == 200
    return {t.key: t for t in response.context["tables"]}


def test_three_rates_by_street_equal_the_hand_computed_values(world: World) -> None:
    rollup_example(world)
    rows = {r[0]: r for r in _tables(world.leader, MARCH_QUERY)["street_rates"].rows}
    # name, dispatched, signed in time, called back, solved, satisfied, basic, 响应 解决 满意 综合 等级
    assert rows["长江路街道"] == ["长江路街道", 10, 8, 10, 6, 5, 3, 80.0, 60.0, 77.0, 68.8, "C"]
    assert rows["大场镇"] == ["大场镇", 4, 4, 0, 0, 0, 0, 100.0, None, None, 100.0, "A"]


def test_three_rates_by_department_and_grid_and_the_rankings(world: World) -> None:
    rollup_example(world)
    tables = _tables(world.leader, MARCH_QUERY)
    departments = {r[0]: r for r in tables["department_rates"].rows}
    assert departments[world.dept_a.name][7:] == [80.0, 60.0, 77.0, 68.8, "C"]
    grids = {r[0]: r for r in tables["grid_rates"].rows}
    assert grids[world.grid_b1.name][10] == 100.0
    assert [r[:3] for r in tables["department_ranking"].rows] == [
        [1, world.dept_b.name, 100.0],
        [2, world.dept_a.name, 68.8],
    ]
    assert [r[1] for r in tables["street_ranking"].rows] == ["大场镇", "长江路街道"]


def test_summary_categories_and_channels(world: World) -> None:
    cat_a, cat_b = rollup_example(world)
    response = _client(world.leader).get(reverse("web:dashboard"), MARCH_QUERY)
    summary = dict(response.context["summary"])
    assert summary["立案数"] == 16
    assert summary["结案数"] == 6
    assert summary["超时数"] == 1
    assert summary["响应率%"] == round(100 * 12 / 14, 1)
    assert summary["综合成绩"] == round(100 * (0.1 * 12 / 14 + 0.5 * 0.6 + 0.4 * 0.77), 1)
    tables = {t.key: t for t in response.context["tables"]}
    # name, registered, closed, called back, unsatisfied, overdue, 满意率
    assert tables["categories"].rows == [
        [cat_a.name, 12, 6, 10, 2, 1, 77.0],
        [cat_b.name, 4, 0, 0, 0, 0, None],
    ]
    assert tables["channels"].rows == [
        ["12345热线", 12, 6, 10, 2, 1, 77.0],
        ["网站/小程序", 4, 0, 0, 0, 0, None],
    ]


def test_trend_is_daily_for_a_month_and_weekly_for_longer(world: World) -> None:
    rollup_example(world)
    daily = _tables(world.leader, MARCH_QUERY)["trend"].rows
    assert len(daily) == 31
    assert {r[0]: r[1] for r in daily if r[1]} == {"2026-03-11": 12, "2026-03-18": 4}
    half_year = {"period": "custom", "start": "2026-01-01", "end": "2026-06-30"}
    weekly = _tables(world.leader, half_year)["trend"].rows
    assert {r[0]: r[1] for r in weekly if r[1]} == {"2026-03-09": 12, "2026-03-16": 4}
    assert weekly[0][0] == "2025-12-29"  # the Monday of the week holding 1 January


def test_weights_are_read_from_metric_settings(world: World) -> None:
    rollup_example(world)
    cfg = MetricSettings.current()
    cfg.response_weight, cfg.solve_weight, cfg.satisfaction_weight = (
        Decimal("0.3"),
        Decimal("0.35"),
        Decimal("0.35"),
    )
    cfg.save()
    rows = {r[0]: r for r in _tables(world.leader, MARCH_QUERY)["street_rates"].rows}
    assert rows["长江路街道"][10] == round(100 * (0.3 * 0.8 + 0.35 * 0.6 + 0.35 * 0.77), 1)


def test_dashboard_is_scoped_to_the_visible_area(world: World) -> None:
    rollup_example(world)
    tables = _tables(world.dispatcher_a, MARCH_QUERY)
    assert [r[0] for r in tables["street_rates"].rows] == ["长江路街道"]
    assert all(r[0] != world.grid_b1.name for r in tables["grid_rates"].rows)


def test_a_custom_range_ending_before_it_starts_is_refused_with_a_message(world: World) -> None:
    response = _client(world.leader).get(
        reverse("web:dashboard"), {"period": "custom", "start": "2026-03-31", "end": "2026-03-01"}
    )
    assert response.status_code == 400
    assert "结束日期早于开始日期" in response.content.decode()
    export = _client(world.leader).get(reverse("web:dashboard_export"), {"period": "custom", "start": "x"})
    assert export.status_code == 400


def test_period_presets() -> None:
    import datetime as dt

    today = dt.date(2026, 3, 15)
    month = parse_period({}, today)
    assert (month.kind, month.start, month.end) == ("month", dt.date(2026, 3, 1), today)
    last = parse_period({"period": "last_month"}, today)
    assert (last.start, last.end) == (dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    year = parse_period({"period": "year"}, today)
    assert (year.start, year.end) == (dt.date(2026, 1, 1), today)


def test_export_has_one_sheet_per_table_with_the_same_rows(world: World) -> None:
    rollup_example(world)
    tables = list(_tables(world.leader, MARCH_QUERY).values())
    response = _client(world.leader).get(reverse("web:dashboard_export"), MARCH_QUERY)
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    assert len(book.worksheets) == len(tables)
    for table, sheet in zip(tables, book.worksheets, strict=True):
        assert sheet.title == table.title[:31]
        values = [list(r) for r in sheet.iter_rows(values_only=True)]
        assert values[0] == [str(h) for h in table.header]
        assert values[1:] == table.rows, table.key


def test_the_page_shows_the_lowest_scoring_grids_and_the_export_all_of_them(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from yiwang.web.views import dashboard

    rollup_example(world)
    monkeypatch.setattr(dashboard, "GRID_ROWS", 1)
    response = _client(world.leader).get(reverse("web:dashboard"), MARCH_QUERY)
    table = {t.key: t for t in response.context["tables"]}["grid_rates"]
    assert len(table.rows) == 1
    assert table.count > 1
    assert "页面显示前 1 行" in response.content.decode()
    export = _client(world.leader).get(reverse("web:dashboard_export"), MARCH_QUERY)
    book = load_workbook(io.BytesIO(export.content))
    sheet = next(ws for ws in book.worksheets if ws.title == table.title[:31])
    scores = [row[10] for row in sheet.iter_rows(min_row=2, values_only=True) if row[10] is not None]
    assert sheet.max_row - 1 == table.count
    assert scores == sorted(scores)  # lowest score first
    assert sheet.cell(row=2, column=1).value == table.rows[0][0]  # the page's row is the lowest


def test_overdue_list_and_export_neutralise_formulas(world: World) -> None:
    from tests.web.conftest import new_case

    case = new_case(world, title="=HYPERLINK(1)")
    actions.dispatch_case(case, actor=world.dispatcher_a, lead=world.dept_a)
    Case.objects.filter(pk=case.pk).update(accept_due_at="2020-01-01T00:00:00Z")
    rows = _tables(world.leader, MARCH_QUERY)["overdue"].rows
    assert [r[0] for r in rows] == [case.number]
    book = load_workbook(io.BytesIO(_client(world.leader).get(reverse("web:dashboard_export")).content))
    assert book["当前超时案件"]["B2"].value == "'=HYPERLINK(1)"


def test_overdue_list_puts_unsigned_cases_first_then_late_handling_longest_overdue_first(
    world: World,
) -> None:
    from tests.web.conftest import new_case

    now = timezone.now()
    late_handling, unsigned_newer, unsigned_older, suspended, on_time = (new_case(world) for _ in range(5))
    due = {
        late_handling: {"accept_due_at": None, "resolve_due_at": now - dt.timedelta(days=9)},
        unsigned_newer: {"accept_due_at": now - dt.timedelta(days=1)},
        unsigned_older: {"accept_due_at": now - dt.timedelta(days=2)},
        suspended: {"accept_due_at": now - dt.timedelta(days=5), "suspended_at": now},
        on_time: {"accept_due_at": now + dt.timedelta(days=1)},
    }
    for case, fields in due.items():
        Case.objects.filter(pk=case.pk).update(**fields)
    rows = _tables(world.leader, MARCH_QUERY)["overdue"].rows
    assert [r[0] for r in rows] == [unsigned_older.number, unsigned_newer.number, late_handling.number]


# --- 群众不满意诉求集中攻坚 ------------------------------------------------------------------------------
@pytest.fixture
def unsatisfied_case(world: World, in_progress: Case) -> Case:
    case = actions.resolve_case(in_progress, actor=world.handler_a, result="已修复")
    case = actions.verify_case(case, actor=world.dispatcher_a, passed=True)
    return actions.record_callback(
        case, actor=world.operator, contacted=True, solved=False, satisfaction=Satisfaction.UNSATISFIED
    )


def test_unsatisfied_board_groups_by_department_and_topic(world: World, unsatisfied_case: Case) -> None:
    response = _client(world.leader).get(reverse("web:unsatisfied"))
    [group] = response.context["groups"]
    assert group.name == world.dept_a.name
    [topic] = group.topics
    assert topic.name == unsatisfied_case.category.name
    [row] = topic.cases
    assert row["case"].pk == unsatisfied_case.pk
    assert row["round_state"] == "待启动二次办理"
    assert row["round_due"] is None


def test_unsatisfied_board_shows_the_second_rounds_state_and_deadline(
    world: World, unsatisfied_case: Case
) -> None:
    case = actions.reopen_case(unsatisfied_case, actor=world.dispatcher_a, lead=world.dept_a)
    response = _client(world.leader).get(reverse("web:unsatisfied"))
    [row] = response.context["groups"][0].topics[0].cases
    assert row["round_state"] == "二次办理中"
    assert row["round_due"] == case.accept_due_at
    html = response.content.decode()
    assert "二次办理中" in html
    assert case.number in html
    assert _client(world.dispatcher_b).get(reverse("web:unsatisfied")).context["groups"] == []
