"""Every transition × state × role: the pure table, then the actions on the database."""

from __future__ import annotations

import itertools

import pytest

from tests.governance.mediation.helpers import MedWorld, drive, register, run
from yiwang.cases.errors import ActionForbidden, CaseNotFound, InvalidCaseInput, TransitionNotAllowed
from yiwang.governance.mediation import workflow
from yiwang.governance.mediation.models import DisputeStatus as S
from yiwang.people.models import Role as R

# The specification, written out independently: name → (sources, target).
SPEC = {
    "register": ({workflow.NEW}, S.APPLIED),
    "accept": ({S.APPLIED}, S.ACCEPTED),
    "assign": ({S.ACCEPTED, S.ASSIGNED}, S.ASSIGNED),
    "session": ({S.ASSIGNED, S.MEDIATING}, S.MEDIATING),
    "agree": ({S.MEDIATING}, S.AGREED),
    "fail": ({S.ACCEPTED, S.ASSIGNED, S.MEDIATING}, S.FAILED),
    "follow_up": ({S.AGREED}, S.FOLLOWED_UP),
    "close": ({S.FOLLOWED_UP, S.FAILED}, S.CLOSED),
}
MEDIATING = {R.MEDIATOR, R.ADMINISTRATOR}
STATES = [workflow.NEW, *S.values]


def test_table_has_exactly_the_specified_transitions() -> None:
    assert set(workflow.TRANSITIONS) == set(SPEC)
    for name, (sources, target) in SPEC.items():
        t = workflow.TRANSITIONS[name]
        assert t.sources == frozenset(str(s) for s in sources), name
        assert t.target == target, name
        assert t.roles == MEDIATING, name


@pytest.mark.parametrize(("name", "status", "role"), list(itertools.product(SPEC, STATES, R.values)))
def test_check_allows_or_refuses_every_state_transition_role(name: str, status: str, role: str) -> None:
    sources, _target = SPEC[name]
    if status not in sources:
        with pytest.raises(TransitionNotAllowed):
            workflow.check(name, status, {role})
    elif role not in MEDIATING:
        with pytest.raises(ActionForbidden):
            workflow.check(name, status, {role})
    else:
        assert workflow.check(name, status, {role}).name == name


def test_allowed_lists_only_possible_transitions() -> None:
    assert [t.name for t in workflow.allowed(S.MEDIATING, {R.MEDIATOR})] == ["session", "agree", "fail"]
    assert workflow.allowed(S.MEDIATING, {R.LEADER}) == []


# --- on the database: every transition by every persona, from the status before it -----------------
BEFORE = {
    "accept": S.APPLIED,
    "assign": S.ACCEPTED,
    "session": S.ASSIGNED,
    "agree": S.MEDIATING,
    "fail": S.MEDIATING,
    "follow_up": S.AGREED,
    "close": S.FOLLOWED_UP,
}
# Who may act on a dispute of committee_a: its mediators and the district administrator. The
# mediator of another committee and roles that cannot see disputes get 404 (not found); the leader
# sees it but may not act (403).
OUTCOME = {
    "mediator_a": "ok",
    "admin": "ok",
    "leader": "forbidden",
    "mediator_b": "not_found",
    "dispatcher_a": "not_found",
    "operator": "not_found",
    "grid_worker_a1": "not_found",
    "handler_a": "not_found",
    "outsider": "not_found",
}


def _persona(med: MedWorld, name: str):  # type: ignore[no-untyped-def]
    return getattr(med, name, None) or getattr(med.world, name)


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "persona"), list(itertools.product(BEFORE, OUTCOME)))
def test_action_by_persona(med: MedWorld, name: str, persona: str) -> None:
    dispute = drive(med, register(med), BEFORE[name])
    actor = _persona(med, persona)
    expected = OUTCOME[persona]
    events = dispute.events.count()
    if expected == "ok":
        run(name, med, dispute, actor)
        dispute.refresh_from_db()
        assert dispute.status == workflow.TRANSITIONS[name].to_status(BEFORE[name])
        assert dispute.events.count() == events + 1
        return
    error = ActionForbidden if expected == "forbidden" else CaseNotFound
    with pytest.raises(error):
        run(name, med, dispute, actor)
    dispute.refresh_from_db()
    assert dispute.status == BEFORE[name]
    assert dispute.events.count() == events


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(BEFORE))
def test_action_from_a_wrong_state_is_refused_and_writes_nothing(med: MedWorld, name: str) -> None:
    wrong = S.CLOSED if name != "close" else S.MEDIATING
    dispute = drive(med, register(med), wrong)
    events = dispute.events.count()
    with pytest.raises(TransitionNotAllowed):
        run(name, med, dispute, med.mediator_a)
    assert dispute.events.count() == events


@pytest.mark.django_db
@pytest.mark.parametrize("persona", list(OUTCOME))
def test_register_by_persona(med: MedWorld, persona: str) -> None:
    from yiwang.governance.mediation.models import Dispute

    actor = _persona(med, persona)
    if persona in ("mediator_a", "admin"):
        assert register(med, actor=actor).status == S.APPLIED
        return
    # mediator_b is not a member of committee_a (bad input: 400); the others lack the role (403).
    error = InvalidCaseInput if persona == "mediator_b" else ActionForbidden
    with pytest.raises(error):
        register(med, actor=actor)
    assert Dispute.objects.count() == 0
