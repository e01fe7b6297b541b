"""Who may see and write which rows of the grid base database.

* dispatchers, leaders and administrators see every row in the areas of their grants;
* grid workers see only the rows of their own grids (their grid posts), not their whole community;
* hotline operators and department handlers do not browse the register (最小必要, PIPL art. 6 and
  34): they have no area role here, so they see nothing;
* writes: administrators in their areas, grid workers in their own grids (they maintain the base
  data of their grid); leaders and dispatchers read only.

Personal values are a second, separate gate (``core.view_full_pii`` and :func:`core.audit.reveal`).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from yiwang.core.scoping import AreaFields, Scope, area_q, scope_of
from yiwang.people.models import Role

READ_AREA_ROLES = (Role.DISPATCHER, Role.LEADER, Role.ADMINISTRATOR)
WRITE_AREA_ROLES = (Role.ADMINISTRATOR,)


def _grid_fields(grid_path: str) -> AreaFields:
    prefix = f"{grid_path}__" if grid_path else ""
    return AreaFields(
        district=f"{prefix}community__district_id",
        street=f"{prefix}community__street_id",
        community=f"{prefix}community_id",
        grid=f"{grid_path}_id" if grid_path else "id",
    )


def _q(scope: Scope, grid_path: str, area_roles: tuple[str, ...]) -> Q:
    if scope.everything:
        return Q()
    q = Q(pk__in=[])
    if scope.roles.intersection(area_roles):
        q |= area_q(scope, _grid_fields(grid_path))
    if Role.GRID_WORKER in scope.roles and scope.grid_ids:
        q |= Q(**{f"{grid_path}_id__in" if grid_path else "id__in": sorted(scope.grid_ids)})
    return q


def read_q(user: Any, grid_path: str = "grid") -> Q:
    """Rows whose grid (reached through ``grid_path``; ``""`` for the Grid model itself) ``user`` may see."""
    return _q(scope_of(user), grid_path, READ_AREA_ROLES)


def write_q(user: Any, grid_path: str = "grid") -> Q:
    """Rows whose grid ``user`` may change."""
    return _q(scope_of(user), grid_path, WRITE_AREA_ROLES)
