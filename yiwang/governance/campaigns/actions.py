"""Every change of a campaign, one function per transition (issue 9, 专项治理).

Each action runs in one transaction: it locks the campaign row through the actor's scoped queryset
(outside scope = :class:`CampaignNotFound`, as for a missing one), checks the transition table
(:mod:`.workflow`) for the status and the actor's roles, validates its input, writes, and appends
exactly one :class:`CampaignEvent`. Any error is a bilingual ``CaseError`` subclass raised before
anything is written (or rolling back what was).

Hidden dangers are cases: :func:`report_finding` registers a case through
``cases.actions.create_case`` (channel 网格巡查) at the target's place, in the same transaction as
the link row, so a refused case leaves no finding and a refused finding leaves no case.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import shapely.geometry
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from yiwang.cases import actions as case_actions
from yiwang.cases.choices import Channel
from yiwang.cases.models import Category
from yiwang.core.scoping import AreaFields, area_q, scope_of
from yiwang.governance.campaigns import workflow
from yiwang.governance.campaigns.errors import CampaignNotFound, InvalidCampaignInput
from yiwang.governance.campaigns.models import (
    Campaign,
    CampaignEvent,
    CampaignField,
    CampaignFinding,
    CampaignInspection,
    CampaignStatus,
    CampaignTarget,
    EventKind,
    InspectionOutcome,
)
from yiwang.governance.campaigns.progress import campaign_progress
from yiwang.governance.campaigns.targets import check_selection, select_targets
from yiwang.grids.models import Division
from yiwang.people.models import Role, User

TITLE_MAX = 100
NOTE_MAX = 500
DESCRIPTION_MAX = 2000
FINDING_MAX = 1500  # leaves room for the campaign's header in the case description (4000)
# An inspection may be entered a little after the fact, but not dated in the future.
FUTURE_SLACK = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class FindingInput:
    """One hidden danger found during a visit. ``category`` None: the field's default category."""

    description: str
    title: str = ""
    category: Category | int | str | None = None
    urgency: str | None = None


# --- helpers ------------------------------------------------------------------------------------------


def roles_of(actor: Any) -> frozenset[str]:
    scope = scope_of(actor)
    return frozenset(Role.values) if scope.everything else scope.roles


def _now(at: dt.datetime | None) -> dt.datetime:
    return at or timezone.now()


def _text(value: Any, field: str, zh: str, en: str, *, limit: int, required: bool = True) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise InvalidCampaignInput(f"请填写{zh}", f"{en} is required", field=field)
    if len(text) > limit:
        raise InvalidCampaignInput(
            f"{zh}不能超过{limit}个字", f"{en} must be at most {limit} characters", field=field
        )
    return text


def _pk(ref: Any) -> int:
    return int(ref.pk if hasattr(ref, "pk") else ref)


def _lock(actor: User, campaign: Campaign | int) -> Campaign:
    row = (
        Campaign.objects.visible_to(actor)
        .select_for_update()
        .select_related("field", "division")
        .filter(pk=_pk(campaign))
        .first()
    )
    if row is None:
        raise CampaignNotFound(
            "专项行动不存在或不在您的权限范围内", "campaign not found or outside your scope"
        )
    return row


def _event(
    campaign: Campaign, kind: str, actor: User | None, at: dt.datetime, *, before: str = "", note: str = "",
    **data: Any,
) -> CampaignEvent:  # fmt: skip
    return CampaignEvent.objects.create(
        campaign=campaign, kind=kind, from_status=before, to_status=campaign.status, actor=actor, at=at,
        note=note, data=data,
    )  # fmt: skip


def _field(ref: CampaignField | int | str) -> CampaignField:
    if isinstance(ref, CampaignField):
        found: CampaignField | None = ref if ref.is_active else None
    elif isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit()):
        found = CampaignField.objects.filter(pk=int(ref), is_active=True).first()
    else:
        found = CampaignField.objects.filter(code=ref, is_active=True).first()
    if found is None:
        raise InvalidCampaignInput(f"未知的治理领域：{ref}", f"unknown campaign field: {ref}", field="field")
    return found


def _division(actor: User, ref: Division | int) -> Division:
    """The campaign's area: a division inside the actor's own areas (not an ancestor of them)."""
    scope = scope_of(actor)
    rows = Division.objects.filter(pk=_pk(ref))
    if not scope.everything:
        own = sorted(scope.district_ids | scope.street_ids | scope.community_ids)
        rows = rows.filter(
            Q(pk__in=own) | area_q(scope, AreaFields(district="district_id", street="street_id"))
        )
    found = rows.first()
    if found is None:
        raise InvalidCampaignInput(
            "治理区域不存在或不在您的管辖范围内",
            "the area does not exist or is outside your areas",
            field="division",
        )
    return found


def _period(starts_on: dt.date, ends_on: dt.date) -> None:
    if not isinstance(starts_on, dt.date) or not isinstance(ends_on, dt.date):
        raise InvalidCampaignInput(
            "请填写开始和结束日期", "start and end dates are required", field="starts_on"
        )
    if ends_on < starts_on:
        raise InvalidCampaignInput(
            f"结束日期（{ends_on}）早于开始日期（{starts_on}）",
            f"the campaign ends ({ends_on}) before it starts ({starts_on})",
            field="ends_on",
        )


def _goal(value: Any, field: str, zh: str, en: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if not 1 <= number <= 100:
        raise InvalidCampaignInput(
            f"{zh}应为1到100之间的整数", f"{en} must be an integer from 1 to 100", field=field
        )
    return number


# --- the campaign's own workflow --------------------------------------------------------------------


@transaction.atomic
def create_campaign(
    *,
    actor: User,
    field: CampaignField | int | str,
    title: str,
    division: Division | int,
    starts_on: dt.date,
    ends_on: dt.date,
    target_kind: str = "",
    target_filter: str = "",
    description: str = "",
    coverage_goal: int = 100,
    fix_goal: int = 95,
    is_demo: bool = False,
    at: dt.datetime | None = None,
) -> Campaign:
    """Create a campaign as a draft (草稿).

    Preconditions: a role allowed to ``create`` (dispatcher, leader, administrator); an active field;
    an area inside the actor's own areas; an end date not before the start date; goals from 1 to
    100 %; a target selection valid for its kind (a resident selection needs a tag the actor sees).
    ``target_kind`` empty: the field's usual kind. Event: ``CREATED``.
    """
    at = _now(at)
    workflow.check("create", workflow.NEW, roles_of(actor))
    title = _text(title, "title", "名称", "title", limit=TITLE_MAX)
    description = _text(
        description, "description", "工作要求", "description", limit=DESCRIPTION_MAX, required=False
    )
    found_field = _field(field)
    area = _division(actor, division)
    _period(starts_on, ends_on)
    kind = target_kind or found_field.target_kind
    target_filter = (target_filter or "").strip()
    check_selection(kind, target_filter, actor)
    campaign = Campaign.objects.create(
        title=title, field=found_field, description=description, division=area, starts_on=starts_on,
        ends_on=ends_on, target_kind=kind, target_filter=target_filter,
        coverage_goal=_goal(coverage_goal, "coverage_goal", "走访覆盖率目标", "coverage goal"),
        fix_goal=_goal(fix_goal, "fix_goal", "隐患整改率目标", "fix goal"),
        created_by=actor, created_at=at, is_demo=is_demo,
    )  # fmt: skip
    _event(campaign, EventKind.CREATED, actor, at)
    return campaign


@transaction.atomic
def start_campaign(
    *, actor: User, campaign: Campaign | int, note: str = "", at: dt.datetime | None = None
) -> Campaign:
    """Start a draft (启动): freeze its selection as targets.

    Preconditions: status ``draft``; dispatcher, leader or administrator; the period not over; at
    least one target in the area. Changes: status ``running``, ``started_at``, the targets.
    Event: ``STARTED`` (with the number of targets).
    """
    at = _now(at)
    row = _lock(actor, campaign)
    workflow.check("start", row.status, roles_of(actor))
    note = _text(note, "note", "说明", "note", limit=NOTE_MAX, required=False)
    if timezone.localdate(at) > row.ends_on:
        raise InvalidCampaignInput(
            f"专项行动已于{row.ends_on}结束，不能再启动",
            f"the campaign period ended on {row.ends_on}",
            field="ends_on",
        )
    targets = select_targets(row)
    if not targets:
        raise InvalidCampaignInput(
            "治理区域内没有符合条件的治理对象，未启动",
            "no target in the area matches the selection; the campaign was not started",
            field="target_filter",
        )
    CampaignTarget.objects.bulk_create(targets, batch_size=500)
    before = row.status
    row.status = CampaignStatus.RUNNING
    row.started_at = at
    row.save(update_fields=["status", "started_at"])
    _event(row, EventKind.STARTED, actor, at, before=before, note=note, targets=len(targets))
    return row


@transaction.atomic
def close_campaign(
    *, actor: User, campaign: Campaign | int, note: str = "", at: dt.datetime | None = None
) -> Campaign:
    """End a running campaign (结束). Its findings stay cases of the pipeline and keep being handled;
    the campaign's figures keep following them. Preconditions: status ``running``; leader or
    administrator. Event: ``CLOSED`` (with the progress at that moment)."""
    at = _now(at)
    row = _lock(actor, campaign)
    workflow.check("close", row.status, roles_of(actor))
    note = _text(note, "note", "说明", "note", limit=NOTE_MAX, required=False)
    before = row.status
    row.status = CampaignStatus.CLOSED
    row.closed_at = at
    row.save(update_fields=["status", "closed_at"])
    summary = campaign_progress(row, now=at).total
    _event(
        row, EventKind.CLOSED, actor, at, before=before, note=note, targets=summary.targets,
        covered=summary.covered, found=summary.found, fixed=summary.fixed,
    )  # fmt: skip
    return row


@transaction.atomic
def cancel_campaign(
    *, actor: User, campaign: Campaign | int, reason: str, at: dt.datetime | None = None
) -> Campaign:
    """Cancel a draft or running campaign (取消), with a reason. Cases already registered stay in the
    pipeline. Preconditions: leader or administrator. Event: ``CANCELLED``."""
    at = _now(at)
    row = _lock(actor, campaign)
    workflow.check("cancel", row.status, roles_of(actor))
    reason = _text(reason, "reason", "取消原因", "reason", limit=NOTE_MAX)
    before = row.status
    row.status = CampaignStatus.CANCELLED
    row.closed_at = at
    row.save(update_fields=["status", "closed_at"])
    _event(row, EventKind.CANCELLED, actor, at, before=before, note=reason)
    return row


# --- field work: inspections and findings -----------------------------------------------------------


def _field_target(actor: User, row: Campaign, target: CampaignTarget | int) -> CampaignTarget:
    found = row.targets.select_related("grid").filter(pk=_pk(target)).first()
    if found is None:
        raise InvalidCampaignInput(
            "该对象不属于本专项行动", "the target is not part of this campaign", field="target"
        )
    if not CampaignTarget.objects.visible_to(actor).filter(pk=found.pk).exists():
        raise CampaignNotFound("治理对象不在您的权限范围内", "target outside your scope")
    return found


def _in_period(row: Campaign, at: dt.datetime) -> None:
    if at > timezone.now() + FUTURE_SLACK:
        raise InvalidCampaignInput(
            "走访时间不能晚于当前时间", "the visit cannot be in the future", field="at"
        )
    day = timezone.localdate(at)
    if not row.starts_on <= day <= row.ends_on:
        raise InvalidCampaignInput(
            f"走访日期{day}不在专项行动期间（{row.starts_on}至{row.ends_on}）内",
            f"{day} is outside the campaign period ({row.starts_on} to {row.ends_on})",
            field="at",
        )


def _place(target: CampaignTarget) -> tuple[float, float]:
    """Where the case of a finding lies: the target's point, or (a resident without a located
    building) a point surely inside the target's grid."""
    if target.lng is not None and target.lat is not None:
        return target.lng, target.lat
    point = shapely.geometry.shape(target.grid.boundary).representative_point()
    return float(point.x), float(point.y)


def _register_finding(
    actor: User,
    row: Campaign,
    target: CampaignTarget,
    spec: FindingInput,
    inspection: CampaignInspection | None,
    at: dt.datetime,
) -> CampaignFinding:
    description = _text(spec.description, "description", "隐患描述", "description", limit=FINDING_MAX)
    title = _text(spec.title, "title", "标题", "title", limit=TITLE_MAX, required=False)
    category = spec.category if spec.category not in (None, "") else row.field.category_id
    if category is None:
        raise InvalidCampaignInput(
            "请选择隐患的案件分类（该领域没有默认分类）",
            "choose a case category (this field has no default)",
            field="category",
        )
    lng, lat = _place(target)
    case = case_actions.create_case(
        actor=actor,
        channel=Channel.GRID_PATROL,
        category=category,
        title=title or f"{row.field.name}隐患：{target.label}"[:TITLE_MAX],
        description=f"【{row.title}】{target.label}：{description}",
        lng=lng,
        lat=lat,
        address=target.address,
        urgency=spec.urgency,
        note=f"专项行动：{row.title}",
        at=at,
    )
    finding = CampaignFinding.objects.create(
        campaign=row, target=target, inspection=inspection, case=case, found_at=at, found_by=actor
    )
    _event(row, EventKind.FINDING, actor, at, before=row.status, target=target.pk, case=case.number)
    return finding


@transaction.atomic
def record_inspection(
    *,
    actor: User,
    campaign: Campaign | int,
    target: CampaignTarget | int,
    outcome: str,
    note: str = "",
    findings: Sequence[FindingInput] = (),
    at: dt.datetime | None = None,
) -> CampaignInspection:
    """Record a visit of a target (巡查走访), with the hidden dangers found there (each one a case).

    Preconditions: status ``running``; grid worker (own grids), dispatcher or administrator; a
    target of this campaign within the actor's scope; the moment inside the campaign period and not
    in the future; findings only on a visit that reached the target. Changes: the inspection, the
    target's ``covered_at`` on its first visit, one case and finding per danger. Events:
    ``INSPECTED`` and one ``FINDING`` per danger.
    """
    at = _now(at)
    row = _lock(actor, campaign)
    workflow.check("inspect", row.status, roles_of(actor))
    found = _field_target(actor, row, target)
    _in_period(row, at)
    if outcome not in InspectionOutcome.values:
        raise InvalidCampaignInput(
            f"未知的走访结果：{outcome}", f"unknown outcome: {outcome}", field="outcome"
        )
    note = _text(note, "note", "情况说明", "note", limit=NOTE_MAX, required=False)
    if findings and outcome != InspectionOutcome.VISITED:
        raise InvalidCampaignInput(
            "未能到达的走访不能上报隐患",
            "a visit that did not reach the target cannot report dangers",
            field="outcome",
        )
    inspection = CampaignInspection.objects.create(
        campaign=row, target=found, outcome=outcome, note=note, inspected_at=at, inspected_by=actor
    )
    if outcome == InspectionOutcome.VISITED and (found.covered_at is None or at < found.covered_at):
        found.covered_at = at
        found.save(update_fields=["covered_at"])
    _event(row, EventKind.INSPECTED, actor, at, before=row.status, target=found.pk, outcome=outcome)
    for spec in findings:
        _register_finding(actor, row, found, spec, inspection, at)
    return inspection


@transaction.atomic
def report_finding(
    *,
    actor: User,
    campaign: Campaign | int,
    target: CampaignTarget | int,
    description: str,
    title: str = "",
    category: Category | int | str | None = None,
    urgency: str | None = None,
    at: dt.datetime | None = None,
) -> CampaignFinding:
    """Report one hidden danger at a target (上报隐患) without a new visit record: registers a case
    (channel 网格巡查) at the target's place under ``category`` (default: the field's) and links it.

    Preconditions: as :func:`record_inspection`, plus those of ``create_case`` (a role that may
    register). Event: ``FINDING`` (plus the case's own ``REGISTERED``).
    """
    at = _now(at)
    row = _lock(actor, campaign)
    workflow.check("report_finding", row.status, roles_of(actor))
    found = _field_target(actor, row, target)
    _in_period(row, at)
    spec = FindingInput(description=description, title=title, category=category, urgency=urgency)
    return _register_finding(actor, row, found, spec, None, at)
