"""The dispatcher's queue: the shared case filters, overdue first, dispatch one or many, merge."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Case as CaseWhen
from django.db.models import IntegerField, Q, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from yiwang.cases import actions
from yiwang.cases.choices import CaseStatus
from yiwang.cases.errors import CaseError
from yiwang.cases.filters import CaseFilterSet
from yiwang.cases.models import Case
from yiwang.people.models import Department
from yiwang.web.access import actor_of, page_view
from yiwang.web.forms import error_text

PAGE_SIZE = 50


def overdue_first(queryset: QuerySet[Case]) -> QuerySet[Case]:
    """Overdue (a running clock past due, not suspended) on top, then the nearest deadline, then
    the newest."""
    now = timezone.now()
    late = Q(suspended_at__isnull=True) & (Q(accept_due_at__lt=now) | Q(resolve_due_at__lt=now))
    return queryset.annotate(
        late=CaseWhen(When(late, then=Value(1)), default=Value(0), output_field=IntegerField())
    ).order_by("-late", "accept_due_at", "resolve_due_at", "-created_at", "-id")


def filtered(request: HttpRequest, default_status: list[str]) -> tuple[CaseFilterSet, QuerySet[Case]]:
    """The user's cases narrowed by the shared FilterSet; without a status filter, ``default_status``."""
    data: QueryDict = request.GET.copy()
    if not data.getlist("status") and default_status:
        data.setlist("status", default_status)
    base = Case.objects.visible_to(request.user).select_related(
        "category", "street", "grid", "lead_department"
    )
    filterset = CaseFilterSet(data, queryset=base)
    rows = filterset.qs if filterset.is_valid() else base.none()
    return filterset, overdue_first(rows)


class BulkDispatchForm(forms.Form):
    lead = forms.ModelChoiceField(
        queryset=Department.objects.filter(is_active=True).order_by("code"), label=gettext_lazy("主办单位")
    )
    assisting = forms.ModelMultipleChoiceField(
        queryset=Department.objects.filter(is_active=True).order_by("code"),
        label=gettext_lazy("协办单位"),
        required=False,
    )
    note = forms.CharField(label=gettext_lazy("派遣意见"), required=False, max_length=1000)


def _page(request: HttpRequest, rows: QuerySet[Case]) -> Any:
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


@page_view("queue")
def queue(request: HttpRequest) -> HttpResponse:
    filterset, rows = filtered(request, [CaseStatus.REGISTERED])
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filter": filterset,
        "page": _page(request, rows),
        "dispatch_form": BulkDispatchForm(),
        "query": query.urlencode(),
        "now": timezone.now(),
    }
    return render(request, "web/queue.html", context)


def _selected(request: HttpRequest) -> list[Case]:
    ids = [int(v) for v in request.POST.getlist("case") if v.isdigit()]
    return list(Case.objects.visible_to(request.user).filter(pk__in=ids).order_by("pk"))


@page_view("queue")
@require_POST
def queue_dispatch(request: HttpRequest) -> HttpResponse:
    """Dispatch every selected case to the same departments; each case is its own action (one
    failing does not undo the others), and each failure is reported with the case number."""
    form = BulkDispatchForm(request.POST)
    cases = _selected(request)
    if not cases:
        messages.error(request, _("请先勾选案件"))
    elif not form.is_valid():
        messages.error(request, _("请选择主办单位"))
    else:
        done = 0
        for case in cases:
            try:
                actions.dispatch_case(
                    case,
                    actor=actor_of(request),
                    lead=form.cleaned_data["lead"],
                    assisting=list(form.cleaned_data["assisting"]),
                    note=form.cleaned_data["note"],
                    expected_status=CaseStatus.REGISTERED,
                )
                done += 1
            except CaseError as error:
                messages.error(request, f"{case.number}: {error_text(error)}")
        if done:
            messages.success(request, ngettext("已派遣 %(n)d 件", "已派遣 %(n)d 件", done) % {"n": done})
    return redirect(_back(request))


@page_view("queue")
@require_POST
def queue_merge(request: HttpRequest) -> HttpResponse:
    """Merge the selected cases into the one whose number is given (并单)."""
    number = (request.POST.get("into") or "").strip()
    target = Case.objects.visible_to(request.user).filter(number=number).first() if number else None
    cases = [c for c in _selected(request) if target is None or c.pk != target.pk]
    if target is None:
        messages.error(request, _("请填写要并入的案件编号（须为您可见的案件）"))
    elif not cases:
        messages.error(request, _("请先勾选案件"))
    else:
        for case in cases:
            try:
                actions.merge_cases(case, actor=actor_of(request), into=target.pk)
                messages.success(request, _("%(a)s 已并入 %(b)s") % {"a": case.number, "b": target.number})
            except CaseError as error:
                messages.error(request, f"{case.number}: {error_text(error)}")
    return redirect(_back(request))


def _back(request: HttpRequest) -> str:
    from django.urls import reverse

    query = request.POST.get("query", "")
    return reverse("web:queue") + (f"?{query}" if query else "")
