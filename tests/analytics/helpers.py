"""Random walks of cases through the real actions, for the rollup properties."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Callable
from typing import Any

from django.db.models import Count

from tests.cases.conftest import IN_A1, IN_A2, IN_B1, WEDNESDAY, new_case
from tests.world import World
from yiwang.analytics.models import MILESTONES, DailyRollup
from yiwang.cases import actions, sla
from yiwang.cases.errors import CaseError
from yiwang.cases.models import Case, CaseEvent


def _try(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> bool:
    try:
        fn(*args, **kwargs)
    except CaseError:
        return False
    return True


def play(world: World, rng: random.Random, *, cases: int, steps: int, between: Callable[[], None]) -> None:
    """Create ``cases`` cases over a few days and apply ``steps`` random actions to them, calling
    ``between`` (e.g. a catch-up) at random points. Refused actions are simply skipped."""
    at = WEDNESDAY
    ids = []
    for i in range(cases):
        point = rng.choice([IN_A1, IN_A2, IN_B1])
        channel = rng.choice(["hotline_12345", "grid_patrol", "web"])
        ids.append(new_case(world, point, channel=channel, at=at + dt.timedelta(hours=3 * i)).pk)
    handlers = {world.dept_a.pk: world.handler_a, world.dept_b.pk: world.handler_b}
    now = at + dt.timedelta(hours=3 * cases)
    for _ in range(steps):
        now += dt.timedelta(hours=rng.choice([1, 2, 5, 30, 80]))
        case = Case.objects.get(pk=rng.choice(ids))
        handler = handlers.get(case.lead_department_id or 0, world.handler_a)
        choice = rng.randrange(10)
        if choice == 0:
            sla.scan_breaches(now)
        elif choice == 1:
            lead = rng.choice([world.dept_a, world.dept_b])
            _try(actions.dispatch_case, case.pk, actor=world.admin, lead=lead, at=now)
        elif choice == 2:
            _try(actions.sign_case, case.pk, actor=handler, at=now)
        elif choice == 3:
            if not _try(actions.resolve_case, case.pk, actor=handler, result="已处理", at=now):
                _try(actions.return_case, case.pk, actor=handler, reason="非本单位职责", at=now)
        elif choice == 4:
            _try(
                actions.verify_case,
                case.pk,
                actor=world.admin,
                passed=rng.random() < 0.7,
                note="复查",
                at=now,
            )
        elif choice == 5:
            satisfaction = rng.choice(["satisfied", "basically_satisfied", "unsatisfied", None])
            _try(
                actions.record_callback,
                case.pk,
                actor=world.operator,
                contacted=satisfaction is not None,
                solved=rng.random() < 0.6,
                satisfaction=satisfaction,
                at=now,
            )
        elif choice == 6:
            _try(actions.reopen_case, case.pk, actor=world.admin, at=now)
        elif choice == 7:
            if _try(actions.suspend_case, case.pk, actor=world.admin, reason="等待配合", at=now):
                _try(actions.resume_case, case.pk, actor=world.admin, at=now + dt.timedelta(hours=20))
        elif choice == 8:
            if _try(
                actions.request_extension, case.pk, actor=handler, reason="需要更多时间", amount=2, at=now
            ):
                _try(actions.approve_extension, case.pk, actor=world.admin, at=now)
        else:
            between()


def stored() -> dict[str, Counter[str]]:
    return {
        r["key"]: Counter({m: r[m] for m in MILESTONES if r[m]})
        for r in DailyRollup.objects.values("key", *MILESTONES)
    }


def totals_by_milestone() -> Counter[str]:
    out: Counter[str] = Counter()
    for counts in stored().values():
        out.update(counts)
    return out


def direct_counts() -> Counter[str]:
    """Counts straight from the events (GROUP BY kind / data), independent of the rollup rules."""
    kinds = dict(CaseEvent.objects.values_list("kind").annotate(n=Count("id")))
    out: Counter[str] = Counter()
    out["registered"] = kinds.get("registered", 0) + kinds.get("received_from_110", 0)
    out["dispatched"] = kinds.get("dispatched", 0) + kinds.get("reopened", 0)
    for milestone, kind in (
        ("signed", "signed"),
        ("resolved", "resolved"),
        ("reworked", "verification_failed"),
        ("closed", "verified"),
        ("called_back", "called_back"),
        ("reopened", "reopened"),
        ("overdue", "sla_breached"),
    ):
        out[milestone] = kinds.get(kind, 0)
    for event in CaseEvent.objects.filter(kind="called_back").values_list("data", flat=True):
        out["contacted"] += bool(event.get("contacted"))
        out["solved"] += bool(event.get("solved"))
        if event.get("satisfaction"):
            out[event["satisfaction"]] += 1
    return +out
