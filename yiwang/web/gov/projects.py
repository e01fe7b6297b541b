"""Pages of 攻坚项目 (issue 9): the dashboard and list, a project's page with the forms of the actions
the user may take, the evidence files and a GeoJSON layer of located projects for the map.

Rows always come through ``visible_to``; every write goes through ``governance.projects.actions``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Prefetch, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, URLResolver, path
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from yiwang.cases.errors import CaseError, CaseNotFound, InvalidCaseInput
from yiwang.core.calendar import get_calendar
from yiwang.core.scoping import get_object_or_404_in_scope, scope_of
from yiwang.governance.projects import actions, workflow
from yiwang.governance.projects.models import (
    Evidence,
    KpiIndicator,
    KpiKind,
    Node,
    PeriodKind,
    ProgressReport,
    Project,
    ProjectEvent,
    ProjectStatus,
    Supervision,
)
from yiwang.governance.projects.status import (
    active_rule,
    attainment,
    dashboard,
    node_colour,
    project_rows,
    today,
)
from yiwang.grids.models import Division
from yiwang.people.models import Department, Role, User
from yiwang.web.access import actor_of, page_view, signed_in
from yiwang.web.forms import MultipleFileField, attach_error

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _note() -> forms.CharField:
    return forms.CharField(
        label=_("说明"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


# --- forms (they only parse; the actions validate and name the field) ----------------------------------


def _choose(form: forms.Form, name: str, queryset: QuerySet[Any]) -> None:
    """Set a model choice field's rows per request (the class attribute is evaluated once)."""
    field = form.fields[name]
    assert isinstance(field, forms.ModelChoiceField)
    field.queryset = queryset


def _users() -> QuerySet[User]:
    return User.objects.filter(is_active=True).order_by("username")


def _departments() -> QuerySet[Department]:
    return Department.objects.filter(is_active=True).order_by("code")


class NoteForm(forms.Form):
    note = _note()


class ProjectForm(forms.Form):
    name = forms.CharField(label=_("项目名称"), max_length=200)
    description = forms.CharField(
        label=_("项目内容"), required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    division = forms.ModelChoiceField(queryset=Division.objects.none(), label=_("所属区域"))
    owner = forms.ModelChoiceField(queryset=User.objects.none(), label=_("责任人"))
    owner_department = forms.ModelChoiceField(queryset=Department.objects.none(), label=_("责任单位"))
    start_date = forms.DateField(label=_("开始日期"), widget=DATE)
    end_date = forms.DateField(label=_("完成时限"), widget=DATE)
    lng = forms.FloatField(label=_("经度"), required=False)
    lat = forms.FloatField(label=_("纬度"), required=False)

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choose(self, "division", Division.objects.visible_to(user).order_by("code"))
        _choose(self, "owner", _users())
        _choose(self, "owner_department", _departments())


class NodeForm(forms.Form):
    name = forms.CharField(label=_("节点名称"), max_length=200)
    deadline = forms.DateField(label=_("节点时限"), widget=DATE)
    target_value = forms.DecimalField(label=_("目标值"), max_digits=16, decimal_places=2)
    unit = forms.CharField(label=_("计量单位"), max_length=20, required=False)
    responsible = forms.ModelChoiceField(queryset=User.objects.none(), label=_("节点责任人"))
    responsible_department = forms.ModelChoiceField(
        queryset=Department.objects.none(), label=_("节点责任单位"), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _choose(self, "responsible", _users())
        _choose(self, "responsible_department", _departments())


class NodeRefForm(forms.Form):
    node = forms.IntegerField(widget=forms.HiddenInput)
    note = _note()


class ProgressForm(forms.Form):
    node = forms.TypedChoiceField(label=_("节点"), required=False, coerce=int, empty_value=None)
    value = forms.DecimalField(label=_("完成值"), required=False, max_digits=16, decimal_places=2)
    text = forms.CharField(label=_("进展情况"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))
    attachments = MultipleFileField(label=_("佐证材料"), help_text=_("JPEG、PNG、WebP 或 PDF"))

    def __init__(self, *args: Any, project: Project | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        nodes = project.nodes.all() if project is not None else Node.objects.none()
        self.fields["node"].choices = [("", "—")] + [(n.pk, f"{n.seq}. {n.name}") for n in nodes]  # type: ignore[attr-defined]


class SuperviseForm(forms.Form):
    node = forms.TypedChoiceField(label=_("节点"), required=False, coerce=int, empty_value=None)
    notice = forms.CharField(label=_("督办意见"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))
    reply_due = forms.DateField(label=_("回复期限"), widget=DATE)

    def __init__(self, *args: Any, project: Project | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        nodes = project.nodes.all() if project is not None else Node.objects.none()
        self.fields["node"].choices = [("", "—")] + [(n.pk, f"{n.seq}. {n.name}") for n in nodes]  # type: ignore[attr-defined]


class ReplyForm(forms.Form):
    supervision = forms.IntegerField(widget=forms.HiddenInput)
    reply = forms.CharField(label=_("回复内容"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))


class EscalateForm(forms.Form):
    node = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("原因"), required=False, max_length=1000)


class KpiForm(forms.Form):
    kind = forms.ChoiceField(label=_("指标类型"), choices=KpiKind.choices)
    name = forms.CharField(label=_("指标名称"), max_length=100)
    goal = forms.DecimalField(label=_("目标值"), max_digits=16, decimal_places=2)
    unit = forms.CharField(label=_("计量单位"), max_length=20, required=False)
    period_kind = forms.ChoiceField(label=_("填报周期"), choices=PeriodKind.choices)


class KpiValueForm(forms.Form):
    indicator = forms.TypedChoiceField(label=_("指标"), coerce=int)
    period = forms.DateField(label=_("周期内任一日"), widget=DATE)
    value = forms.DecimalField(label=_("完成值"), max_digits=16, decimal_places=2)

    def __init__(self, *args: Any, project: Project | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        kpis = project.kpis.all() if project is not None else KpiIndicator.objects.none()
        self.fields["indicator"].choices = [(k.pk, k.name) for k in kpis]  # type: ignore[attr-defined]


# --- the actions offered on a project's page -----------------------------------------------------------


Runner = Callable[[User, Project, dict[str, Any]], object]


@dataclass(frozen=True)
class WebAction:
    name: str
    form: type[forms.Form]
    run: Runner
    needs_project: bool = False  # the form's constructor takes ``project=``
    multipart: bool = False

    @property
    def label(self) -> Promise:
        return workflow.ALL_ACTIONS[self.name].label

    @property
    def danger(self) -> bool:
        return workflow.ALL_ACTIONS[self.name].danger


def _transition(name: str) -> WebAction:
    fn = actions.PROJECT_ACTIONS[name]
    return WebAction(name, NoteForm, lambda u, p, d: fn(u, p, note=d["note"]))


def _node_transition(name: str) -> WebAction:
    fn = actions.NODE_ACTIONS[name]
    return WebAction(name, NodeRefForm, lambda u, p, d: fn(u, _node_of(p, d["node"]), note=d["note"]))


def _node_of(project: Project, pk: int) -> Node:
    node = project.nodes.filter(pk=pk).first()
    if node is None:
        raise CaseNotFound("节点不存在", "no such node")
    return node


WEB_ACTIONS: dict[str, WebAction] = {
    a.name: a
    for a in (
        *(_transition(n) for n in actions.PROJECT_ACTIONS),
        *(_node_transition(n) for n in actions.NODE_ACTIONS),
        WebAction("add_node", NodeForm, lambda u, p, d: actions.add_node(u, p, **d)),
        WebAction(
            "report_progress",
            ProgressForm,
            lambda u, p, d: actions.report_progress(
                u, p, text=d["text"], node=d["node"], value=d["value"], files=d["attachments"]
            ),
            needs_project=True,
            multipart=True,
        ),
        WebAction(
            "supervise",
            SuperviseForm,
            lambda u, p, d: actions.issue_supervision(
                u, p, notice=d["notice"], reply_due=d["reply_due"], node=d["node"]
            ),
            needs_project=True,
        ),
        WebAction(
            "reply_supervision",
            ReplyForm,
            lambda u, p, d: actions.reply_supervision(
                u, _supervision_of(p, d["supervision"]), reply=d["reply"]
            ),
        ),
        WebAction(
            "escalate",
            EscalateForm,
            lambda u, p, d: actions.escalate_node(u, _node_of(p, d["node"]), reason=d["reason"]),
        ),
        WebAction("add_kpi", KpiForm, lambda u, p, d: actions.add_kpi(u, p, **d)),
        WebAction(
            "record_kpi",
            KpiValueForm,
            lambda u, p, d: actions.record_kpi_value(u, d["indicator"], period=d["period"], value=d["value"]),
            needs_project=True,
        ),
    )
}
# Forms shown once per row (node, supervision) rather than once per project.
ROW_ACTIONS = frozenset({"start_node", "complete_node", "reply_supervision", "escalate"})


def _supervision_of(project: Project, pk: int) -> Supervision:
    supervision = project.supervisions.filter(pk=pk).first()
    if supervision is None:
        raise CaseNotFound("督办不存在", "no such supervision")
    return supervision


def _form(action: WebAction, project: Project, data: Any = None, files: Any = None) -> forms.Form:
    kwargs: dict[str, Any] = {"prefix": action.name}
    if action.needs_project:
        kwargs["project"] = project
    return action.form(data, files, **kwargs)


# --- pages -------------------------------------------------------------------------------------------


def _can_create(user: Any) -> bool:
    return scope_of(user).has_role(Role.LEADER, Role.ADMINISTRATOR)


@page_view("projects:index")
def index(request: HttpRequest) -> HttpResponse:
    """The dashboard (district, or one unit with ``?unit=``) and the list of projects by colour."""
    unit = None
    unit_id = request.GET.get("unit", "")
    if unit_id.isdigit():
        unit = Department.objects.filter(pk=int(unit_id)).first()
    board = dashboard(request.user, unit=unit)
    colour = request.GET.get("colour", "")
    rows = [r for r in board.rows if not colour or (r.colour or "") == colour]
    context = {
        "board": board,
        "rows": rows,
        "colour": colour,
        "create_form": ProjectForm(user=request.user, prefix="create") if _can_create(request.user) else None,
    }
    return render(request, "web/gov/projects/index.html", context)


@page_view("projects:index")
@require_POST
def create(request: HttpRequest) -> HttpResponse:
    form = ProjectForm(request.POST, user=request.user, prefix="create")
    if form.is_valid():
        try:
            project = actions.create_project(actor_of(request), **form.cleaned_data)
        except CaseError as error:
            attach_error(form, error)
        else:
            messages.success(request, gettext("已创建攻坚项目：%(name)s") % {"name": project.name})
            return redirect("web:projects:detail", pk=project.pk)
    board = dashboard(request.user)
    context = {"board": board, "rows": board.rows, "colour": "", "create_form": form}
    return render(request, "web/gov/projects/index.html", context, status=400)


def project_for(request: HttpRequest, pk: int) -> Project:
    queryset = Project.objects.visible_to(request.user).select_related(
        "owner", "owner_department", "division"
    )
    project: Project = get_object_or_404_in_scope(queryset, pk=pk)
    return project


def _render_detail(
    request: HttpRequest, project: Project, bound: tuple[str, forms.Form] | None = None, status: int = 200
) -> HttpResponse:
    user = actor_of(request)
    nodes = list(project.nodes.select_related("responsible", "responsible_department"))
    on, rule = today(), active_rule()
    cal = get_calendar()
    caps = actions.capacities(user, project)
    offered = [
        t.name
        for t in workflow.project_actions(project.status, caps)
        if t.name in WEB_ACTIONS and t.name not in ROW_ACTIONS
    ]
    if "record_kpi" in offered and not project.kpis.exists():
        offered.remove("record_kpi")
    forms_ = []
    for name in offered:
        action = WEB_ACTIONS[name]
        form = bound[1] if bound and bound[0] == name else _form(action, project)
        forms_.append({"action": action, "form": form})
    can_escalate = "escalate" in [t.name for t in workflow.project_actions(project.status, caps)]
    node_rows = []
    for node in nodes:
        node_caps = actions.capacities(user, project, node)
        node_rows.append(
            {
                "node": node,
                "colour": node_colour(node, on, rule, cal),
                "actions": [
                    {
                        "action": WEB_ACTIONS[t.name],
                        "form": NodeRefForm(
                            initial={"node": node.pk}, prefix=t.name, auto_id=f"id_%s_{node.pk}"
                        ),
                    }
                    for t in workflow.node_actions(project.status, node.status, node_caps)
                ],
                "escalate": (
                    EscalateForm(initial={"node": node.pk}, prefix="escalate", auto_id=f"id_%s_{node.pk}")
                    if can_escalate
                    else None
                ),
            }
        )
    reply_caps = workflow.may("reply_supervision", caps) and workflow.state_allows(
        "reply_supervision", project.status
    )
    supervisions = list(project.supervisions.select_related("issued_by", "replied_by", "node"))
    context = {
        "project": project,
        "row": project_rows([project], on)[0],
        "node_rows": node_rows,
        "action_forms": forms_,
        "reports": ProgressReport.objects.filter(project=project)
        .select_related("node", "reported_by")
        .prefetch_related("evidence"),
        "supervisions": [
            {
                "item": s,
                "form": ReplyForm(
                    initial={"supervision": s.pk}, prefix="reply_supervision", auto_id=f"id_%s_{s.pk}"
                )
                if reply_caps and s.status == "open"
                else None,
            }
            for s in supervisions
        ],
        "kpis": [attainment(k) for k in project.kpis.prefetch_related("values")],
        "events": ProjectEvent.objects.filter(project=project).select_related("actor", "node"),
        "escalations": [e for n in nodes for e in n.escalations.select_related("escalated_by")],
        "bound_error": bound[0] if bound else "",
    }
    return render(request, "web/gov/projects/detail.html", context, status=status)


@page_view("projects:index")
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, project_for(request, pk))


@page_view("projects:index")
@require_POST
def act(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    """Run one action from its form; bad input shows the form again with the message (400/403/409)."""
    project = project_for(request, pk)
    action = WEB_ACTIONS.get(name)
    if action is None:
        raise Http404
    form = _form(action, project, request.POST, request.FILES)
    if not form.is_valid():
        return _render_detail(request, project, (name, form), status=400)
    try:
        action.run(actor_of(request), project, dict(form.cleaned_data))
    except CaseNotFound:
        raise Http404 from None
    except CaseError as error:
        attach_error(form, error)
        status = 400 if isinstance(error, InvalidCaseInput) else 403 if error.code == "forbidden" else 409
        return _render_detail(request, project_for(request, pk), (name, form), status=status)
    messages.success(request, gettext("已完成：%(action)s") % {"action": action.label})
    return redirect("web:projects:detail", pk=pk)


@page_view("projects:index")
def evidence(request: HttpRequest, pk: int) -> FileResponse:
    """An evidence file of a project the user may see, with the type sniffed at upload."""
    item: Evidence = get_object_or_404_in_scope(Evidence.objects.visible_to(request.user), pk=pk)
    inline = item.content_type.startswith("image/")
    response = FileResponse(
        item.file.open("rb"),
        content_type=item.content_type,
        as_attachment=not inline,
        filename=item.original_name or f"evidence-{item.pk}",
    )
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    return response


def geojson_features(user: Any, on: dt.date | None = None) -> dict[str, Any]:
    """Located projects the user may see, as a GeoJSON FeatureCollection with their colour."""
    projects = (
        Project.objects.visible_to(user)
        .filter(lng__isnull=False, lat__isnull=False)
        .exclude(status=ProjectStatus.CANCELLED)
        .select_related("owner_department")
        .prefetch_related(Prefetch("nodes", queryset=Node.objects.all()))
    )
    features = [
        {
            "type": "Feature",
            "id": row.project.pk,
            "geometry": {"type": "Point", "coordinates": [row.project.lng, row.project.lat]},
            "properties": {
                "code": row.project.code,
                "name": row.project.name,
                "status": row.project.status,
                "colour": row.colour.value if row.colour else "none",
                "progress": float(row.progress),
                "owner_department": row.project.owner_department.name,
                "end_date": row.project.end_date.isoformat(),
                "overdue_nodes": row.overdue_nodes,
            },
        }
        for row in project_rows(projects, on)
    ]
    return {"type": "FeatureCollection", "features": features}


@signed_in
def geojson(request: HttpRequest) -> JsonResponse:
    """The map layer of projects (sign-in required, scoped: other users' projects are absent)."""
    return JsonResponse(geojson_features(request.user))


urlpatterns: list[URLPattern | URLResolver] = [
    path("", index, name="index"),
    path("new/", create, name="create"),
    path("geojson/", geojson, name="geojson"),
    path("<int:pk>/", detail, name="detail"),
    path("<int:pk>/action/<str:name>/", act, name="action"),
    path("evidence/<int:pk>/", evidence, name="evidence"),
]
