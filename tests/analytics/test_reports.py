"""Weekly and monthly Excel reports: periods, requests, the background build and who sees them."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from tests.world import World
from yiwang.analytics import metrics, reports, rollup
from yiwang.analytics.models import Report, ReportKind, ReportStatus
from yiwang.cases import actions
from yiwang.cases.errors import InvalidCaseInput
from yiwang.cases.models import Case

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 3, 9)
TODAY = dt.date(2026, 3, 20)
TZ = ZoneInfo("Asia/Shanghai")


def _rollup(world: World, day: dt.date, street: int, department: int, **counts: int) -> None:
    key = (day, world.district.pk, street, None, None, None, "hotline_12345", department)
    rollup.add({key: Counter(counts)})


@pytest.fixture
def week(world: World) -> World:
    _rollup(world, MONDAY, world.street_a.pk, world.dept_a.pk, registered=5, dispatched=4, signed_in_time=3,
            called_back=4, solved=3, satisfied=2, basically_satisfied=1, closed=4)  # fmt: skip
    _rollup(world, MONDAY + dt.timedelta(days=2), world.street_b.pk, world.dept_b.pk, registered=3, dispatched=2,
            signed_in_time=2, called_back=2, solved=1, satisfied=1, unsatisfied=1, closed=2)  # fmt: skip
    _rollup(
        world, MONDAY + dt.timedelta(days=7), world.street_a.pk, world.dept_a.pk, registered=99
    )  # next week
    return world


def _sheet_rows(content: bytes, title: str) -> list[tuple[object, ...]]:
    return list(load_workbook(io.BytesIO(content))[title].iter_rows(values_only=True))


def test_periods_are_monday_to_sunday_weeks_and_calendar_months() -> None:
    assert reports.period_of(ReportKind.WEEKLY, dt.date(2026, 3, 12)) == (MONDAY, dt.date(2026, 3, 15))
    assert reports.period_of(ReportKind.MONTHLY, dt.date(2026, 2, 14)) == (
        dt.date(2026, 2, 1),
        dt.date(2026, 2, 28),
    )
    assert reports.last_complete_period(ReportKind.MONTHLY, dt.date(2026, 1, 5)) == (
        dt.date(2025, 12, 1),
        dt.date(2025, 12, 31),
    )
    assert reports.last_complete_period(ReportKind.WEEKLY, MONDAY) == (
        dt.date(2026, 3, 2),
        dt.date(2026, 3, 8),
    )


def test_an_unknown_kind_and_a_future_period_are_refused(world: World) -> None:
    with pytest.raises(InvalidCaseInput):
        reports.period_of("daily", MONDAY)
    with pytest.raises(InvalidCaseInput, match="尚未开始"):
        reports.request_report(
            actor=world.leader, kind=ReportKind.WEEKLY, day=TODAY + dt.timedelta(days=7), today=TODAY
        )
    assert not Report.objects.exists()


def test_asking_twice_returns_the_first_request_and_queues_one_build(
    world: World, django_capture_on_commit_callbacks: mock.Mock
) -> None:
    with mock.patch("yiwang.analytics.tasks.generate_report") as task:
        with django_capture_on_commit_callbacks(execute=True):
            first = reports.request_report(
                actor=world.leader, kind=ReportKind.WEEKLY, day=MONDAY, today=TODAY
            )
        with django_capture_on_commit_callbacks(execute=True):
            again = reports.request_report(
                actor=world.leader, kind=ReportKind.WEEKLY, day=MONDAY + dt.timedelta(days=3), today=TODAY
            )
    assert again.pk == first.pk
    assert (first.period_start, first.period_end) == (MONDAY, dt.date(2026, 3, 15))
    task.enqueue.assert_called_once_with(first.pk)


def test_the_workbook_has_the_rollup_numbers_and_charts(week: World) -> None:
    report = reports.request_report(actor=week.leader, kind=ReportKind.WEEKLY, day=MONDAY, today=TODAY)
    assert reports.generate(report.pk)
    report.refresh_from_db()
    assert report.status == ReportStatus.DONE
    assert report.file.name.endswith(".xlsx")
    content = report.file.read()

    overview = {r[0]: r[1] for r in _sheet_rows(content, "概览") if r[0]}
    assert overview["立案数"] == 8  # next week's 99 are not in this week's report
    assert overview["派遣数"] == 6
    # 响应率 5/6, 满意率 (3 + 0.9·1)/6 with the default weights (docs/metrics.md).
    assert overview["响应率（%）"] == round(100 * 5 / 6, 2)
    assert overview["满意率（%）"] == round(100 * 3.9 / 6, 2)

    by_street = {r[0]: r for r in _sheet_rows(content, "三率-街道")[1:]}
    expected = {
        r.name: r for r in metrics.three_rates(start=MONDAY, end=report.period_end, group_by="street")
    }
    assert set(by_street) == set(expected)
    for name, row in expected.items():
        assert by_street[name][6] == round(row.score or 0, 2)

    trend = _sheet_rows(content, "每日趋势")
    assert len(trend) == 1 + 7
    assert trend[1][1] == 5
    assert trend[3][1] == 3
    workbook = load_workbook(io.BytesIO(content))
    assert workbook["三率-街道"]._charts
    assert workbook["每日趋势"]._charts


def test_a_second_run_of_the_same_job_builds_nothing(week: World) -> None:
    report = reports.request_report(actor=week.leader, kind=ReportKind.WEEKLY, day=MONDAY, today=TODAY)
    assert reports.generate(report.pk)
    name = Report.objects.get(pk=report.pk).file.name
    assert not reports.generate(report.pk)
    assert Report.objects.get(pk=report.pk).file.name == name


def test_a_failed_build_is_recorded_and_asking_again_requeues_it(world: World) -> None:
    report = reports.request_report(actor=world.leader, kind=ReportKind.MONTHLY, day=MONDAY, today=TODAY)
    with mock.patch("yiwang.analytics.reports.build_workbook", side_effect=RuntimeError("disk full")):
        assert not reports.generate(report.pk)
    report.refresh_from_db()
    assert report.status == ReportStatus.FAILED
    assert "disk full" in report.error
    again = reports.request_report(actor=world.leader, kind=ReportKind.MONTHLY, day=MONDAY, today=TODAY)
    assert again.pk == report.pk
    assert again.status == ReportStatus.PENDING
    assert reports.generate(report.pk)


def test_a_report_whose_worker_died_is_queued_again(world: World) -> None:
    report = reports.request_report(actor=world.leader, kind=ReportKind.WEEKLY, day=MONDAY, today=TODAY)
    Report.objects.filter(pk=report.pk).update(
        status=ReportStatus.RUNNING, started_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    )
    with mock.patch("yiwang.analytics.tasks.generate_report") as task:
        assert reports.requeue_stale() == 1
    task.enqueue.assert_called_once_with(report.pk)
    assert reports.generate(report.pk)


def test_scheduled_reports_are_district_wide_and_idempotent(world: World) -> None:
    first = reports.request_scheduled_reports(today=TODAY)
    again = reports.request_scheduled_reports(today=TODAY)
    assert [r.pk for r in first] == [r.pk for r in again]
    assert {(r.kind, r.period_start) for r in first} == {
        (ReportKind.WEEKLY, MONDAY),
        (ReportKind.MONTHLY, dt.date(2026, 2, 1)),
    }
    assert all(r.requested_by is None for r in first)


def test_people_see_their_own_reports_and_district_wide_ones_only_with_a_district_grant(world: World) -> None:
    mine = reports.request_report(actor=world.dispatcher_a, kind=ReportKind.WEEKLY, day=MONDAY, today=TODAY)
    system = reports.request_scheduled_reports(today=TODAY)[0]
    assert set(Report.objects.visible_to(world.dispatcher_a)) == {mine}  # a street dispatcher
    assert system in Report.objects.visible_to(world.leader)
    assert mine not in Report.objects.visible_to(world.leader)
    assert not Report.objects.visible_to(world.outsider).exists()
    assert system in Report.objects.visible_to(world.admin)
    assert mine not in Report.objects.visible_to(world.admin)


def _case(world: World, title: str, phone: str, hours: int) -> Case:
    return actions.create_case(
        actor=world.operator,
        channel="hotline_12345",
        category="SX-06001",
        title=title,
        description=title + "，请尽快处理。",
        lng=120.005,
        lat=35.905,
        reporter_phone=phone,
        at=dt.datetime.combine(MONDAY, dt.time(9), tzinfo=TZ) + dt.timedelta(hours=hours),
    )


def test_the_workbook_lists_the_periods_hotspots_with_their_cases_within_the_scope(world: World) -> None:
    a = _case(world, "翠湖花园小区楼下餐馆油烟扰民", "13800000001", 2)
    b = _case(world, "翠湖花园小区夜宵摊油烟噪音扰民", "13800000002", 30)
    _case(world, "咨询社保卡补办", "13800000003", 40)
    _case(world, "翠湖花园小区餐馆油烟扰民", "13800000004", 24 * 8)  # next week
    report = reports.request_report(actor=world.leader, kind=ReportKind.WEEKLY, day=MONDAY, today=TODAY)
    assert reports.generate(report.pk)
    content = Report.objects.get(pk=report.pk).file.read()

    spots = _sheet_rows(content, "热点问题")
    assert spots[0][:2] == ("热度排名", "热度指数")
    assert [(r[0], r[6], r[7]) for r in spots[1:]] == [(1, 2, 2)]  # rank, cases, reporters
    assert "翠湖花园" in f"{spots[1][4]}{spots[1][5]}"
    detail = _sheet_rows(content, "热点问题明细")
    assert sorted((r[0], r[1], r[4]) for r in detail[1:]) == sorted(
        (1, c.number, world.street_a.name) for c in (a, b)
    )
    assert all("138" not in str(cell) for row in detail for cell in row)  # no reporter

    # The same week for a dispatcher of the other street: none of those cases, so no hotspot.
    other = reports.request_report(actor=world.dispatcher_b, kind=ReportKind.WEEKLY, day=MONDAY, today=TODAY)
    assert reports.generate(other.pk)
    content = Report.objects.get(pk=other.pk).file.read()
    assert _sheet_rows(content, "热点问题")[1:] == [("本期无热点问题（同一问题至少两件）",) + (None,) * 7]
    assert _sheet_rows(content, "热点问题明细")[1:] == []
