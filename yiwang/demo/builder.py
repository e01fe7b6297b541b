"""``yiwang demo`` as a list of steps, run in one transaction.

Each :class:`Step` builds one part of the demo from the :class:`DemoContext` (seed, scale, and what
earlier steps made) and may say how to delete what it built. To add a part (e.g. demo cases), write
a module in ``yiwang/demo/`` with ``build_x(ctx) -> str`` and ``delete_x() -> None`` and append a
``Step`` to :data:`STEPS` there, or call :func:`register_step` (steps run in list order; resets run
in reverse order, so later steps' rows, which point at earlier ones, go first).

Each step draws its randomness from its own ``random.Random(f"{seed}:{step.key}")``, so adding a step
never changes what the earlier steps build.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import ProtectedError

from yiwang.demo.cases import build_cases_step, delete_cases
from yiwang.demo.district import DemoDistrict, generate_district
from yiwang.demo.gov_campaigns import build_campaigns, delete_campaigns
from yiwang.demo.gov_deliberation import build_deliberation, delete_deliberation
from yiwang.demo.gov_enterprise import build_enterprise, delete_enterprise
from yiwang.demo.gov_mediation import build_mediation, delete_mediation
from yiwang.demo.gov_projects import build_projects, delete_projects
from yiwang.demo.people import (
    DEMO_PASSWORD,
    DemoLogin,
    build_departments,
    build_users,
    delete_departments,
    delete_users,
)
from yiwang.demo.registry import build_registry, delete_registry
from yiwang.dispatch.actions import DispatchActionError, train_from_cases
from yiwang.dispatch.classifier import ClassifierInputError
from yiwang.grids.actions import bulk_load, bump_locator_version, link_external_grids, link_police_beats
from yiwang.grids.models import (
    Division,
    ExternalGrid,
    ExternalGridLink,
    Grid,
    GridBeatLink,
    GridLabel,
    GridStaff,
    PoliceBeat,
)
from yiwang.people.models import Department

DEFAULT_SEED = 2026
ADMIN_URL = "http://127.0.0.1:8000/admin/"


class DemoError(Exception):
    """The demo cannot be built (or reset); ``zh`` and ``en`` say why."""

    def __init__(self, zh: str, en: str) -> None:
        self.zh, self.en = zh, en
        super().__init__(f"{zh} / {en}")


@dataclass
class DemoContext:
    seed: int = DEFAULT_SEED
    scale: float = 1.0
    district: DemoDistrict | None = None
    departments: dict[str, Department] = field(default_factory=dict)
    logins: list[DemoLogin] = field(default_factory=list)
    days: int | None = None  # days of case history (None: the cases step's default)
    per_day: float | None = None  # cases a day (None: 200 × scale)
    log: Callable[[str], None] = print  # progress lines of long steps

    def rng(self, key: str) -> random.Random:
        return random.Random(f"{self.seed}:{key}")


@dataclass(frozen=True)
class Step:
    key: str
    zh: str
    en: str
    build: Callable[[DemoContext], str]  # returns a one-line summary of what it made
    delete: Callable[[], None] | None = None


# --- the steps ----------------------------------------------------------------------------------


def build_district(ctx: DemoContext) -> str:
    """Divisions, grids and labels through ``grids.actions.bulk_load``; police beats and other
    departments' grids written here (there is no action for them) and linked by the grid actions."""
    district = generate_district(ctx.seed, ctx.scale)
    ctx.district = district
    for label in district.labels:
        GridLabel.objects.update_or_create(code=label["code"], defaults={"name": label["name"]})
    report = bulk_load(district.divisions, district.grids)
    if not report.ok:
        raise DemoError("演示区划写入失败：" + "；".join(str(p) for p in report.problems[:5]),
                        "the demo map was rejected: " + "; ".join(str(p) for p in report.problems[:5]))  # fmt: skip
    PoliceBeat.objects.bulk_create([PoliceBeat(**row) for row in district.beats], batch_size=500)
    ExternalGrid.objects.bulk_create([ExternalGrid(**row) for row in district.external_grids], batch_size=500)
    beat_links = link_police_beats()
    external_links = link_external_grids()
    levels = [d["level"] for d in district.divisions]
    return (
        f"{levels.count('street')} 街道/镇, {levels.count('community')} 社区/村, {len(district.grids)} 网格, "
        f"{len(district.beats)} 警格 ({beat_links} links), {len(district.external_grids)} 专业网格 "
        f"({external_links} links), 人口 {sum(g['population'] for g in district.grids):,}"
    )


def delete_district() -> None:
    ExternalGridLink.objects.all().delete()
    ExternalGrid.objects.all().delete()
    GridBeatLink.objects.all().delete()
    PoliceBeat.objects.all().delete()
    GridStaff.objects.all().delete()
    Grid.objects.all().delete()
    GridLabel.objects.all().delete()
    # parent/district/street point inside the same table with PROTECT: cut them first.
    Division.objects.update(parent=None, district=None, street=None)
    Division.objects.all().delete()
    bump_locator_version()


def build_departments_step(ctx: DemoContext) -> str:
    ctx.departments = build_departments()
    kinds: dict[str, int] = {}
    for department in ctx.departments.values():
        kinds[department.kind] = kinds.get(department.kind, 0) + 1
    return ", ".join(f"{kind} {n}" for kind, n in sorted(kinds.items()))


# The demo's first days hold few closed cases per category; a real district trains with the default.
DEMO_MIN_PER_CLASS = 5


def train_classifier_step(ctx: DemoContext) -> str:
    """A first category model from the demo's closed cases, so that the intake form and the queue
    show suggestions from the start (`yiwang train --activate` again once the history is complete)."""
    try:
        model = train_from_cases(None, min_per_class=DEMO_MIN_PER_CLASS, activate=True)
    except (ClassifierInputError, DispatchActionError) as exc:
        return f"未训练 / not trained: {exc}"
    return f"{model.n_train} closed cases, {len(model.classes)} categories"


def build_users_step(ctx: DemoContext) -> str:
    ctx.logins = build_users(ctx.departments)
    return f"{len(ctx.logins)} users"


STEPS: list[Step] = [
    Step("district", "生成区划、网格、警格与专业网格", "divisions, grids, police beats, external grids",
         build_district, delete_district),
    Step("departments", "生成承办单位", "departments", build_departments_step, delete_departments),
    Step("users", "生成演示账号", "demo users", build_users_step, delete_users),
    Step("registry", "生成网格基础数据与党建", "registry and party", build_registry, delete_registry),
    Step("cases", "生成案件历史", "case history", build_cases_step, delete_cases),
    Step("classifier", "训练派单分类模型", "category classifier", train_classifier_step),
    Step("deliberation", "生成村民议事", "village deliberation", build_deliberation, delete_deliberation),
    Step("mediation", "生成矛盾纠纷调解", "mediation", build_mediation, delete_mediation),
    Step("enterprise", "生成政企直通车", "enterprise channel", build_enterprise, delete_enterprise),
    Step("projects", "生成攻坚项目", "key projects", build_projects, delete_projects),
    Step("campaigns", "生成专项治理", "special campaigns", build_campaigns, delete_campaigns),
]  # fmt: skip


# The co-governance steps: tests of the base demo (cases, registry) build without them.
GOVERNANCE_STEPS = ("deliberation", "mediation", "enterprise", "projects", "campaigns")


def register_step(step: Step, *, after: str | None = None) -> None:
    """Add a step (at the end, or right after the step with key ``after``); re-registering a key
    replaces it, so importing a module twice is harmless."""
    existing = [i for i, s in enumerate(STEPS) if s.key == step.key]
    if existing:
        STEPS[existing[0]] = step
        return
    if after is None:
        STEPS.append(step)
    else:
        STEPS.insert(next(i for i, s in enumerate(STEPS) if s.key == after) + 1, step)


# --- running ------------------------------------------------------------------------------------


def has_demo_data() -> bool:
    return Division.objects.exists()


def reset_demo(log: Callable[[str], None] = print) -> None:
    """Delete what the steps build, last step first. Rows of other apps that still point at the map
    or the departments (PROTECT) stop the reset with a clear error, and nothing is deleted."""
    try:
        with transaction.atomic():
            for step in reversed(STEPS):
                if step.delete is not None:
                    step.delete()
    except ProtectedError as exc:
        raise DemoError(
            f"无法清除演示数据：仍有其他记录引用区划、网格或单位（{exc.protected_objects!s:.200}）",
            f"cannot reset: other records still point at divisions, grids or departments ({exc.protected_objects!s:.200})",
        ) from exc
    log("已清除演示数据 / demo data deleted")


def build_demo(
    *,
    seed: int = DEFAULT_SEED,
    scale: float = 1.0,
    days: int | None = None,
    per_day: float | None = None,
    log: Callable[[str], None] = print,
    skip: Collection[str] = (),
) -> DemoContext:
    """Run every step (but those whose key is in ``skip``) in one transaction; a failing step
    leaves the database as it was."""
    if not scale > 0:
        raise DemoError("--scale 必须大于 0", "--scale must be greater than 0")
    if days is not None and days < 0:
        raise DemoError("--days 不能小于 0", "--days must not be negative")
    if per_day is not None and per_day < 0:
        raise DemoError("--per-day 不能小于 0", "--per-day must not be negative")
    ctx = DemoContext(seed=seed, scale=scale, days=days, per_day=per_day, log=log)
    with transaction.atomic():
        if has_demo_data():
            raise DemoError(
                "数据库中已有区划数据；如需重建请加 --reset（会删除现有区划、网格与单位）",
                "the database already has divisions; use --reset to rebuild (deletes the map and departments)",
            )
        steps = [step for step in STEPS if step.key not in skip]
        for n, step in enumerate(steps, start=1):
            started = time.perf_counter()
            summary = step.build(ctx)
            took = time.perf_counter() - started
            log(f"[{n}/{len(steps)}] {step.zh} / {step.en}: {summary} ({took:.1f} s)")
    return ctx


def login_table(logins: list[DemoLogin]) -> list[str]:
    """The demo logins as text lines (username, role, where, name) plus the password and URL."""
    rows = [("用户名 username", "角色 role", "范围 scope", "姓名 name")]
    rows += [(x.username, x.role, x.where, x.display_name) for x in logins]
    widths = [max(_width(r[i]) for r in rows) for i in range(3)]
    lines = ["  ".join(_pad(cell, widths[i]) if i < 3 else cell for i, cell in enumerate(r)) for r in rows]
    lines.insert(1, "-" * (sum(widths) + 6 + 12))
    lines.append("")
    lines.append(
        f"演示密码 / demo password: {DEMO_PASSWORD}   （仅供演示，正式使用前请修改 / change it before real use）"
    )
    lines.append(f"管理后台 / admin: {ADMIN_URL}")
    return lines


def _width(text: str) -> int:
    """Display width: CJK characters take two columns in a terminal."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
