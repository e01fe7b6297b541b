"""Pages of 专项治理 (issue 9): the campaigns with their progress, one campaign's targets, visits and
findings (each a case with its status), the status actions the role allows, and a compact page
(375 px) where a grid worker records a visit and the hidden dangers found at one target.

Rows come through ``visible_to``; every write goes through ``campaigns.actions``, whose bilingual
errors are shown next to the form field (400 bad input, 403 role, 409 state; 404 outside scope).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, URLResolver, path
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from yiwang.cases.errors import ActionForbidden, CaseError, CaseNotFound, InvalidCaseInput
from yiwang.cases.models import Case, Category
from yiwang.core.scoping import AreaFields, area_q, get_object_or_404_in_scope, scope_of
from yiwang.governance.campaigns import actions, workflow
from yiwang.governance.campaigns.actions import FindingInput, roles_of
from yiwang.governance.campaigns.models import (
    Campaign,
    CampaignField,
    CampaignFinding,
    CampaignInspection,
    CampaignStatus,
    CampaignTarget,
    InspectionOutcome,
    TargetKind,
)
from yiwang.governance.campaigns.progress import campaign_progress
from yiwang.governance.campaigns.targets import count_targets, filter_choices
from yiwang.grids.models import Division, DivisionLevel
from yiwang.web.access import actor_of, page_view
from yiwang.web.forms import attach_error, error_text

PAGE_SIZE = 20
LIST_LIMIT = 200  # rows of targets / visits / findings on the detail page

# --- forms ----------------------------------------------------------------------------------------


def _areas_for(user: Any) -> Any:
    """Divisions a user may open a campaign for: districts and streets of their areas, and their
    own communities (listing every community of a district would make an unusable select)."""
    scope = scope_of(user)
    rows = Division.objects.all()
    if not scope.everything:
        own = sorted(scope.district_ids | scope.street_ids | scope.community_ids)
        rows = rows.filter(
            Q(pk__in=own) | area_q(scope, AreaFields(district="district_id", street="street_id"))
        )
    communities = sorted(scope.community_ids)
    return rows.filter(
        Q(level__in=[DivisionLevel.DISTRICT, DivisionLevel.STREET]) | Q(pk__in=communities)
    ).order_by("code")


def _filter_choices() -> list[tuple[str, Any]]:
    groups: list[tuple[str, Any]] = [("", _("全部（该类型）"))]
    for kind, label in TargetKind.choices:
        options = filter_choices(kind)
        if options:
            groups.append((str(label), options))
    return groups


class DateInput(forms.DateInput):
    input_type = "date"


class CampaignForm(forms.Form):
    title = forms.CharField(label=_("名称"), max_length=100)
    field = forms.ModelChoiceField(label=_("治理领域"), queryset=CampaignField.objects.filter(is_active=True))
    division = forms.ModelChoiceField(label=_("治理区域"), queryset=Division.objects.none())
    starts_on = forms.DateField(label=_("开始日期"), widget=DateInput)
    ends_on = forms.DateField(label=_("结束日期"), widget=DateInput)
    target_kind = forms.ChoiceField(
        label=_("目标类型"), required=False, choices=[("", _("按领域默认")), *TargetKind.choices]
    )
    target_filter = forms.ChoiceField(label=_("目标筛选"), required=False, choices=())
    coverage_goal = forms.IntegerField(
        label=_("走访覆盖率目标（%）"), min_value=1, max_value=100, initial=100
    )
    fix_goal = forms.IntegerField(label=_("隐患整改率目标（%）"), min_value=1, max_value=100, initial=95)
    description = forms.CharField(label=_("工作要求"), required=False, max_length=2000, widget=forms.Textarea)

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        division = self.fields["division"]
        assert isinstance(division, forms.ModelChoiceField)
        division.queryset = _areas_for(user)
        target_filter = self.fields["target_filter"]
        assert isinstance(target_filter, forms.ChoiceField)
        target_filter.choices = _filter_choices()


class NoteForm(forms.Form):
    note = forms.CharField(label=_("说明"), required=False, max_length=500)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("取消原因"), max_length=500)


STATUS_FORMS: dict[str, tuple[type[forms.Form], Any]] = {
    "start": (NoteForm, _("启动（冻结治理对象）")),
    "close": (NoteForm, _("结束专项行动")),
    "cancel": (ReasonForm, _("取消专项行动")),
}


class VisitForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("走访结果"), choices=InspectionOutcome.choices, widget=forms.RadioSelect, initial="visited"
    )
    note = forms.CharField(
        label=_("情况说明"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
    finding = forms.CharField(
        label=_("发现隐患（可空）"),
        required=False,
        max_length=1500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("填写后将作为网格巡查案件登记，进入派遣办理流程"),
    )
    category = forms.ModelChoiceField(
        label=_("案件分类"),
        required=False,
        queryset=Category.objects.filter(is_active=True, kind="matter", parent__isnull=False).order_by(
            "code"
        ),
        help_text=_("为空时使用该领域的默认分类"),
    )


# --- helpers --------------------------------------------------------------------------------------


def _error_status(error: CaseError) -> int:
    if isinstance(error, InvalidCaseInput):
        return 400
    if isinstance(error, ActionForbidden):
        return 403
    return 409


def _campaign(request: HttpRequest, pk: int) -> Campaign:
    found: Campaign = get_object_or_404_in_scope(
        Campaign.objects.visible_to(request.user).select_related("field", "division"), pk=pk
    )
    return found


def _steers(user: Any) -> bool:
    return bool(workflow.TRANSITIONS["create"].roles & roles_of(user))


def _field_work(campaign: Campaign, user: Any) -> bool:
    return bool(workflow.allowed(campaign.status, roles_of(user), ["inspect"]))


# --- pages ----------------------------------------------------------------------------------------


def _index(request: HttpRequest, form: CampaignForm | None = None, status: int = 200) -> HttpResponse:
    user = request.user
    rows = Campaign.objects.visible_to(user).select_related("field", "division")
    state = request.GET.get("status", "")
    if state in CampaignStatus.values:
        rows = rows.filter(status=state)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    items = [(c, campaign_progress(c, user=user)) for c in page.object_list]
    if form is None and _steers(user):
        form = CampaignForm(user=user, initial={"starts_on": dt.date.today()})
    context = {
        "page": page,
        "items": items,
        "form": form,
        "statuses": CampaignStatus.choices,
        "status": state,
    }
    return render(request, "web/gov/campaigns/index.html", context, status=status)


@page_view("campaigns:index")
def index(request: HttpRequest) -> HttpResponse:
    return _index(request)


@page_view("campaigns:index")
@require_POST
def create(request: HttpRequest) -> HttpResponse:
    if not _steers(request.user):
        raise Http404
    form = CampaignForm(request.POST, user=request.user)
    if not form.is_valid():
        return _index(request, form, status=400)
    data = form.cleaned_data
    try:
        campaign = actions.create_campaign(
            actor=actor_of(request),
            field=data["field"],
            title=data["title"],
            division=data["division"],
            starts_on=data["starts_on"],
            ends_on=data["ends_on"],
            target_kind=data["target_kind"],
            target_filter=data["target_filter"],
            coverage_goal=data["coverage_goal"],
            fix_goal=data["fix_goal"],
            description=data["description"],
        )
    except CaseError as error:
        attach_error(form, error)
        return _index(request, form, status=_error_status(error))
    messages.success(request, _("已创建专项行动（草稿）"))
    return redirect("web:campaigns:detail", pk=campaign.pk)


def _detail(
    request: HttpRequest, campaign: Campaign, bound: tuple[str, forms.Form] | None = None, status: int = 200
) -> HttpResponse:
    user = request.user
    targets = (
        CampaignTarget.objects.visible_to(user).filter(campaign=campaign).select_related("grid", "community")
    )
    findings = (
        CampaignFinding.objects.visible_to(user)
        .filter(campaign=campaign)
        .select_related("case", "target", "case__category")
    )
    visible_cases = set(
        Case.objects.visible_to(user)
        .filter(pk__in=[f.case_id for f in findings[:LIST_LIMIT]])
        .values_list("pk", flat=True)
    )
    forms_ = []
    for name in workflow.allowed(campaign.status, roles_of(user)):
        form_class, label = STATUS_FORMS[name]
        form = bound[1] if bound and bound[0] == name else form_class(prefix=name)
        forms_.append((name, label, form))
    context = {
        "campaign": campaign,
        "progress": campaign_progress(campaign, user=user),
        "targets": targets[:LIST_LIMIT],
        "target_count": targets.count(),
        "inspections": CampaignInspection.objects.visible_to(user)
        .filter(campaign=campaign)
        .select_related("target", "inspected_by")[:LIST_LIMIT],
        "findings": [(f, f.case_id in visible_cases) for f in findings[:LIST_LIMIT]],
        "action_forms": forms_,
        "field_work": _field_work(campaign, user),
        "events": campaign.events.select_related("actor").order_by("-at", "-id")[:20],
        # A draft shows how many targets starting it would freeze now.
        "preview": count_targets(campaign) if campaign.status == CampaignStatus.DRAFT else None,
    }
    return render(request, "web/gov/campaigns/detail.html", context, status=status)


@page_view("campaigns:index")
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _campaign(request, pk))


@page_view("campaigns:index")
@require_POST
def act(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    campaign = _campaign(request, pk)
    if name not in STATUS_FORMS:
        raise Http404
    form_class, label = STATUS_FORMS[name]
    form = form_class(request.POST, prefix=name)
    if not form.is_valid():
        return _detail(request, campaign, (name, form), status=400)
    actor = actor_of(request)
    try:
        if name == "start":
            actions.start_campaign(actor=actor, campaign=campaign, note=form.cleaned_data["note"])
        elif name == "close":
            actions.close_campaign(actor=actor, campaign=campaign, note=form.cleaned_data["note"])
        else:
            actions.cancel_campaign(actor=actor, campaign=campaign, reason=form.cleaned_data["reason"])
    except CaseNotFound:
        raise Http404 from None
    except CaseError as error:
        attach_error(form, error)
        return _detail(request, _campaign(request, pk), (name, form), status=_error_status(error))
    messages.success(request, _("已完成：%(action)s") % {"action": label})
    return redirect("web:campaigns:detail", pk=pk)


def _target_page(
    request: HttpRequest,
    campaign: Campaign,
    target: CampaignTarget,
    form: VisitForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "campaign": campaign,
        "target": target,
        "form": form or VisitForm(),
        "field_work": _field_work(campaign, request.user),
        "inspections": target.inspections.select_related("inspected_by")[:20],
        "findings": target.findings.select_related("case")[:20],
    }
    return render(request, "web/gov/campaigns/target.html", context, status=status)


@page_view("campaigns:index")
def target(request: HttpRequest, pk: int, target_pk: int) -> HttpResponse:
    """The compact page of one target: its visits and findings, and the form to record a visit."""
    campaign = _campaign(request, pk)
    row: CampaignTarget = get_object_or_404_in_scope(
        CampaignTarget.objects.visible_to(request.user).filter(campaign=campaign).select_related("grid"),
        pk=target_pk,
    )
    if request.method != "POST":
        return _target_page(request, campaign, row)
    form = VisitForm(request.POST)
    if not form.is_valid():
        return _target_page(request, campaign, row, form, status=400)
    data = form.cleaned_data
    findings = (
        [FindingInput(description=data["finding"], category=data["category"])] if data["finding"] else []
    )
    try:
        actions.record_inspection(
            actor=actor_of(request),
            campaign=campaign,
            target=row,
            outcome=data["outcome"],
            note=data["note"],
            findings=findings,
        )
    except CaseNotFound:
        raise Http404 from None
    except CaseError as error:
        if getattr(error, "field", "") == "description":
            form.add_error("finding", error_text(error))
        else:
            attach_error(form, error)
        return _target_page(request, campaign, row, form, status=_error_status(error))
    messages.success(request, _("已记录走访") if not findings else _("已记录走访，隐患已登记为案件"))
    return redirect("web:campaigns:target", pk=pk, target_pk=target_pk)


urlpatterns: list[URLPattern | URLResolver] = [
    path("", index, name="index"),
    path("new/", create, name="create"),
    path("<int:pk>/", detail, name="detail"),
    path("<int:pk>/act/<str:name>/", act, name="act"),
    path("<int:pk>/targets/<int:target_pk>/", target, name="target"),
]
