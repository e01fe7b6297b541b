"""Who sees which case: the persona matrix, and 404 for everything else."""

from __future__ import annotations

import pytest
from django.http import Http404

from tests.cases.conftest import IN_A1, IN_A2, IN_B1, new_case
from tests.world import World
from yiwang.cases import actions
from yiwang.cases.models import Case, CaseEvent
from yiwang.core.scoping import get_object_or_404_in_scope


@pytest.fixture
def cases(world: World) -> dict[str, Case]:
    a1 = new_case(world, IN_A1, title="a1")
    actions.dispatch_case(a1.pk, actor=world.dispatcher_a, lead=world.dept_a_sub, assisting=[world.dept_b])
    a2 = new_case(world, IN_A2, title="a2")
    actions.dispatch_case(a2.pk, actor=world.dispatcher_a, lead=world.dept_a)
    b1 = new_case(world, IN_B1, title="b1")
    secret = new_case(world, IN_A1, title="secret", category="DM-JB-0101", actor=world.dispatcher_a)
    patrol = new_case(world, IN_A2, title="patrol", actor=world.grid_worker_a1, channel="grid_patrol")
    nowhere = new_case(world, (None, None), title="nowhere")  # type: ignore[arg-type]
    return {c.title: c for c in (a1, a2, b1, secret, patrol, nowhere)}


ALL = {"a1", "a2", "b1", "secret", "patrol", "nowhere"}
EXPECTED = {
    "admin": ALL,
    "leader": ALL,
    # Hotline operators see their area but not confidential cases registered by someone else.
    "operator": ALL - {"secret"},
    "dispatcher_a": {"a1", "a2", "secret", "patrol"},
    "dispatcher_b": {"b1"},
    # dept_a's subtree includes dept_a_sub (a1's lead); a2 is led by dept_a itself.
    "handler_a": {"a1", "a2"},
    "handler_a_sub": {"a1"},
    # dept_b only assists on a1.
    "handler_b": {"a1"},
    # Own grid (grid_a1) without the confidential case, plus what the grid worker reported.
    "grid_worker_a1": {"a1", "patrol"},
    "outsider": set(),
}


@pytest.mark.parametrize("persona", sorted(EXPECTED))
def test_each_persona_sees_exactly_its_cases(world: World, cases: dict[str, Case], persona: str) -> None:
    user = getattr(world, persona)
    visible = set(Case.objects.visible_to(user).values_list("title", flat=True))
    assert visible == EXPECTED[persona]
    for title, case in cases.items():
        if title in EXPECTED[persona]:
            assert get_object_or_404_in_scope(Case.objects.visible_to(user), pk=case.pk) == case
        else:
            with pytest.raises(Http404):
                get_object_or_404_in_scope(Case.objects.visible_to(user), pk=case.pk)


@pytest.mark.parametrize("persona", sorted(EXPECTED))
def test_timeline_is_scoped_like_its_case(world: World, cases: dict[str, Case], persona: str) -> None:
    user = getattr(world, persona)
    titles = set(CaseEvent.objects.visible_to(user).values_list("case__title", flat=True))
    assert titles == EXPECTED[persona]


def test_past_assignment_keeps_a_returned_case_visible_to_the_department(
    world: World, cases: dict[str, Case]
) -> None:
    a2 = cases["a2"]
    actions.return_case(a2.pk, actor=world.handler_a, reason="不是我们的")
    assert Case.objects.visible_to(world.handler_a).filter(pk=a2.pk).exists()


def test_anonymous_sees_nothing(cases: dict[str, Case]) -> None:
    from django.contrib.auth.models import AnonymousUser

    assert not Case.objects.visible_to(AnonymousUser()).exists()
    assert not Case.objects.visible_to(None).exists()
