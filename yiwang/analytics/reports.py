"""Weekly and monthly reports as Excel workbooks with charts (issue 7), built from the rollups,
and the period's hotspots (issue 5), mined from the texts of the cases the report's scope holds.

A report is asked for with :func:`request_report` (a person, over their own scope) or by the
scheduler (:func:`request_scheduled_reports`, district-wide); the worker then runs
:func:`generate`, which claims the row first so that a retried or doubled job builds the file once.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.http import FileResponse
from django.utils import timezone

from yiwang.analytics import metrics, queries
from yiwang.analytics.models import (
    MILESTONES,
    PERIOD_START,
    DailyRollup,
    MetricSettings,
    Report,
    ReportKind,
    ReportStatus,
)
from yiwang.cases.errors import InvalidCaseInput
from yiwang.core.audit import record
from yiwang.core.models_audit import AuditAction

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

    from yiwang.dispatch.hotspots import Hotspot

# openpyxl is imported where a workbook is built: a web process that never builds one saves its
# memory (issue 7's 300 MB per web process).

logger = logging.getLogger(__name__)

# Column titles of the milestone counts, in the order of the flow (docs/metrics.md).
MILESTONE_TITLES: dict[str, str] = {
    m: str(getattr(DailyRollup._meta.get_field(m), "verbose_name", m)) for m in MILESTONES
}
RATE_TITLES = {"response": "响应率", "solve": "解决率", "satisfaction": "满意率"}
REPORT_HOTSPOTS = 10  # the hottest groups a report lists
EVALUATION_TITLES = {
    "close_rate": "结案率",
    "on_time_close_rate": "按期结案率",
    "on_time_resolve_rate": "按期处置率",
    "rework_rate": "返工率",
}


# --- periods ------------------------------------------------------------------------------------


def period_of(kind: str, day: dt.date) -> tuple[dt.date, dt.date]:
    """The week (Monday–Sunday) or the calendar month that contains ``day``."""
    if kind == ReportKind.WEEKLY:
        start = PERIOD_START["week"](day)
        return start, start + dt.timedelta(days=6)
    if kind == ReportKind.MONTHLY:
        start = PERIOD_START["month"](day)
        next_month = (start + dt.timedelta(days=32)).replace(day=1)
        return start, next_month - dt.timedelta(days=1)
    raise InvalidCaseInput(f"未知的报表类型：{kind}", f"Unknown report kind: {kind}", field="kind")


def last_complete_period(kind: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """The most recent week or month that has ended before ``today``."""
    start, _end = period_of(kind, today)
    return period_of(kind, start - dt.timedelta(days=1))


# --- asking for a report ------------------------------------------------------------------------


def request_report(*, actor: Any, kind: str, day: dt.date, today: dt.date | None = None) -> Report:
    """Ask for the report of the period containing ``day``, computed over the actor's scope.

    A period that has not started yet is refused; asking twice returns the first request (a failed
    one is queued again). The file is built by the worker (:func:`generate`)."""
    start, end = period_of(kind, day)
    today = today or timezone.localdate()
    if start > today:
        raise InvalidCaseInput("报表期间尚未开始", "The report period has not started yet", field="day")
    return _queue(kind=kind, start=start, end=end, requested_by=actor)


def request_scheduled_reports(today: dt.date | None = None) -> list[Report]:
    """The scheduler's district-wide reports: last week's and last month's (idempotent)."""
    today = today or timezone.localdate()
    reports = []
    for kind in ReportKind.values:
        start, end = last_complete_period(kind, today)
        reports.append(_queue(kind=kind, start=start, end=end, requested_by=None))
    return reports


def _queue(*, kind: str, start: dt.date, end: dt.date, requested_by: Any) -> Report:
    from yiwang.analytics.tasks import generate_report

    try:
        with transaction.atomic():
            report, created = Report.objects.get_or_create(
                kind=kind, period_start=start, requested_by=requested_by, defaults={"period_end": end}
            )
    except IntegrityError:  # a concurrent request for the same period won the insert
        report, created = Report.objects.get(kind=kind, period_start=start, requested_by=requested_by), False
    if not created and report.status == ReportStatus.FAILED:
        Report.objects.filter(pk=report.pk, status=ReportStatus.FAILED).update(
            status=ReportStatus.PENDING, error=""
        )
        report.refresh_from_db()
        created = True
    if created:
        pk = report.pk
        transaction.on_commit(lambda: generate_report.enqueue(pk))
    return report


# --- handing the file out -----------------------------------------------------------------------

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def download_response(report: Report, *, actor: Any, ip: str) -> FileResponse:
    """The finished workbook as an attachment; every download is audit-logged as an export."""
    record(AuditAction.EXPORT, actor=actor, object=report, ip=ip, data={"report": report.kind})
    return FileResponse(
        report.file.open("rb"), as_attachment=True, filename=report.filename, content_type=XLSX
    )


# --- building the file --------------------------------------------------------------------------


def _claim(report_id: int) -> Report | None:
    """Move a pending report to running; None if another worker has it or it is done already."""
    claimed = Report.objects.filter(pk=report_id, status=ReportStatus.PENDING).update(
        status=ReportStatus.RUNNING, started_at=timezone.now()
    )
    return Report.objects.select_related("requested_by").get(pk=report_id) if claimed else None


def generate(report_id: int, *, progress: Callable[[str], None] | None = None) -> bool:
    """Build and store the workbook of a pending report; False when there was nothing to do.

    A failure marks the report failed with the reason (asking again re-queues it). A worker that
    died while running leaves the row ``running``: :func:`requeue_stale` puts it back."""
    report = _claim(report_id)
    if report is None:
        return False
    try:
        content = build_workbook(report, progress=progress)
    except Exception as exc:
        logger.exception("report %s failed", report_id)
        Report.objects.filter(pk=report_id).update(
            status=ReportStatus.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        return False
    report.file.save(report.filename, ContentFile(content), save=False)
    Report.objects.filter(pk=report_id).update(
        file=report.file.name, status=ReportStatus.DONE, finished_at=timezone.now()
    )
    return True


def requeue_stale(older_than: dt.timedelta = dt.timedelta(hours=1)) -> int:
    """Put reports whose worker died mid-way back in the queue (building a file has no side effect
    but the file itself, so running it again is safe)."""
    from yiwang.analytics.tasks import generate_report

    stale = Report.objects.filter(status=ReportStatus.RUNNING, started_at__lt=timezone.now() - older_than)
    ids = list(stale.values_list("pk", flat=True))
    Report.objects.filter(pk__in=ids).update(status=ReportStatus.PENDING)
    for pk in ids:
        generate_report.enqueue(pk)
    return len(ids)


def build_workbook(report: Report, *, progress: Callable[[str], None] | None = None) -> bytes:
    """The report as .xlsx bytes: an overview, 三率 by street and by department with charts, the
    数字城管 evaluation, a daily trend with a line chart, and the period's hotspots with the cases
    of each (the competition's 热点问题表 and 明细表)."""
    say = progress or (lambda _msg: None)
    user = report.requested_by  # None: the scheduler, district-wide
    start, end = report.period_start, report.period_end
    from openpyxl import Workbook

    wb = Workbook()
    overview = wb.active
    assert overview is not None
    overview.title = "概览"
    say("overview")
    _overview_sheet(
        overview, report, metrics.three_rates(start=start, end=end, group_by="district", user=user)
    )
    by: tuple[tuple[str, metrics.GroupBy], ...] = (("三率-街道", "street"), ("三率-单位", "department"))
    for title, group_by in by:
        say(title)
        rows = metrics.three_rates(start=start, end=end, group_by=group_by, user=user)
        _three_rates_sheet(wb.create_sheet(title), rows)
    say("evaluation")
    _evaluation_sheet(
        wb.create_sheet("数字城管评价"),
        metrics.evaluation(start=start, end=end, group_by="street", user=user),
    )
    say("trend")
    _trend_sheet(wb.create_sheet("每日趋势"), queries.daily_counts(start=start, end=end, user=user))
    say("hotspots")
    cases = _cases_of(report)
    spots = _period_hotspots(cases, start, end)
    _hotspot_sheet(wb.create_sheet("热点问题"), spots)
    _hotspot_detail_sheet(wb.create_sheet("热点问题明细"), cases, spots)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _pct(value: float | None) -> float | None:
    return None if value is None else round(100 * value, 2)


def _header(ws: Worksheet, titles: Iterable[str]) -> None:
    from openpyxl.styles import Font

    ws.append(list(titles))
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)


def _overview_sheet(ws: Worksheet, report: Report, district_rows: list[metrics.Row]) -> None:
    from openpyxl.styles import Font

    ws.append([f"一网统管 · {report.get_kind_display()}"])
    ws["A1"].font = Font(bold=True, size=14)
    ws.append(["统计期间", f"{report.period_start} 至 {report.period_end}"])
    who = (
        report.requested_by.get_full_name() or report.requested_by.username if report.requested_by else "全区"
    )
    ws.append(["统计范围", str(who)])
    ws.append(["生成时间", timezone.localtime().strftime("%Y-%m-%d %H:%M")])
    ws.append([])
    _header(ws, ["指标", "数值"])
    counts = dict.fromkeys(MILESTONES, 0)
    for row in district_rows:
        for m in MILESTONES:
            counts[m] += row.counts[m]
    for m in MILESTONES:
        ws.append([MILESTONE_TITLES[m], counts[m]])
    total = metrics.Row(id=None, name="合计", counts=counts)
    metrics.apply_three_rates(total, MetricSettings.current())
    for key, title in RATE_TITLES.items():
        ws.append([f"{title}（%）", _pct(total.rates[key])])
    ws.append(["综合成绩", None if total.score is None else round(total.score, 2)])
    ws.append(["等级", total.grade])
    ws.column_dimensions["A"].width = 18
    ws.column_dimensions["B"].width = 24


def _three_rates_sheet(ws: Worksheet, rows: list[metrics.Row]) -> None:
    from openpyxl.chart import BarChart, Reference

    _header(
        ws, ["名称", "派遣数", "回访数", *[f"{t}（%）" for t in RATE_TITLES.values()], "综合成绩", "等级"]
    )
    ranked = sorted(rows, key=lambda r: -1 if r.score is None else r.score, reverse=True)
    for row in ranked:
        ws.append(
            [
                row.name,
                row.counts["dispatched"],
                row.counts["called_back"],
                *[_pct(row.rates[k]) for k in RATE_TITLES],
                None if row.score is None else round(row.score, 2),
                row.grade,
            ]
        )
    ws.column_dimensions["A"].width = 24
    if ranked:
        chart = BarChart()
        chart.title = "综合成绩"
        chart.y_axis.title = "分"
        n = len(ranked) + 1
        chart.add_data(Reference(ws, min_col=7, min_row=1, max_row=n), titles_from_data=True)
        chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=n))
        chart.width, chart.height = 24, 10
        ws.add_chart(chart, "J2")


def _evaluation_sheet(ws: Worksheet, rows: list[metrics.Row]) -> None:
    _header(ws, ["名称", "立案数", *[f"{t}（%）" for t in EVALUATION_TITLES.values()]])
    for row in rows:
        ws.append([row.name, row.counts["registered"], *[_pct(row.rates[k]) for k in EVALUATION_TITLES]])
    ws.column_dimensions["A"].width = 24


def _trend_sheet(ws: Worksheet, days: list[tuple[dt.date, dict[str, int]]]) -> None:
    from openpyxl.chart import LineChart, Reference

    shown = ("registered", "dispatched", "closed", "unsatisfied")
    _header(ws, ["日期", *[MILESTONE_TITLES[m] for m in shown]])
    for day, counts in days:
        ws.append([day, *[counts[m] for m in shown]])
    ws.column_dimensions["A"].width = 12
    if days:
        chart = LineChart()
        chart.title = "每日趋势"
        n = len(days) + 1
        chart.add_data(
            Reference(ws, min_col=2, max_col=1 + len(shown), min_row=1, max_row=n), titles_from_data=True
        )
        chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=n))
        chart.width, chart.height = 24, 10
        ws.add_chart(chart, "G2")


def _cases_of(report: Report) -> Any:
    """The cases the report covers: the requester's scope, or every case for the scheduler's
    district-wide reports (as the rollup sheets, which read ``user=None`` unfiltered)."""
    from yiwang.cases.models import Case

    user = report.requested_by
    return Case.objects.all() if user is None else Case.objects.visible_to(user)


def _period_hotspots(cases: Any, start: dt.date, end: dt.date) -> list[Hotspot]:
    """The hottest groups among the cases registered in the period (local days ``start``…``end``),
    read as the map's hotspot layer reads them: at most its limit of newest cases."""
    from yiwang.dispatch.hotspots import SNAPSHOT_LIMIT, hotspots_for_cases

    since = timezone.make_aware(dt.datetime.combine(start, dt.time()))
    until = timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time()))
    return hotspots_for_cases(
        cases,
        start=since,
        end=until,
        top=REPORT_HOTSPOTS,
        period_days=(end - start).days + 1,
        limit=SNAPSHOT_LIMIT,
    )


def _local(moment: dt.datetime | None) -> dt.datetime | None:
    # Excel has no time zones: local wall-clock time, as the page shows it.
    return None if moment is None else timezone.localtime(moment).replace(tzinfo=None)


def _hotspot_sheet(ws: Worksheet, spots: list[Hotspot]) -> None:
    _header(
        ws, ["热度排名", "热度指数", "起始时间", "截止时间", "地点/人群", "问题描述", "案件数", "反映人数"]
    )
    for h in spots:
        ws.append(
            [
                h.rank,
                round(h.heat, 2),
                _local(h.start),
                _local(h.end),
                h.place_or_group,
                h.description,
                len(h.message_ids),
                h.reporters,
            ]
        )
    if not spots:
        ws.append(["本期无热点问题（同一问题至少两件）"])
    for column, width in zip("ABCDEFGH", (10, 10, 18, 18, 24, 48, 8, 10), strict=True):
        ws.column_dimensions[column].width = width


def _hotspot_detail_sheet(ws: Worksheet, cases: Any, spots: list[Hotspot]) -> None:
    """Each hotspot's cases: number, title, time and street; no reporter and no address (the
    report is a download: only what identifies the problem, not the person)."""
    _header(ws, ["热度排名", "案件编号", "标题", "登记时间", "街道"])
    # One IN list: the hotspots hold at most the mined cases (SNAPSHOT_LIMIT, 5,000), well within
    # SQLite's 32,766 parameters.
    rows = cases.filter(number__in=[n for h in spots for n in h.message_ids]).values_list(
        "number", "title", "created_at", "street__name"
    )
    found: dict[str, tuple[str, dt.datetime | None, str | None]] = {
        number: (title, created, street) for number, title, created, street in rows
    }
    for h in spots:
        for number in h.message_ids:
            # A case deleted since it was mined (in the admin, or a demo reset) still shows its number.
            title, created, street = found.get(number, ("", None, None))
            ws.append([h.rank, number, title, _local(created), street or ""])
    for column, width in zip("ABCDE", (10, 20, 40, 18, 16), strict=True):
        ws.column_dimensions[column].width = width
