"""Security personas beside tests/world.py's: the security administrator and the auditor (三员)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import Permission

from tests.factories import UserFactory, grant
from tests.world import World
from yiwang.people.models import Role, User
from yiwang.people.roles import sync_role_groups


@dataclass
class Staff:
    world: World
    admin: User
    security_admin: User
    auditor: User
    operator: User
    pii_reader: User


def staff_user(user: User) -> User:
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    sync_role_groups(user)
    return User.objects.get(pk=user.pk)  # fresh: no cached permissions


def build_staff(world: World) -> Staff:
    security_admin = grant(
        UserFactory(username="secadmin"), Role.SECURITY_ADMINISTRATOR, division=world.district
    )
    auditor = grant(UserFactory(username="auditor"), Role.AUDITOR, division=world.district)
    pii_reader = grant(UserFactory(username="pii_reader"), Role.DISPATCHER, division=world.district)
    pii_reader.user_permissions.add(Permission.objects.get(codename="view_full_pii"))
    return Staff(
        world=world,
        admin=staff_user(world.admin),
        security_admin=staff_user(security_admin),
        auditor=staff_user(auditor),
        operator=staff_user(world.operator),
        pii_reader=User.objects.get(pk=pii_reader.pk),
    )


def insert_middleware(settings: Any, path: str, after: str) -> None:
    if path not in settings.MIDDLEWARE:
        middleware = list(settings.MIDDLEWARE)
        middleware.insert(middleware.index(after) + 1, path)
        settings.MIDDLEWARE = middleware
