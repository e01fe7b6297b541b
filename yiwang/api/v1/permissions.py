from __future__ import annotations

from typing import Any, cast

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from yiwang.core.scoping import scope_of
from yiwang.people.models import Role, User


class IsAdministrator(BasePermission):
    message = "仅系统管理员可访问 / administrators only"

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        return bool(user.is_superuser) or scope_of(user).has_role(Role.ADMINISTRATOR)


def actor_of(request: Request) -> User:
    """The signed-in user who acts (every case endpoint requires authentication)."""
    return cast(User, request.user)
