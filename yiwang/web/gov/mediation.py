"""Pages of 矛盾纠纷调解 (issue 9): the list of disputes with statistics for a period, a dispute's
page (parties masked, sessions, agreement, timeline, the forms of the actions the user's role and
the dispute's status allow, an audit-logged reveal of one party field), and the registration form.

Rows always come through ``visible_to`` (outside scope: 404); writes go through
``governance.mediation.actions``; an action's error is shown next to its form and nothing is written.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, URLResolver, path
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from yiwang.cases.errors import CaseError
from yiwang.core.audit import client_ip, reveal
from yiwang.core.scoping import get_object_or_404_in_scope
from yiwang.governance.mediation import actions, workflow
from yiwang.governance.mediation.actions import PartyInput
from yiwang.governance.mediation.models import (
    Committee,
    Dispute,
    DisputeKind,
    DisputeStatus,
    Party,
    PartyKind,
    PartySide,
    Referral,
)
from yiwang.governance.mediation.stats import mediation_stats
from yiwang.web.access import actor_of, page_view, roles_of
from yiwang.web.forms import attach_error, error_text

PAGE = "mediation:index"
PAGE_SIZE = 50
REVEALABLE = ("name", "id_number", "phone")

# --- forms -------------------------------------------------------------------------------------------


class FilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("状态"), required=False, choices=[("", _("全部")), *DisputeStatus.choices]
    )
    kind = forms.ChoiceField(
        label=_("纠纷类型"), required=False, choices=[("", _("全部")), *DisputeKind.choices]
    )
    start = forms.DateField(
        label=_("统计起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("统计截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


def _party_fields(prefix: str, who: Any) -> dict[str, forms.Field]:
    # Built per form instance (inside __init__), so plain gettext is in the request's language.
    return {
        f"{prefix}_kind": forms.ChoiceField(label=f"{who}{gettext('类型')}", choices=PartyKind.choices),
        f"{prefix}_name": forms.CharField(label=f"{who}{gettext('姓名/名称')}", max_length=100),
        f"{prefix}_id_number": forms.CharField(
            label=f"{who}{gettext('证件号码')}", max_length=32, required=False
        ),
        f"{prefix}_phone": forms.CharField(
            label=f"{who}{gettext('联系电话')}", max_length=32, required=False
        ),
    }


class DisputeForm(forms.Form):
    committee = forms.ModelChoiceField(label=_("调解委员会"), queryset=Committee.objects.none())
    kind = forms.ChoiceField(label=_("纠纷类型"), choices=DisputeKind.choices)
    summary = forms.CharField(label=_("纠纷概要"), max_length=200)
    facts = forms.CharField(label=_("纠纷事实"), widget=forms.Textarea(attrs={"rows": 4}), max_length=4000)
    amount = forms.DecimalField(label=_("争议金额（元）"), required=False, min_value=0, decimal_places=2)

    def __init__(self, user: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["committee"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Committee.objects.visible_to(user).filter(is_active=True)
        self.fields.update(_party_fields("applicant", _("申请人")))
        self.fields.update(_party_fields("respondent", _("被申请人")))

    def parties(self) -> list[PartyInput]:
        d = self.cleaned_data
        return [
            PartyInput(
                side=side,
                kind=d[f"{side}_kind"],
                name=d[f"{side}_name"],
                id_number=d[f"{side}_id_number"],
                phone=d[f"{side}_phone"],
            )
            for side in (PartySide.APPLICANT, PartySide.RESPONDENT)
        ]


def _date(label: Any) -> forms.DateField:
    return forms.DateField(label=label, widget=forms.DateInput(attrs={"type": "date"}))


def _textarea(label: Any, required: bool) -> forms.CharField:
    return forms.CharField(label=label, required=required, widget=forms.Textarea(attrs={"rows": 3}))


class _MediatorChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.user} · {obj.get_kind_display()}"


class _PartyChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.get_side_display()} {obj.masked_name}"


def action_form(name: str, dispute: Dispute, data: Any = None) -> forms.Form:
    """The form of transition ``name`` on ``dispute`` (prefixed by the name)."""
    form = forms.Form(data, prefix=name)
    members = dispute.committee.members.filter(is_active=True).select_related("user")
    f = form.fields
    if name in ("accept", "close"):
        f["note"] = _textarea(_("说明"), False)
    elif name == "assign":
        f["mediators"] = _MediatorChoice(label=_("承办调解员"), queryset=members)
    elif name == "session":
        f["held_on"] = _date(_("调解日期"))
        f["place"] = forms.CharField(label=_("调解地点"), max_length=200)
        f["mediators"] = _MediatorChoice(label=_("到场调解员"), queryset=members)
        f["notes"] = _textarea(_("调解记录"), False)
    elif name == "agree":
        f["signed_on"] = _date(_("协议签订日期"))
        f["terms"] = _textarea(_("协议内容"), True)
        f["amount"] = forms.DecimalField(
            label=_("协议金额（元）"), required=False, min_value=0, decimal_places=2
        )
        f["due_on"] = forms.DateField(
            label=_("履行期限"), required=False, widget=forms.DateInput(attrs={"type": "date"})
        )
        f["parties"] = _PartyChoice(label=_("签订当事人"), queryset=dispute.parties.all(), required=False)
    elif name == "fail":
        f["reason"] = _textarea(_("调解不成原因"), True)
        f["referral"] = forms.ChoiceField(
            label=_("引导途径"), required=False, choices=[("", "—"), *Referral.choices]
        )
    elif name == "follow_up":
        f["performed"] = forms.TypedChoiceField(
            label=_("协议是否履行"),
            choices=[("yes", _("已履行")), ("no", _("未履行"))],
            coerce=lambda v: v == "yes",
        )
        f["note"] = _textarea(_("回访情况"), False)
    return form


def _run(name: str, dispute: Dispute, actor: Any, d: dict[str, Any]) -> None:
    pk, v = dispute.pk, dispute.version
    if name == "accept":
        actions.accept_dispute(pk, actor=actor, note=d["note"], version=v)
    elif name == "assign":
        actions.assign_mediators(pk, actor=actor, mediators=list(d["mediators"]), version=v)
    elif name == "session":
        actions.record_session(
            pk,
            actor=actor,
            held_on=d["held_on"],
            place=d["place"],
            mediators=list(d["mediators"]),
            notes=d["notes"],
            version=v,
        )
    elif name == "agree":
        actions.record_agreement(
            pk,
            actor=actor,
            signed_on=d["signed_on"],
            terms=d["terms"],
            parties=list(d["parties"]),
            amount=d["amount"],
            due_on=d["due_on"],
            version=v,
        )
    elif name == "fail":
        actions.record_failure(pk, actor=actor, reason=d["reason"], referral=d["referral"], version=v)
    elif name == "follow_up":
        actions.record_follow_up(pk, actor=actor, performed=d["performed"], note=d["note"], version=v)
    elif name == "close":
        actions.close_dispute(pk, actor=actor, note=d["note"], version=v)


class RevealForm(forms.Form):
    """Which party field to show in full, and why (the reason goes to the audit log)."""

    party = forms.TypedChoiceField(label=_("当事人"), coerce=int)
    field = forms.ChoiceField(
        label=_("信息项"),
        choices=[("name", _("姓名/名称")), ("id_number", _("证件号码")), ("phone", _("联系电话"))],
    )
    reason = forms.CharField(label=_("查看理由"), max_length=500)

    def __init__(self, dispute: Dispute, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["party"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [(p.pk, f"{p.get_side_display()} {p.masked_name}") for p in dispute.parties.all()]


# --- pages -------------------------------------------------------------------------------------------


def _period(form: FilterForm) -> tuple[dt.datetime | None, dt.datetime | None]:
    if not form.is_valid():
        return None, None
    tz = timezone.get_current_timezone()
    start, end = form.cleaned_data.get("start"), form.cleaned_data.get("end")
    return (
        dt.datetime.combine(start, dt.time(), tzinfo=tz) if start else None,
        dt.datetime.combine(end + dt.timedelta(days=1), dt.time(), tzinfo=tz) if end else None,
    )


@page_view(PAGE)
def index(request: HttpRequest) -> HttpResponse:
    form = FilterForm(request.GET or None)
    rows = Dispute.objects.visible_to(request.user).select_related("case", "committee")
    if form.is_valid():
        if form.cleaned_data["status"]:
            rows = rows.filter(status=form.cleaned_data["status"])
        if form.cleaned_data["kind"]:
            rows = rows.filter(kind=form.cleaned_data["kind"])
    start, end = _period(form)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "web/gov/mediation/index.html",
        {
            "form": form,
            "page": page,
            "now": timezone.now(),
            "stats": mediation_stats(request.user, start, end),
            "can_register": bool(workflow.TRANSITIONS["register"].roles & roles_of(request.user)),
        },
    )


def _detail(
    request: HttpRequest,
    dispute: Dispute,
    *,
    failed: tuple[str, forms.Form] | None = None,
    revealed: dict[tuple[int, str], str] | None = None,
    reveal_form: RevealForm | None = None,
    status: int = 200,
) -> HttpResponse:
    forms_by_name = {
        t.name: action_form(t.name, dispute) for t in workflow.allowed(dispute.status, roles_of(request.user))
    }
    if failed is not None:
        forms_by_name[failed[0]] = failed[1]
    labels = {name: workflow.TRANSITIONS[name].label for name in forms_by_name}
    parties = []
    for p in dispute.parties.all():
        shown = {f: (revealed or {}).get((p.pk, f)) for f in REVEALABLE}
        parties.append({"party": p, "revealed": shown})
    return render(
        request,
        "web/gov/mediation/detail.html",
        {
            "dispute": dispute,
            "parties": parties,
            "sessions": dispute.sessions.prefetch_related("mediators__user"),
            "agreement": getattr(dispute, "agreement", None),
            "events": [
                {
                    "event": e,
                    "label": workflow.TRANSITIONS[e.kind].label if e.kind in workflow.TRANSITIONS else e.kind,
                    "status": DisputeStatus(e.to_status).label if e.to_status in DisputeStatus.values else "",
                }
                for e in dispute.events.select_related("actor")
            ],
            "mediators": dispute.mediators.select_related("user"),
            "action_forms": [{"name": n, "label": labels[n], "form": f} for n, f in forms_by_name.items()],
            "reveal_form": reveal_form or RevealForm(dispute),
            "overdue": dispute.is_overdue(),
        },
        status=status,
    )


def _dispute(request: HttpRequest, pk: int) -> Dispute:
    qs = Dispute.objects.visible_to(request.user).select_related("case", "committee", "committee__division")
    found: Dispute = get_object_or_404_in_scope(qs, pk=pk)
    return found


@page_view(PAGE)
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _dispute(request, pk))


@page_view(PAGE)
@require_POST
def action(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    dispute = _dispute(request, pk)
    if name not in actions.ACTIONS:
        return _detail(request, dispute, status=404)
    form = action_form(name, dispute, request.POST)
    if form.is_valid():
        try:
            _run(name, dispute, actor_of(request), form.cleaned_data)
        except CaseError as error:
            attach_error(form, error)
        else:
            messages.success(request, gettext("已%(label)s") % {"label": workflow.TRANSITIONS[name].label})
            return redirect("web:mediation:detail", pk=dispute.pk)
    dispute.refresh_from_db()
    return _detail(request, dispute, failed=(name, form), status=400)


@page_view(PAGE)
@require_POST
def reveal_party(request: HttpRequest, pk: int) -> HttpResponse:
    """The full value of one party field, with a reason, through the audit log (core.audit)."""
    dispute = _dispute(request, pk)
    form = RevealForm(dispute, request.POST)
    if not form.is_valid():
        return _detail(request, dispute, reveal_form=form, status=400)
    row: Party = get_object_or_404_in_scope(dispute.parties.all(), pk=form.cleaned_data["party"])
    field = form.cleaned_data["field"]
    try:
        value = reveal(
            row, field, actor=request.user, reason=form.cleaned_data["reason"], ip=client_ip(request)
        )
    except (PermissionDenied, ValidationError):
        form.add_error(None, gettext("无权查看完整个人信息"))
        return _detail(request, dispute, reveal_form=form, status=403)
    return _detail(request, dispute, revealed={(row.pk, field): value})


@page_view(PAGE)
def new(request: HttpRequest) -> HttpResponse:
    if not workflow.TRANSITIONS["register"].roles & roles_of(request.user):
        messages.error(request, gettext("您的角色无权登记纠纷"))
        return redirect("web:mediation:index")
    form = DisputeForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            dispute = actions.register_dispute(
                actor=actor_of(request),
                committee=d["committee"],
                kind=d["kind"],
                summary=d["summary"],
                facts=d["facts"],
                parties=form.parties(),
                amount=d["amount"],
            )
        except CaseError as error:
            form.add_error(None, error_text(error))
        else:
            messages.success(request, gettext("纠纷已登记：%(number)s") % {"number": dispute.case.number})
            return redirect("web:mediation:detail", pk=dispute.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "web/gov/mediation/new.html", {"form": form}, status=status)


urlpatterns: list[URLPattern | URLResolver] = [
    path("", index, name="index"),
    path("new/", new, name="new"),
    path("<int:pk>/", detail, name="detail"),
    path("<int:pk>/action/<str:name>/", action, name="action"),
    path("<int:pk>/reveal/", reveal_party, name="reveal"),
]
