"""The demo district's departments (承办单位) and one demo login per role.

There is no ``people.actions`` for bulk creation yet, so these rows are written with ``bulk_create``
inside the demo's single transaction. Every demo user shares :data:`DEMO_PASSWORD`, which is printed
by ``yiwang demo`` and must be changed on any machine that is reachable by others.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import transaction

from yiwang.grids.models import Division, DivisionLevel, Grid, GridStaff, GridStaffRole
from yiwang.people.models import Department, DepartmentKind, Grant, Role, User
from yiwang.people.roles import sync_role_groups

DEMO_PASSWORD = "Yiwang@2026"  # noqa: S105 — a documented demo password, printed on purpose
DEMO_STREET = "370211005000"  # 长江路街道: home of the street dispatcher, street handler and grid workers

COMMAND_CENTER = ("ZHZX", "西海岸新区社会治理指挥中心", "指挥中心")

# (code, name, short name) of the district's functional bureaus.
FUNCTIONAL = (
    ("CG", "西海岸新区综合行政执法局", "城管局"),
    ("ZJ", "西海岸新区住房和城乡建设局", "住建局"),
    ("HB", "青岛市生态环境局西海岸新区分局", "生态环境分局"),
    ("JT", "西海岸新区交通运输局", "交通运输局"),
    ("SJ", "西海岸新区市场监督管理局", "市场监管局"),
    ("JY", "西海岸新区教育和体育局", "教体局"),
    ("WJ", "西海岸新区卫生健康局", "卫健局"),
    ("RS", "西海岸新区人力资源和社会保障局", "人社局"),
    ("MZ", "西海岸新区民政局", "民政局"),
    ("GA", "青岛市公安局西海岸新区分局", "公安分局"),
    ("YJ", "西海岸新区应急管理局", "应急局"),
    ("ZR", "西海岸新区自然资源局", "自然资源局"),
    ("NY", "西海岸新区农业农村局", "农业农村局"),
    ("SW", "西海岸新区水务管理局", "水务局"),
    ("SWJ", "西海岸新区商务局", "商务局"),
    ("WL", "西海岸新区文化和旅游局", "文旅局"),
    ("CZ", "西海岸新区财政局", "财政局"),
    ("TJ", "西海岸新区退役军人事务局", "退役军人局"),
    ("XF", "西海岸新区信访局", "信访局"),
)

PUBLIC_SERVICE = (
    ("GS", "西海岸新区供水有限公司", "供水公司"),
    ("GD", "西海岸新区供电服务中心", "供电公司"),
    ("RQ", "西海岸新区燃气有限公司", "燃气公司"),
    ("GR", "西海岸新区热力有限公司", "供热公司"),
)


def street_department_code(division: Division) -> str:
    return f"JD{division.code[:9]}"


def community_department_code(division: Division) -> str:
    return f"SQ{division.code}"


def _street_office_name(street: Division) -> str:
    if street.kind == "街道":
        return f"{street.name}办事处"
    if street.kind == "镇":
        return f"{street.name}人民政府"
    return f"{street.name}管理委员会"  # 灵山岛省级自然保护区管理委员会


def _community_committee_name(community: Division) -> str:
    return f"{community.name}村民委员会" if community.kind == "村" else f"{community.name}居民委员会"


def build_departments() -> dict[str, Department]:
    """Bureaus, the command center, one office per street/town, one committee per community/village,
    and the public-service companies. Returns them by code."""
    top = [Department(code=COMMAND_CENTER[0], name=COMMAND_CENTER[1], short_name=COMMAND_CENTER[2],
                      kind=DepartmentKind.COMMAND_CENTER)]  # fmt: skip
    top += [
        Department(code=c, name=n, short_name=s, kind=DepartmentKind.FUNCTIONAL) for c, n, s in FUNCTIONAL
    ]
    top += [
        Department(code=c, name=n, short_name=s, kind=DepartmentKind.PUBLIC_SERVICE)
        for c, n, s in PUBLIC_SERVICE
    ]
    streets = list(Division.objects.filter(level=DivisionLevel.STREET).order_by("code"))
    top += [
        Department(
            code=street_department_code(s),
            name=_street_office_name(s),
            short_name=s.name,
            kind=DepartmentKind.STREET,
            division=s,
        )
        for s in streets
    ]
    Department.objects.bulk_create(top)
    offices = {d.division_id: d for d in Department.objects.filter(kind=DepartmentKind.STREET)}
    communities = Division.objects.filter(level=DivisionLevel.COMMUNITY).order_by("code")
    Department.objects.bulk_create(
        [
            Department(
                code=community_department_code(c),
                name=_community_committee_name(c),
                short_name=c.name,
                kind=DepartmentKind.COMMUNITY,
                division=c,
                parent=offices[c.street_id],
            )
            for c in communities
        ],
        batch_size=500,
    )
    return {d.code: d for d in Department.objects.all()}


@dataclass(frozen=True)
class DemoLogin:
    """One demo account as printed at the end of ``yiwang demo``."""

    username: str
    display_name: str
    role: str
    where: str


@dataclass(frozen=True)
class _Persona:
    username: str
    display_name: str
    role: Role
    department: str | None = None  # department code: the user's unit (and the grant, for handlers)
    division: str | None = None  # division code of the area grant; "community" = the grid workers'


PERSONAS = (
    _Persona("admin", "系统管理员", Role.ADMINISTRATOR, department=COMMAND_CENTER[0], division="370211000000"),
    _Persona("leader", "区领导（演示）", Role.LEADER, department=COMMAND_CENTER[0], division="370211000000"),
    _Persona("secadmin", "安全管理员（演示）", Role.SECURITY_ADMINISTRATOR, department=COMMAND_CENTER[0],
             division="370211000000"),
    _Persona("auditor", "安全审计员（演示）", Role.AUDITOR, department=COMMAND_CENTER[0], division="370211000000"),
    _Persona("operator", "热线话务员（演示）", Role.HOTLINE_OPERATOR, department=COMMAND_CENTER[0],
             division="370211000000"),
    _Persona("dispatcher", "区指挥中心派遣员", Role.DISPATCHER, department=COMMAND_CENTER[0], division="370211000000"),
    _Persona("dispatcher_cjl", "长江路街道派遣员", Role.DISPATCHER, department=f"JD{DEMO_STREET[:9]}",
             division=DEMO_STREET),
    _Persona("handler_cg", "城管局承办人", Role.DEPARTMENT_HANDLER, department="CG"),
    _Persona("handler_water", "供水公司承办人", Role.DEPARTMENT_HANDLER, department="GS"),
    _Persona("handler_cjl", "长江路街道承办人", Role.DEPARTMENT_HANDLER, department=f"JD{DEMO_STREET[:9]}"),
    _Persona("gridworker1", "网格员一", Role.GRID_WORKER, division="community"),
    _Persona("gridworker2", "网格员二", Role.GRID_WORKER, division="community"),
    _Persona("gridworker3", "网格员三", Role.GRID_WORKER, division="community"),
)  # fmt: skip

DEMO_USERNAMES = tuple(p.username for p in PERSONAS)


def demo_community() -> Division:
    """The grid workers' community: the first community of 长江路街道 with at least three basic grids
    (or its biggest one at tiny scales)."""
    communities = list(Division.objects.filter(street__code=DEMO_STREET, level=DivisionLevel.COMMUNITY))
    counts = {c.pk: c.grids.filter(kind="basic").count() for c in communities}
    for community in sorted(communities, key=lambda c: c.code):
        if counts[community.pk] >= 3:
            return community
    return max(communities, key=lambda c: (counts[c.pk], c.code))


def build_users(departments: dict[str, Department]) -> list[DemoLogin]:
    """One or more demo users per role, each with the grant its role needs; all staff, so they can
    browse the admin (whose querysets are scoped), and the administrator a superuser."""
    community = demo_community()
    grids = list(Grid.objects.filter(community=community, kind="basic").order_by("code")[:3])
    divisions = {
        d.code: d for d in Division.objects.filter(code__in=[p.division for p in PERSONAS if p.division])
    }
    divisions["community"] = community
    password = make_password(DEMO_PASSWORD)  # hashed once: PBKDF2 costs ~0.3 s per call
    logins: list[DemoLogin] = []
    grid_workers: list[User] = []
    for persona in PERSONAS:
        department = departments[persona.department] if persona.department else None
        user = User.objects.create(
            username=persona.username,
            display_name=persona.display_name,
            password=password,
            department=department,
            is_staff=True,
            is_superuser=persona.role == Role.ADMINISTRATOR,
            must_change_password=False,
        )
        division = divisions[persona.division] if persona.division else None
        handler = persona.role == Role.DEPARTMENT_HANDLER
        Grant.objects.create(
            user=user, role=persona.role, division=division, department=department if handler else None
        )
        sync_role_groups(user)
        where = division.name if division is not None else (department.name if department else "")
        if persona.role == Role.GRID_WORKER:
            grid_workers.append(user)
        logins.append(DemoLogin(persona.username, persona.display_name, str(persona.role.label), where))
    _attach_grid_workers(grid_workers, grids)
    return logins


def _attach_grid_workers(workers: list[User], grids: list[Grid]) -> None:
    """Worker i is the full-time worker of grid i; the first one also leads all of them (网格长)."""
    posts = [
        GridStaff(user=w, grid=g, role=GridStaffRole.FULL_TIME) for w, g in zip(workers, grids, strict=False)
    ]
    if workers:
        posts += [GridStaff(user=workers[0], grid=g, role=GridStaffRole.LEADER) for g in grids]
    GridStaff.objects.bulk_create(posts)


@transaction.atomic
def delete_users() -> None:
    """Remove the demo users (their grants and grid posts go with them)."""
    User.objects.filter(username__in=DEMO_USERNAMES).delete()


@transaction.atomic
def delete_departments() -> None:
    """Remove every department (``parent`` is PROTECT inside the table: cut it first)."""
    Department.objects.update(parent=None)
    Department.objects.all().delete()
