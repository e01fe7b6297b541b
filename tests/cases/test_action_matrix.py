"""Every action × every state × every persona, through the real action functions.

For each combination the expected outcome follows from the scope (404 first), the transition table
(state, then role) and the department rule; a denied action must leave status, version and the
event count exactly as they were.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction

from tests.cases.conftest import WEDNESDAY, dispatched_case, new_case
from tests.world import World
from yiwang.cases import actions, workflow
from yiwang.cases.choices import CaseStatus as S
from yiwang.cases.choices import EventKind, Satisfaction
from yiwang.cases.errors import ActionForbidden, CaseError, CaseNotFound, TransitionNotAllowed
from yiwang.cases.models import Case, CaseEvent
from yiwang.people.models import User

AT = WEDNESDAY.replace(hour=11)

# name → (call, event kind); ``ctx`` holds the world and a second open case to merge into.
Call = Callable[[Case, User, dict[str, Any]], Case]
ACTIONS: dict[str, tuple[Call, EventKind]] = {
    "answer_directly": (
        lambda c, u, x: actions.answer_directly(c.pk, actor=u, answer="已答复", at=AT),
        EventKind.ANSWERED_DIRECTLY,
    ),
    "invalidate": (
        lambda c, u, x: actions.invalidate(c.pk, actor=u, reason="重复骚扰", at=AT),
        EventKind.INVALIDATED,
    ),
    "transfer_to_110": (
        lambda c, u, x: actions.transfer_to_110(c.pk, actor=u, receipt_number="R-1", at=AT),
        EventKind.TRANSFERRED_TO_110,
    ),
    "dispatch": (
        lambda c, u, x: actions.dispatch_case(c.pk, actor=u, lead=x["world"].dept_a, at=AT),
        EventKind.DISPATCHED,
    ),
    "merge": (
        lambda c, u, x: actions.merge_cases(c.pk, actor=u, into=x["other"].pk, at=AT),
        EventKind.MERGED,
    ),
    "sign": (lambda c, u, x: actions.sign_case(c.pk, actor=u, at=AT), EventKind.SIGNED),
    "return": (
        lambda c, u, x: actions.return_case(c.pk, actor=u, reason="非本单位职责", at=AT),
        EventKind.RETURNED,
    ),
    "request_extension": (
        lambda c, u, x: actions.request_extension(c.pk, actor=u, reason="需协调", amount=3, at=AT),
        EventKind.EXTENSION_REQUESTED,
    ),
    "approve_extension": (
        lambda c, u, x: actions.approve_extension(c.pk, actor=u, at=AT),
        EventKind.EXTENSION_APPROVED,
    ),
    "reject_extension": (
        lambda c, u, x: actions.reject_extension(c.pk, actor=u, at=AT),
        EventKind.EXTENSION_REJECTED,
    ),
    "urge": (lambda c, u, x: actions.urge_case(c.pk, actor=u, at=AT), EventKind.URGED),
    "supervise": (
        lambda c, u, x: actions.supervise_case(c.pk, actor=u, level=2, at=AT),
        EventKind.SUPERVISED,
    ),
    "report_progress": (
        lambda c, u, x: actions.report_progress(c.pk, actor=u, note="已到现场", at=AT),
        EventKind.PROGRESS_REPORTED,
    ),
    "resolve": (
        lambda c, u, x: actions.resolve_case(c.pk, actor=u, result="已清运", at=AT),
        EventKind.RESOLVED,
    ),
    "verify_pass": (
        lambda c, u, x: actions.verify_case(c.pk, actor=u, passed=True, at=AT),
        EventKind.VERIFIED,
    ),
    "verify_fail": (
        lambda c, u, x: actions.verify_case(c.pk, actor=u, passed=False, note="仍有垃圾", at=AT),
        EventKind.VERIFICATION_FAILED,
    ),
    "callback": (
        lambda c, u, x: actions.record_callback(
            c.pk, actor=u, contacted=True, solved=False, satisfaction=Satisfaction.UNSATISFIED, at=AT
        ),
        EventKind.CALLED_BACK,
    ),
    "reopen": (lambda c, u, x: actions.reopen_case(c.pk, actor=u, at=AT), EventKind.REOPENED),
    "suspend": (
        lambda c, u, x: actions.suspend_case(c.pk, actor=u, reason="等待天气", at=AT),
        EventKind.SUSPENDED,
    ),
    "resume": (lambda c, u, x: actions.resume_case(c.pk, actor=u, at=AT), EventKind.RESUMED),
}

STATES = [(s, False) for s in S.values] + [(S.DISPATCHED, True), (S.IN_PROGRESS, True)]
# The case is in grid_a1 (street_a), lead dept_a, assisting dept_b: who sees it, who handles it.
SEES = {"admin", "leader", "operator", "dispatcher_a", "handler_a", "handler_b", "grid_worker_a1"}
LEAD_DEPARTMENT = {"handler_a"}
ANY_DEPARTMENT = {"handler_a", "handler_b"}
ROLES = {
    "admin": "administrator",
    "leader": "leader",
    "operator": "hotline_operator",
    "dispatcher_a": "dispatcher",
    "dispatcher_b": "dispatcher",
    "handler_a": "department_handler",
    "handler_a_sub": "department_handler",
    "handler_b": "department_handler",
    "grid_worker_a1": "grid_worker",
    "outsider": "",
}


def test_every_transition_except_intake_has_an_action() -> None:
    assert set(ACTIONS) == set(workflow.TRANSITIONS) - {"register", "receive_from_110"}


def expected(name: str, status: str, suspended: bool, persona: str) -> type[CaseError] | None:
    if persona not in SEES:
        return CaseNotFound
    t = workflow.TRANSITIONS[name]
    if not workflow.state_allows(name, status, suspended=suspended):
        return TransitionNotAllowed
    if ROLES[persona] not in t.roles:
        return ActionForbidden
    if name in {"sign", "return", "request_extension", "resolve"} and persona not in LEAD_DEPARTMENT:
        return ActionForbidden
    if name == "report_progress" and persona not in ANY_DEPARTMENT:
        return ActionForbidden
    return None


def put_in_state(case: Case, name: str, status: str, suspended: bool) -> None:
    """Force the state with a plain UPDATE (test setup only), plus what the action presupposes."""
    Case.objects.filter(pk=case.pk).update(
        status=status,
        suspended_at=AT.replace(hour=10, minute=30) if suspended else None,
        satisfaction=Satisfaction.UNSATISFIED if status == S.CLOSED else "",
        extension_amount=2 if name in {"approve_extension", "reject_extension"} else None,
        extension_unit="days",
        resolve_started_at=WEDNESDAY,
        resolve_due_at=WEDNESDAY.replace(day=18) if status == S.IN_PROGRESS else None,
    )


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_action_outcome_matches_table_scope_and_department_for_every_state_and_persona(
    world: World, name: str
) -> None:
    call, kind = ACTIONS[name]
    case = dispatched_case(world)
    other = dispatched_case(world)
    ctx = {"world": world, "other": other}
    checked = 0
    for status, suspended in STATES:
        for persona, user in world.personas().items():
            want = expected(name, status, suspended, persona)
            with transaction.atomic():
                put_in_state(case, name, status, suspended)
                before = Case.objects.values_list("status", "version").get(pk=case.pk)
                events = CaseEvent.objects.filter(case=case).count()
                label = f"{name} {status} suspended={suspended} {persona}"
                if want is None:
                    result = call(case, user, ctx)
                    t = workflow.TRANSITIONS[name]
                    assert result.status == t.to_status(status), label
                    assert result.version == before[1] + 1, label
                    last = CaseEvent.objects.filter(case=case).order_by("-id").first()
                    assert last is not None, label
                    assert (last.kind, last.actor) == (kind, user), label
                    assert (last.from_status, last.to_status) == (status, result.status), label
                    assert CaseEvent.objects.filter(case=case).count() == events + 1, label
                else:
                    with pytest.raises(want):
                        call(case, user, ctx)
                    assert Case.objects.values_list("status", "version").get(pk=case.pk) == before, label
                    assert CaseEvent.objects.filter(case=case).count() == events, label
                transaction.set_rollback(True)
            checked += 1
    assert checked == len(STATES) * 10


def test_registration_roles_match_the_table(world: World) -> None:
    for persona, user in world.personas().items():
        allowed = ROLES[persona] in workflow.TRANSITIONS["register"].roles
        with transaction.atomic():
            if allowed:
                assert new_case(world, actor=user).status == S.REGISTERED
            else:
                with pytest.raises(ActionForbidden):
                    new_case(world, actor=user)
                assert not Case.objects.exists()
            transaction.set_rollback(True)
