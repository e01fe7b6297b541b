"""Rows of the registers as plain dicts, with personal data masked: the one place the web pages, the
API and the exports turn a row into something shown to a person.

Every function takes the viewing ``user``. Personal values (ID numbers, phone numbers) come out
masked (``370211********123X``, ``138****1234``) from the stored masked columns, so nothing is
decrypted. A full value is returned only when the caller passes a ``reveal_reason`` *and* the
user holds ``core.view_full_pii``: then each value goes through :func:`yiwang.core.audit.reveal`,
which writes one audit record per field and row (who, when, which record, why). Without the grant
that call records the refused attempt and raises ``PermissionDenied``. Key-group tags are listed
only when the user may see them (``KeyGroupTag.roles``).
"""

from __future__ import annotations

from typing import Any

from yiwang.core.audit import can_view_full_pii, reveal
from yiwang.registry.models import Building, House, KeySite, Organisation, Resident, visible_tag_ids

__all__ = [
    "building_as_dict",
    "can_view_full_pii",
    "house_as_dict",
    "key_site_as_dict",
    "organisation_as_dict",
    "resident_as_dict",
]


def _personal(obj: Any, field: str, user: Any, reveal_reason: str, ip: str) -> str:
    """The masked value, or the audited full value when a reason is given."""
    if reveal_reason:
        return reveal(obj, field, actor=user, reason=reveal_reason, ip=ip)
    return str(getattr(obj, f"{field}_masked"))


def resident_as_dict(
    resident: Resident,
    user: Any,
    *,
    reveal_reason: str = "",
    ip: str = "",
    tag_ids: frozenset[int] | None = None,
) -> dict[str, Any]:
    """One resident for display. ``resident`` must come from ``Resident.objects.visible_to(user)``;
    pass ``tag_ids=visible_tag_ids(user)`` when presenting many rows (saves a query per row)."""
    visible = visible_tag_ids(user) if tag_ids is None else tag_ids
    return {
        "id": resident.pk,
        "name": resident.name,
        "id_number": _personal(resident, "id_number", user, reveal_reason, ip),
        "phone": _personal(resident, "phone", user, reveal_reason, ip) if resident.phone_hash else "",
        "sex": resident.sex,
        "sex_display": str(resident.get_sex_display()),
        "birth_date": resident.birth_date.isoformat(),
        "registration": resident.registration,
        "registration_display": str(resident.get_registration_display()),
        "status": resident.status,
        "grid": resident.grid_id,
        "house": resident.house_id,
        "household": resident.household_id,
        "relation_to_head": resident.relation_to_head,
        "tags": [
            {"code": t.code, "name": t.name}
            for t in resident.tags.all()  # prefetch_related("tags") in list views
            if t.pk in visible
        ],
        "is_demo": resident.is_demo,
        "masked": not reveal_reason,
    }


def building_as_dict(building: Building) -> dict[str, Any]:
    return {
        "id": building.pk,
        "code": building.code,
        "name": building.name,
        "estate": building.estate.name if building.estate_id and building.estate else "",
        "address": building.address,
        "grid": building.grid_id,
        "lng": building.lng,
        "lat": building.lat,
        "floors": building.floors,
    }


def house_as_dict(house: House) -> dict[str, Any]:
    return {
        "id": house.pk,
        "building": house.building_id,
        "building_code": house.building.code,
        "unit": house.unit,
        "floor": house.floor,
        "room": house.room,
        "use": house.use,
        "occupancy": house.occupancy,
        "area": str(house.area) if house.area is not None else None,
    }


def organisation_as_dict(
    organisation: Organisation, user: Any, *, reveal_reason: str = "", ip: str = ""
) -> dict[str, Any]:
    phone = ""
    if organisation.contact_phone_hash:
        phone = _personal(organisation, "contact_phone", user, reveal_reason, ip)
    return {
        "id": organisation.pk,
        "name": organisation.name,
        "kind": organisation.kind,
        "kind_display": str(organisation.get_kind_display()),
        "credit_code": organisation.credit_code,
        "grid": organisation.grid_id,
        "address": organisation.address,
        "lng": organisation.lng,
        "lat": organisation.lat,
        "legal_representative": organisation.legal_representative,
        "contact_name": organisation.contact_name,
        "contact_phone": phone,
        "employees": organisation.employees,
    }


def key_site_as_dict(site: KeySite, user: Any, *, reveal_reason: str = "", ip: str = "") -> dict[str, Any]:
    phone = _personal(site, "manager_phone", user, reveal_reason, ip) if site.manager_phone_hash else ""
    return {
        "id": site.pk,
        "name": site.name,
        "kind": site.kind,
        "grid": site.grid_id,
        "organisation": site.organisation_id,
        "address": site.address,
        "lng": site.lng,
        "lat": site.lat,
        "risk_level": site.risk_level,
        "manager_name": site.manager_name,
        "manager_phone": phone,
    }
