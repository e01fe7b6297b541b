"""Pages of 政企直通车 (issue 9): the statistics and the list of demands, the filing form for
enterprises (and for counsellors and bureau staff on an enterprise's behalf), a demand's page with
the forms of the steps the user may take, its visits, matchings and timeline.

Rows always come through ``visible_to``; every write goes through ``governance.enterprise.actions``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, F
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, URLResolver, path
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from yiwang.cases.choices import Satisfaction
from yiwang.cases.errors import CaseError, CaseNotFound, InvalidCaseInput
from yiwang.core.scoping import get_object_or_404_in_scope, scope_of
from yiwang.governance.enterprise import actions, workflow
from yiwang.governance.enterprise.models import (
    Collateral,
    Demand,
    DemandKind,
    DemandStatus,
    Enterprise,
    FinancialInstitution,
    Industry,
    VisitMode,
)
from yiwang.governance.enterprise.stats import demand_stats
from yiwang.grids.models import Grid
from yiwang.people.models import Department, Role, User
from yiwang.web.access import actor_of, page_view, roles_of
from yiwang.web.forms import attach_error

PAGE_SIZE = 50


def _note(label: Any = None, *, required: bool = False) -> forms.CharField:
    return forms.CharField(
        label=label or _("说明"),
        required=required,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def _money(label: Any) -> forms.CharField:
    # A text field: the action parses the amount and says exactly what is wrong with it.
    return forms.CharField(label=label, max_length=32, help_text=_("单位：元"))


# --- forms (they only parse; the actions validate and name the field) ----------------------------


class DemandForm(forms.Form):
    enterprise = forms.ModelChoiceField(queryset=Enterprise.objects.none(), label=_("企业"))
    kind = forms.ChoiceField(label=_("诉求类型"), choices=DemandKind.choices, initial=DemandKind.FINANCING)
    description = forms.CharField(
        label=_("诉求内容"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )
    amount_requested = forms.CharField(
        label=_("申请金额（元）"), required=False, max_length=32, help_text=_("融资需求必填，单位：元")
    )
    purpose = forms.CharField(label=_("资金用途"), required=False, max_length=500)
    term_months = forms.CharField(label=_("期限（月）"), required=False, max_length=8)
    collateral = forms.ChoiceField(
        label=_("担保方式"), required=False, choices=[("", "—"), *Collateral.choices]
    )
    collateral_note = forms.CharField(label=_("担保说明"), required=False, max_length=500)

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if _files_for_own_enterprise(user):
            del self.fields["enterprise"]
        else:
            self.fields["enterprise"].queryset = (  # type: ignore[attr-defined]
                Enterprise.objects.visible_to(user)
                .select_related("organisation")
                .order_by("organisation__name")
            )


class PeriodForm(forms.Form):
    start = forms.DateField(
        label=_("起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(label=_("截止日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))


class RouteForm(forms.Form):
    department = forms.ModelChoiceField(queryset=Department.objects.none(), label=_("对接机构/单位"))
    note = _note()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Financial institutions first, then the other departments.
        departments = Department.objects.filter(is_active=True).order_by(
            F("financial_institution__id").asc(nulls_last=True), "code"
        )
        self.fields["department"].queryset = departments  # type: ignore[attr-defined]


class NoteForm(forms.Form):
    note = _note()


class ReasonForm(forms.Form):
    reason = _note(_("原因"), required=True)


class VisitForm(forms.Form):
    mode = forms.ChoiceField(label=_("方式"), choices=VisitMode.choices)
    note = _note(_("走访情况"), required=True)


class MatchForm(forms.Form):
    institution = forms.ModelChoiceField(queryset=FinancialInstitution.objects.none(), label=_("金融机构"))
    product = forms.CharField(label=_("金融产品"), max_length=100)
    proposed_amount = _money(_("拟授信金额（元）"))
    note = _note()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["institution"].queryset = FinancialInstitution.objects.filter(  # type: ignore[attr-defined]
            is_active=True
        ).select_related("department")


class ConcludeForm(forms.Form):
    amount_granted = _money(_("获批金额（元）"))
    note = _note(_("办理结果说明"))
    field_order = ["amount_granted", "note"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["amount_granted"].help_text = _("未获批填 0，并说明原因")


class CallbackForm(forms.Form):
    satisfaction = forms.ChoiceField(label=_("满意度"), choices=Satisfaction.choices)
    solved = forms.BooleanField(label=_("诉求已解决"), required=False, initial=True)
    note = _note()


class EnterpriseForm(forms.Form):
    name = forms.CharField(label=_("企业名称"), max_length=200)
    credit_code = forms.CharField(label=_("统一社会信用代码"), max_length=32)
    industry = forms.ChoiceField(label=_("所属行业"), choices=Industry.choices)
    grid = forms.ModelChoiceField(queryset=Grid.objects.none(), label=_("所在网格"))
    address = forms.CharField(label=_("地址"), max_length=200, required=False)
    contact_name = forms.CharField(label=_("联系人"), max_length=50, required=False)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)
    counsellor = forms.ModelChoiceField(queryset=User.objects.none(), label=_("金融辅导员"), required=False)

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["grid"].queryset = Grid.objects.visible_to(user).order_by("code")  # type: ignore[attr-defined]
        self.fields["counsellor"].queryset = counsellors()  # type: ignore[attr-defined]


class CounsellorForm(forms.Form):
    counsellor = forms.ModelChoiceField(queryset=User.objects.none(), label=_("金融辅导员"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["counsellor"].queryset = counsellors()  # type: ignore[attr-defined]


def counsellors() -> Any:
    return (
        User.objects.filter(is_active=True, grants__role=Role.FINANCE_COUNSELLOR)
        .distinct()
        .order_by("username")
    )


@dataclass(frozen=True)
class WebAction:
    name: str  # the workflow transition
    label: Promise
    form: type[forms.Form]
    run: Callable[[User, Demand, dict[str, Any]], object]
    danger: bool = False


WEB_ACTIONS: dict[str, WebAction] = {
    a.name: a
    for a in (
        WebAction(
            "route",
            _("派发"),
            RouteForm,
            lambda u, d, f: actions.route_demand(
                d.pk, actor=u, department=f["department"], note=f["note"], expected_version=d.version
            ),
        ),
        WebAction(
            "accept",
            _("受理"),
            NoteForm,
            lambda u, d, f: actions.accept_demand(d.pk, actor=u, note=f["note"], expected_version=d.version),
        ),
        WebAction(
            "visit",
            _("记录走访"),
            VisitForm,
            lambda u, d, f: actions.record_visit(d.pk, actor=u, note=f["note"], mode=f["mode"]),
        ),
        WebAction(
            "match",
            _("记录对接"),
            MatchForm,
            lambda u, d, f: actions.record_matching(
                d.pk,
                actor=u,
                institution=f["institution"],
                product=f["product"],
                proposed_amount=f["proposed_amount"],
                note=f["note"],
            ),
        ),
        WebAction(
            "conclude",
            _("办结"),
            ConcludeForm,
            lambda u, d, f: actions.conclude_demand(
                d.pk, actor=u, amount_granted=f["amount_granted"], note=f["note"], expected_version=d.version
            ),
        ),
        WebAction(
            "callback",
            _("回访评价"),
            CallbackForm,
            lambda u, d, f: actions.record_demand_callback(
                d.pk,
                actor=u,
                satisfaction=f["satisfaction"],
                solved=f["solved"],
                note=f["note"],
                expected_version=d.version,
            ),
        ),
        WebAction(
            "decline",
            _("退回"),
            ReasonForm,
            lambda u, d, f: actions.decline_demand(
                d.pk, actor=u, reason=f["reason"], expected_version=d.version
            ),
            danger=True,
        ),
        WebAction(
            "withdraw",
            _("撤销"),
            ReasonForm,
            lambda u, d, f: actions.withdraw_demand(
                d.pk, actor=u, reason=f["reason"], expected_version=d.version
            ),
            danger=True,
        ),
    )
}


# --- helpers ---------------------------------------------------------------------------------------


def _files_for_own_enterprise(user: Any) -> bool:
    scope = scope_of(user)
    return not scope.everything and Role.ENTERPRISE in scope.roles


def can_file(user: Any) -> bool:
    return bool(workflow.TRANSITIONS["file"].roles & roles_of(user))


def demand_for(request: HttpRequest, pk: int) -> Demand:
    demand: Demand = get_object_or_404_in_scope(
        Demand.objects.visible_to(request.user).select_related(
            "enterprise__organisation__grid", "enterprise__counsellor", "case", "department", "institution"
        ),
        pk=pk,
    )
    return demand


# --- pages ----------------------------------------------------------------------------------------


@page_view("enterprise:index")
def index(request: HttpRequest) -> HttpResponse:
    """The statistics of the demands the user may see and their list (filter by status)."""
    status = request.GET.get("status", "")
    demands = actions.visible_demands(request.user)
    if status in DemandStatus.values:
        demands = demands.filter(status=status)
    page = Paginator(demands.order_by("-filed_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    period = PeriodForm(request.GET or None)
    dates = period.cleaned_data if period.is_valid() else {}
    stats = demand_stats(request.user, start=dates.get("start"), end=dates.get("end"))
    context = {
        "period": period,
        "stats": stats,
        "page": page,
        "status": status,
        "statuses": DemandStatus.choices,
        "can_file": can_file(request.user),
    }
    return render(request, "web/gov/enterprise/index.html", context)


@page_view("enterprise:index")
def file(request: HttpRequest) -> HttpResponse:
    """The filing form (提交诉求)."""
    if not can_file(request.user):
        raise Http404
    form = DemandForm(request.POST or None, user=request.user)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = dict(form.cleaned_data)
            enterprise = data.pop("enterprise", None)
            try:
                demand = actions.file_demand(
                    actor=actor_of(request), enterprise_id=enterprise.pk if enterprise else None, **data
                )
            except CaseNotFound:
                raise Http404 from None
            except CaseError as error:
                attach_error(form, error)
                status = 400 if isinstance(error, InvalidCaseInput) else 403
            else:
                messages.success(
                    request, gettext("诉求已提交，编号 %(number)s") % {"number": demand.case.number}
                )
                return redirect("web:enterprise:detail", pk=demand.pk)
        else:
            status = 400
    return render(request, "web/gov/enterprise/file.html", {"form": form}, status=status)


def _render_detail(
    request: HttpRequest, demand: Demand, bound: tuple[str, forms.Form] | None = None, status: int = 200
) -> HttpResponse:
    allowed = workflow.allowed(demand.status, roles_of(request.user))
    action_forms = []
    for t in allowed:
        web = WEB_ACTIONS.get(t.name)
        if web is None:
            continue
        form = bound[1] if bound and bound[0] == t.name else web.form()
        action_forms.append({"action": web, "form": form})
    context = {
        "demand": demand,
        "case": demand.case,
        "action_forms": action_forms,
        "visits": demand.visits.select_related("visitor"),
        "matchings": demand.matchings.select_related("institution__department", "recorded_by"),
        "events": demand.events.select_related("actor"),
    }
    return render(request, "web/gov/enterprise/detail.html", context, status=status)


@page_view("enterprise:index")
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, demand_for(request, pk))


@page_view("enterprise:index")
@require_POST
def act(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    """Run one step from its form; bad input shows the form again with the message (400/403/409)."""
    demand = demand_for(request, pk)
    action = WEB_ACTIONS.get(name)
    if action is None:
        raise Http404
    form = action.form(request.POST)
    if not form.is_valid():
        return _render_detail(request, demand, (name, form), status=400)
    try:
        action.run(actor_of(request), demand, dict(form.cleaned_data))
    except CaseNotFound:
        raise Http404 from None
    except CaseError as error:
        attach_error(form, error)
        code = 400 if isinstance(error, InvalidCaseInput) else 403 if error.code == "forbidden" else 409
        return _render_detail(request, demand_for(request, pk), (name, form), status=code)
    messages.success(request, gettext("已完成：%(action)s") % {"action": action.label})
    return redirect("web:enterprise:detail", pk=pk)


def can_manage(user: Any) -> bool:
    """Bureau staff register enterprises and name their counsellors."""
    return bool({Role.DISPATCHER, Role.ADMINISTRATOR} & roles_of(user))


@page_view("enterprise:index")
def enterprises(request: HttpRequest) -> HttpResponse:
    """The enterprises the user may see (a counsellor: theirs), with their demands; bureau staff
    register an enterprise here and name its counsellor."""
    manage = can_manage(request.user)
    form = EnterpriseForm(request.POST or None, user=request.user) if manage else None
    status = 200
    if request.method == "POST":
        if form is None:
            raise Http404
        if form.is_valid():
            try:
                enterprise = actions.register_enterprise(actor=actor_of(request), **form.cleaned_data)
            except CaseError as error:
                attach_error(form, error)
                status = 400 if isinstance(error, InvalidCaseInput) else 403
            else:
                messages.success(request, gettext("已登记企业：%(name)s") % {"name": enterprise.name})
                return redirect("web:enterprise:enterprises")
        else:
            status = 400
    rows = (
        Enterprise.objects.visible_to(request.user)
        .select_related("organisation", "street", "counsellor")
        .annotate(demand_count=Count("demands"))
        .order_by("organisation__name")
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"page": page, "form": form, "counsellor_form": CounsellorForm() if manage else None}
    return render(request, "web/gov/enterprise/enterprises.html", context, status=status)


@page_view("enterprise:index")
@require_POST
def set_counsellor(request: HttpRequest, pk: int) -> HttpResponse:
    enterprise = get_object_or_404_in_scope(Enterprise.objects.visible_to(request.user), pk=pk)
    form = CounsellorForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("请选择金融辅导员"))
        return redirect("web:enterprise:enterprises")
    try:
        actions.assign_counsellor(enterprise.pk, form.cleaned_data["counsellor"], actor=actor_of(request))
    except CaseNotFound:
        raise Http404 from None
    except CaseError as error:
        messages.error(request, error.zh)
        return redirect("web:enterprise:enterprises")
    messages.success(request, gettext("已更新金融辅导员：%(name)s") % {"name": enterprise.name})
    return redirect("web:enterprise:enterprises")


urlpatterns: list[URLPattern | URLResolver] = [
    path("", index, name="index"),
    path("new/", file, name="file"),
    path("enterprises/", enterprises, name="enterprises"),
    path("enterprises/<int:pk>/counsellor/", set_counsellor, name="counsellor"),
    path("<int:pk>/", detail, name="detail"),
    path("<int:pk>/action/<str:name>/", act, name="action"),
]
