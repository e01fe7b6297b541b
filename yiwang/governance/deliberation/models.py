"""村民议事 (village deliberation): topics, venues, meetings with attendance and votes, and the
append-only timeline of each topic, following the 四议两公开 procedure (党组织提议 → 两委商议 →
党员大会审议 → 村民(代表)会议决议 → 决议公开 → 实施结果公开).

Only :mod:`yiwang.governance.deliberation.actions` writes these rows. Reads go through
``Model.objects.visible_to(user)`` (see :mod:`yiwang.governance.deliberation.scope`). The quorum and
pass rules of each meeting kind are data (:class:`MeetingRule`, seeded by a migration, editable in
the admin); a meeting copies its rule when it is scheduled, so editing a rule never rewrites the
outcome of a past meeting.
"""

from __future__ import annotations

from typing import Any, Self

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.core.models import TimeStampedModel
from yiwang.governance.deliberation.scope import read_q


class TopicOrigin(models.TextChoices):
    RESIDENT = "resident", _("群众提出")
    GRID_WORKER = "grid_worker", _("网格员收集")
    CASE = "case", _("案件转化")


class TopicStage(models.TextChoices):
    COLLECTED = "collected", _("已收集")
    PROPOSED = "proposed", _("党组织提议")
    DELIBERATED = "deliberated", _("两委商议")
    REVIEWED = "reviewed", _("党员大会审议")
    RESOLVED = "resolved", _("村民(代表)会议决议")
    RESOLUTION_PUBLISHED = "resolution_published", _("决议公开")
    RESULT_PUBLISHED = "result_published", _("实施结果公开")
    REJECTED = "rejected", _("未通过")
    WITHDRAWN = "withdrawn", _("已撤回")


PUBLISHED_STAGES = (TopicStage.RESOLUTION_PUBLISHED, TopicStage.RESULT_PUBLISHED)
CLOSED_STAGES = (TopicStage.RESULT_PUBLISHED, TopicStage.REJECTED, TopicStage.WITHDRAWN)


class MeetingKind(models.TextChoices):
    COMMITTEES = "committees", _("两委联席会议")
    PARTY_MEMBERS = "party_members", _("党员大会")
    REPRESENTATIVES = "representatives", _("村民代表会议")
    VILLAGERS = "villagers", _("村民会议")


class VoterFlag(models.TextChoices):
    """Which attendees have a vote (and count toward the quorum) at a meeting of a kind."""

    OFFICIAL = "official", _("两委成员")
    PARTY_MEMBER = "party_member", _("党员")
    REPRESENTATIVE = "representative", _("村民代表")
    ANY = "any", _("全体到会村民")


class PassBase(models.TextChoices):
    PRESENT = "present", _("到会人数")
    ELIGIBLE = "eligible", _("应到人数")


class MeetingStatus(models.TextChoices):
    OPEN = "open", _("进行中")
    CLOSED = "closed", _("已结束")


class VoteChoice(models.TextChoices):
    FOR = "for", _("赞成")
    AGAINST = "against", _("反对")
    ABSTAIN = "abstain", _("弃权")


class ScopedQuerySet[M: models.Model](models.QuerySet[M]):
    """Rows located by a community (a ``grids.Division``) reached through :attr:`community_path`."""

    community_path = "community"

    def visible_to(self, user: Any) -> Self:
        """The rows ``user`` may see (see :mod:`.scope`); outside scope means absent (404)."""
        return self.filter(read_q(user, self.community_path))


class VenueQuerySet(ScopedQuerySet["Venue"]):
    pass


class TopicQuerySet(ScopedQuerySet["Topic"]):
    def published(self) -> Self:
        return self.filter(stage__in=PUBLISHED_STAGES)


class MeetingQuerySet(ScopedQuerySet["Meeting"]):
    community_path = "topic__community"


class AttendanceQuerySet(ScopedQuerySet["Attendance"]):
    community_path = "meeting__topic__community"


class VoteQuerySet(ScopedQuerySet["Vote"]):
    community_path = "meeting__topic__community"


class TopicEventQuerySet(ScopedQuerySet["TopicEvent"]):
    community_path = "topic__community"


class TopicLinkQuerySet(ScopedQuerySet["TopicLink"]):
    community_path = "topic__community"


class Venue(TimeStampedModel):
    """A meeting place (议事场所, 议事厅) of a community or village; shown on the map."""

    name = models.CharField(_("名称"), max_length=100)
    community = models.ForeignKey(
        "grids.Division", verbose_name=_("社区/村"), on_delete=models.PROTECT, related_name="+"
    )
    address = models.CharField(_("地址"), max_length=200, blank=True)
    lng = models.FloatField(_("经度"), null=True, blank=True)
    lat = models.FloatField(_("纬度"), null=True, blank=True)
    is_demo = models.BooleanField(_("演示数据"), default=False)

    objects = VenueQuerySet.as_manager()

    class Meta:
        verbose_name = _("议事场所")
        verbose_name_plural = _("议事场所")
        ordering = ["community__code", "name"]
        constraints = [models.UniqueConstraint(fields=["community", "name"], name="delib_venue_unique")]

    def __str__(self) -> str:
        return self.name


class MeetingRule(TimeStampedModel):
    """The quorum and pass rule of one meeting kind (data, not code).

    Quorum: voters present × ``quorum_den`` ≥ (or >, unless ``quorum_inclusive``) ``quorum_num`` ×
    eligible. Pass: votes for × ``pass_den`` ≥ (or >) ``pass_num`` × the base (voters present, or
    eligible). Seeded per 村民委员会组织法 art. 22/25 (村民会议: more than half of the adult
    villagers; 村民代表会议: at least two thirds of the representatives; decisions by more than half
    of those present) and the party rules (党员大会: more than half of the members with a vote).
    """

    kind = models.CharField(_("会议类型"), max_length=20, choices=MeetingKind.choices, unique=True)
    voter_flag = models.CharField(_("表决人员"), max_length=20, choices=VoterFlag.choices)
    quorum_num = models.PositiveSmallIntegerField(_("法定人数分子"))
    quorum_den = models.PositiveSmallIntegerField(_("法定人数分母"))
    quorum_inclusive = models.BooleanField(
        _("法定人数含本数"), help_text=_("勾选为“以上”(≥)，否则为“超过”(>)")
    )
    pass_num = models.PositiveSmallIntegerField(_("通过票数分子"))
    pass_den = models.PositiveSmallIntegerField(_("通过票数分母"))
    pass_inclusive = models.BooleanField(_("通过票数含本数"))
    pass_base = models.CharField(_("通过票数基数"), max_length=10, choices=PassBase.choices)
    legal_basis = models.CharField(_("依据"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("会议表决规则")
        verbose_name_plural = _("会议表决规则")
        ordering = ["kind"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(quorum_den__gt=0, pass_den__gt=0), name="delib_rule_den_positive"
            ),
        ]

    def __str__(self) -> str:
        return str(self.get_kind_display())


class Topic(TimeStampedModel):
    """A matter for the village to decide (议题), from a resident, a grid worker or a case."""

    title = models.CharField(_("议题"), max_length=200)
    description = models.TextField(_("内容"), blank=True)
    origin = models.CharField(_("来源"), max_length=20, choices=TopicOrigin.choices)
    source_case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("来源案件"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The resident who raised it: staff-only, never on a public notice.
    raised_by = models.CharField(_("提出人"), max_length=50, blank=True)
    community = models.ForeignKey(
        "grids.Division", verbose_name=_("社区/村"), on_delete=models.PROTECT, related_name="+"
    )
    venue = models.ForeignKey(
        Venue,
        verbose_name=_("议事场所"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="topics",
    )
    stage = models.CharField(
        _("阶段"), max_length=24, choices=TopicStage.choices, default=TopicStage.COLLECTED, db_index=True
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    proposal = models.TextField(_("提议内容"), blank=True)
    resolution = models.TextField(_("决议内容"), blank=True)
    result = models.TextField(_("实施结果"), blank=True)
    closing_reason = models.CharField(_("未通过/撤回原因"), max_length=500, blank=True)
    proposed_at = models.DateTimeField(_("提议时间"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("决议时间"), null=True, blank=True)
    resolution_published_at = models.DateTimeField(_("决议公开时间"), null=True, blank=True)
    result_published_at = models.DateTimeField(_("结果公开时间"), null=True, blank=True)
    is_demo = models.BooleanField(_("演示数据"), default=False)

    objects = TopicQuerySet.as_manager()

    class Meta:
        verbose_name = _("议题")
        verbose_name_plural = _("议题")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title


class Meeting(TimeStampedModel):
    """One meeting about one topic, with the rule it was held under and, once closed, its outcome."""

    topic = models.ForeignKey(
        Topic, verbose_name=_("议题"), on_delete=models.CASCADE, related_name="meetings"
    )
    kind = models.CharField(_("会议类型"), max_length=20, choices=MeetingKind.choices)
    status = models.CharField(
        _("状态"), max_length=10, choices=MeetingStatus.choices, default=MeetingStatus.OPEN
    )
    held_at = models.DateTimeField(_("召开时间"))
    venue = models.ForeignKey(
        Venue,
        verbose_name=_("地点"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="meetings",
    )
    eligible = models.PositiveIntegerField(_("应到人数"))
    # The rule, copied from MeetingRule when scheduled.
    voter_flag = models.CharField(_("表决人员"), max_length=20, choices=VoterFlag.choices)
    quorum_num = models.PositiveSmallIntegerField(_("法定人数分子"))
    quorum_den = models.PositiveSmallIntegerField(_("法定人数分母"))
    quorum_inclusive = models.BooleanField(_("法定人数含本数"))
    pass_num = models.PositiveSmallIntegerField(_("通过票数分子"))
    pass_den = models.PositiveSmallIntegerField(_("通过票数分母"))
    pass_inclusive = models.BooleanField(_("通过票数含本数"))
    pass_base = models.CharField(_("通过票数基数"), max_length=10, choices=PassBase.choices)
    minutes = models.TextField(_("会议记录"), blank=True)
    # Outcome, written when the meeting closes.
    present = models.PositiveIntegerField(_("实到表决人数"), default=0)
    votes_for = models.PositiveIntegerField(_("赞成"), default=0)
    votes_against = models.PositiveIntegerField(_("反对"), default=0)
    votes_abstain = models.PositiveIntegerField(_("弃权"), default=0)
    quorum_met = models.BooleanField(_("达到法定人数"), default=False)
    passed = models.BooleanField(_("表决通过"), default=False)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    objects = MeetingQuerySet.as_manager()

    class Meta:
        verbose_name = _("议事会议")
        verbose_name_plural = _("议事会议")
        ordering = ["held_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.topic}"


class Attendance(TimeStampedModel):
    """One person present at a meeting: a registered resident or a free name, with the flags that
    decide whether they vote there. Only officials' (两委成员) names appear on public notices."""

    meeting = models.ForeignKey(
        Meeting, verbose_name=_("会议"), on_delete=models.CASCADE, related_name="attendances"
    )
    resident = models.ForeignKey(
        "registry.Resident",
        verbose_name=_("实有人口"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    name = models.CharField(_("姓名"), max_length=50)
    title = models.CharField(_("职务"), max_length=50, blank=True)
    is_official = models.BooleanField(_("两委成员"), default=False)
    is_party_member = models.BooleanField(_("党员"), default=False)
    is_representative = models.BooleanField(_("村民代表"), default=False)

    objects = AttendanceQuerySet.as_manager()

    class Meta:
        verbose_name = _("到会人员")
        verbose_name_plural = _("到会人员")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "name"], name="delib_attendance_name_unique"),
            models.UniqueConstraint(
                fields=["meeting", "resident"],
                condition=models.Q(resident__isnull=False),
                name="delib_attendance_resident_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def votes_at(self, flag: str) -> bool:
        """Whether this attendee has a vote under ``flag`` (a :class:`VoterFlag` value)."""
        return {
            VoterFlag.OFFICIAL: self.is_official,
            VoterFlag.PARTY_MEMBER: self.is_party_member,
            VoterFlag.REPRESENTATIVE: self.is_representative,
            VoterFlag.ANY: True,
        }.get(VoterFlag(flag), False)


class Vote(models.Model):
    meeting = models.ForeignKey(
        Meeting, verbose_name=_("会议"), on_delete=models.CASCADE, related_name="votes"
    )
    attendance = models.OneToOneField(
        Attendance, verbose_name=_("表决人"), on_delete=models.CASCADE, related_name="vote"
    )
    choice = models.CharField(_("表决意见"), max_length=10, choices=VoteChoice.choices)
    at = models.DateTimeField(_("表决时间"), auto_now_add=True)

    objects = VoteQuerySet.as_manager()

    class Meta:
        verbose_name = _("表决")
        verbose_name_plural = _("表决")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.attendance} · {self.get_choice_display()}"


class EventKind(models.TextChoices):
    SUBMIT = "submit", _("收集议题")
    PROPOSE = "propose", _("党组织提议")
    DELIBERATE = "deliberate", _("两委商议")
    REVIEW = "review", _("党员大会审议")
    RESOLVE = "resolve", _("村民(代表)会议决议")
    PUBLISH_RESOLUTION = "publish_resolution", _("决议公开")
    PUBLISH_RESULT = "publish_result", _("实施结果公开")
    REJECT = "reject", _("未通过")
    WITHDRAW = "withdraw", _("撤回")
    MEETING_SCHEDULED = "meeting_scheduled", _("召集会议")
    ATTENDANCE = "attendance", _("登记到会")
    VOTE = "vote", _("表决")
    MEETING_CLOSED = "meeting_closed", _("会议结束")
    LINK = "link", _("关联落实")


class TopicEvent(models.Model):
    """One step of a topic's history; append-only (written by the actions, never changed)."""

    topic = models.ForeignKey(Topic, verbose_name=_("议题"), on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("类型"), max_length=24, choices=EventKind.choices)
    from_stage = models.CharField(_("原阶段"), max_length=24, blank=True)
    to_stage = models.CharField(_("新阶段"), max_length=24, blank=True)
    meeting = models.ForeignKey(
        Meeting, verbose_name=_("会议"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    note = models.TextField(_("说明"), blank=True)
    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    objects = TopicEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("议事过程")
        verbose_name_plural = _("议事过程")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.topic} · {self.get_kind_display()}"


class TopicLink(models.Model):
    """A case (cases.Case) or a project (governance.projects, any model) that carries out a
    resolution. Generic, so this app does not import its sibling ``projects``."""

    topic = models.ForeignKey(Topic, verbose_name=_("议题"), on_delete=models.CASCADE, related_name="links")
    content_type = models.ForeignKey(ContentType, verbose_name=_("类型"), on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField(_("对象编号"))
    target = GenericForeignKey("content_type", "object_id")
    label = models.CharField(_("名称"), max_length=250)
    at = models.DateTimeField(_("关联时间"), auto_now_add=True)

    objects = TopicLinkQuerySet.as_manager()

    class Meta:
        verbose_name = _("落实事项")
        verbose_name_plural = _("落实事项")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["topic", "content_type", "object_id"], name="delib_link_unique")
        ]

    def __str__(self) -> str:
        return self.label
