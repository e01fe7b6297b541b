"""Stateful fuzzing of the case workflow: random personas call random actions on a case.

Invariants after every step: the status is the one the event history leads to; an action that
raises changed nothing (status, version, clocks, suspension, events, assignments); the clocks match
the status (the acceptance clock runs only while dispatched, the resolution clock only in
progress, none on a finished case, and a due moment never precedes its start).
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from tests.cases.conftest import new_case
from tests.cases.test_action_matrix import ACTIONS, ROLES
from tests.fuzz.conftest import FUZZ
from tests.world import World
from yiwang.cases.choices import CaseStatus
from yiwang.cases.errors import CaseError
from yiwang.cases.models import Case, CaseEvent
from yiwang.grids import locator

pytestmark = pytest.mark.django_db

FINISHED = {
    CaseStatus.CLOSED,
    CaseStatus.CANCELLED,
    CaseStatus.MERGED,
    CaseStatus.TRANSFERRED,
    CaseStatus.RESOLVED,
}


def snapshot(case_id: int) -> tuple[Any, ...]:
    case = Case.objects.get(pk=case_id)
    return (
        case.status,
        case.version,
        case.suspended_at,
        case.accept_due_at,
        case.resolve_due_at,
        CaseEvent.objects.filter(case_id=case_id).count(),
        case.assignments.count(),
    )


class Workflow(RuleBasedStateMachine):
    world: World

    @initialize()
    def open_cases(self) -> None:
        self.case = new_case(self.world)
        self.other = new_case(self.world)  # a merge target
        self.applied: list[str] = []

    @rule(name=st.sampled_from(sorted(ACTIONS)), persona=st.sampled_from(sorted(ROLES)))
    def act(self, name: str, persona: str) -> None:
        call, kind = ACTIONS[name]
        before = snapshot(self.case.pk)
        events_before = before[5]
        user = getattr(self.world, persona)
        try:
            call(self.case, user, {"world": self.world, "other": self.other})
        except CaseError:
            assert snapshot(self.case.pk) == before, f"{name} by {persona} raised but changed the case"
            return
        after = snapshot(self.case.pk)
        assert after[5] == events_before + 1, f"{name} must write exactly one event"
        assert CaseEvent.objects.filter(case_id=self.case.pk).order_by("-id").first().kind == kind
        assert after[1] > before[1], "a successful action bumps the version"
        self.applied.append(name)

    @invariant()
    def status_follows_the_events(self) -> None:
        if not hasattr(self, "case"):
            return
        case = Case.objects.get(pk=self.case.pk)
        moves = [
            (e.from_status, e.to_status)
            for e in CaseEvent.objects.filter(case_id=case.pk).order_by("id")
            if e.to_status and e.to_status != e.from_status
        ]
        current = moves[0][1] if moves else case.status
        for from_status, to_status in moves[1:]:
            assert from_status == current, f"event moves from {from_status} but the case was {current}"
            current = to_status
        assert current == case.status

    @invariant()
    def clocks_match_the_status(self) -> None:
        if not hasattr(self, "case"):
            return
        case = Case.objects.get(pk=self.case.pk)
        if case.accept_due_at is not None:
            assert case.status == CaseStatus.DISPATCHED
            assert case.accept_started_at is not None
            assert case.accept_due_at >= case.accept_started_at
        if case.resolve_due_at is not None:
            assert case.status == CaseStatus.IN_PROGRESS
            assert case.resolve_started_at is not None
            assert case.resolve_due_at >= case.resolve_started_at
        if case.status in FINISHED:
            assert case.accept_due_at is None
            assert case.resolve_due_at is None
            assert case.suspended_at is None


def test_random_action_sequences_keep_the_case_consistent(world: World) -> None:
    locator.reset_cache()
    Workflow.world = world
    run_state_machine_as_test(
        Workflow, settings=settings(FUZZ, max_examples=max(5, FUZZ.max_examples // 2), stateful_step_count=25)
    )
