"""The case page: facts, timeline, map, attachments and the forms of the allowed actions."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yiwang.cases.choices import CaseStatus
from yiwang.cases.errors import CaseConflict, CaseError, CaseNotFound, InvalidCaseInput
from yiwang.cases.models import Attachment, Case, CaseEvent
from yiwang.core import audit
from yiwang.core.scoping import get_object_or_404_in_scope
from yiwang.web import case_actions
from yiwang.web.access import actor_of, roles_of, signed_in
from yiwang.web.forms import RevealForm, attach_error, error_text


def case_for(request: HttpRequest, pk: int) -> Case:
    """The case if the user may see it; 404 otherwise (missing and out of scope look the same)."""
    queryset = Case.objects.visible_to(request.user).select_related(
        "category", "grid", "community", "street", "lead_department", "created_by", "merged_into"
    )
    case: Case = get_object_or_404_in_scope(queryset, pk=pk)
    return case


def _initial(case: Case) -> dict[str, Any]:
    return {"expected_status": case.status, "expected_version": case.version}


def _forms(case: Case, request: HttpRequest, bound: tuple[str, Any] | None = None) -> list[dict[str, Any]]:
    forms = []
    for action in case_actions.offered(case, actor_of(request), roles_of(request.user)):
        if bound and bound[0] == action.name:
            form = bound[1]
        else:
            form = action.form(initial=_initial(case), prefix=action.name)
        forms.append({"action": action, "form": form})
    return forms


def _render(
    request: HttpRequest,
    case: Case,
    *,
    bound: tuple[str, Any] | None = None,
    conflict: str = "",
    phone: str = "",
    status: int = 200,
) -> HttpResponse:
    events = (
        CaseEvent.objects.filter(case=case)
        .select_related("actor")
        .prefetch_related("attachments")
        .order_by("at", "id")
    )
    context = {
        "case": case,
        "events": events,
        "attachments": Attachment.objects.filter(case=case).order_by("id"),
        "assignments": case.assignments.select_related("department").order_by("-round", "role", "id"),
        "action_forms": _forms(case, request, bound),
        "conflict": conflict,
        "phone": phone,
        "can_reveal": bool(case.reporter_phone) and audit.can_view_full_pii(request.user),
        "reveal_form": RevealForm(prefix="reveal"),
        "tile_url": getattr(settings, "YIWANG_TILE_URL", ""),
    }
    return render(request, "web/cases/detail.html", context, status=status)


@signed_in
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render(request, case_for(request, pk))


@signed_in
@require_POST
def case_action(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    """Run one action from its form. Invalid input: the form again with the message next to the
    field (400). A stale form: the page as it is now, saying what changed (409)."""
    case = case_for(request, pk)
    action = case_actions.BY_NAME.get(name)
    if action is None:
        raise Http404
    form = action.form(request.POST, request.FILES, prefix=name)
    if not form.is_valid():
        return _render(request, case, bound=(name, form), status=400)
    data = dict(form.cleaned_data)
    data["expect"] = form.expect()
    try:
        action.run(case, actor_of(request), data)
    except CaseNotFound:
        raise Http404 from None
    except CaseConflict as error:
        fresh = case_for(request, pk)
        message = _("该案件已被他人处理，当前状态：%(status)s（%(detail)s）") % {
            "status": CaseStatus(fresh.status).label,
            "detail": error_text(error),
        }
        return _render(request, fresh, conflict=message, status=409)
    except CaseError as error:
        attach_error(form, error)
        status = 400 if isinstance(error, InvalidCaseInput) else 409
        return _render(request, case_for(request, pk), bound=(name, form), status=status)
    messages.success(request, _("已完成：%(action)s") % {"action": action.label})
    return redirect("web:case", pk=pk)


@signed_in
@require_POST
def reveal_phone(request: HttpRequest, pk: int) -> HttpResponse:
    """Show the reporter's full phone number: needs ``core.view_full_pii`` and a reason; every
    attempt, allowed or not, is written to the audit log."""
    case = case_for(request, pk)
    form = RevealForm(request.POST, prefix="reveal")
    if not form.is_valid():
        if request.headers.get("HX-Request"):
            return render(
                request,
                "web/cases/phone.html",
                {"case": case, "reveal_form": form, "can_reveal": True},
                status=400,
            )
        return _render(request, case, status=400)
    try:
        phone = audit.reveal(
            case,
            "reporter_phone",
            actor=actor_of(request),
            reason=form.cleaned_data["reason"],
            ip=audit.client_ip(request),
        )
    except ValidationError:
        return _render(request, case, status=400)
    except PermissionDenied:
        raise
    if request.headers.get("HX-Request"):
        return render(request, "web/cases/phone.html", {"case": case, "phone": phone})
    return _render(request, case, phone=phone)


@signed_in
def attachment(request: HttpRequest, pk: int) -> FileResponse:
    """An attachment of a case the user may see; served with the type sniffed at upload."""
    item: Attachment = get_object_or_404_in_scope(Attachment.objects.visible_to(request.user), pk=pk)
    inline = item.content_type.startswith("image/")
    response = FileResponse(
        item.file.open("rb"),
        content_type=item.content_type,
        as_attachment=not inline,
        filename=item.original_name or f"attachment-{item.pk}",
    )
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    return response
