"""The transition table, checked pair by pair: every (state, suspended) × transition × role."""

from __future__ import annotations

import itertools

import pytest

from yiwang.cases import workflow
from yiwang.cases.choices import CaseStatus as S
from yiwang.cases.errors import ActionForbidden, TransitionNotAllowed
from yiwang.people.models import Role as R

OP, DI, HA, GW, LE, AD = (
    R.HOTLINE_OPERATOR,
    R.DISPATCHER,
    R.DEPARTMENT_HANDLER,
    R.GRID_WORKER,
    R.LEADER,
    R.ADMINISTRATOR,
)
RUNNING = {S.DISPATCHED, S.IN_PROGRESS}

# The specification, written out independently of the implementation:
# name → (sources, target, roles, when suspended: "never" | "only" | "also")
SPEC = {
    "register": ({workflow.NEW}, S.REGISTERED, {OP, DI, GW, AD}, "never"),
    "receive_from_110": ({workflow.NEW}, S.REGISTERED, {OP, DI, AD}, "never"),
    "answer_directly": ({S.REGISTERED}, S.CLOSED, {OP, DI, AD}, "never"),
    "invalidate": ({S.REGISTERED}, S.CANCELLED, {DI, AD}, "never"),
    "transfer_to_110": ({S.REGISTERED}, S.TRANSFERRED, {OP, DI, AD}, "never"),
    "dispatch": ({S.REGISTERED}, S.DISPATCHED, {DI, AD}, "never"),
    "merge": ({S.REGISTERED, *RUNNING}, S.MERGED, {DI, AD}, "never"),
    "sign": ({S.DISPATCHED}, S.IN_PROGRESS, {HA}, "never"),
    "return": (RUNNING, S.REGISTERED, {HA}, "never"),
    "request_extension": ({S.IN_PROGRESS}, None, {HA}, "never"),
    "approve_extension": ({S.IN_PROGRESS}, None, {DI, AD}, "never"),
    "reject_extension": ({S.IN_PROGRESS}, None, {DI, AD}, "never"),
    "urge": (RUNNING, None, {DI, LE, AD}, "also"),
    "supervise": (RUNNING, None, {DI, LE, AD}, "also"),
    "report_progress": ({S.IN_PROGRESS}, None, {HA}, "also"),
    "resolve": ({S.IN_PROGRESS}, S.RESOLVED, {HA}, "never"),
    "verify_pass": ({S.RESOLVED}, S.CLOSED, {DI, GW, AD}, "never"),
    "verify_fail": ({S.RESOLVED}, S.IN_PROGRESS, {DI, GW, AD}, "never"),
    "callback": ({S.CLOSED}, None, {OP, DI, AD}, "never"),
    "reopen": ({S.CLOSED}, S.DISPATCHED, {DI, AD}, "never"),
    "suspend": (RUNNING, None, {DI, AD}, "never"),
    "resume": (RUNNING, None, {DI, AD}, "only"),
}

STATES = [(workflow.NEW, False)] + [(s, False) for s in S.values] + [(s, True) for s in sorted(RUNNING)]


def state_ok(name: str, status: str, suspended: bool) -> bool:
    sources, _target, _roles, when = SPEC[name]
    if status not in sources:
        return False
    return {"never": not suspended, "only": suspended, "also": True}[when]


def test_table_has_exactly_the_specified_transitions() -> None:
    assert set(workflow.TRANSITIONS) == set(SPEC)
    for name, (sources, target, roles, when) in SPEC.items():
        t = workflow.TRANSITIONS[name]
        assert t.sources == frozenset(str(s) for s in sources), name
        assert t.target == target, name
        assert t.roles == frozenset(roles), name
        assert t.when_suspended.value == when, name


@pytest.mark.parametrize(("name", "state", "role"), list(itertools.product(SPEC, STATES, R.values)))
def test_check_allows_or_denies_every_state_transition_role(
    name: str, state: tuple[str, bool], role: str
) -> None:
    status, suspended = state
    if not state_ok(name, status, suspended):
        with pytest.raises(TransitionNotAllowed) as exc:
            workflow.check(name, status, {role}, suspended=suspended)
        assert exc.value.zh
        assert exc.value.en
    elif role not in SPEC[name][2]:
        with pytest.raises(ActionForbidden) as exc2:
            workflow.check(name, status, {role}, suspended=suspended)
        assert "/" in str(exc2.value)
    else:
        t = workflow.check(name, status, {role}, suspended=suspended)
        assert t.to_status(status) == (SPEC[name][1] or status)


@pytest.mark.parametrize(("state", "role"), list(itertools.product(STATES, R.values)))
def test_allowed_lists_exactly_the_permitted_transitions(state: tuple[str, bool], role: str) -> None:
    status, suspended = state
    expected = {n for n in SPEC if state_ok(n, status, suspended) and role in SPEC[n][2]}
    assert {t.name for t in workflow.allowed(status, {role}, suspended=suspended)} == expected


def test_state_is_checked_before_role() -> None:
    with pytest.raises(TransitionNotAllowed):
        workflow.check("dispatch", S.CLOSED, {R.GRID_WORKER})


def test_unknown_transition_is_refused() -> None:
    with pytest.raises(TransitionNotAllowed):
        workflow.check("teleport", S.REGISTERED, workflow.ALL_ROLES)


def test_suspended_case_explains_that_it_must_be_resumed() -> None:
    with pytest.raises(TransitionNotAllowed) as exc:
        workflow.check("sign", S.DISPATCHED, {R.DEPARTMENT_HANDLER}, suspended=True)
    assert "挂账" in exc.value.zh
    assert "suspended" in exc.value.en
