"""Who may see which deliberation rows: every row is located by a community (村/社区).

* grid workers see the topics of the communities of their grants and of their grid posts;
* leaders and administrators see every topic in the area subtree of their grants;
* other roles (hotline, handlers, mediators…) do not take part in village deliberation: nothing.

Who may *change* a topic is the workflow's business (roles per transition); the actions fetch the
topic through this filter first, so a row outside the actor's area is absent (404) for writes too.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from yiwang.core.scoping import AreaFields, area_q, scope_of
from yiwang.grids.models import Grid
from yiwang.people.models import Role

READ_ROLES = (Role.GRID_WORKER, Role.LEADER, Role.ADMINISTRATOR)


def read_q(user: Any, community_path: str = "community") -> Q:
    """Rows whose community (reached through ``community_path``; ``""`` for a Division itself)
    ``user`` may see."""
    scope = scope_of(user)
    if scope.everything:
        return Q()
    q = Q(pk__in=[])
    if not scope.roles.intersection(READ_ROLES):
        return q
    prefix = f"{community_path}__" if community_path else ""
    own = f"{community_path}_id" if community_path else "id"
    q |= area_q(
        scope, AreaFields(district=f"{prefix}district_id", street=f"{prefix}street_id", community=own)
    )
    if Role.GRID_WORKER in scope.roles and scope.grid_ids:
        communities = Grid.objects.filter(pk__in=sorted(scope.grid_ids)).values("community_id")
        q |= Q(**{f"{own}__in": communities})
    return q
