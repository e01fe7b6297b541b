"""Read helpers of the registers that are not queryset methods: the grid panel counts and lookups."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count

from yiwang.core import pii
from yiwang.grids.models import Grid
from yiwang.registry.models import (
    Building,
    Estate,
    House,
    Household,
    KeyGroupTag,
    KeySite,
    Organisation,
    Resident,
    ResidentStatus,
    ResidentTag,
)
from yiwang.registry.validation import parse_id_number


def _by(qs: Any, field: str) -> dict[str, int]:
    return {
        str(row[field]): int(row["n"]) for row in qs.values(field).annotate(n=Count("pk")).order_by(field)
    }


def grid_counts(grid: Grid, user: Any = None, *, today: dt.date | None = None) -> dict[str, Any]:
    """Counts of one grid for the map's grid panel (人·房·企·事·物).

    Key-group counts cover only the tags ``user`` may see; without a user, only the tags visible to
    every role (``roles`` empty). The caller checks that ``user`` may see ``grid`` at all.
    """
    residents = Resident.objects.filter(grid=grid, status=ResidentStatus.ACTIVE)
    houses = House.objects.filter(building__grid=grid)
    today = today or dt.date.today()
    elderly_born_before = today.replace(year=today.year - 60)
    tags = [
        t for t in KeyGroupTag.objects.all() if (t.visible_for(user) if user is not None else not t.roles)
    ]
    tag_counts = _by(ResidentTag.objects.filter(resident__in=residents, tag__in=tags), "tag__code")
    return {
        "grid": grid.code,
        "estates": Estate.objects.filter(grids=grid).count(),
        "buildings": Building.objects.filter(grid=grid).count(),
        "houses": houses.count(),
        "houses_by_occupancy": _by(houses, "occupancy"),
        "households": Household.objects.filter(grid=grid).count(),
        "residents": residents.count(),
        "residents_by_registration": _by(residents, "registration"),
        "residents_60_plus": residents.filter(birth_date__lte=elderly_born_before).count(),
        "key_groups": {t.code: {"name": t.name, "count": tag_counts.get(t.code, 0)} for t in tags},
        "organisations": Organisation.objects.filter(grid=grid).count(),
        "organisations_by_kind": _by(Organisation.objects.filter(grid=grid), "kind"),
        "key_sites": KeySite.objects.filter(grid=grid).count(),
    }


def find_resident_by_id_number(id_number: str, user: Any) -> Resident | None:
    """Exact lookup by ID number through its keyed hash, within ``user``'s scope (no decryption)."""
    number = parse_id_number(id_number).number
    return (
        Resident.objects.visible_to(user).filter(id_number_hash=pii.lookup_hash(number, "id_number")).first()
    )


def find_residents_by_phone(phone: str, user: Any) -> list[Resident]:
    digest = pii.lookup_hash(phone, "phone")
    if not digest:
        return []
    return list(Resident.objects.visible_to(user).filter(phone_hash=digest))
