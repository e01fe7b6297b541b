"""The demo's 矛盾纠纷调解: a people's mediation committee per street, a mediator for each (the demo
street also gets a labour-dispute mediator), and a dozen disputes at every stage of the workflow,
driven through ``governance.mediation.actions`` with backdated moments.

Everything is **fictitious**: party names come from the demo's surname list and our own given
names, phone numbers from ``199 0000 xxxx``, no ID numbers. Mediator accounts share the demo password.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from yiwang.cases.models import Case, CaseEvent
from yiwang.demo.people import DEMO_PASSWORD, DEMO_STREET, DemoLogin
from yiwang.governance.mediation import actions
from yiwang.governance.mediation.actions import PartyInput
from yiwang.governance.mediation.models import (
    Agreement,
    Committee,
    Dispute,
    DisputeEvent,
    DisputeKind,
    DisputeStatus,
    Mediator,
    MediatorKind,
    Party,
    PartyKind,
    PartySide,
    Referral,
    Session,
)
from yiwang.grids.models import Division, DivisionLevel
from yiwang.people.models import User

if TYPE_CHECKING:
    from yiwang.demo.builder import DemoContext

MEDIATOR_PREFIX = "mediator"  # every account this step creates starts with it
DEMO_MEDIATOR = "mediator"
DEMO_LABOUR_MEDIATOR = "mediator_labour"
SURNAMES = [
    "王",
    "李",
    "张",
    "刘",
    "陈",
    "杨",
    "赵",
    "黄",
    "周",
    "吴",
    "徐",
    "孙",
    "胡",
    "朱",
    "高",
    "林",
    "何",
    "郭",
    "马",
    "罗",
]
GIVEN = ["建国", "秀英", "志强", "桂兰", "海燕", "立新", "春梅", "德福", "玉珍", "成刚", "丽华", "文斌"]
COMPANIES = ("青岛某某建筑劳务有限公司", "黄岛某某物业服务有限公司", "某某机械制造有限公司")


@dataclass(frozen=True)
class _Story:
    kind: str
    summary: str
    facts: str
    status: str
    days_ago: int
    amount: int | None = None
    organisation_respondent: bool = False


# Twelve disputes; the first eight go to the demo street's committee (the demo mediators' own).
STORIES = (
    _Story(DisputeKind.NEIGHBOUR, "楼上漏水损坏吊顶", "楼上卫生间漏水，楼下吊顶受损，双方就维修费用协商未果。",
           DisputeStatus.CLOSED, 58, 3200),
    _Story(DisputeKind.LABOUR, "拖欠三个月工资", "申请人在工地务工，被申请人拖欠三个月工资未付。",
           DisputeStatus.FOLLOWED_UP, 40, 18600, True),
    _Story(DisputeKind.PROPERTY, "物业费与停车位纠纷", "业主以停车管理不善为由拒交物业费。",
           DisputeStatus.AGREED, 25, 2400, True),
    _Story(DisputeKind.FAMILY, "赡养费分担", "兄妹三人就母亲赡养费分担产生争执。", DisputeStatus.MEDIATING, 12),
    _Story(DisputeKind.LABOUR, "工伤待遇争议", "工人在车间受伤，就停工留薪期工资与企业发生争议。",
           DisputeStatus.MEDIATING, 20, 35000, True),
    _Story(DisputeKind.NEIGHBOUR, "违规搭建遮挡采光", "邻居在院内搭建彩钢棚，遮挡申请人房屋采光。",
           DisputeStatus.ASSIGNED, 6),
    _Story(DisputeKind.CONTRACT, "装修款结算", "装修完工后双方对增项费用有争议。", DisputeStatus.ACCEPTED, 3, 8000),
    _Story(DisputeKind.DAMAGE, "宠物犬咬伤", "申请人被邻居饲养的宠物犬咬伤，要求赔偿医疗费。", DisputeStatus.APPLIED, 1, 1500),
    _Story(DisputeKind.LAND, "宅基地界址争议", "两户村民就宅基地界址存在争议。", DisputeStatus.FAILED, 45),
    _Story(DisputeKind.LAND, "承包地流转费", "土地流转费支付时间存在争议。", DisputeStatus.CLOSED, 70, 12000),
    _Story(DisputeKind.NEIGHBOUR, "噪音扰民", "楼下商铺夜间噪音影响休息。", DisputeStatus.CLOSED, 33, None, True),
    _Story(DisputeKind.FAMILY, "离婚后子女探视", "双方就子女探视时间安排产生争执。", DisputeStatus.MEDIATING, 35),
)  # fmt: skip

PATHS: dict[str, tuple[str, ...]] = {
    DisputeStatus.APPLIED: (),
    DisputeStatus.ACCEPTED: ("accept",),
    DisputeStatus.ASSIGNED: ("accept", "assign"),
    DisputeStatus.MEDIATING: ("accept", "assign", "session"),
    DisputeStatus.AGREED: ("accept", "assign", "session", "agree"),
    DisputeStatus.FAILED: ("accept", "assign", "session", "fail"),
    DisputeStatus.FOLLOWED_UP: ("accept", "assign", "session", "agree", "follow_up"),
    DisputeStatus.CLOSED: ("accept", "assign", "session", "agree", "follow_up", "close"),
}


def _person(rng: random.Random, side: str) -> PartyInput:
    return PartyInput(
        side=side,
        name=rng.choice(SURNAMES) + rng.choice(GIVEN),
        phone=f"1990000{rng.randrange(10000):04d}",
    )


def _mediator_user(username: str, name: str, password: str) -> User:
    user, _ = User.objects.get_or_create(
        username=username,
        defaults={"display_name": name, "password": password, "must_change_password": False},
    )
    return user


def _committees(admin: User, password: str) -> tuple[Committee, list[Committee]]:
    streets = list(Division.objects.filter(level=DivisionLevel.STREET).order_by("code"))
    demo: Committee | None = None
    others: list[Committee] = []
    for street in streets:
        committee = actions.create_committee(
            actor=admin, name=f"{street.name}人民调解委员会", division=street
        )
        if street.code == DEMO_STREET:
            demo = committee
            continue
        user = _mediator_user(f"{MEDIATOR_PREFIX}_{street.code[6:9]}", f"{street.name}调解员", password)
        actions.appoint_mediator(actor=admin, user=user, committee=committee)
        others.append(committee)
    if demo is None:
        raise RuntimeError("the demo street is missing: build the district first")
    people = _mediator_user(DEMO_MEDIATOR, "人民调解员（演示）", password)
    labour = _mediator_user(DEMO_LABOUR_MEDIATOR, "劳动争议调解员（演示）", password)
    actions.appoint_mediator(actor=admin, user=people, committee=demo)
    actions.appoint_mediator(actor=admin, user=labour, committee=demo, kind=MediatorKind.LABOUR)
    return demo, others


def _drive(dispute: Dispute, actor: User, status: str, start: dt.datetime, rng: random.Random) -> None:
    mediator = Mediator.objects.get(user=actor)
    moment = start
    for step in PATHS[status]:
        moment = min(moment + dt.timedelta(days=rng.randint(1, 4), hours=rng.randint(0, 6)), timezone.now())
        day = timezone.localdate(moment)
        if step == "accept":
            actions.accept_dispute(dispute.pk, actor=actor, at=moment)
        elif step == "assign":
            actions.assign_mediators(dispute.pk, actor=actor, mediators=[mediator], at=moment)
        elif step == "session":
            actions.record_session(
                dispute.pk, actor=actor, held_on=day, place="调解室", mediators=[mediator], at=moment,
                notes="双方陈述事实与诉求，调解员释法说理。",
            )  # fmt: skip
        elif step == "agree":
            actions.record_agreement(
                dispute.pk,
                actor=actor,
                signed_on=day,
                terms="双方自愿达成协议，被申请人按约定支付款项或履行义务，双方不再就此事发生争执。",
                parties=list(dispute.parties.all()),
                amount=dispute.amount,
                due_on=day + dt.timedelta(days=15),
                at=moment,
            )
        elif step == "fail":
            referral = Referral.ARBITRATION if dispute.kind == DisputeKind.LABOUR else Referral.COURT
            actions.record_failure(
                dispute.pk, actor=actor, reason="双方分歧较大，未能达成一致。", referral=referral, at=moment
            )
        elif step == "follow_up":
            actions.record_follow_up(
                dispute.pk, actor=actor, performed=True, note="电话回访，协议已履行。", at=moment
            )
        elif step == "close":
            actions.close_dispute(dispute.pk, actor=actor, at=moment)


def build_mediation(ctx: DemoContext) -> str:
    """Committees, mediators and twelve disputes; the demo mediators see the demo street's."""
    rng = ctx.rng("mediation")
    admin = User.objects.filter(is_superuser=True).order_by("pk").first()
    if admin is None:
        raise RuntimeError("no administrator: build the demo users first")
    password = make_password(DEMO_PASSWORD)
    with transaction.atomic():
        actions.ensure_categories()
        demo, others = _committees(admin, password)
        people = User.objects.get(username=DEMO_MEDIATOR)
        labour = User.objects.get(username=DEMO_LABOUR_MEDIATOR)
        now = timezone.now()
        for i, story in enumerate(STORIES):
            committee = demo if i < 8 or not others else others[i % len(others)]
            if committee == demo:
                actor = labour if story.kind == DisputeKind.LABOUR else people
            else:
                actor = committee.members.get().user
            start = now - dt.timedelta(days=story.days_ago, hours=rng.randint(0, 8))
            respondent = (
                PartyInput(side=PartySide.RESPONDENT, name=rng.choice(COMPANIES), kind=PartyKind.ORGANISATION)
                if story.organisation_respondent
                else _person(rng, PartySide.RESPONDENT)
            )
            dispute = actions.register_dispute(
                actor=actor,
                committee=committee,
                kind=story.kind,
                summary=story.summary,
                facts=story.facts,
                parties=[_person(rng, PartySide.APPLICANT), respondent],
                amount=None if story.amount is None else str(story.amount),
                at=start,
            )
            _drive(dispute, actor, story.status, start, rng)
    ctx.logins.append(DemoLogin(DEMO_MEDIATOR, "人民调解员（演示）", "调解员", demo.name))
    ctx.logins.append(DemoLogin(DEMO_LABOUR_MEDIATOR, "劳动争议调解员（演示）", "调解员", demo.name))
    return f"{1 + len(others)} 个调解委员会，{len(others) + 2} 名调解员，{len(STORIES)} 件矛盾纠纷"


@transaction.atomic
def delete_mediation() -> None:
    """Delete every dispute (with its confidential case), committee and mediator account made here.
    Events are append-only for the application; wiping the demo removes them with a raw delete."""
    case_ids = list(Dispute.objects.values_list("case_id", flat=True))
    DisputeEvent.objects.all()._raw_delete(DisputeEvent.objects.db)
    Agreement.objects.all().delete()
    Session.objects.all().delete()
    Party.objects.all().delete()
    Dispute.objects.all().delete()
    CaseEvent.objects.filter(case_id__in=case_ids)._raw_delete(CaseEvent.objects.db)
    Case.objects.filter(pk__in=case_ids).delete()
    Committee.objects.all().delete()
    Mediator.objects.all().delete()
    User.objects.filter(username__startswith=MEDIATOR_PREFIX).delete()
