"""The case (案件/工单): one row per demand or event, whatever channel it came from."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.db.models.lookups import LessThan
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.cases.choices import (
    OPEN_STATUSES,
    AssignmentRole,
    CaseStatus,
    Channel,
    DemandKind,
    Satisfaction,
    Urgency,
)
from yiwang.core.calendar import ClockColour, TimeUnit, get_calendar
from yiwang.core.fields import EncryptedCharField
from yiwang.core.scoping import AreaFields, Scope, area_q, scope_of
from yiwang.people.models import Role

DESCRIPTION_MAX = 4000

# Roles that see every case of their area; hotline operators see their area too, but not the
# confidential cases (保密工单) other people registered.
AREA_ROLES = (Role.DISPATCHER, Role.LEADER, Role.ADMINISTRATOR, Role.HOTLINE_OPERATOR)
CONFIDENTIAL_AREA_ROLES = (Role.DISPATCHER, Role.LEADER, Role.ADMINISTRATOR)
CASE_AREA = AreaFields(district="district_id", street="street_id", community="community_id", grid="grid_id")


def case_scope_q(scope: Scope, user: Any = None) -> models.Q:
    """Which cases ``scope`` may see.

    * dispatchers, leaders and administrators: every case in their areas;
    * hotline operators: the cases in their areas except confidential ones not registered by them;
    * department handlers: cases whose lead department or any assignment (lead or assisting, current
      or past) is in their department subtree, confidential or not (they must handle them);
    * grid workers: non-confidential cases located in their own grids (not their whole community),
      and the cases they reported themselves.
    """
    if scope.everything:
        return models.Q()
    user_id = getattr(user, "pk", None)
    own = models.Q(created_by_id=user_id) if user_id else models.Q(pk__in=[])
    public = models.Q(is_confidential=False) | own
    q = models.Q(pk__in=[])
    if scope.roles.intersection(CONFIDENTIAL_AREA_ROLES):
        q |= area_q(scope, CASE_AREA)
    elif Role.HOTLINE_OPERATOR in scope.roles:
        q |= area_q(scope, CASE_AREA) & public
    if Role.GRID_WORKER in scope.roles:
        if scope.grid_ids:
            q |= models.Q(grid_id__in=sorted(scope.grid_ids)) & public
        q |= own
    if scope.department_ids:
        ids = sorted(scope.department_ids)
        q |= models.Q(lead_department_id__in=ids) | models.Q(
            pk__in=Assignment.objects.filter(department_id__in=ids).values("case_id")
        )
    return q


def open_status_sql() -> RawSQL:
    """``status IN ('dispatched', …)`` with the values inlined (our own constants, no input)."""
    values = ", ".join(f"'{v}'" for v in sorted(OPEN_STATUSES))
    return RawSQL(f'"cases_case"."status" IN ({values})', [], output_field=models.BooleanField())  # noqa: S611


CLOCK_RUNNING = models.Q(accept_due_at__isnull=False) | models.Q(resolve_due_at__isnull=False)


def overdue_q(now: dt.datetime) -> models.Q:
    """A running clock past its due moment, not suspended. ``exclude(overdue_q(now))`` is the
    exact complement (no term of it is NULL under the NOT: Django guards ``suspended_at`` and the
    due columns are COALESCEd)."""
    # CLOCK_RUNNING is implied by the comparisons; it is spelled out because it is the condition of
    # the ``case_clock_created`` index, which a database only uses when the query states it. The
    # comparisons are COALESCE(due, now) < now (NULL: not due) rather than plain ``due < now``: on
    # plain columns SQLite prefers to OR the two due-date indexes and then sort every overdue case
    # (0.3 s at 1 M cases) over walking an index newest first and stopping after a page (3–5 ms).
    return (
        models.Q(suspended_at__isnull=True)
        & CLOCK_RUNNING
        & (models.Q(_due_before("accept_due_at", now)) | models.Q(_due_before("resolve_due_at", now)))
    )


def _due_before(column: str, now: dt.datetime) -> LessThan:
    return LessThan(Coalesce(column, models.Value(now, output_field=models.DateTimeField())), now)


class CaseQuerySet(models.QuerySet["Case"]):
    def visible_to(self, user: Any) -> CaseQuerySet:
        """The cases ``user`` may see (see :func:`case_scope_q`); out of scope means absent / 404."""
        scope = scope_of(user)
        if scope.is_empty:
            return self.none()
        return self.filter(case_scope_q(scope, user))

    def open(self) -> CaseQuerySet:
        """Open cases, the status condition written with constants: SQLite uses a partial index
        (case_open_*) only when the query states its condition with the same literals — a bound
        parameter could be anything (at 1 M cases: 6 s for the map's counts instead of 0.5 s)."""
        return self.filter(open_status_sql())

    def suspended(self) -> CaseQuerySet:
        return self.filter(suspended_at__isnull=False)

    def overdue(self, now: dt.datetime) -> CaseQuerySet:
        """Cases with a running clock past its due moment (suspended cases are not counted)."""
        return self.filter(overdue_q(now))


class Case(models.Model):
    """A case (案件/工单): a citizen's demand or a field event, from any channel, in one workflow.

    Every change goes through ``cases.actions``; each action writes one ``CaseEvent``. The running
    clocks are columns: ``accept_due_at`` (签收时限, set on dispatch, cleared on sign) and
    ``resolve_due_at`` (办结时限, set on sign, cleared on resolve); each has its started-at moment
    and unit for progress and colour, and a ``*_breached_at`` column that ``sla_scan`` fills once.
    """

    number = models.CharField(_("编号"), max_length=20, unique=True)
    channel = models.CharField(_("来源渠道"), max_length=16, choices=Channel.choices)
    category = models.ForeignKey(
        "cases.Category", verbose_name=_("分类"), on_delete=models.PROTECT, related_name="cases"
    )
    demand_kind = models.CharField(_("诉求类型"), max_length=16, choices=DemandKind.choices, blank=True)
    title = models.CharField(_("标题"), max_length=200)
    description = models.TextField(_("描述"), validators=[MaxLengthValidator(DESCRIPTION_MAX)])
    # Location: WGS84, resolved at intake to grid → community → street → district by the locator.
    lng = models.FloatField(_("经度"), null=True, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    address = models.CharField(_("地址"), max_length=255, blank=True)
    grid = models.ForeignKey(
        "grids.Grid",
        verbose_name=_("网格"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
    )
    community = models.ForeignKey(
        "grids.Division",
        verbose_name=_("社区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    street = models.ForeignKey(
        "grids.Division",
        verbose_name=_("街道"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    district = models.ForeignKey(
        "grids.Division",
        verbose_name=_("区县"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    urgency = models.CharField(_("紧急程度"), max_length=16, choices=Urgency.choices, default=Urgency.NORMAL)
    reporter_name = models.CharField(_("诉求人"), max_length=50, blank=True)
    # Personal information (PIPL): encrypted at rest, shown masked; exact search goes through the
    # keyed hash, never through the ciphertext.
    reporter_phone = EncryptedCharField(_("联系电话"), max_length=32, blank=True, pii_kind="phone")
    reporter_phone_hash = models.CharField(_("联系电话检索码"), max_length=64, blank=True, db_index=True)
    is_anonymous = models.BooleanField(_("匿名"), default=False)
    is_confidential = models.BooleanField(_("保密"), default=False)
    external_ref = models.CharField(_("外部编号"), max_length=64, blank=True, db_index=True)
    idempotency_key = models.CharField(_("幂等键"), max_length=64, null=True, blank=True, unique=True)
    # Answers to the category's extra questions (CategoryAttribute), validated by create_case:
    # {code: value} for single-value datatypes, {code: [values]} for multivaluelist.
    attributes = models.JSONField(_("附加属性"), default=dict, blank=True)

    status = models.CharField(
        _("状态"), max_length=16, choices=CaseStatus.choices, default=CaseStatus.REGISTERED, db_index=True
    )
    suspended_at = models.DateTimeField(_("挂账时间"), null=True, blank=True)
    version = models.PositiveIntegerField(_("版本"), default=0)
    lead_department = models.ForeignKey(
        "people.Department",
        verbose_name=_("主办单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="led_cases",
    )

    # The limits promised at intake (from the deadline policy), used whenever a clock starts.
    accept_limit = models.DecimalField(_("签收时限"), null=True, blank=True, max_digits=7, decimal_places=2)
    resolve_limit = models.DecimalField(_("办结时限"), null=True, blank=True, max_digits=7, decimal_places=2)
    accept_started_at = models.DateTimeField(_("签收计时开始"), null=True, blank=True)
    accept_due_at = models.DateTimeField(_("签收期限"), null=True, blank=True)
    accept_unit = models.CharField(_("签收时限单位"), max_length=16, choices=TimeUnit.choices, blank=True)
    accept_breached_at = models.DateTimeField(_("签收超时记录"), null=True, blank=True)
    resolve_started_at = models.DateTimeField(_("办结计时开始"), null=True, blank=True)
    resolve_due_at = models.DateTimeField(_("办结期限"), null=True, blank=True)
    resolve_unit = models.CharField(_("办结时限单位"), max_length=16, choices=TimeUnit.choices, blank=True)
    resolve_breached_at = models.DateTimeField(_("办结超时记录"), null=True, blank=True)
    overdue_count = models.PositiveSmallIntegerField(_("超时次数"), default=0)

    extension_amount = models.DecimalField(
        _("待批延期"), null=True, blank=True, max_digits=7, decimal_places=2
    )
    extension_unit = models.CharField(_("待批延期单位"), max_length=16, choices=TimeUnit.choices, blank=True)
    extension_count = models.PositiveSmallIntegerField(_("延期次数"), default=0)
    urge_count = models.PositiveSmallIntegerField(_("催办次数"), default=0)
    supervise_level = models.PositiveSmallIntegerField(_("督办级别"), null=True, blank=True)
    return_count = models.PositiveSmallIntegerField(_("退单次数"), default=0)
    rework_count = models.PositiveSmallIntegerField(_("返工次数"), default=0)
    reopen_count = models.PositiveSmallIntegerField(_("二次办理次数"), default=0)
    round = models.PositiveSmallIntegerField(_("派遣轮次"), default=0)

    result = models.TextField(_("办理结果"), blank=True)
    dispatched_at = models.DateTimeField(_("派遣时间"), null=True, blank=True)
    signed_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)

    called_back_at = models.DateTimeField(_("回访时间"), null=True, blank=True)
    contacted = models.BooleanField(_("是否联系"), null=True, blank=True)
    solved = models.BooleanField(_("是否解决"), null=True, blank=True)
    satisfaction = models.CharField(_("满意度"), max_length=24, choices=Satisfaction.choices, blank=True)

    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("并入案件"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_cases",
    )
    transfer_receipt = models.CharField(_("转办回执"), max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Not auto_now: backfilled history (the demo year) passes its own moments to the actions.
    created_at = models.DateTimeField(_("登记时间"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("案件")
        verbose_name_plural = _("案件")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["accept_due_at"],
                condition=models.Q(accept_due_at__isnull=False),
                name="case_accept_due",
            ),
            models.Index(
                fields=["resolve_due_at"],
                condition=models.Q(resolve_due_at__isnull=False),
                name="case_resolve_due",
            ),
            models.Index(fields=["street", "status"], name="case_street_status"),
            # Lists are read newest first (-created_at, -id) inside a scope or filter: an area (the
            # user's scope, the ``area`` filter) or a category (Open311 ``service_code``). Ending
            # each index with the sort order lets the database walk it backwards and stop after one
            # page, instead of sorting every case of the area (a whole district: all of them).
            models.Index(fields=["district", "created_at", "id"], name="case_district_created"),
            models.Index(fields=["street", "created_at", "id"], name="case_street_created"),
            models.Index(fields=["community", "created_at", "id"], name="case_community_created"),
            models.Index(fields=["grid", "created_at", "id"], name="case_grid_created"),
            models.Index(fields=["category", "created_at", "id"], name="case_category_created"),
            # The overdue list, newest first: the cases with a clock are few (the open ones), so a
            # walk of this small index beats sorting every overdue case found by the due indexes.
            models.Index(fields=["created_at", "id"], condition=CLOCK_RUNNING, name="case_clock_created"),
            # Open cases of a grid (the grid panel, a grid worker's scope): a few % of all cases.
            models.Index(
                fields=["grid"], condition=models.Q(status__in=sorted(OPEN_STATUSES)), name="case_open_grid"
            ),
            # The map's open and overdue counts per street and grid, read from the index alone: it
            # holds every column the counting needs (key columns, not INCLUDE, which SQLite lacks;
            # the status too, or SQLite visits the table to re-check the index's condition), so the
            # database does not visit the open cases scattered over the table.
            models.Index(
                fields=[
                    "district",
                    "street",
                    "grid",
                    "suspended_at",
                    "accept_due_at",
                    "resolve_due_at",
                    "status",
                ],
                condition=models.Q(status__in=sorted(OPEN_STATUSES)),
                name="case_open_counts",
            ),
            # Duplicate candidates at intake: open cases in a small box around the new one.
            models.Index(
                fields=["lat", "lng"],
                condition=models.Q(status__in=sorted(OPEN_STATUSES)),
                name="case_open_place",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    # --- clocks -----------------------------------------------------------------------------------
    def running_clock(self) -> tuple[str, dt.datetime, dt.datetime, str] | None:
        """``(name, started_at, due_at, unit)`` of the clock that is running, if any."""
        if self.accept_due_at and self.accept_started_at:
            return ("accept", self.accept_started_at, self.accept_due_at, self.accept_unit)
        if self.resolve_due_at and self.resolve_started_at:
            return ("resolve", self.resolve_started_at, self.resolve_due_at, self.resolve_unit)
        return None

    def clock_progress(self, now: dt.datetime | None = None) -> float | None:
        """Share of the running clock's time used; frozen at the suspension moment while suspended."""
        clock = self.running_clock()
        if clock is None:
            return None
        _name, started, due, unit = clock
        at = self.suspended_at or now or timezone.now()
        return get_calendar().progress(started, due, at, unit or TimeUnit.HOURS)

    def clock_colour(self, now: dt.datetime | None = None) -> ClockColour | None:
        """Green, yellow (≥ the schedule's warning share, 80 % by default) or red (overdue); None
        when no clock runs (registered, resolved, closed…)."""
        clock = self.running_clock()
        if clock is None:
            return None
        _name, started, due, unit = clock
        at = self.suspended_at or now or timezone.now()
        return get_calendar().colour(started, due, at, unit or TimeUnit.HOURS)


class Assignment(models.Model):
    """One department's part in one dispatch round of a case: lead (主办) or assisting (协办).

    A re-dispatch (after a return or a reopening) deactivates the previous round's rows and adds new
    ones, so the history of who had the case stays (and keeps the case visible to them)."""

    case = models.ForeignKey(
        Case, verbose_name=_("案件"), on_delete=models.CASCADE, related_name="assignments"
    )
    department = models.ForeignKey(
        "people.Department", verbose_name=_("单位"), on_delete=models.PROTECT, related_name="assignments"
    )
    role = models.CharField(_("角色"), max_length=8, choices=AssignmentRole.choices)
    round = models.PositiveSmallIntegerField(_("轮次"), default=1)
    assigned_at = models.DateTimeField(_("派遣时间"), default=timezone.now)
    signed_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    active = models.BooleanField(_("当前有效"), default=True)

    class Meta:
        verbose_name = _("承办分工")
        verbose_name_plural = _("承办分工")
        ordering = ["case_id", "round", "role", "id"]
        indexes = [models.Index(fields=["department", "active"], name="assignment_dept_active")]

    def __str__(self) -> str:
        return f"{self.case_id} · {self.department_id} · {self.get_role_display()}"


class CaseNumberCounter(models.Model):
    """The last sequence number handed out per day (numbers are yymmdd + sequence)."""

    day = models.DateField(_("日期"), primary_key=True)
    last = models.PositiveIntegerField(_("最后序号"), default=0)

    class Meta:
        verbose_name = _("编号计数器")
        verbose_name_plural = _("编号计数器")

    def __str__(self) -> str:
        return f"{self.day}: {self.last}"


__all__ = [
    "DESCRIPTION_MAX",
    "Assignment",
    "Case",
    "CaseNumberCounter",
    "CaseQuerySet",
    "Satisfaction",
    "overdue_q",
]
