"""One scoping mechanism for every read: what a user may see, and the Q that says so.

A domain app never asks "is this user a dispatcher of street X?" itself. It asks ``scope_of(user)``
for a :class:`Scope` and turns it into a filter with :func:`area_q` / :func:`department_q` over its
own field paths. The scope itself is computed by the user model (``get_scope()``, in ``people``), so
the kernel stays free of domain imports. Out of scope means absent: views answer 404, lists and counts
simply do not include the row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404


@dataclass(frozen=True)
class Scope:
    """What one user may see. ``everything`` is for superusers and district-wide grants."""

    everything: bool = False
    roles: frozenset[str] = frozenset()
    district_ids: frozenset[int] = frozenset()
    street_ids: frozenset[int] = frozenset()
    community_ids: frozenset[int] = frozenset()
    grid_ids: frozenset[int] = frozenset()
    department_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_empty(self) -> bool:
        return not (
            self.everything
            or self.district_ids
            or self.street_ids
            or self.community_ids
            or self.grid_ids
            or self.department_ids
        )

    def has_role(self, *roles: str) -> bool:
        return self.everything or bool(self.roles.intersection(roles))


NOTHING = Scope()
EVERYTHING = Scope(everything=True)


class ScopedUser(Protocol):
    is_authenticated: bool
    is_active: bool

    def get_scope(self) -> Scope: ...


def scope_of(user: Any) -> Scope:
    """The scope of ``user`` (or ``user`` itself if it is a Scope); anonymous users see nothing."""
    if isinstance(user, Scope):
        return user
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return NOTHING
    scope: Scope = user.get_scope()
    return scope


@dataclass(frozen=True)
class AreaFields:
    """The field paths from a model to the division of each level (empty: not applicable)."""

    district: str = ""
    street: str = ""
    community: str = ""
    grid: str = ""


def _never() -> Q:
    return Q(pk__in=[])


def area_q(scope: Scope, fields: AreaFields) -> Q:
    """A filter matching rows located inside any area of ``scope``."""
    if scope.everything:
        return Q()
    q = _never()
    for ids, path in (
        (scope.district_ids, fields.district),
        (scope.street_ids, fields.street),
        (scope.community_ids, fields.community),
        (scope.grid_ids, fields.grid),
    ):
        if ids and path:
            q |= Q(**{f"{path}__in": sorted(ids)})
    return q


def department_q(scope: Scope, *paths: str) -> Q:
    """A filter matching rows attached to any department of ``scope`` through any of ``paths``."""
    if scope.everything:
        return Q()
    q = _never()
    if scope.department_ids:
        for path in paths:
            q |= Q(**{f"{path}__in": sorted(scope.department_ids)})
    return q


def get_object_or_404_in_scope(queryset: Any, **lookup: Any) -> Any:
    """Fetch one row from an already scoped queryset; missing, forbidden and malformed ids (a path
    segment ``abc`` where a number belongs) look the same: 404."""
    try:
        return queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError, ValidationError) as exc:
        raise Http404 from exc
