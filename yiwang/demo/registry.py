"""The demo's grid base database and party-building data: a sample of buildings, houses,
households, residents, organisations, key sites, party organisations and members (双报到, grid
posts), 流动哨兵 and volunteers with a few activities.

Everything here is **fictitious** and flagged ``is_demo=True``: names are drawn from our own
syllable lists, ID numbers are generated (address code 370211, random birth date and sequence) with
valid GB 11643 check characters so that validation passes, and phone numbers are drawn from
``199 0000 xxxx`` (China has no reserved fictional mobile range, so the flag is what marks them).

Size: the grids of the demo street (长江路街道, where the demo grid workers are) get a full sample
(about ``BUILDINGS_PER_GRID`` buildings with residents); other grids get organisations only. The
per-grid totals shown on the map still come from ``Grid.population``/``households``. ``scale``
multiplies the sample.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.db import connection
from django.utils import timezone

from yiwang.demo.names import SURNAMES
from yiwang.demo.people import DEMO_STREET
from yiwang.grids.models import Grid
from yiwang.party import actions as party
from yiwang.party.models import (
    Activity,
    Assignment,
    CommunityReport,
    LedgerEntry,
    PartyMember,
    PartyOrganization,
    Sentinel,
    SignUp,
    Volunteer,
)
from yiwang.registry import actions
from yiwang.registry.models import (
    Building,
    Estate,
    House,
    Household,
    KeySite,
    Organisation,
    Resident,
    ResidentTag,
)
from yiwang.registry.validation import USCC_ALPHABET, id_check_character, uscc_check_character

BUILDINGS_PER_GRID = 3
FLOORS = (4, 6, 6, 11, 18)
GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀",
    "霞",
    "平",
    "刚",
    "桂",
    "英",
    "华",
    "建",
    "国",
    "玉",
    "兰",
    "红",
    "梅",
    "海",
    "燕",
    "晓",
    "文",
    "俊",
    "鹏",
    "浩",
    "宇",
    "欣",
    "怡",
]
ESTATE_SUFFIX = ("花园", "家园", "小区", "苑", "名邸")
COMPANIES = ("海川", "瑞丰", "金诚", "安泰", "鑫源", "恒信", "青港", "昆仑", "润和", "博远")
ORG_KINDS = (
    ("enterprise", "有限公司"),
    ("individual", "便利店"),
    ("individual", "餐馆"),
    ("social", "志愿服务协会"),
)
TAG_SHARE = {"elderly_alone": 0.02, "empty_nest": 0.03, "veteran": 0.01, "disabled": 0.01, "subsistence": 0.008,
             "left_behind_child": 0.004, "watch": 0.002}  # fmt: skip


def _name(rng: random.Random) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given


def _phone(rng: random.Random) -> str:
    return f"1990000{rng.randrange(10000):04d}"


def _id_number(rng: random.Random, used: set[str], *, age_from: int = 0, age_to: int = 90) -> str:
    today = dt.date.today()
    while True:
        birth = today - dt.timedelta(days=rng.randrange(age_from * 365 + 1, age_to * 365))
        first17 = f"370211{birth:%Y%m%d}{rng.randrange(1000):03d}"
        number = first17 + id_check_character(first17)
        if number not in used:
            used.add(number)
            return number


def _credit_code(rng: random.Random) -> str:
    body = "91370211MA" + "".join(rng.choice(USCC_ALPHABET) for _ in range(7))
    return body + uscc_check_character(body)


def _sample_grids(street_code: str) -> list[Grid]:
    return list(
        Grid.objects.filter(community__street__code=street_code).select_related("community").order_by("code")
    )


def _houses_and_people(
    rng: random.Random, grid: Grid, estate_name: str, buildings: int, used: set[str]
) -> list[Resident]:
    residents: list[Resident] = []
    for b in range(buildings):
        building = actions.create_building(
            actor=None, code=f"{grid.code}{b + 1:03d}", name=f"{b + 1}号楼", grid=grid, estate_name=estate_name,
            address=f"{grid.community.name}{estate_name}{b + 1}号楼", floors=rng.choice(FLOORS),
            lng=round(grid.center_lng + rng.uniform(-0.002, 0.002), 6), lat=round(grid.center_lat + rng.uniform(-0.002, 0.002), 6),
            is_demo=True,
        )  # fmt: skip
        houses = [
            actions.prepare_house(
                building=building, unit=f"{u}单元", room=f"{f}0{r}", floor=f,
                occupancy=rng.choices(("owner", "rented", "vacant"), (70, 20, 10))[0], is_demo=True,
            )
            for f in range(1, min(building.floors, 6) + 1) for u in (1, 2) for r in (1, 2)
        ]  # fmt: skip
        for house in House.objects.bulk_create(houses):
            if house.occupancy == "vacant":
                continue
            registration = "floating" if house.occupancy == "rented" else "registered"
            for _ in range(rng.choice((1, 2, 2, 3, 3, 4))):
                residents.append(
                    actions.prepare_resident(
                        name=_name(rng), id_number=_id_number(rng, used), phone=_phone(rng) if rng.random() < 0.8 else "",
                        grid=grid, house=house, registration=registration, is_demo=True,
                    )
                )  # fmt: skip
    return residents


def _organisations(rng: random.Random, grid: Grid, count: int) -> None:
    for _ in range(count):
        kind, suffix = rng.choice(ORG_KINDS)
        name = (
            f"青岛{rng.choice(COMPANIES)}{rng.choice(COMPANIES)}{suffix}"
            if kind == "enterprise"
            else f"{_name(rng)[:1]}记{suffix}"
        )
        code = _credit_code(rng)
        if Organisation.objects.filter(credit_code=code).exists():
            continue
        actions.register_organisation(
            actor=None, name=f"{name}（演示）", kind=kind, grid=grid, credit_code=code, address=f"{grid.community.name}",
            contact_name=_name(rng), contact_phone=_phone(rng), employees=rng.randrange(1, 200), is_demo=True,
        )  # fmt: skip


def _party(rng: random.Random, grids: list[Grid]) -> tuple[int, int, int]:
    """One 机关党支部 per community reports (双报到); its in-service members take grid posts."""
    district_org = party.create_party_organization(
        actor=None, name="西海岸新区机关工委（演示）", kind="committee", is_demo=True
    )
    by_community: dict[int, list[Grid]] = {}
    for grid in grids:
        by_community.setdefault(grid.community_id, []).append(grid)
    members = posts = 0
    for community_grids in by_community.values():
        community = community_grids[0].community
        org = party.create_party_organization(
            actor=None,
            name=f"{community.name}联系单位党支部（演示）",
            kind="branch",
            parent=district_org,
            is_demo=True,
        )
        party.report_organization(org.pk, community, actor=None, commitment="环境整治、敬老助老")
        for grid in community_grids:
            households = list(Household.objects.filter(grid=grid)[:6])
            for index in range(3):
                member = party.register_party_member(
                    actor=None,
                    name=_name(rng),
                    organization=org,
                    kind="in_service",
                    phone=_phone(rng),
                    is_demo=True,
                )
                party.report_member(member.pk, community, actor=None)
                members += 1
                if index == 0:
                    party.assign_member(member.pk, actor=None, role="grid_instructor", grid=grid)
                    posts += 1
                for household in households[index * 2 : index * 2 + 2]:
                    party.assign_member(
                        member.pk, actor=None, role="household_contact", grid=grid, household=household
                    )
                    posts += 1
            for occupation in ("courier", "rider", "ride_hailing"):
                party.register_sentinel(
                    actor=None,
                    name=_name(rng),
                    occupation=occupation,
                    grid=grid,
                    company="演示平台",
                    phone=_phone(rng),
                    is_demo=True,
                )
    return members, posts, len(by_community)


def _volunteers(rng: random.Random, residents: list[Resident], grids: list[Grid]) -> int:
    adults = [r for r in residents if 18 <= (dt.date.today() - r.birth_date).days // 365 <= 75]
    chosen = rng.sample(adults, k=min(len(adults), max(1, len(adults) // 20)))
    volunteers = [
        party.register_volunteer(
            r.pk, actor=None, skills=rng.choice(("助老", "环保", "文艺", "")), is_demo=True
        )
        for r in chosen
    ]
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    communities = {g.community_id: g.community for g in grids}
    for community in communities.values():
        start = now - dt.timedelta(days=rng.randrange(3, 60), hours=rng.randrange(0, 6))
        activity = party.publish_activity(
            actor=None, title=f"{community.name}清洁家园志愿服务（演示）", community=community,
            starts_at=start, ends_at=start + dt.timedelta(hours=3), is_demo=True,
        )  # fmt: skip
        local = [v for v in volunteers if v.resident.grid.community_id == community.pk][:8]
        for volunteer in local:
            signup = party.sign_up(activity.pk, volunteer.pk, actor=None)
            party.check_in(signup.pk, actor=None, at=start)
            party.check_out(signup.pk, actor=None, at=start + dt.timedelta(minutes=rng.randrange(60, 200)))
    return len(volunteers)


def build_registry(ctx: Any) -> str:
    """The ``registry`` step of ``yiwang demo`` (after the district, departments and users)."""
    rng = ctx.rng("registry")
    scale = max(ctx.scale, 0.05)
    used: set[str] = set()
    sample = _sample_grids(DEMO_STREET)
    residents: list[Resident] = []
    for grid in sample:
        estate = rng.choice(("海润", "金沙", "瑞祥", "嘉华", "泰安", "锦绣")) + rng.choice(ESTATE_SUFFIX)
        residents += _houses_and_people(rng, grid, estate, max(1, round(BUILDINGS_PER_GRID * scale)), used)
        for house in House.objects.filter(building__grid=grid).exclude(occupancy="vacant")[:8]:
            actions.create_household(
                actor=None, grid=grid, house=house, number=f"H{house.pk:08d}", is_demo=True
            )
        company = actions.register_organisation(
            actor=None, name=f"青岛{rng.choice(COMPANIES)}物业服务有限公司（演示）", kind="property", grid=grid,
            credit_code=_credit_code(rng), is_demo=True,
        )  # fmt: skip
        for estate_row in Estate.objects.filter(grids=grid, property_company__isnull=True):
            actions.link_property_company(estate_row.pk, company.pk, actor=None)
        actions.register_key_site(
            actor=None, name=f"{grid.community.name}农贸市场（演示）", kind="crowded", grid=grid, risk_level="medium",
            manager_name=_name(rng), manager_phone=_phone(rng), is_demo=True,
        )  # fmt: skip
    actions.bulk_register_residents(residents)
    saved = list(Resident.objects.filter(is_demo=True).select_related("grid__community"))
    for code, share in TAG_SHARE.items():
        for resident in rng.sample(saved, k=int(len(saved) * share)):
            actions.tag_resident(resident.pk, code, actor=None)
    others = Grid.objects.exclude(pk__in=[g.pk for g in sample]).select_related("community")
    for grid in others:
        _organisations(rng, grid, 1 if rng.random() < 0.5 * scale else 0)
    for grid in sample:
        _organisations(rng, grid, max(1, round(4 * scale)))
    members, posts, communities = _party(rng, sample)
    volunteers = _volunteers(rng, saved, sample)
    return (
        f"{Building.objects.count()} 楼栋, {House.objects.count()} 房屋, {len(saved)} 实有人口（虚构，{len(sample)} 个样本网格）, "
        f"{Organisation.objects.count()} 单位, {KeySite.objects.count()} 重点场所, {members} 党员 / {posts} 包联岗位 / "
        f"{communities} 社区双报到, {Sentinel.objects.count()} 流动哨兵, {volunteers} 志愿者"
    )


def delete_registry() -> None:
    """Delete what :func:`build_registry` made (every registry and party row: the demo owns them)."""
    # The ledger is append-only for the application; resetting the demo removes it with raw SQL.
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {LedgerEntry._meta.db_table}")  # noqa: S608 — a model table name, no input
    for model in (SignUp, Activity, Assignment, Sentinel, CommunityReport):
        model.objects.all().delete()
    Volunteer.objects.all().delete()
    PartyMember.objects.all().delete()
    PartyOrganization.objects.filter(parent__isnull=False).delete()
    PartyOrganization.objects.all().delete()
    Household.objects.update(head=None)
    Resident.objects.update(household=None)
    ResidentTag.objects.all().delete()
    Resident.objects.all().delete()
    Household.objects.all().delete()
    House.objects.all().delete()
    KeySite.objects.all().delete()
    Estate.objects.update(property_company=None)
    Building.objects.all().delete()
    Estate.objects.all().delete()
    Organisation.objects.all().delete()
