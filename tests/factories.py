"""factory_boy factories for the kernel objects shared by every test module."""

from __future__ import annotations

from typing import Any

import factory

from yiwang.grids.models import Division, DivisionLevel, Grid, GridStaff, GridStaffRole
from yiwang.people.models import Department, DepartmentKind, Grant, Role, User

PASSWORD = "Yiwang-test-pass-2026"


def square(lng: float, lat: float, size: float = 0.01) -> dict[str, Any]:
    """A GeoJSON square polygon with its south-west corner at (lng, lat)."""
    ring = [[lng, lat], [lng + size, lat], [lng + size, lat + size], [lng, lat + size], [lng, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


class DivisionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Division
        django_get_or_create = ("code",)

    code = "370211000000"
    name = "黄岛区"
    level = DivisionLevel.DISTRICT
    kind = "区"


def make_street(district: Division, seq: int, name: str) -> Division:
    return DivisionFactory(
        code=f"{district.code[:6]}{seq:03d}000",
        name=name,
        level=DivisionLevel.STREET,
        kind="街道",
        parent=district,
        district=district,
    )


def make_community(street: Division, seq: int, name: str) -> Division:
    return DivisionFactory(
        code=f"{street.code[:9]}{seq:03d}",
        name=name,
        level=DivisionLevel.COMMUNITY,
        kind="社区",
        parent=street,
        district=street.district,
        street=street,
    )


class GridFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Grid

    community: Any = None
    code = factory.LazyAttributeSequence(lambda o, n: f"{o.community.code}{(n % 999) + 1:03d}")
    name = factory.Sequence(lambda n: f"第{n + 1}网格")
    boundary = factory.LazyFunction(lambda: square(120.0, 35.9))


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"D{n:04d}")
    name = factory.Sequence(lambda n: f"单位{n}")
    kind = DepartmentKind.FUNCTIONAL


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.LazyAttribute(lambda o: o.username)
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj: User, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            obj.save()


def grant(
    user: User, role: Role, *, division: Division | None = None, department: Department | None = None
) -> User:
    Grant.objects.create(user=user, role=role, division=division, department=department)
    return user


def attach_to_grid(user: User, grid: Grid, role: GridStaffRole = GridStaffRole.FULL_TIME) -> GridStaff:
    return GridStaff.objects.create(user=user, grid=grid, role=role)
