"""The demo's special campaigns (专项治理): three campaigns on the demo street (长江路街道), with
targets from the demo register, visits, and hidden dangers registered as cases of the pipeline.

* 燃气安全专项排查 — running (started 20 days ago), on the shops and restaurants (个体工商户);
* 消防通道专项整治 — running (started 10 days ago), on the buildings;
* 独居老人民生倾听 — closed (ran from 75 to 15 days ago), on the residents tagged 独居老人.

Everything goes through the actions (``governance.campaigns.actions`` and ``cases.actions``), so the
demo obeys the same rules as the pages: visits inside the period, findings as 网格巡查 cases,
some of them dispatched to the street office, handled and verified. Everything here is fictitious.
Run after the registry and cases steps (the lead registers it last, after the classifier).
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils import timezone

from yiwang.cases import actions as case_actions
from yiwang.governance.campaigns import actions
from yiwang.governance.campaigns.actions import FindingInput
from yiwang.governance.campaigns.fields import ensure_default_fields
from yiwang.governance.campaigns.models import (
    Campaign,
    CampaignEvent,
    CampaignFinding,
    CampaignInspection,
    CampaignTarget,
)
from yiwang.governance.campaigns.targets import count_targets
from yiwang.grids.models import Division, GridStaff
from yiwang.people.models import Department, Role, User

if TYPE_CHECKING:
    from yiwang.demo.builder import DemoContext

DEMO_STREET = "370211005000"  # 长江路街道, as in yiwang.demo.people

DANGERS = {
    "gas": ("燃气软管老化开裂，未使用金属波纹管", "未安装燃气泄漏报警装置", "液化气钢瓶与灶具间距不足",
            "后厨燃气阀门锈蚀，关闭不严", "液化气钢瓶存放在地下室"),
    "fire_exit": ("楼道堆放杂物，占用疏散通道", "消防通道被私家车长期占用", "消防栓箱被遮挡，无法开启",
                  "单元门口电动车充电，堵塞通道", "应急照明灯损坏"),
    "listening": ("老人反映楼道灯不亮，夜间出行不便", "老人反映家中水管漏水，需上门维修",
                  "老人反映小区路面破损，担心摔倒", "老人希望社区提供助餐服务"),
}  # fmt: skip
LISTENING_CATEGORY = "SX-06001"  # 民生倾听 has no default category: each finding names one


def _user(username: str) -> User:
    return User.objects.get(username=username)


def _moment(rng: random.Random, start: dt.datetime, end: dt.datetime) -> dt.datetime:
    """A working-hours moment between ``start`` and ``end``."""
    span = max((end - start).total_seconds(), 3600.0)
    at = start + dt.timedelta(seconds=rng.uniform(0, span - 3600))
    local = timezone.localtime(at).replace(
        hour=rng.randint(9, 17), minute=rng.randint(0, 59), second=0, microsecond=0
    )
    # Working hours may push the moment past ``end`` (today, before 17:00) or before ``start``.
    return max(start, min(local, end - dt.timedelta(minutes=rng.randint(5, 60))))


def _inspector(target: CampaignTarget, workers: dict[int, User], dispatcher: User) -> User:
    return workers.get(target.grid_id, dispatcher)


@dataclass(frozen=True)
class Cast:
    """Who moves the findings' cases along: the street dispatcher, the street office and its handler."""

    dispatcher: User
    handler: User
    office: Department


def _handle(rng: random.Random, case_id: int, at: dt.datetime, now: dt.datetime, cast: Cast) -> None:
    """Move a finding's case along the normal pipeline: half are dispatched to the street office,
    and most of those are handled and verified (fixed) if there was time."""
    dispatched = at + dt.timedelta(hours=rng.uniform(1, 6))
    if rng.random() < 0.35 or dispatched >= now:
        return
    dispatcher, handler, office = cast.dispatcher, cast.handler, cast.office
    case_actions.dispatch_case(case_id, actor=dispatcher, lead=office, at=dispatched)
    signed = dispatched + dt.timedelta(hours=rng.uniform(0.5, 4))
    resolved = signed + dt.timedelta(days=rng.uniform(0.5, 5))
    verified = resolved + dt.timedelta(hours=rng.uniform(2, 20))
    if rng.random() < 0.25 or verified >= now:
        if signed < now:
            case_actions.sign_case(case_id, actor=handler, at=signed)
        return
    case_actions.sign_case(case_id, actor=handler, at=signed)
    case_actions.resolve_case(case_id, actor=handler, result="已督促整改到位，现场复查合格。", at=resolved)
    case_actions.verify_case(case_id, actor=dispatcher, passed=True, at=verified)


def _work(
    rng: random.Random,
    campaign: Campaign,
    *,
    share: float,
    danger_rate: float,
    until: dt.datetime,
    cast: Cast,
    workers: dict[int, User],
    category: str | None = None,
) -> tuple[int, int]:
    """Visit ``share`` of the targets between the start and ``until``; returns (visits, findings)."""
    texts = DANGERS[campaign.field.code]
    start = timezone.make_aware(dt.datetime.combine(campaign.starts_on, dt.time(9)))
    now = timezone.now()
    dispatcher = cast.dispatcher
    visits = found = 0
    for target in campaign.targets.order_by("pk"):
        if rng.random() > share:
            continue
        at = _moment(rng, start, until)
        actor = _inspector(target, workers, dispatcher)
        unreachable = rng.random() < 0.08
        findings = []
        if not unreachable and rng.random() < danger_rate:
            findings = [FindingInput(description=rng.choice(texts), category=category)]
        inspection = actions.record_inspection(
            actor=actor, campaign=campaign, target=target, outcome="unreachable" if unreachable else "visited",
            note="" if findings else "现场检查未发现问题", findings=findings, at=at,
        )  # fmt: skip
        visits += 1
        for finding in inspection.findings.all():
            found += 1
            _handle(rng, finding.case_id, at, now, cast)
    return visits, found


def build_campaigns(ctx: DemoContext) -> str:
    """The ``campaigns`` step of ``yiwang demo`` (after the registry, cases and classifier steps)."""
    rng = ctx.rng("campaigns")
    ensure_default_fields()
    now = timezone.now()
    today = timezone.localdate(now)
    street = Division.objects.get(code=DEMO_STREET)
    admin, leader = _user("admin"), _user("leader")
    cast = Cast(
        _user("dispatcher_cjl"), _user("handler_cjl"), Department.objects.get(code=f"JD{DEMO_STREET[:9]}")
    )
    workers = {
        s.grid_id: s.user
        for s in GridStaff.objects.filter(
            grid__community__street=street, user__grants__role=Role.GRID_WORKER
        ).select_related("user")
    }
    made: list[str] = []
    plans = (
        ("gas", "燃气安全专项排查（演示）", "organisation", "individual", 20, 40, 0.7, 0.3, None),
        ("fire_exit", "消防通道专项整治（演示）", "building", "", 10, 20, 0.5, 0.25, None),
        (
            "listening",
            "独居老人民生倾听（演示）",
            "resident",
            "elderly_alone",
            75,
            -15,
            0.9,
            0.35,
            LISTENING_CATEGORY,
        ),
    )
    for code, title, kind, target_filter, ago, ahead, share, rate, category in plans:
        starts_on = today - dt.timedelta(days=ago)
        ends_on = today + dt.timedelta(days=ahead)
        opened = timezone.make_aware(dt.datetime.combine(starts_on, dt.time(8, 30)))
        campaign = actions.create_campaign(
            actor=admin, field=code, title=title, division=street, starts_on=starts_on, ends_on=ends_on,
            target_kind=kind, target_filter=target_filter, description="按照区专项整治工作方案，逐一上门排查，发现隐患即时上报。",
            coverage_goal=100, fix_goal=95, is_demo=True, at=opened - dt.timedelta(days=2),
        )  # fmt: skip
        if not count_targets(campaign):
            made.append(f"{title}：无目标，保持草稿")
            continue
        actions.start_campaign(actor=admin, campaign=campaign, at=opened)
        past = ahead < 0
        until = timezone.make_aware(dt.datetime.combine(ends_on, dt.time(18))) if past else now
        visits, found = _work(
            rng,
            campaign,
            share=share,
            danger_rate=rate,
            until=until,
            cast=cast,
            workers=workers,
            category=category,
        )
        if past:
            actions.close_campaign(actor=leader, campaign=campaign, at=until + dt.timedelta(hours=1))
        made.append(f"{title}：{campaign.targets.count()} 个对象，{visits} 次走访，{found} 处隐患")
    return "；".join(made)


def delete_campaigns() -> None:
    """Delete every campaign row (the demo owns them). Runs before the cases are deleted: findings
    point at cases."""
    CampaignFinding.objects.all().delete()
    CampaignInspection.objects.all().delete()
    CampaignTarget.objects.all().delete()
    CampaignEvent.objects.all().delete()
    Campaign.objects.all().delete()
