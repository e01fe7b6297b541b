"""矛盾纠纷调解 (issue 9): committees, mediators, disputes, parties, sessions, agreements, events.

A dispute is a confidential case kind: every :class:`Dispute` owns one ``cases.Case`` registered on
the ``mediation`` channel with ``is_confidential=True`` and *no location*, so the case pipeline's
area scoping (dispatchers, hotline) never matches it and Open311 hides its channel. Everything a
mediator records lives here and is read only through ``Dispute.objects.visible_to(user)``.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.core import pii
from yiwang.core.calendar import TimeUnit
from yiwang.core.fields import EncryptedCharField
from yiwang.core.models import TimeStampedModel
from yiwang.core.scoping import AreaFields, area_q, scope_of
from yiwang.people.models import Role


class DisputeKind(models.TextChoices):
    NEIGHBOUR = "neighbour", _("邻里纠纷")
    FAMILY = "family", _("婚姻家庭")
    LABOUR = "labour", _("劳动争议")
    PROPERTY = "property", _("物业纠纷")
    LAND = "land", _("土地山林")
    CONTRACT = "contract", _("合同债务")
    DAMAGE = "damage", _("损害赔偿")
    OTHER = "other", _("其他纠纷")


class DisputeStatus(models.TextChoices):
    APPLIED = "applied", _("已申请")
    ACCEPTED = "accepted", _("已受理")
    ASSIGNED = "assigned", _("已指派")
    MEDIATING = "mediating", _("调解中")
    AGREED = "agreed", _("达成协议")
    FAILED = "failed", _("调解不成")
    FOLLOWED_UP = "followed_up", _("已回访")
    CLOSED = "closed", _("已结案")


OPEN_STATUSES = frozenset({DisputeStatus.ACCEPTED, DisputeStatus.ASSIGNED, DisputeStatus.MEDIATING})


class Outcome(models.TextChoices):
    AGREEMENT = "agreement", _("调解成功")
    FAILURE = "failure", _("调解不成")


class Referral(models.TextChoices):
    ARBITRATION = "arbitration", _("仲裁")
    COURT = "court", _("诉讼")
    PETITION = "petition", _("信访")


class CommitteeLevel(models.TextChoices):
    STREET = "street", _("街道（镇）调委会")
    COMMUNITY = "community", _("社区（村）调委会")


class MediatorKind(models.TextChoices):
    PEOPLE = "people", _("人民调解员")
    LABOUR = "labour", _("劳动争议调解员")


class PartySide(models.TextChoices):
    APPLICANT = "applicant", _("申请人")
    RESPONDENT = "respondent", _("被申请人")


class PartyKind(models.TextChoices):
    PERSON = "person", _("自然人")
    ORGANISATION = "organisation", _("单位")


# The category tree of disputes in ``cases.Category``: confidential, never public, created by
# :func:`yiwang.governance.mediation.actions.ensure_categories` (data migration 0003).
CATEGORY_ROOT = ("MD-00", "矛盾纠纷")
CATEGORY_BY_KIND: dict[str, tuple[str, str]] = {
    DisputeKind.NEIGHBOUR: ("MD-01", "邻里纠纷"),
    DisputeKind.FAMILY: ("MD-02", "婚姻家庭纠纷"),
    DisputeKind.LABOUR: ("MD-03", "劳动争议"),
    DisputeKind.PROPERTY: ("MD-04", "物业纠纷"),
    DisputeKind.LAND: ("MD-05", "土地山林纠纷"),
    DisputeKind.CONTRACT: ("MD-06", "合同债务纠纷"),
    DisputeKind.DAMAGE: ("MD-07", "损害赔偿纠纷"),
    DisputeKind.OTHER: ("MD-99", "其他纠纷"),
}


class TimeLimit(TimeStampedModel):
    """How long mediation may take from acceptance, per dispute kind (blank kind: the default).

    Seeded: 30 days by default (人民调解工作若干规定: 一般在一个月内调结) and 15 days for labour
    disputes (劳动争议调解仲裁法 第十四条); editable, and a working-day unit uses the work calendar.
    """

    kind = models.CharField(
        _("纠纷类型"), max_length=16, choices=DisputeKind.choices, blank=True, unique=True
    )
    amount = models.DecimalField(_("时限"), max_digits=6, decimal_places=2)
    unit = models.CharField(_("单位"), max_length=16, choices=TimeUnit.choices, default=TimeUnit.DAYS)
    basis = models.CharField(_("依据"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("调解时限")
        verbose_name_plural = _("调解时限")
        ordering = ["kind"]

    def __str__(self) -> str:
        return f"{self.get_kind_display() or _('默认')} · {self.amount} {self.get_unit_display()}"


class Mediator(TimeStampedModel):
    """A user who mediates (人民调解员 or 劳动争议调解员); the user also holds a MEDIATOR grant."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="mediator"
    )
    kind = models.CharField(
        _("类型"), max_length=16, choices=MediatorKind.choices, default=MediatorKind.PEOPLE
    )
    is_active = models.BooleanField(_("在岗"), default=True)

    class Meta:
        verbose_name = _("调解员")
        verbose_name_plural = _("调解员")
        ordering = ["user__username"]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_kind_display()}"


COMMITTEE_AREA = AreaFields(
    district="division__district_id", street="division__street_id", community="division_id"
)


def _user_pk(user: Any) -> int:
    pk: int | None = getattr(user, "pk", None)
    return pk or 0


def _committee_q(user: Any) -> Q | None:
    """None: sees every committee; otherwise the committees the user may see."""
    scope = scope_of(user)
    if scope.everything:
        return None
    q = Q(pk__in=[])
    if scope.roles.intersection((Role.LEADER, Role.ADMINISTRATOR)):
        q |= area_q(scope, COMMITTEE_AREA) | area_q(scope, AreaFields(street="division_id"))
    if Role.MEDIATOR in scope.roles:
        q |= Q(members__user_id=_user_pk(user))
    return q


class CommitteeQuerySet(models.QuerySet["Committee"]):
    def visible_to(self, user: Any) -> CommitteeQuerySet:
        q = _committee_q(user)
        if q is None:
            return self
        return self.filter(pk__in=Committee.objects.filter(q).values("pk"))


class Committee(TimeStampedModel):
    """A mediation committee (调解委员会) of a street or a community, with its mediators."""

    name = models.CharField(_("名称"), max_length=100)
    level = models.CharField(_("层级"), max_length=16, choices=CommitteeLevel.choices)
    division = models.ForeignKey(
        "grids.Division", verbose_name=_("所属区划"), on_delete=models.PROTECT, related_name="+"
    )
    members = models.ManyToManyField(
        Mediator, verbose_name=_("调解员"), blank=True, related_name="committees"
    )
    is_active = models.BooleanField(_("启用"), default=True)

    objects = CommitteeQuerySet.as_manager()

    class Meta:
        verbose_name = _("调解委员会")
        verbose_name_plural = _("调解委员会")
        ordering = ["division__code", "name"]

    def __str__(self) -> str:
        return self.name


DISPUTE_AREA = AreaFields(district="district_id", street="street_id", community="community_id")


class DisputeQuerySet(models.QuerySet["Dispute"]):
    def visible_to(self, user: Any) -> DisputeQuerySet:
        """Mediators: the disputes of their committees; leaders and administrators: their area;
        everyone else (dispatchers, hotline, handlers, grid workers): nothing."""
        scope = scope_of(user)
        if scope.everything:
            return self
        q = Q(pk__in=[])
        if scope.roles.intersection((Role.LEADER, Role.ADMINISTRATOR)):
            q |= area_q(scope, DISPUTE_AREA)
        if Role.MEDIATOR in scope.roles:
            member_of = Committee.objects.filter(members__user_id=_user_pk(user))
            q |= Q(committee__in=member_of)
        return self.filter(q)

    def overdue(self, now: Any) -> DisputeQuerySet:
        """Open disputes past their mediation time limit."""
        return self.filter(status__in=sorted(OPEN_STATUSES), due_at__lt=now)


class Dispute(models.Model):
    """One dispute brought to a committee. Changed only by ``mediation.actions`` (one event each)."""

    case = models.OneToOneField(
        "cases.Case", verbose_name=_("案件"), on_delete=models.PROTECT, related_name="dispute"
    )
    kind = models.CharField(_("纠纷类型"), max_length=16, choices=DisputeKind.choices)
    committee = models.ForeignKey(
        Committee, verbose_name=_("调解委员会"), on_delete=models.PROTECT, related_name="disputes"
    )
    mediators = models.ManyToManyField(Mediator, verbose_name=_("承办调解员"), blank=True, related_name="+")
    summary = models.CharField(_("纠纷概要"), max_length=200)
    facts = models.TextField(_("纠纷事实"), max_length=4000)
    amount = models.DecimalField(_("争议金额（元）"), max_digits=14, decimal_places=2, null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=DisputeStatus.choices, default=DisputeStatus.APPLIED, db_index=True
    )
    version = models.PositiveIntegerField(_("版本"), default=0)
    # The committee's area, copied at registration: the scoping columns of leaders and administrators.
    district = models.ForeignKey(
        "grids.Division",
        verbose_name=_("区县"),
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
    community = models.ForeignKey(
        "grids.Division",
        verbose_name=_("社区"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    applied_at = models.DateTimeField(_("申请时间"), default=timezone.now, db_index=True)
    accepted_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    due_at = models.DateTimeField(_("调解期限"), null=True, blank=True)
    outcome = models.CharField(_("调解结果"), max_length=16, choices=Outcome.choices, blank=True)
    outcome_at = models.DateTimeField(_("结果时间"), null=True, blank=True)
    failure_reason = models.TextField(_("调解不成原因"), blank=True)
    referral = models.CharField(_("引导途径"), max_length=16, choices=Referral.choices, blank=True)
    followed_up_at = models.DateTimeField(_("回访时间"), null=True, blank=True)
    performed = models.BooleanField(_("协议是否履行"), null=True, blank=True)
    follow_up_note = models.TextField(_("回访情况"), blank=True)
    closed_at = models.DateTimeField(_("结案时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    objects = DisputeQuerySet.as_manager()

    class Meta:
        verbose_name = _("矛盾纠纷")
        verbose_name_plural = _("矛盾纠纷")
        ordering = ["-applied_at", "-id"]

    def __str__(self) -> str:
        return f"{self.case.number} {self.summary}"

    def is_overdue(self, now: Any = None) -> bool:
        now = now or timezone.now()
        return self.status in OPEN_STATUSES and self.due_at is not None and self.due_at < now


class Party(models.Model):
    """A party (当事人) of a dispute: name, ID number (or USCC) and phone are encrypted at rest."""

    dispute = models.ForeignKey(
        Dispute, verbose_name=_("纠纷"), on_delete=models.CASCADE, related_name="parties"
    )
    side = models.CharField(_("身份"), max_length=16, choices=PartySide.choices)
    kind = models.CharField(_("类型"), max_length=16, choices=PartyKind.choices, default=PartyKind.PERSON)
    name = EncryptedCharField(_("姓名/名称"), max_length=100, pii_kind="name")
    id_number = EncryptedCharField(
        _("身份证号/统一社会信用代码"), max_length=32, blank=True, pii_kind="id_number"
    )
    phone = EncryptedCharField(_("联系电话"), max_length=32, blank=True, pii_kind="phone")

    class Meta:
        verbose_name = _("当事人")
        verbose_name_plural = _("当事人")
        ordering = ["dispute_id", "side", "id"]

    def __str__(self) -> str:
        return f"{self.get_side_display()} {self.masked_name}"

    @property
    def masked_name(self) -> str:
        # An organisation's name is not personal information; a person's is.
        return self.name if self.kind == PartyKind.ORGANISATION else pii.mask_name(self.name)

    @property
    def masked_id_number(self) -> str:
        if self.kind == PartyKind.ORGANISATION:
            return pii.mask_generic(self.id_number, keep_last=4)
        return pii.mask_id_number(self.id_number)

    @property
    def masked_phone(self) -> str:
        return pii.mask_phone(self.phone)


class Session(models.Model):
    """A mediation session (调解会): when, where, which mediators, what was said."""

    dispute = models.ForeignKey(
        Dispute, verbose_name=_("纠纷"), on_delete=models.CASCADE, related_name="sessions"
    )
    held_on = models.DateField(_("日期"))
    place = models.CharField(_("地点"), max_length=200)
    mediators = models.ManyToManyField(Mediator, verbose_name=_("到场调解员"), related_name="+")
    notes = models.TextField(_("调解记录"), max_length=4000, blank=True)
    created_at = models.DateTimeField(_("记录时间"), default=timezone.now)

    class Meta:
        verbose_name = _("调解会")
        verbose_name_plural = _("调解会")
        ordering = ["dispute_id", "held_on", "id"]

    def __str__(self) -> str:
        return f"{self.held_on} {self.place}"


class Agreement(models.Model):
    """The mediation agreement (调解协议书) and the parties who signed it."""

    dispute = models.OneToOneField(
        Dispute, verbose_name=_("纠纷"), on_delete=models.CASCADE, related_name="agreement"
    )
    signed_on = models.DateField(_("签订日期"))
    terms = models.TextField(_("协议内容"), max_length=4000)
    amount = models.DecimalField(_("协议金额（元）"), max_digits=14, decimal_places=2, null=True, blank=True)
    due_on = models.DateField(_("履行期限"), null=True, blank=True)
    parties = models.ManyToManyField(Party, verbose_name=_("签订当事人"), related_name="+")

    class Meta:
        verbose_name = _("调解协议")
        verbose_name_plural = _("调解协议")

    def __str__(self) -> str:
        return f"{self.dispute_id} · {self.signed_on}"


class AppendOnlyError(RuntimeError):
    """Raised on any attempt to change or delete a dispute event."""


class DisputeEventQuerySet(models.QuerySet["DisputeEvent"]):
    def visible_to(self, user: Any) -> DisputeEventQuerySet:
        return self.filter(dispute__in=Dispute.objects.visible_to(user))

    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("调解事件只能追加 / dispute events are append-only")

    def delete(self) -> NoReturn:
        raise AppendOnlyError("调解事件只能追加 / dispute events are append-only")


class DisputeEvent(models.Model):
    """The dispute timeline: one append-only row per action (the case pipeline's ``EventKind`` has
    no mediation kinds, so the timeline lives here)."""

    dispute = models.ForeignKey(
        Dispute, verbose_name=_("纠纷"), on_delete=models.PROTECT, related_name="events"
    )
    kind = models.CharField(_("事件"), max_length=24)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("时间"), default=timezone.now)
    from_status = models.CharField(_("原状态"), max_length=16, blank=True)
    to_status = models.CharField(_("新状态"), max_length=16, blank=True)
    note = models.TextField(_("说明"), blank=True)
    data = models.JSONField(_("数据"), default=dict, blank=True)

    objects = DisputeEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("调解事件")
        verbose_name_plural = _("调解事件")
        ordering = ["dispute_id", "at", "id"]

    def __str__(self) -> str:
        return f"{self.dispute_id} · {self.kind} · {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not kwargs.get("force_insert"):
            raise AppendOnlyError("调解事件只能追加 / dispute events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("调解事件只能追加 / dispute events are append-only")
