"""Key projects (攻坚项目) in the staff API, mounted at ``/api/v1/projects/``.

Reads only through ``Project.objects.visible_to(request.user)`` (outside scope: 404). One POST per
action; every write goes through ``governance.projects.actions``, whose errors subclass the case
errors, so the shared handler answers 400 / 403 / 404 / 409 in the usual shape.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from yiwang.api.v1.permissions import actor_of
from yiwang.core.calendar import get_calendar
from yiwang.core.scoping import get_object_or_404_in_scope
from yiwang.governance.projects import actions, workflow
from yiwang.governance.projects.errors import ProjectInputError, ProjectNotFound
from yiwang.governance.projects.models import (
    KpiIndicator,
    KpiKind,
    Node,
    PeriodKind,
    Project,
    Supervision,
)
from yiwang.governance.projects.status import (
    Attainment,
    Dashboard,
    ProjectRow,
    active_rule,
    attainment,
    dashboard,
    node_colour,
    project_rows,
    today,
)
from yiwang.grids.models import Division
from yiwang.people.models import Department, User

# --- output ------------------------------------------------------------------------------------------


class ProjectNodeOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    seq = serializers.IntegerField()
    name = serializers.CharField()
    deadline = serializers.DateField()
    target_value = serializers.CharField()
    current_value = serializers.CharField()
    unit = serializers.CharField()
    progress = serializers.CharField(help_text="百分比")
    status = serializers.CharField()
    colour = serializers.CharField()
    responsible = serializers.IntegerField()
    responsible_department = serializers.IntegerField()
    escalation_level = serializers.IntegerField()


class ProjectOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    status = serializers.CharField()
    colour = serializers.CharField(allow_null=True, help_text="green / yellow / red; 草稿与撤销为空")
    progress = serializers.CharField()
    overdue_nodes = serializers.IntegerField()
    division = serializers.IntegerField()
    owner = serializers.IntegerField()
    owner_department = serializers.IntegerField()
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    lng = serializers.FloatField(allow_null=True)
    lat = serializers.FloatField(allow_null=True)
    allowed_actions = serializers.ListField(child=serializers.CharField())


class ProjectKpiOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    project = serializers.IntegerField()
    kind = serializers.CharField()
    name = serializers.CharField()
    unit = serializers.CharField()
    goal = serializers.CharField()
    period_kind = serializers.CharField()
    total = serializers.CharField()
    attainment = serializers.CharField(allow_null=True, help_text="完成率 %")
    periods = serializers.DictField(child=serializers.CharField())


class ProjectOverdueNodeOut(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    project = serializers.IntegerField()
    name = serializers.CharField()
    deadline = serializers.DateField()


class ProjectUnitOut(serializers.Serializer[Any]):
    department = serializers.IntegerField()
    name = serializers.CharField()
    total = serializers.IntegerField()
    red = serializers.IntegerField()
    yellow = serializers.IntegerField()
    green = serializers.IntegerField()
    overdue_nodes = serializers.IntegerField()


class ProjectDashboardOut(serializers.Serializer[Any]):
    by_colour = serializers.DictField(child=serializers.IntegerField())
    projects = serializers.IntegerField()
    overdue_nodes = ProjectOverdueNodeOut(many=True)
    open_supervisions = serializers.IntegerField()
    kpis = ProjectKpiOut(many=True)
    units = ProjectUnitOut(many=True)


def _row_dict(row: ProjectRow, user: Any) -> dict[str, Any]:
    p = row.project
    caps = actions.capacities(user, p)
    return {
        "id": p.pk,
        "code": p.code,
        "name": p.name,
        "status": p.status,
        "colour": row.colour.value if row.colour else None,
        "progress": str(row.progress),
        "overdue_nodes": row.overdue_nodes,
        "division": p.division_id,
        "owner": p.owner_id,
        "owner_department": p.owner_department_id,
        "start_date": p.start_date,
        "end_date": p.end_date,
        "lng": p.lng,
        "lat": p.lat,
        "allowed_actions": [t.name for t in workflow.project_actions(p.status, caps)],
    }


def _kpi_dict(a: Attainment) -> dict[str, Any]:
    k = a.indicator
    return {
        "id": k.pk,
        "project": k.project_id,
        "kind": k.kind,
        "name": k.name,
        "unit": k.unit,
        "goal": str(k.goal),
        "period_kind": k.period_kind,
        "total": str(a.total),
        "attainment": None if a.percent is None else str(a.percent),
        "periods": {label: str(v) for label, v in a.periods},
    }


def _detail_dict(project: Project, user: Any) -> dict[str, Any]:
    on, rule, cal = today(), active_rule(), get_calendar()
    nodes = list(project.nodes.all())
    body = _row_dict(project_rows([project], on)[0], user)
    body["description"] = project.description
    body["nodes"] = [
        {
            "id": n.pk,
            "seq": n.seq,
            "name": n.name,
            "deadline": n.deadline,
            "target_value": str(n.target_value),
            "current_value": str(n.current_value),
            "unit": n.unit,
            "progress": str(n.progress),
            "status": n.status,
            "colour": node_colour(n, on, rule, cal).value,
            "responsible": n.responsible_id,
            "responsible_department": n.responsible_department_id,
            "escalation_level": n.escalation_level,
            "allowed_actions": [
                t.name
                for t in workflow.node_actions(project.status, n.status, actions.capacities(user, project, n))
            ],
        }
        for n in nodes
    ]
    body["supervisions"] = [
        {
            "id": s.pk,
            "node": s.node_id,
            "notice": s.notice,
            "reply_due": s.reply_due,
            "status": s.status,
            "issued_by": s.issued_by_id,
            "issued_at": s.issued_at,
            "reply": s.reply,
            "replied_at": s.replied_at,
        }
        for s in project.supervisions.all()
    ]
    body["kpis"] = [_kpi_dict(attainment(k)) for k in project.kpis.prefetch_related("values")]
    body["reports"] = [
        {
            "id": r.pk,
            "node": r.node_id,
            "value": None if r.value is None else str(r.value),
            "text": r.text,
            "reported_by": r.reported_by_id,
            "reported_at": r.reported_at,
            "evidence": [
                {"id": e.pk, "name": e.original_name, "content_type": e.content_type, "size": e.size}
                for e in r.evidence.all()
            ],
        }
        for r in project.reports.prefetch_related("evidence")
    ]
    return body


def _dashboard_dict(board: Dashboard) -> dict[str, Any]:
    return {
        "by_colour": board.by_colour,
        "projects": len(board.rows),
        "overdue_nodes": [
            {"id": n.pk, "project": n.project_id, "name": n.name, "deadline": n.deadline}
            for n in board.overdue_nodes
        ],
        "open_supervisions": board.open_supervisions,
        "kpis": [_kpi_dict(a) for a in board.kpis],
        "units": [
            {
                "department": u.department.pk,
                "name": u.department.name,
                "total": u.total,
                "red": u.red,
                "yellow": u.yellow,
                "green": u.green,
                "overdue_nodes": u.overdue_nodes,
            }
            for u in board.units
        ],
    }


# --- input -------------------------------------------------------------------------------------------


class ProjectCreateIn(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="", max_length=4000)
    division = serializers.CharField(help_text="区划代码 (12 位)")
    owner = serializers.IntegerField(help_text="责任人用户 id")
    owner_department = serializers.IntegerField(help_text="责任单位 id")
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    lng = serializers.FloatField(required=False, allow_null=True, default=None)
    lat = serializers.FloatField(required=False, allow_null=True, default=None)


class ProjectNoteIn(serializers.Serializer[Any]):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=1000)


class ProjectNodeIn(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=200)
    deadline = serializers.DateField()
    target_value = serializers.CharField(max_length=32, help_text="目标值 (>0)")
    unit = serializers.CharField(required=False, allow_blank=True, default="", max_length=20)
    responsible = serializers.IntegerField(help_text="节点责任人用户 id")
    responsible_department = serializers.IntegerField(required=False, allow_null=True, default=None)


class ProjectProgressIn(serializers.Serializer[Any]):
    text = serializers.CharField(max_length=4000)
    node = serializers.IntegerField(required=False, allow_null=True, default=None)
    value = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, default=None, max_length=32
    )
    attachments = serializers.ListField(child=serializers.FileField(), required=False, default=list)


class ProjectSuperviseIn(serializers.Serializer[Any]):
    notice = serializers.CharField(max_length=4000)
    reply_due = serializers.DateField()
    node = serializers.IntegerField(required=False, allow_null=True, default=None)


class ProjectReplyIn(serializers.Serializer[Any]):
    reply = serializers.CharField(max_length=4000)


class ProjectReasonIn(serializers.Serializer[Any]):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=1000)


class ProjectKpiIn(serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=KpiKind.choices)
    name = serializers.CharField(max_length=100)
    goal = serializers.CharField(max_length=32)
    unit = serializers.CharField(required=False, allow_blank=True, default="", max_length=20)
    period_kind = serializers.ChoiceField(choices=PeriodKind.choices, default=PeriodKind.MONTH)


class ProjectKpiValueIn(serializers.Serializer[Any]):
    period = serializers.DateField(help_text="周期内任一日")
    value = serializers.CharField(max_length=32)


def _valid(serializer_class: type[serializers.Serializer[Any]], request: Request) -> dict[str, Any]:
    payload = serializer_class(data=request.data)
    payload.is_valid(raise_exception=True)
    return dict(payload.validated_data)


def _user(pk: int, field: str) -> User:
    user = User.objects.filter(pk=pk, is_active=True).first()
    if user is None:
        raise ProjectInputError("用户不存在", "no such user", field=field)
    return user


def _department(pk: int | None, field: str) -> Department | None:
    if pk is None:
        return None
    department = Department.objects.filter(pk=pk, is_active=True).first()
    if department is None:
        raise ProjectInputError("单位不存在", "no such department", field=field)
    return department


# --- the viewset -------------------------------------------------------------------------------------


class ProjectViewSet(viewsets.GenericViewSet[Project]):
    """Key projects in the user's scope: list with colour, detail, dashboard, and one POST per action."""

    serializer_class = ProjectOut
    queryset = Project.objects.none()
    filter_backends = ()

    def get_queryset(self) -> QuerySet[Project]:
        return (
            Project.objects.visible_to(self.request.user)
            .select_related("division", "owner_department")
            .prefetch_related(Prefetch("nodes", queryset=Node.objects.all()))
            .order_by("end_date", "pk")
        )

    def _project(self, pk: str | None) -> Project:
        project: Project = get_object_or_404_in_scope(self.get_queryset(), pk=pk)
        return project

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        rows = project_rows(page or [])
        return self.get_paginated_response([_row_dict(r, request.user) for r in rows])

    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return Response(_detail_dict(self._project(pk), request.user))

    @extend_schema(request=ProjectCreateIn, responses={201: ProjectOut})
    def create(self, request: Request) -> Response:
        data = _valid(ProjectCreateIn, request)
        division = Division.objects.filter(code=data.pop("division")).first()
        if division is None:
            raise ProjectInputError("区划不存在", "no such division", field="division")
        department = _department(data.pop("owner_department"), "owner_department")
        assert department is not None
        project = actions.create_project(
            actor_of(request),
            division=division,
            owner=_user(data.pop("owner"), "owner"),
            owner_department=department,
            **data,
        )
        return Response(
            _detail_dict(self._project(str(project.pk)), request.user), status=status.HTTP_201_CREATED
        )

    @extend_schema(responses=ProjectDashboardOut)
    @action(detail=False, methods=["get"], pagination_class=None)
    def dashboard(self, request: Request) -> Response:
        """Colours, overdue nodes, open supervision, KPI attainment (``?unit=<department id>``)."""
        unit_id = request.query_params.get("unit", "")
        unit = Department.objects.filter(pk=int(unit_id)).first() if unit_id.isdigit() else None
        return Response(_dashboard_dict(dashboard(request.user, unit=unit)))

    def _transition(self, request: Request, pk: str | None, name: str) -> Response:
        data = _valid(ProjectNoteIn, request)
        project = self._project(pk)
        actions.PROJECT_ACTIONS[name](actor_of(request), project, note=data["note"])
        return Response(_detail_dict(self._project(pk), request.user))

    @extend_schema(request=ProjectNoteIn, responses={200: ProjectOut})
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, pk, "approve")

    @extend_schema(request=ProjectNoteIn, responses={200: ProjectOut})
    @action(detail=True, methods=["post"])
    def start(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, pk, "start")

    @extend_schema(request=ProjectNoteIn, responses={200: ProjectOut})
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, pk, "complete")

    @extend_schema(request=ProjectNoteIn, responses={200: ProjectOut})
    @action(detail=True, methods=["post"])
    def suspend(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, pk, "suspend")

    @extend_schema(request=ProjectNoteIn, responses={200: ProjectOut})
    @action(detail=True, methods=["post"])
    def resume(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, pk, "resume")

    @extend_schema(request=ProjectNoteIn, responses={200: ProjectOut})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        return self._transition(request, pk, "cancel")

    @extend_schema(request=ProjectNodeIn, responses={201: ProjectNodeOut})
    @action(detail=True, methods=["post"], url_path="nodes")
    def add_node(self, request: Request, pk: str | None = None) -> Response:
        data = _valid(ProjectNodeIn, request)
        project = self._project(pk)
        node = actions.add_node(
            actor_of(request),
            project,
            name=data["name"],
            deadline=data["deadline"],
            target_value=data["target_value"],
            unit=data["unit"],
            responsible=_user(data["responsible"], "responsible"),
            responsible_department=_department(data["responsible_department"], "responsible_department"),
        )
        return Response(
            {"id": node.pk, "seq": node.seq, "status": node.status}, status=status.HTTP_201_CREATED
        )

    def _node(self, project: Project, node_id: str) -> Node:
        node = project.nodes.filter(pk=int(node_id)).first()
        if node is None:
            raise ProjectNotFound("节点不存在", "no such node")
        return node

    @extend_schema(request=ProjectNoteIn, responses={200: ProjectOut})
    @action(detail=True, methods=["post"], url_path=r"nodes/(?P<node_id>\d+)/start")
    def start_node(self, request: Request, pk: str | None = None, node_id: str = "") -> Response:
        data = _valid(ProjectNoteIn, request)
        project = self._project(pk)
        actions.start_node(actor_of(request), self._node(project, node_id), note=data["note"])
        return Response(_detail_dict(self._project(pk), request.user))

    @extend_schema(request=ProjectNoteIn, responses={200: ProjectOut})
    @action(detail=True, methods=["post"], url_path=r"nodes/(?P<node_id>\d+)/complete")
    def complete_node(self, request: Request, pk: str | None = None, node_id: str = "") -> Response:
        data = _valid(ProjectNoteIn, request)
        project = self._project(pk)
        actions.complete_node(actor_of(request), self._node(project, node_id), note=data["note"])
        return Response(_detail_dict(self._project(pk), request.user))

    @extend_schema(request=ProjectReasonIn, responses={201: None})
    @action(detail=True, methods=["post"], url_path=r"nodes/(?P<node_id>\d+)/escalate")
    def escalate(self, request: Request, pk: str | None = None, node_id: str = "") -> Response:
        data = _valid(ProjectReasonIn, request)
        project = self._project(pk)
        e = actions.escalate_node(actor_of(request), self._node(project, node_id), reason=data["reason"])
        body = {"id": e.pk, "node": e.node_id, "level": e.level, "escalated_at": e.escalated_at}
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=ProjectProgressIn, responses={201: None})
    @action(detail=True, methods=["post"], url_path="progress")
    def report_progress(self, request: Request, pk: str | None = None) -> Response:
        data = _valid(ProjectProgressIn, request)
        project = self._project(pk)
        report = actions.report_progress(
            actor_of(request),
            project,
            text=data["text"],
            node=data["node"],
            value=data["value"],
            files=data["attachments"],
        )
        body = {"id": report.pk, "evidence": [e.pk for e in report.evidence.all()]}
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(request=ProjectSuperviseIn, responses={201: None})
    @action(detail=True, methods=["post"], url_path="supervisions")
    def supervise(self, request: Request, pk: str | None = None) -> Response:
        data = _valid(ProjectSuperviseIn, request)
        s = actions.issue_supervision(actor_of(request), self._project(pk), **data)
        return Response(
            {"id": s.pk, "status": s.status, "reply_due": s.reply_due}, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=ProjectReplyIn, responses={200: None})
    @action(detail=True, methods=["post"], url_path=r"supervisions/(?P<supervision_id>\d+)/reply")
    def reply_supervision(
        self, request: Request, pk: str | None = None, supervision_id: str = ""
    ) -> Response:
        data = _valid(ProjectReplyIn, request)
        project = self._project(pk)
        supervision = Supervision.objects.filter(pk=int(supervision_id), project=project).first()
        if supervision is None:
            raise ProjectNotFound("督办不存在", "no such supervision")
        s = actions.reply_supervision(actor_of(request), supervision, reply=data["reply"])
        return Response({"id": s.pk, "status": s.status, "replied_at": s.replied_at})

    @extend_schema(request=ProjectKpiIn, responses={201: ProjectKpiOut})
    @action(detail=True, methods=["post"], url_path="kpis")
    def add_kpi(self, request: Request, pk: str | None = None) -> Response:
        data = _valid(ProjectKpiIn, request)
        k = actions.add_kpi(actor_of(request), self._project(pk), **data)
        return Response(_kpi_dict(attainment(k)), status=status.HTTP_201_CREATED)

    @extend_schema(request=ProjectKpiValueIn, responses={200: ProjectKpiOut})
    @action(detail=True, methods=["post"], url_path=r"kpis/(?P<kpi_id>\d+)/values")
    def record_kpi(self, request: Request, pk: str | None = None, kpi_id: str = "") -> Response:
        data = _valid(ProjectKpiValueIn, request)
        project = self._project(pk)
        indicator = KpiIndicator.objects.filter(pk=int(kpi_id), project=project).first()
        if indicator is None:
            raise ProjectNotFound("指标不存在", "no such KPI")
        actions.record_kpi_value(actor_of(request), indicator, period=data["period"], value=data["value"])
        indicator = KpiIndicator.objects.prefetch_related("values").get(pk=indicator.pk)
        return Response(_kpi_dict(attainment(indicator)))


router = SimpleRouter()
router.register("", ProjectViewSet, basename="gov-project")

urlpatterns = router.urls
