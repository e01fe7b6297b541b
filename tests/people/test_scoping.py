"""Who sees which divisions and grids: the persona matrix for the kernel objects."""

from __future__ import annotations

import pytest
from django.http import Http404

from tests.world import World
from yiwang.core.scoping import get_object_or_404_in_scope, scope_of
from yiwang.grids.models import Division, Grid
from yiwang.people.models import Department

pytestmark = pytest.mark.django_db

# persona -> the grids it may see
GRID_MATRIX = {
    "admin": {"grid_a1", "grid_a2", "grid_b1"},
    "leader": {"grid_a1", "grid_a2", "grid_b1"},
    "operator": {"grid_a1", "grid_a2", "grid_b1"},
    "dispatcher_a": {"grid_a1", "grid_a2"},
    "dispatcher_b": {"grid_b1"},
    "handler_a": set(),
    "handler_a_sub": set(),
    "handler_b": set(),
    "grid_worker_a1": {"grid_a1", "grid_a2"},
    "outsider": set(),
}


@pytest.mark.parametrize(("persona", "expected"), sorted(GRID_MATRIX.items()))
def test_each_persona_sees_exactly_the_grids_of_its_area(
    world: World, persona: str, expected: set[str]
) -> None:
    user = world.personas()[persona]
    seen = set(Grid.objects.visible_to(user).values_list("code", flat=True))
    assert seen == {getattr(world, name).code for name in expected}


@pytest.mark.parametrize("persona", sorted(GRID_MATRIX))
def test_a_grid_outside_scope_answers_404_like_a_missing_one(world: World, persona: str) -> None:
    user = world.personas()[persona]
    visible = Grid.objects.visible_to(user)
    for name in ("grid_a1", "grid_a2", "grid_b1"):
        grid = getattr(world, name)
        if name in GRID_MATRIX[persona]:
            assert get_object_or_404_in_scope(visible, pk=grid.pk) == grid
        else:
            with pytest.raises(Http404):
                get_object_or_404_in_scope(visible, pk=grid.pk)
    with pytest.raises(Http404):
        get_object_or_404_in_scope(visible, pk=10**9)


def test_a_street_dispatcher_sees_its_street_its_communities_and_its_district(world: World) -> None:
    seen = set(Division.objects.visible_to(world.dispatcher_a))
    assert seen == {world.district, world.street_a, world.community_a}


def test_a_community_grant_sees_its_street_and_district_as_ancestors(world: World) -> None:
    seen = set(Division.objects.visible_to(world.grid_worker_a1))
    assert seen == {world.district, world.street_a, world.community_a}


def test_a_department_grant_covers_the_department_subtree_only(world: World) -> None:
    assert scope_of(world.handler_a).department_ids == {world.dept_a.pk, world.dept_a_sub.pk}
    assert scope_of(world.handler_a_sub).department_ids == {world.dept_a_sub.pk}


def test_anonymous_and_inactive_users_see_nothing(world: World) -> None:
    from django.contrib.auth.models import AnonymousUser

    world.leader.is_active = False
    for user in (AnonymousUser(), world.leader):
        assert not Grid.objects.visible_to(user).exists()
        assert not Division.objects.visible_to(user).exists()
        assert not Department.objects.visible_to(user).exists()


def test_superuser_sees_everything(world: World) -> None:
    world.outsider.is_superuser = True
    world.outsider.save()
    assert Grid.objects.visible_to(world.outsider).count() == 3
