"""The hotline intake form: suggestions while typing (from the dispatch API), a direct answer for
consultations, and a submit that is safe to retry (the idempotency key is fixed when the page is
first shown)."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from yiwang.cases import actions
from yiwang.cases.choices import CaseStatus
from yiwang.cases.errors import CaseError
from yiwang.cases.models import Case
from yiwang.web.access import actor_of, page_view
from yiwang.web.forms import IntakeForm, attach_error


def _register(request: HttpRequest, form: IntakeForm) -> Case:
    """Create the case and, when an answer is given, close it with that answer — both or neither.
    A retry of the same form finds the case already there (and possibly already answered)."""
    d = form.cleaned_data
    with transaction.atomic():
        case = actions.create_case(
            actor=actor_of(request),
            channel=d["channel"],
            category=d["category"],
            title=d["title"],
            description=d["description"],
            lng=d["lng"],
            lat=d["lat"],
            address=d["address"],
            urgency=d["urgency"] or None,
            demand_kind=d["demand_kind"],
            reporter_name=d["reporter_name"],
            reporter_phone=d["reporter_phone"],
            is_anonymous=d["is_anonymous"],
            is_confidential=d["is_confidential"],
            idempotency_key=d["idempotency_key"],
            attachments=d["attachments"],
        )
        answer = (d.get("answer") or "").strip()
        if answer and case.status == CaseStatus.REGISTERED:
            case = actions.answer_directly(
                case,
                actor=actor_of(request),
                answer=answer,
                expected_status=CaseStatus.REGISTERED,
            )
    return case


@page_view("intake")
def intake(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = IntakeForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                case = _register(request, form)
            except CaseError as error:
                attach_error(form, error)
            else:
                if case.status == CaseStatus.CLOSED:
                    messages.success(request, _("已登记并直接答复：%(n)s") % {"n": case.number})
                else:
                    messages.success(request, _("已登记：%(n)s") % {"n": case.number})
                return redirect("web:case", pk=case.pk)
        return render(request, "web/intake.html", {"form": form}, status=400)
    return render(request, "web/intake.html", {"form": IntakeForm()})
