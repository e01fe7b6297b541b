"""Choices of the case pipeline (issue 3). Stored values are stable English slugs; labels are Chinese."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CategoryKind(models.TextChoices):
    COMPONENT = "component", _("管理部件")
    MATTER = "matter", _("管理事项")
    DEMAND = "demand", _("12345诉求")


class DemandKind(models.TextChoices):
    """The five kinds of demand of 接诉即办 (北京市接诉即办工作条例, art. 2)."""

    CONSULTATION = "consultation", _("咨询")
    HELP = "help", _("求助")
    COMPLAINT = "complaint", _("投诉")
    REPORT = "report", _("举报")
    SUGGESTION = "suggestion", _("建议")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("一般")
    URGENT = "urgent", _("紧急")
    EMERGENCY = "emergency", _("特急")


class Channel(models.TextChoices):
    HOTLINE_12345 = "hotline_12345", _("12345热线")
    POLICE_110 = "police_110", _("110转办")
    GRID_PATROL = "grid_patrol", _("网格巡查")
    WEB = "web", _("网站/小程序")
    OPEN311 = "open311", _("Open311接口")
    ENTERPRISE = "enterprise", _("政企直通车")
    LEADER = "leader", _("领导交办")
    SENSOR = "sensor", _("物联感知")
    MEDIA = "media", _("媒体曝光")
    MEDIATION = "mediation", _("矛盾纠纷调解")  # confidential by nature, never public (issue 9)


class CaseStatus(models.TextChoices):
    """Where a case is in the flow. Suspension (挂账/缓办) is not a status but ``Case.suspended_at``:
    a suspended case keeps its place in the flow (dispatched or in progress) and only its clocks stop."""

    REGISTERED = "registered", _("已登记")
    DISPATCHED = "dispatched", _("已派遣")
    IN_PROGRESS = "in_progress", _("办理中")
    RESOLVED = "resolved", _("已办结待核查")
    CLOSED = "closed", _("已结案")
    CANCELLED = "cancelled", _("已作废")
    MERGED = "merged", _("已并单")
    TRANSFERRED = "transferred", _("已转110")


# The channels a hotline operator or a staff API client registers into; disputes (mediation) are
# registered by mediators through their own module.
INTAKE_CHANNELS = [(value, label) for value, label in Channel.choices if value != Channel.MEDIATION]

OPEN_STATUSES = frozenset(
    {CaseStatus.REGISTERED, CaseStatus.DISPATCHED, CaseStatus.IN_PROGRESS, CaseStatus.RESOLVED}
)
FINAL_STATUSES = frozenset({CaseStatus.CANCELLED, CaseStatus.MERGED, CaseStatus.TRANSFERRED})


class AssignmentRole(models.TextChoices):
    LEAD = "lead", _("主办")
    ASSIST = "assist", _("协办")


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    BASICALLY_SATISFIED = "basically_satisfied", _("基本满意")
    UNSATISFIED = "unsatisfied", _("不满意")


class AttachmentKind(models.TextChoices):
    EVIDENCE = "evidence", _("上报材料")
    RESULT = "result", _("办理结果")
    OTHER = "other", _("其他")


class SuperviseLevel(models.IntegerChoices):
    ONE = 1, _("一级督办")
    TWO = 2, _("二级督办")
    THREE = 3, _("三级督办")


class EventKind(models.TextChoices):
    """What happened to a case, in the past tense; one row per action in ``CaseEvent``."""

    REGISTERED = "registered", _("登记")
    RECEIVED_FROM_110 = "received_from_110", _("接收110转办")
    ANSWERED_DIRECTLY = "answered_directly", _("直接答复")
    INVALIDATED = "invalidated", _("作废")
    DISPATCHED = "dispatched", _("派遣")
    SIGNED = "signed", _("签收")
    RETURNED = "returned", _("退单")
    EXTENSION_REQUESTED = "extension_requested", _("申请延期")
    EXTENSION_APPROVED = "extension_approved", _("同意延期")
    EXTENSION_REJECTED = "extension_rejected", _("驳回延期")
    URGED = "urged", _("催办")
    SUPERVISED = "supervised", _("督办")
    PROGRESS_REPORTED = "progress_reported", _("进展反馈")
    RESOLVED = "resolved", _("办结")
    VERIFIED = "verified", _("核查通过")
    VERIFICATION_FAILED = "verification_failed", _("核查不通过(返工)")
    CALLED_BACK = "called_back", _("回访")
    REOPENED = "reopened", _("二次办理")
    MERGED = "merged", _("并单")
    SUSPENDED = "suspended", _("挂账")
    RESUMED = "resumed", _("恢复办理")
    TRANSFERRED_TO_110 = "transferred_to_110", _("转110")
    SLA_BREACHED = "sla_breached", _("超时")


class Clock(models.TextChoices):
    """The running clocks of a case; each has a ``<name>_due_at`` column."""

    ACCEPT = "accept", _("签收时限")
    RESOLVE = "resolve", _("办结时限")
