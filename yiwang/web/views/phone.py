"""The grid worker's phone page: report an event with photo and GPS position, the open cases of
my grids, verification on site."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yiwang.cases import actions
from yiwang.cases.choices import OPEN_STATUSES, CaseStatus, Channel
from yiwang.cases.errors import CaseError
from yiwang.cases.models import Case
from yiwang.core.scoping import scope_of
from yiwang.web.access import actor_of, page_view
from yiwang.web.forms import PhoneReportForm, VerifyForm, attach_error, error_text
from yiwang.web.views.cases import case_for

TITLE_CHARS = 30


def _context(request: HttpRequest, form: PhoneReportForm) -> dict[str, object]:
    scope = scope_of(request.user)
    mine = Case.objects.visible_to(request.user).filter(status__in=sorted(OPEN_STATUSES))
    if not scope.everything:
        mine = mine.filter(grid_id__in=sorted(scope.grid_ids))
    cases = list(mine.select_related("category").order_by("-created_at")[:50])
    verify = {
        c.pk: VerifyForm(
            initial={"expected_status": c.status, "expected_version": c.version}, prefix=f"v{c.pk}"
        )
        for c in cases
        if c.status == CaseStatus.RESOLVED
    }
    return {"form": form, "cases": [(c, verify.get(c.pk)) for c in cases]}


@page_view("phone")
def phone(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = PhoneReportForm(request.POST, request.FILES)
        if form.is_valid():
            d = form.cleaned_data
            description = d["description"].strip()
            try:
                case = actions.create_case(
                    actor=actor_of(request),
                    channel=Channel.GRID_PATROL,
                    category=d["category"],
                    title=description.splitlines()[0][:TITLE_CHARS] if description else "",
                    description=description,
                    lng=d["lng"],
                    lat=d["lat"],
                    address=d["address"],
                    idempotency_key=d["idempotency_key"],
                    attachments=d["photo"],
                )
            except CaseError as error:
                attach_error(form, error)
            else:
                messages.success(request, _("已上报：%(n)s") % {"n": case.number})
                return redirect("web:phone")
        return render(request, "web/phone.html", _context(request, form), status=400)
    return render(request, "web/phone.html", _context(request, PhoneReportForm()))


@page_view("phone")
@require_POST
def phone_verify(request: HttpRequest, pk: int) -> HttpResponse:
    """Verify a resolved case on site (核查): pass closes it, fail sends it back with a reason."""
    case = case_for(request, pk)
    form = VerifyForm(request.POST, prefix=f"v{case.pk}")
    if form.is_valid():
        try:
            actions.verify_case(
                case,
                actor=actor_of(request),
                passed=form.cleaned_data["passed"],
                note=form.cleaned_data["note"],
                **form.expect(),
            )
        except CaseError as error:
            messages.error(request, f"{case.number}: {error_text(error)}")
        else:
            messages.success(request, _("已核查：%(n)s") % {"n": case.number})
    else:
        messages.error(request, _("请选择核查结论"))
    return redirect("web:phone")
