"""A simple dashboard from the case table (the analytics rollups come later): counts by status,
street, department, category and channel, 三率 by street, the overdue list, and an Excel export
of every table. All counts come from the user's visible cases."""

from __future__ import annotations

import io
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from yiwang.cases.choices import CaseStatus, Channel, Satisfaction
from yiwang.cases.models import Case
from yiwang.web.access import page_view
from yiwang.web.views.mapview import rate_counts, rates_from
from yiwang.web.views.queue import overdue_first

TOP = 15


def _grouped(cases: QuerySet[Case], field: str, label: str) -> list[dict[str, Any]]:
    rows = (
        cases.order_by()
        .values(key=F(field))
        .annotate(
            total=Count("id"),
            open=Count(
                "id",
                filter=Q(
                    status__in=[
                        CaseStatus.REGISTERED,
                        CaseStatus.DISPATCHED,
                        CaseStatus.IN_PROGRESS,
                        CaseStatus.RESOLVED,
                    ]
                ),
            ),
            closed=Count("id", filter=Q(status=CaseStatus.CLOSED)),
            unsatisfied=Count("id", filter=Q(satisfaction=Satisfaction.UNSATISFIED)),
        )
        .order_by("-total")
    )
    return [
        {"name": r["key"] or "—", **{k: r[k] for k in ("total", "open", "closed", "unsatisfied")}}
        for r in rows
    ]


def tables(user: Any) -> dict[str, Any]:
    cases = Case.objects.visible_to(user)
    status_labels = dict(CaseStatus.choices)
    channel_labels = dict(Channel.choices)
    by_status = [
        {"name": str(status_labels.get(r["status"], r["status"])), "total": r["total"]}
        for r in cases.order_by().values("status").annotate(total=Count("id")).order_by("-total")
    ]
    by_channel = [
        {"name": str(channel_labels.get(r["channel"], r["channel"])), "total": r["total"]}
        for r in cases.order_by().values("channel").annotate(total=Count("id")).order_by("-total")
    ]
    streets = _grouped(cases, "street__name", _("街道"))
    street_rates = [
        {"name": row["street__name"] or "—", **rates_from(dict(row))}
        for row in cases.order_by().values("street__name").annotate(**rate_counts())
    ]
    return {
        "by_status": by_status,
        "by_channel": by_channel,
        "by_street": streets,
        "by_department": _grouped(cases, "lead_department__name", _("承办单位"))[: TOP * 2],
        "by_category": _grouped(cases, "category__name", _("分类"))[:TOP],
        "street_rates": sorted(street_rates, key=lambda r: r["name"]),
        "overdue": list(
            overdue_first(cases.overdue(timezone.now())).select_related("street", "lead_department")[:50]
        ),
    }


@page_view("dashboard")
def dashboard(request: HttpRequest) -> HttpResponse:
    data = tables(request.user)
    chart = {
        "status": data["by_status"],
        "streets": [{"name": r["name"], "open": r["open"], "closed": r["closed"]} for r in data["by_street"]],
        "channels": data["by_channel"],
    }
    return render(request, "web/dashboard.html", {**data, "chart": chart})


@page_view("dashboard")
def dashboard_export(request: HttpRequest) -> HttpResponse:
    """Every dashboard table as a sheet of one workbook."""
    data = tables(request.user)
    book = Workbook()
    book.remove(book.active)
    counts = [_("名称"), _("合计"), _("在办"), _("已结案"), _("不满意")]
    sheets: list[tuple[str, list[str], list[list[Any]]]] = [
        (_("按状态"), [_("状态"), _("合计")], [[r["name"], r["total"]] for r in data["by_status"]]),
        (_("按渠道"), [_("渠道"), _("合计")], [[r["name"], r["total"]] for r in data["by_channel"]]),
        *[
            (
                title,
                counts,
                [[r["name"], r["total"], r["open"], r["closed"], r["unsatisfied"]] for r in data[key]],
            )
            for title, key in (
                (_("按街道"), "by_street"),
                (_("按承办单位"), "by_department"),
                (_("按分类"), "by_category"),
            )
        ],
        (
            _("三率"),
            [_("街道"), _("响应率%"), _("解决率%"), _("满意率%")],
            [[r["name"], r["response"], r["solved"], r["satisfied"]] for r in data["street_rates"]],
        ),
        (
            _("超时案件"),
            [_("编号"), _("标题"), _("街道"), _("主办单位"), _("状态")],
            [
                [
                    c.number,
                    c.title,
                    c.street.name if c.street else "",
                    c.lead_department.name if c.lead_department else "",
                    c.get_status_display(),
                ]
                for c in data["overdue"]
            ],
        ),
    ]
    for title, header, rows in sheets:
        sheet = book.create_sheet(title[:31])
        sheet.append([str(h) for h in header])
        for row in rows:
            # A cell starting with = + - @ would be a formula in Excel: case titles are user input.
            sheet.append([f"'{v}" if isinstance(v, str) and v[:1] in "=+-@" else v for v in row])
    out = io.BytesIO()
    book.save(out)
    response = HttpResponse(
        out.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="yiwang-dashboard-{timezone.localdate():%Y%m%d}.xlsx"'
    )
    return response


@page_view("unsatisfied")
def unsatisfied(request: HttpRequest) -> HttpResponse:
    """群众不满意诉求集中攻坚: every case rated 不满意 or sent for a second round, by department."""
    cases = (
        Case.objects.visible_to(request.user)
        .filter(Q(satisfaction=Satisfaction.UNSATISFIED) | Q(reopen_count__gt=0))
        .select_related("lead_department", "category", "street")
        .order_by("lead_department__name", "category__name", "-updated_at")[:500]
    )
    groups: dict[str, list[Case]] = {}
    for case in cases:
        groups.setdefault(case.lead_department.name if case.lead_department else "—", []).append(case)
    return render(request, "web/unsatisfied.html", {"groups": sorted(groups.items())})
