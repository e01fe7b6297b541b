"""Key projects (攻坚项目): 定人定责定时限 — an owner, nodes with deadlines and quantified targets,
progress with evidence, supervision and escalation, KPI targets.

Rows are written only by :mod:`yiwang.governance.projects.actions`; reads go through
``visible_to(user)``. Colours (red / yellow / green) are computed, never stored: see ``status.py``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.core.scoping import scope_of
from yiwang.people.models import Role

# Defaults of the colour rule when no active ColourRule row exists (a data migration seeds one).
DEFAULT_YELLOW_WORKDAYS = 5
DEFAULT_YELLOW_PROGRESS = Decimal("80")


class ProjectStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    APPROVED = "approved", _("已立项")
    IN_PROGRESS = "in_progress", _("推进中")
    COMPLETED = "completed", _("已完成")
    SUSPENDED = "suspended", _("已暂停")
    CANCELLED = "cancelled", _("已撤销")


class NodeStatus(models.TextChoices):
    PENDING = "pending", _("未开始")
    IN_PROGRESS = "in_progress", _("推进中")
    DONE = "done", _("已完成")


class Colour(models.TextChoices):
    GREEN = "green", _("绿灯")
    YELLOW = "yellow", _("黄灯")
    RED = "red", _("红灯")


class EscalationLevel(models.IntegerChoices):
    NONE = 0, _("未升级")
    UNIT = 1, _("主管单位督办")
    DISTRICT_LEADER = 2, _("区分管领导督办")
    DISTRICT_HEAD = 3, _("区主要领导督办")


class SupervisionStatus(models.TextChoices):
    OPEN = "open", _("待回复")
    REPLIED = "replied", _("已回复")


class PeriodKind(models.TextChoices):
    MONTH = "month", _("月度")
    QUARTER = "quarter", _("季度")


class KpiKind(models.TextChoices):
    TAX = "tax", _("税收")
    OUTPUT = "output", _("产值")
    NEW_TAXPAYERS = "new_taxpayers", _("新增纳税人")
    INVESTMENT = "investment", _("投资额")
    OTHER = "other", _("其他")


class EventKind(models.TextChoices):
    CREATED = "created", _("创建项目")
    APPROVED = "approved", _("立项")
    STARTED = "started", _("启动推进")
    COMPLETED = "completed", _("完成项目")
    SUSPENDED = "suspended", _("暂停")
    RESUMED = "resumed", _("恢复推进")
    CANCELLED = "cancelled", _("撤销")
    NODE_ADDED = "node_added", _("新增节点")
    NODE_STARTED = "node_started", _("节点启动")
    NODE_DONE = "node_done", _("节点完成")
    PROGRESS = "progress", _("进度报告")
    SUPERVISED = "supervised", _("督办")
    SUPERVISION_REPLIED = "supervision_replied", _("督办回复")
    ESCALATED = "escalated", _("升级督办")
    KPI_ADDED = "kpi_added", _("新增指标")
    KPI_VALUE = "kpi_value", _("填报指标")


class ColourRule(models.Model):
    """The thresholds of the traffic light (data, editable in the admin; the active row wins).

    A node is red when its deadline has passed and it is not done; yellow when its deadline is
    within ``yellow_workdays`` working days and its progress is below ``yellow_progress`` percent.
    """

    name = models.CharField(_("名称"), max_length=50)
    yellow_workdays = models.PositiveSmallIntegerField(_("黄灯提前工作日"), default=DEFAULT_YELLOW_WORKDAYS)
    yellow_progress = models.DecimalField(
        _("黄灯进度阈值(%)"), max_digits=5, decimal_places=2, default=DEFAULT_YELLOW_PROGRESS
    )
    is_active = models.BooleanField(_("启用"), default=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("红黄绿灯规则")
        verbose_name_plural = _("红黄绿灯规则")
        ordering = ["-is_active", "-updated_at"]

    def __str__(self) -> str:
        return self.name


def _project_scope_q(user: Any) -> Q:
    """Visibility of a project as one filter (joins nodes: use it inside a ``pk__in`` subquery)."""
    scope = scope_of(user)
    if scope.everything:
        return Q()
    q = Q(owner_id=user.pk) | Q(nodes__responsible_id=user.pk)
    if scope.has_role(Role.LEADER, Role.ADMINISTRATOR):
        for ids in (scope.district_ids, scope.street_ids, scope.community_ids):
            if ids:
                s = sorted(ids)
                q |= (
                    Q(division_id__in=s)
                    | Q(division__district_id__in=s)
                    | Q(division__street_id__in=s)
                    | Q(division__parent_id__in=s)
                )
    if scope.has_role(Role.DEPARTMENT_HANDLER) and scope.department_ids:
        d = sorted(scope.department_ids)
        q |= Q(owner_department_id__in=d) | Q(nodes__responsible_department_id__in=d)
    return q


class ProjectQuerySet(models.QuerySet["Project"]):
    def visible_to(self, user: Any) -> ProjectQuerySet:
        """Leaders/admins by area subtree, handlers by department subtree (owner unit or a node's
        responsible unit), the owner and node responsibles always; anonymous users nothing."""
        if getattr(user, "pk", None) is None or not getattr(user, "is_active", False):
            return self.none()
        scope = scope_of(user)
        if scope.everything:
            return self
        ids = Project.objects.filter(_project_scope_q(user)).values("pk")
        return self.filter(pk__in=ids)


class Project(models.Model):
    """A key project (攻坚项目) with one owner (a person and a unit) and a time limit."""

    code = models.CharField(_("项目编号"), max_length=32, unique=True)
    name = models.CharField(_("项目名称"), max_length=200)
    description = models.TextField(_("项目内容"), blank=True)
    division = models.ForeignKey(
        "grids.Division", verbose_name=_("所属区域"), on_delete=models.PROTECT, related_name="+"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("责任人"), on_delete=models.PROTECT, related_name="+"
    )
    owner_department = models.ForeignKey(
        "people.Department", verbose_name=_("责任单位"), on_delete=models.PROTECT, related_name="+"
    )
    lng = models.FloatField(_("经度"), null=True, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    start_date = models.DateField(_("开始日期"))
    end_date = models.DateField(_("完成时限"))
    status = models.CharField(
        _("状态"), max_length=16, choices=ProjectStatus.choices, default=ProjectStatus.DRAFT, db_index=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    is_demo = models.BooleanField(_("演示数据"), default=False)

    objects = ProjectQuerySet.as_manager()

    class Meta:
        verbose_name = _("攻坚项目")
        verbose_name_plural = _("攻坚项目")
        ordering = ["end_date", "pk"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class NodeQuerySet(models.QuerySet["Node"]):
    def visible_to(self, user: Any) -> NodeQuerySet:
        return self.filter(project__in=Project.objects.visible_to(user))


class Node(models.Model):
    """A node (节点) of a project: a deadline, a quantified target and its own responsible person."""

    project = models.ForeignKey(
        Project, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="nodes"
    )
    seq = models.PositiveSmallIntegerField(_("序号"), default=1)
    name = models.CharField(_("节点名称"), max_length=200)
    deadline = models.DateField(_("节点时限"))
    target_value = models.DecimalField(_("目标值"), max_digits=16, decimal_places=2)
    current_value = models.DecimalField(_("当前值"), max_digits=16, decimal_places=2, default=Decimal("0"))
    unit = models.CharField(_("计量单位"), max_length=20, blank=True)
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("节点责任人"), on_delete=models.PROTECT, related_name="+"
    )
    responsible_department = models.ForeignKey(
        "people.Department", verbose_name=_("节点责任单位"), on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=NodeStatus.choices, default=NodeStatus.PENDING, db_index=True
    )
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(
        _("督办层级"), choices=EscalationLevel.choices, default=EscalationLevel.NONE
    )

    objects = NodeQuerySet.as_manager()

    class Meta:
        verbose_name = _("项目节点")
        verbose_name_plural = _("项目节点")
        ordering = ["project", "seq", "pk"]

    def __str__(self) -> str:
        return f"{self.project.code}-{self.seq} {self.name}"

    @property
    def progress(self) -> Decimal:
        """Percent of the target reached (0–100, capped); a done node is 100."""
        if self.status == NodeStatus.DONE:
            return Decimal("100")
        if self.target_value <= 0:
            return Decimal("0")
        share = self.current_value * 100 / self.target_value
        return min(Decimal("100"), max(Decimal("0"), share)).quantize(Decimal("0.1"))


class ProgressReport(models.Model):
    """A progress report (with evidence) on a project or one of its nodes."""

    project = models.ForeignKey(
        Project, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="reports"
    )
    node = models.ForeignKey(
        Node, verbose_name=_("节点"), null=True, blank=True, on_delete=models.CASCADE, related_name="reports"
    )
    value = models.DecimalField(_("完成值"), max_digits=16, decimal_places=2, null=True, blank=True)
    text = models.TextField(_("进展情况"))
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("报告人"), on_delete=models.PROTECT, related_name="+"
    )
    reported_at = models.DateTimeField(_("报告时间"), default=timezone.now)

    class Meta:
        verbose_name = _("进度报告")
        verbose_name_plural = _("进度报告")
        ordering = ["-reported_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.project.code} {self.reported_at:%Y-%m-%d}"


class EvidenceQuerySet(models.QuerySet["Evidence"]):
    def visible_to(self, user: Any) -> EvidenceQuerySet:
        return self.filter(report__project__in=Project.objects.visible_to(user))


class Evidence(models.Model):
    """A file attached to a progress report (type checked from its bytes by ``cases.files``)."""

    report = models.ForeignKey(
        ProgressReport, verbose_name=_("进度报告"), on_delete=models.CASCADE, related_name="evidence"
    )
    file = models.FileField(_("文件"), upload_to="projects/%Y/%m/")
    original_name = models.CharField(_("原文件名"), max_length=255, blank=True)
    content_type = models.CharField(_("类型"), max_length=64)
    size = models.PositiveIntegerField(_("大小(字节)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)

    objects = EvidenceQuerySet.as_manager()

    class Meta:
        verbose_name = _("佐证材料")
        verbose_name_plural = _("佐证材料")

    def __str__(self) -> str:
        return self.original_name


class Supervision(models.Model):
    """A supervision notice (督办) issued by a leader, with a reply deadline; the owner replies."""

    project = models.ForeignKey(
        Project, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="supervisions"
    )
    node = models.ForeignKey(
        Node,
        verbose_name=_("节点"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="supervisions",
    )
    notice = models.TextField(_("督办意见"))
    reply_due = models.DateField(_("回复期限"))
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("督办人"), on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(_("督办时间"), default=timezone.now)
    status = models.CharField(
        _("状态"), max_length=16, choices=SupervisionStatus.choices, default=SupervisionStatus.OPEN
    )
    reply = models.TextField(_("回复内容"), blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("回复人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    replied_at = models.DateTimeField(_("回复时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("督办")
        verbose_name_plural = _("督办")
        ordering = ["-issued_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.project.code} {self.issued_at:%Y-%m-%d}"


class Escalation(models.Model):
    """A red node not recovered after supervision, raised to a higher level (who, when, why)."""

    node = models.ForeignKey(
        Node, verbose_name=_("节点"), on_delete=models.CASCADE, related_name="escalations"
    )
    supervision = models.ForeignKey(
        Supervision,
        verbose_name=_("所依据的督办"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    level = models.PositiveSmallIntegerField(_("升级至"), choices=EscalationLevel.choices)
    reason = models.TextField(_("原因"), blank=True)
    escalated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("升级人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("为空表示系统自动升级"),
    )
    escalated_at = models.DateTimeField(_("升级时间"), default=timezone.now)

    class Meta:
        verbose_name = _("升级督办")
        verbose_name_plural = _("升级督办")
        ordering = ["-escalated_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.node} → {self.get_level_display()}"


class KpiIndicator(models.Model):
    """A KPI target of a project (税收, 产值, 新增纳税人…): a goal over the project's period."""

    project = models.ForeignKey(
        Project, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="kpis"
    )
    kind = models.CharField(_("指标类型"), max_length=16, choices=KpiKind.choices)
    name = models.CharField(_("指标名称"), max_length=100)
    unit = models.CharField(_("计量单位"), max_length=20, blank=True)
    goal = models.DecimalField(_("目标值"), max_digits=16, decimal_places=2)
    period_kind = models.CharField(
        _("填报周期"), max_length=8, choices=PeriodKind.choices, default=PeriodKind.MONTH
    )

    class Meta:
        verbose_name = _("考核指标")
        verbose_name_plural = _("考核指标")
        ordering = ["project", "pk"]

    def __str__(self) -> str:
        return f"{self.project.code} {self.name}"


class KpiValue(models.Model):
    """The value of a KPI in one period (``period_start`` is the first day of the month/quarter)."""

    indicator = models.ForeignKey(
        KpiIndicator, verbose_name=_("指标"), on_delete=models.CASCADE, related_name="values"
    )
    period_start = models.DateField(_("周期起始日"))
    value = models.DecimalField(_("完成值"), max_digits=16, decimal_places=2)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("填报人"), on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(_("填报时间"), default=timezone.now)

    class Meta:
        verbose_name = _("指标完成值")
        verbose_name_plural = _("指标完成值")
        ordering = ["indicator", "period_start"]
        constraints = [
            models.UniqueConstraint(fields=["indicator", "period_start"], name="projects_kpi_value_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator} {self.period_start:%Y-%m}"


class ProjectEvent(models.Model):
    """Append-only history of a project, written in the same transaction as the change."""

    project = models.ForeignKey(
        Project, verbose_name=_("项目"), on_delete=models.CASCADE, related_name="events"
    )
    node = models.ForeignKey(
        Node, verbose_name=_("节点"), null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("事件"), max_length=24, choices=EventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("时间"), default=timezone.now)
    from_status = models.CharField(_("原状态"), max_length=16, blank=True)
    to_status = models.CharField(_("新状态"), max_length=16, blank=True)
    note = models.TextField(_("说明"), blank=True)
    data = models.JSONField(_("数据"), default=dict, blank=True)

    class Meta:
        verbose_name = _("项目事件")
        verbose_name_plural = _("项目事件")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.project.code} {self.get_kind_display()}"
