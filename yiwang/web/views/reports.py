"""Weekly and monthly Excel reports: ask for one, watch it being built, download it."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.analytics.models import Report, ReportKind, ReportStatus
from yiwang.analytics.reports import download_response, request_report
from yiwang.cases.errors import CaseError
from yiwang.core.audit import client_ip
from yiwang.core.scoping import get_object_or_404_in_scope
from yiwang.web.access import actor_of, page_view
from yiwang.web.forms import error_text


class ReportRequestForm(forms.Form):
    kind = forms.ChoiceField(label=_("类型"), choices=ReportKind.choices)
    day = forms.DateField(
        label=_("期间内任一天"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("周报为该日所在的周一至周日，月报为该日所在的自然月"),
    )


@page_view("reports")
def reports(request: HttpRequest) -> HttpResponse:
    form = ReportRequestForm(
        request.POST or None, initial={"day": timezone.localdate() - dt.timedelta(days=7)}
    )
    if request.method == "POST" and form.is_valid():
        try:
            report = request_report(
                actor=actor_of(request), kind=form.cleaned_data["kind"], day=form.cleaned_data["day"]
            )
        except CaseError as error:
            form.add_error("day", error_text(error))
        else:
            messages.success(request, _("已提交：%(report)s，生成后可下载") % {"report": report})
            return redirect("web:reports")
    rows = Report.objects.visible_to(request.user).select_related("requested_by")[:100]
    busy = any(r.status in (ReportStatus.PENDING, ReportStatus.RUNNING) for r in rows)
    template = "web/reports_rows.html" if request.headers.get("HX-Request") else "web/reports.html"
    return render(request, template, {"form": form, "rows": rows, "busy": busy})


@page_view("reports")
def report_download(request: HttpRequest, pk: int) -> FileResponse:
    report: Report = get_object_or_404_in_scope(
        Report.objects.visible_to(request.user).filter(status=ReportStatus.DONE), pk=pk
    )
    return download_response(report, actor=request.user, ip=client_ip(request))
