"""The demo of 政企直通车: five financial institutions with one handler each, two finance counsellors,
twenty (fictitious) enterprises and their demands at every stage, played through the module's
actions so that the statistics and the timelines look lived in.

The demands are spread over the days ``yiwang demo`` builds at once (``DEFAULT_DAYS``): older
windows of case history are rebuilt in the background, and each such job first discards every case
of its window, which a demand's case (protected) would stop.

Logins added to the demo table: ``enterprise`` (企业用户 of the first enterprise), ``counsellor``
(金融辅导员) and ``banker1`` (the first bank's handler). Register after the ``cases`` step (its
reset then runs first; it needs the departments, the users and the registry's grids).
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from yiwang.cases.actions import without_notifications
from yiwang.cases.models import Case, CaseEvent
from yiwang.core.calendar import TimeUnit, get_calendar
from yiwang.demo.cases import DEFAULT_DAYS
from yiwang.demo.people import DEMO_PASSWORD, DEMO_STREET, DemoLogin
from yiwang.governance.enterprise import actions
from yiwang.governance.enterprise.models import (
    Collateral,
    Demand,
    DemandEvent,
    Enterprise,
    EnterpriseMember,
    FinancialInstitution,
    Industry,
    InstitutionKind,
    Matching,
    Visit,
)
from yiwang.grids.models import Division, DivisionLevel, Grid
from yiwang.people.models import Department, DepartmentKind, Grant, Role, User
from yiwang.people.roles import sync_role_groups
from yiwang.registry.models import Organisation
from yiwang.registry.validation import USCC_ALPHABET, uscc_check_character

# (department code, name, short name, kind, products)
INSTITUTIONS = (
    ("JR-GH", "中国工商银行青岛西海岸新区支行（演示）", "工商银行", InstitutionKind.BANK, ("经营快贷", "科技贷")),
    ("JR-JH", "中国建设银行青岛西海岸新区支行（演示）", "建设银行", InstitutionKind.BANK, ("善营贷", "云税贷")),
    ("JR-NH", "中国农业银行青岛西海岸新区支行（演示）", "农业银行", InstitutionKind.BANK, ("纳税e贷", "乡村振兴贷")),
    ("JR-QH", "青岛银行西海岸新区分行（演示）", "青岛银行", InstitutionKind.BANK, ("海融易贷", "人才贷")),
    ("JR-DB", "西海岸新区融资担保有限公司（演示）", "融资担保", InstitutionKind.GUARANTEE, ("政策性担保",)),
)  # fmt: skip
USERNAMES = ("enterprise", "counsellor", "counsellor2", *[f"banker{i}" for i in range(1, 6)])
LOGIN_BANKER = "banker1"
NAMES = ("海工", "港城", "蓝谷", "琅琊", "珠山", "藏马", "灵山", "泊里", "铁山", "隐珠",
         "凤凰", "金沙", "唐岛", "积米", "薛家", "大珠", "小珠", "甘水", "胶河", "王台")  # fmt: skip
TRADES = (("机械制造", Industry.MANUFACTURING), ("海洋科技", Industry.RESEARCH), ("物流", Industry.LOGISTICS),
          ("食品", Industry.MANUFACTURING), ("软件", Industry.IT), ("商贸", Industry.TRADE),
          ("建筑工程", Industry.CONSTRUCTION), ("农业发展", Industry.AGRICULTURE))  # fmt: skip
PURPOSES = ("购买原材料", "扩建生产线", "研发投入", "支付工资和社保", "购置设备", "补充流动资金")
OTHER_DEMANDS = (
    ("policy", "咨询高新技术企业认定和研发费用加计扣除政策。"),
    ("factors", "扩产需要新增用工约50人，希望协助对接招聘渠道。"),
    ("other", "厂区周边道路坑洼，货车通行困难，希望协调修复。"),
)
# The last stage each demand reaches, in filing order (oldest first).
STAGES = (
    ("closed",) * 8
    + ("concluded_zero",) * 2
    + ("concluded",) * 4
    + ("accepted",) * 5
    + ("routed",) * 4
    + ("submitted",) * 3
    + ("withdrawn",)
)


def _credit_code(rng: random.Random) -> str:
    while True:
        body = "91370211MA" + "".join(rng.choice(USCC_ALPHABET) for _ in range(7))
        code = body + uscc_check_character(body)
        if not Organisation.objects.filter(credit_code=code).exists():
            return code


def _user(username: str, name: str, role: Role, password: str, **grant: Any) -> User:
    user = User.objects.create(
        username=username, display_name=name, password=password, department=grant.get("department")
    )
    Grant.objects.create(user=user, role=role, **grant)
    sync_role_groups(user)
    return user


def _institutions(password: str) -> list[tuple[FinancialInstitution, User, tuple[str, ...]]]:
    made = []
    for i, (code, name, short, kind, products) in enumerate(INSTITUTIONS, start=1):
        dept = Department.objects.create(
            code=code, name=name, short_name=short, kind=DepartmentKind.PUBLIC_SERVICE
        )
        inst = FinancialInstitution.objects.create(department=dept, kind=kind, is_demo=True)
        handler = _user(f"banker{i}", f"{short}客户经理", Role.DEPARTMENT_HANDLER, password, department=dept)
        made.append((inst, handler, products))
    return made


def _enterprises(rng: random.Random, counsellors: list[User]) -> list[Enterprise]:
    street_grids = list(
        Grid.objects.filter(community__street__code=DEMO_STREET, kind="basic").order_by("code")
    )
    other_grids = list(
        Grid.objects.filter(kind="basic").exclude(community__street__code=DEMO_STREET).order_by("code")
    )
    made = []
    for i, place in enumerate(NAMES):
        trade, industry = TRADES[i % len(TRADES)]
        pool = street_grids if i < 12 or not other_grids else other_grids
        grid = pool[rng.randrange(len(pool))]
        made.append(
            actions.register_enterprise(
                actor=None,
                name=f"青岛{place}{trade}有限公司（演示）",
                credit_code=_credit_code(rng),
                grid=grid,
                industry=industry,
                address=f"{grid.community.name}{rng.randrange(1, 300)}号",
                lng=grid.center_lng or None,
                lat=grid.center_lat or None,
                contact_name=f"{rng.choice('王李张刘陈杨赵黄周吴')}经理",
                contact_phone=f"139{rng.randrange(10**7, 10**8)}",
                counsellor=counsellors[0] if i < 12 else counsellors[1],
                is_demo=True,
            )
        )
    return made


def _later(at: dt.datetime, hours: float) -> dt.datetime:
    """``hours`` working hours after ``at``, but never in the future (a step a weekend pushes past
    now happens a minute ago instead)."""
    latest = timezone.now() - dt.timedelta(minutes=1)
    return min(get_calendar().add(at, hours, TimeUnit.WORK_HOURS), max(at, latest))


def _demand(
    rng: random.Random,
    stage: str,
    enterprise: Enterprise,
    filer: User,
    bureau: User,
    bank: tuple[FinancialInstitution, User, tuple[str, ...]],
    filed: dt.datetime,
    other: tuple[str, str] | None,
) -> None:
    if other is None:
        amount = Decimal(rng.choice((50, 100, 200, 300, 500, 800, 1000, 2000))) * 10000
        demand = actions.file_demand(
            actor=filer, enterprise_id=enterprise.pk, kind="financing",
            description=f"企业经营稳定，订单增长，需融资{amount / 10000:.0f}万元用于{rng.choice(PURPOSES)}。",
            purpose=rng.choice(PURPOSES), amount_requested=amount, term_months=rng.choice((6, 12, 24, 36)),
            collateral=rng.choice(Collateral.values), at=filed,
        )  # fmt: skip
    else:
        amount = Decimal(0)
        demand = actions.file_demand(
            actor=filer, enterprise_id=enterprise.pk, kind=other[0], description=other[1], at=filed
        )
    if stage == "submitted":
        return
    if stage == "withdrawn":
        actions.withdraw_demand(
            demand.pk, actor=bureau, reason="企业已通过其他渠道解决，申请撤销", at=_later(filed, 3)
        )
        return
    inst, handler, products = bank
    at = _later(filed, rng.uniform(0.5, 2))
    actions.route_demand(demand.pk, actor=bureau, department=inst.department, at=at)
    if stage == "routed":
        return
    at = _later(at, rng.uniform(1, 4))
    actions.accept_demand(demand.pk, actor=handler, note="已安排客户经理对接", at=at)
    at = _later(at, rng.uniform(1, 3))
    actions.record_visit(demand.pk, actor=handler, note="实地走访，了解经营和用款计划", visited_at=at, at=at)
    if enterprise.counsellor is not None and rng.random() < 0.6:
        actions.record_visit(
            demand.pk,
            actor=enterprise.counsellor,
            note="金融辅导员陪同走访",
            mode="on_site",
            visited_at=at,
            at=at,
        )
    if other is None:
        at = _later(at, rng.uniform(1, 4))
        actions.record_matching(
            demand.pk, actor=handler, institution=inst, product=rng.choice(products),
            proposed_amount=amount * Decimal(rng.choice(("0.5", "0.8", "1"))), at=at,
        )  # fmt: skip
    if stage == "accepted":
        return
    at = _later(at, rng.uniform(2, 8))
    if stage == "concluded_zero":
        actions.conclude_demand(
            demand.pk, actor=handler, amount_granted=0, note="企业负债率偏高，暂不符合授信条件", at=at
        )
        return
    granted = amount * Decimal(rng.choice(("0.6", "0.8", "1"))) if other is None else 0
    actions.conclude_demand(
        demand.pk, actor=handler, amount_granted=granted, note="已办理" if granted else "已答复企业", at=at
    )
    if stage == "concluded":
        return
    at = _later(at, rng.uniform(1, 3))
    satisfaction = rng.choice(("satisfied", "satisfied", "satisfied", "basically_satisfied"))
    actions.record_demand_callback(demand.pk, actor=bureau, satisfaction=satisfaction, at=at)


def build_enterprise(ctx: Any) -> str:
    """The ``enterprise`` step of ``yiwang demo``: institutions, counsellors, enterprises, demands."""
    rng: random.Random = ctx.rng("enterprise")
    password = make_password(DEMO_PASSWORD)
    district = Division.objects.filter(level=DivisionLevel.DISTRICT).order_by("code").first()
    street = Division.objects.filter(code=DEMO_STREET).first()
    bureau = (
        User.objects.filter(username="dispatcher").first() or User.objects.filter(is_superuser=True).first()
    )
    if district is None or street is None or bureau is None:
        return "跳过：缺少区划或派遣员"
    with transaction.atomic(), without_notifications():
        banks = _institutions(password)
        counsellors = [
            _user("counsellor", "金融辅导员（演示）", Role.FINANCE_COUNSELLOR, password, division=district),
            _user(
                "counsellor2", "金融辅导员二（演示）", Role.FINANCE_COUNSELLOR, password, division=district
            ),
        ]
        enterprises = _enterprises(rng, counsellors)
        owner = _user(
            "enterprise", "企业用户（演示）", Role.ENTERPRISE, password, division=enterprises[0].street
        )
        actions.link_enterprise_user(enterprises[0].pk, owner, actor=None)
        now = timezone.now()
        # Only the days `yiwang demo` builds at once: the background jobs that backfill older
        # windows of case history first discard every case of their window, and a demand's case
        # is protected.
        start = now - dt.timedelta(days=DEFAULT_DAYS - 1)
        step = (now - dt.timedelta(days=3) - start) / len(STAGES)
        for i, stage in enumerate(STAGES):
            enterprise = enterprises[0] if i % 5 == 0 else enterprises[i % len(enterprises)]
            filer = owner if enterprise == enterprises[0] else (enterprise.counsellor or bureau)
            other = OTHER_DEMANDS[i % len(OTHER_DEMANDS)] if i % 6 == 5 else None
            filed = start + step * i + dt.timedelta(minutes=rng.randrange(0, 600))
            if stage in ("submitted", "routed", "withdrawn"):
                filed = now - dt.timedelta(days=rng.uniform(0.5, 2))
            _demand(rng, stage, enterprise, filer, bureau, banks[i % len(banks)], filed, other)
    ctx.logins += [
        DemoLogin("enterprise", "企业用户（演示）", str(Role.ENTERPRISE.label), enterprises[0].name),
        DemoLogin("counsellor", "金融辅导员（演示）", str(Role.FINANCE_COUNSELLOR.label), district.name),
        DemoLogin(
            LOGIN_BANKER,
            banks[0][1].display_name,
            str(Role.DEPARTMENT_HANDLER.label),
            banks[0][0].department.name,
        ),
    ]
    return (
        f"{len(banks)} 金融机构, {len(enterprises)} 企业, {Demand.objects.count()} 诉求, "
        f"{Visit.objects.count()} 走访, {Matching.objects.count()} 对接"
    )


@transaction.atomic
def delete_enterprise() -> None:
    """Delete what :func:`build_enterprise` made (every row of the module: the demo owns them),
    the cases of the demands with their timelines, the institutions' departments and the logins."""
    case_ids = list(Demand.objects.values_list("case_id", flat=True))
    Matching.objects.all().delete()
    Visit.objects.all().delete()
    DemandEvent.objects.all().delete()
    Demand.objects.all().delete()
    CaseEvent.objects.filter(case_id__in=case_ids)._raw_delete(CaseEvent.objects.db)
    Case.objects.filter(pk__in=case_ids).delete()
    EnterpriseMember.objects.all().delete()
    organisation_ids = list(Enterprise.objects.filter(is_demo=True).values_list("organisation_id", flat=True))
    Enterprise.objects.all().delete()
    Organisation.objects.filter(pk__in=organisation_ids, is_demo=True).delete()
    department_ids = list(FinancialInstitution.objects.values_list("department_id", flat=True))
    User.objects.filter(username__in=USERNAMES).delete()
    FinancialInstitution.objects.all().delete()
    Department.objects.filter(pk__in=department_ids, code__startswith="JR-").delete()
