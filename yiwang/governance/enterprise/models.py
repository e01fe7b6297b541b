"""政企直通车: enterprises, their demands (a kind of case), visits, matchings and the module's timeline.

An enterprise is not a second register: its identity (name, 统一社会信用代码, grid, contact) lives
in ``registry.Organisation``; :class:`Enterprise` adds what the channel needs (industry, street, the
finance counsellor, the users who sign in for it). A :class:`Demand` is a case of channel
``enterprise``: the case holds the text, the place, the lead department and the deadlines of the
one pipeline; the demand holds the financing fields and the module's own steps.

Financial institutions are departments (``people.Department``) with a :class:`FinancialInstitution`
profile: the case pipeline dispatches to departments, department handlers already get their scope
from a department grant, and the inbox and SLA clocks work unchanged. The profile adds the kind of
institution and its own first-response limit.

Reads go through ``visible_to(user)`` (see :func:`demand_scope_q`); writes through
``enterprise.actions``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.cases.choices import Satisfaction
from yiwang.cases.models import Assignment
from yiwang.core.models import TimeStampedModel
from yiwang.core.scoping import AreaFields, Scope, area_q, scope_of
from yiwang.people.models import Role

# Roles that see every enterprise and demand of the areas of their grants (the finance bureau's
# staff, the command center, leaders).
AREA_ROLES = (Role.DISPATCHER, Role.LEADER, Role.ADMINISTRATOR)


class Industry(models.TextChoices):
    """Sections of GB/T 4754-2017 (国民经济行业分类) an enterprise channel meets most."""

    AGRICULTURE = "A", _("农、林、牧、渔业")
    MANUFACTURING = "C", _("制造业")
    UTILITIES = "D", _("电力、热力、燃气及水生产和供应业")
    CONSTRUCTION = "E", _("建筑业")
    TRADE = "F", _("批发和零售业")
    LOGISTICS = "G", _("交通运输、仓储和邮政业")
    HOSPITALITY = "H", _("住宿和餐饮业")
    IT = "I", _("信息传输、软件和信息技术服务业")
    REAL_ESTATE = "K", _("房地产业")
    BUSINESS_SERVICES = "L", _("租赁和商务服务业")
    RESEARCH = "M", _("科学研究和技术服务业")
    OTHER = "Z", _("其他行业")


class InstitutionKind(models.TextChoices):
    BANK = "bank", _("银行")
    GUARANTEE = "guarantee", _("融资担保")
    MICROCREDIT = "microcredit", _("小额贷款")
    LEASING = "leasing", _("融资租赁")
    OTHER = "other", _("其他金融机构")


class DemandKind(models.TextChoices):
    FINANCING = "financing", _("融资需求")
    POLICY = "policy", _("政策咨询")
    FACTORS = "factors", _("用地用工等要素保障")
    OTHER = "other", _("其他诉求")


class Collateral(models.TextChoices):
    NONE = "none", _("信用（无抵押）")
    REAL_ESTATE = "real_estate", _("不动产抵押")
    EQUIPMENT = "equipment", _("设备抵押")
    RECEIVABLES = "receivables", _("应收账款质押")
    IP = "ip", _("知识产权质押")
    GUARANTEE = "guarantee", _("第三方担保")
    OTHER = "other", _("其他")


class DemandStatus(models.TextChoices):
    SUBMITTED = "submitted", _("待派发")
    ROUTED = "routed", _("待受理")
    ACCEPTED = "accepted", _("对接中")
    CONCLUDED = "concluded", _("已办结")
    CLOSED = "closed", _("已回访")
    WITHDRAWN = "withdrawn", _("已撤销")


OPEN_DEMAND_STATUSES = (DemandStatus.SUBMITTED, DemandStatus.ROUTED, DemandStatus.ACCEPTED)


class VisitMode(models.TextChoices):
    ON_SITE = "on_site", _("实地走访")
    PHONE = "phone", _("电话")
    ONLINE = "online", _("线上")


# --- scoping --------------------------------------------------------------------------------------


def _grid_area(prefix: str) -> AreaFields:
    return AreaFields(
        district=f"{prefix}grid__community__district_id",
        street=f"{prefix}grid__community__street_id",
        community=f"{prefix}grid__community_id",
    )


def enterprise_scope_q(scope: Scope, user: Any, prefix: str = "") -> Q:
    """Which enterprises (reached through ``prefix``, e.g. ``"enterprise__"``) ``scope`` may see.

    * the enterprise's own users (:class:`EnterpriseMember`): that enterprise only;
    * finance counsellors: the enterprises assigned to them;
    * dispatchers, leaders, administrators: the enterprises located in their areas.
    """
    if scope.everything:
        return Q()
    user_id = getattr(user, "pk", None)
    q = Q(pk__in=[])
    if Role.ENTERPRISE in scope.roles and user_id:
        # A subquery, not a join: a join through the members would repeat enterprise rows.
        own = EnterpriseMember.objects.filter(user_id=user_id).values("enterprise_id")
        q |= Q(**{f"{prefix}id__in": own})
    if Role.FINANCE_COUNSELLOR in scope.roles and user_id:
        q |= Q(**{f"{prefix}counsellor_id": user_id})
    if scope.roles.intersection(AREA_ROLES):
        q |= area_q(scope, _grid_area(f"{prefix}organisation__"))
    return q


def demand_scope_q(scope: Scope, user: Any) -> Q:
    """Which demands ``scope`` may see: those of the enterprises it may see, plus (for department
    handlers) the demands whose case was ever routed to a department of their subtree."""
    q = enterprise_scope_q(scope, user, "enterprise__")
    if scope.everything:
        return q
    if Role.DEPARTMENT_HANDLER in scope.roles and scope.department_ids:
        routed = Assignment.objects.filter(department_id__in=sorted(scope.department_ids)).values("case_id")
        q |= Q(case_id__in=routed)
    return q


class EnterpriseQuerySet(models.QuerySet["Enterprise"]):
    def visible_to(self, user: Any) -> EnterpriseQuerySet:
        scope = scope_of(user)
        if scope.everything:
            return self
        if not scope.roles:
            return self.none()
        return self.filter(enterprise_scope_q(scope, user))


class DemandQuerySet(models.QuerySet["Demand"]):
    def visible_to(self, user: Any) -> DemandQuerySet:
        scope = scope_of(user)
        if scope.everything:
            return self
        if not scope.roles:
            return self.none()
        return self.filter(pk__in=Demand.objects.filter(demand_scope_q(scope, user)).values("pk"))


# --- institutions and enterprises -----------------------------------------------------------------


class FinancialInstitution(TimeStampedModel):
    """The profile of a department that is a financial institution (a bank branch, a guarantee
    company): demands are routed to its department through the case pipeline."""

    department = models.OneToOneField(
        "people.Department",
        verbose_name=_("对应承办单位"),
        on_delete=models.PROTECT,
        related_name="financial_institution",
    )
    kind = models.CharField(_("机构类型"), max_length=16, choices=InstitutionKind.choices)
    first_response_days = models.PositiveSmallIntegerField(
        _("首次响应时限（工作日）"),
        null=True,
        blank=True,
        help_text=_("留空则按诉求类型的默认时限"),
    )
    is_active = models.BooleanField(_("启用"), default=True)
    is_demo = models.BooleanField(_("演示数据（虚构）"), default=False)

    class Meta:
        verbose_name = _("金融机构")
        verbose_name_plural = _("金融机构")
        ordering = ["department__code"]

    def __str__(self) -> str:
        return str(self.department)


class ResponseRule(TimeStampedModel):
    """The first-response limit (首次响应时限) per kind of demand, in working days."""

    demand_kind = models.CharField(_("诉求类型"), max_length=16, choices=DemandKind.choices, unique=True)
    working_days = models.PositiveSmallIntegerField(_("首次响应时限（工作日）"))

    class Meta:
        verbose_name = _("响应时限")
        verbose_name_plural = _("响应时限")
        ordering = ["demand_kind"]

    def __str__(self) -> str:
        return f"{self.get_demand_kind_display()} · {self.working_days}"


class Enterprise(TimeStampedModel):
    """An enterprise served by the channel; identity and place come from its registry organisation."""

    organisation = models.OneToOneField(
        "registry.Organisation",
        verbose_name=_("单位组织"),
        on_delete=models.PROTECT,
        related_name="enterprise",
    )
    industry = models.CharField(_("所属行业"), max_length=2, choices=Industry.choices)
    street = models.ForeignKey(
        "grids.Division",
        verbose_name=_("所在街道/镇"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("由单位所在网格得出"),
    )
    counsellor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("金融辅导员"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="counselled_enterprises",
    )
    is_demo = models.BooleanField(_("演示数据（虚构）"), default=False)

    objects = EnterpriseQuerySet.as_manager()

    class Meta:
        verbose_name = _("企业")
        verbose_name_plural = _("企业")
        ordering = ["organisation__name"]

    def __str__(self) -> str:
        return self.organisation.name

    @property
    def name(self) -> str:
        return self.organisation.name

    @property
    def credit_code(self) -> str:
        return self.organisation.credit_code


class EnterpriseMember(TimeStampedModel):
    """A user who signs in for an enterprise (with a Role.ENTERPRISE grant); one enterprise each."""

    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("企业"), on_delete=models.CASCADE, related_name="members"
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="enterprise_membership",
    )

    class Meta:
        verbose_name = _("企业用户")
        verbose_name_plural = _("企业用户")

    def __str__(self) -> str:
        return f"{self.user} · {self.enterprise}"


# --- demands --------------------------------------------------------------------------------------


class Demand(TimeStampedModel):
    """One demand of an enterprise (融资 or other), tied one-to-one to its case."""

    case = models.OneToOneField(
        "cases.Case", verbose_name=_("案件"), on_delete=models.PROTECT, related_name="enterprise_demand"
    )
    enterprise = models.ForeignKey(
        Enterprise, verbose_name=_("企业"), on_delete=models.PROTECT, related_name="demands"
    )
    kind = models.CharField(_("诉求类型"), max_length=16, choices=DemandKind.choices)
    status = models.CharField(
        _("状态"), max_length=16, choices=DemandStatus.choices, default=DemandStatus.SUBMITTED, db_index=True
    )
    purpose = models.CharField(_("资金用途"), max_length=500, blank=True)
    amount_requested = models.DecimalField(
        _("申请金额（元）"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    term_months = models.PositiveSmallIntegerField(_("期限（月）"), null=True, blank=True)
    collateral = models.CharField(_("担保方式"), max_length=16, choices=Collateral.choices, blank=True)
    collateral_note = models.CharField(_("担保说明"), max_length=500, blank=True)
    department = models.ForeignKey(
        "people.Department",
        verbose_name=_("对接单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="enterprise_demands",
    )
    institution = models.ForeignKey(
        FinancialInstitution,
        verbose_name=_("金融机构"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="demands",
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("提交人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    filed_at = models.DateTimeField(_("提交时间"), db_index=True)
    routed_at = models.DateTimeField(_("派发时间"), null=True, blank=True)
    response_due_at = models.DateTimeField(_("首次响应期限"), null=True, blank=True)
    first_response_at = models.DateTimeField(_("首次响应时间"), null=True, blank=True)
    concluded_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    amount_granted = models.DecimalField(
        _("获批金额（元）"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    outcome_note = models.CharField(_("办理结果说明"), max_length=1000, blank=True)
    satisfaction = models.CharField(_("满意度"), max_length=24, choices=Satisfaction.choices, blank=True)
    version = models.PositiveIntegerField(_("版本"), default=0)

    objects = DemandQuerySet.as_manager()

    class Meta:
        verbose_name = _("企业诉求")
        verbose_name_plural = _("企业诉求")
        ordering = ["-filed_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_requested__isnull=True) | Q(amount_requested__gt=0),
                name="enterprise_demand_amount_positive",
            ),
            models.CheckConstraint(
                condition=Q(amount_granted__isnull=True) | Q(amount_granted__gte=0),
                name="enterprise_demand_granted_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case.number} · {self.enterprise}"

    @property
    def response_late(self) -> bool:
        """The first response came after its deadline, or has not come and the deadline passed."""
        if self.response_due_at is None:
            return False
        return (self.first_response_at or timezone.now()) > self.response_due_at


class DemandEventKind(models.TextChoices):
    FILED = "file", _("提交诉求")
    ROUTED = "route", _("派发")
    ACCEPTED = "accept", _("受理")
    DECLINED = "decline", _("退回")
    VISITED = "visit", _("走访")
    MATCHED = "match", _("对接")
    CONCLUDED = "conclude", _("办结")
    CALLED_BACK = "callback", _("回访评价")
    WITHDRAWN = "withdraw", _("撤销")


class DemandEvent(models.Model):
    """The module's own timeline of a demand (the case keeps its CaseEvents beside it)."""

    demand = models.ForeignKey(
        Demand, verbose_name=_("诉求"), on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("类型"), max_length=24, choices=DemandEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    at = models.DateTimeField(_("时间"), db_index=True)
    from_status = models.CharField(_("原状态"), max_length=16, blank=True)
    to_status = models.CharField(_("新状态"), max_length=16)
    note = models.CharField(_("说明"), max_length=1000, blank=True)
    data = models.JSONField(_("数据"), default=dict, blank=True)

    class Meta:
        verbose_name = _("诉求事件")
        verbose_name_plural = _("诉求事件")
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.demand_id} · {self.kind}"


class Visit(models.Model):
    """A visit (走访) to the enterprise about a demand, by a counsellor or an institution's staff."""

    demand = models.ForeignKey(
        Demand, verbose_name=_("诉求"), on_delete=models.CASCADE, related_name="visits"
    )
    visitor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("走访人"), on_delete=models.PROTECT, related_name="+"
    )
    mode = models.CharField(_("方式"), max_length=16, choices=VisitMode.choices, default=VisitMode.ON_SITE)
    visited_at = models.DateTimeField(_("走访时间"))
    note = models.CharField(_("走访情况"), max_length=1000)

    class Meta:
        verbose_name = _("走访记录")
        verbose_name_plural = _("走访记录")
        ordering = ["visited_at", "pk"]

    def __str__(self) -> str:
        return f"{self.demand_id} · {self.visited_at:%Y-%m-%d}"


class Matching(models.Model):
    """A matching (银企对接): an institution offers a product for a demand."""

    demand = models.ForeignKey(
        Demand, verbose_name=_("诉求"), on_delete=models.CASCADE, related_name="matchings"
    )
    institution = models.ForeignKey(
        FinancialInstitution, verbose_name=_("金融机构"), on_delete=models.PROTECT, related_name="matchings"
    )
    product = models.CharField(_("金融产品"), max_length=100)
    proposed_amount = models.DecimalField(_("拟授信金额（元）"), max_digits=14, decimal_places=2)
    note = models.CharField(_("说明"), max_length=1000, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("记录人"), on_delete=models.PROTECT, related_name="+"
    )
    matched_at = models.DateTimeField(_("对接时间"))

    class Meta:
        verbose_name = _("对接记录")
        verbose_name_plural = _("对接记录")
        ordering = ["matched_at", "pk"]

    def __str__(self) -> str:
        return f"{self.demand_id} · {self.institution} · {self.product}"
