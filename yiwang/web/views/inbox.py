"""The department inbox: the cases of the handler's departments that wait for them."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from yiwang.cases.choices import CaseStatus
from yiwang.web.access import page_view
from yiwang.web.views.queue import PAGE_SIZE, filtered


@page_view("inbox")
def inbox(request: HttpRequest) -> HttpResponse:
    """Dispatched (to sign) and in-progress cases by default, overdue first; the same filters as
    the queue. Signing is one click here; the other actions are on the case page."""
    filterset, rows = filtered(request, [CaseStatus.DISPATCHED, CaseStatus.IN_PROGRESS])
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filter": filterset,
        "page": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
        "query": query.urlencode(),
    }
    return render(request, "web/inbox.html", context)
