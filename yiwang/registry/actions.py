"""The write API of the grid base database: every change to a register goes through one of these.

Each action runs in one transaction, checks that ``actor`` may write in the row's grid
(``registry.scope``; ``actor=None`` is the system itself: imports run from the command line, the
demo builder), validates its input and raises :class:`RegistryInputError` naming the field, so
nothing is half-written. Personal values are written with their lookup hash and masked form
(:func:`pii_columns`).

The ``prepare_*`` functions validate and build an unsaved row without touching the database
beyond the lookups they are given; the importers use them to check a whole file before writing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import transaction

from yiwang.core import pii
from yiwang.grids.models import Grid
from yiwang.registry.bulk import fast_insert
from yiwang.registry.errors import RegistryForbidden, RegistryInputError, RegistryNotFound
from yiwang.registry.models import (
    Building,
    Estate,
    House,
    Household,
    HouseUse,
    KeyGroupTag,
    KeySite,
    KeySiteKind,
    Occupancy,
    Organisation,
    OrganisationKind,
    Registration,
    Resident,
    ResidentStatus,
    ResidentTag,
    RiskLevel,
)
from yiwang.registry.scope import write_q
from yiwang.registry.validation import (
    check_stated_identity,
    parse_credit_code,
    parse_id_number,
    parse_phone,
)


def pii_columns(value: str, kind: str) -> tuple[str, str, str]:
    """(value, lookup hash, masked form) of a personal value, for the three columns that hold it."""
    return value, pii.lookup_hash(value, kind), pii.masked(value, kind) if value else ""


def check_grid_writable(actor: Any, grid: Grid) -> None:
    """Raise RegistryForbidden unless ``actor`` (None: the system) may write in ``grid``."""
    if actor is None:
        return
    if not Grid.objects.filter(write_q(actor, "")).filter(pk=grid.pk).exists():
        raise RegistryForbidden(
            f"无权在网格 {grid.code} 中登记或修改数据",
            f"not allowed to write in grid {grid.code}",
            field="grid",
        )


def _text(value: object, field: str, *, max_length: int, required: bool = False) -> str:
    text = "" if value is None else str(value).strip()
    if required and not text:
        raise RegistryInputError(f"{field} 必填", f"{field} is required", field=field)
    if len(text) > max_length:
        raise RegistryInputError(
            f"{field} 不能超过 {max_length} 个字符",
            f"{field} must be at most {max_length} characters",
            field=field,
        )
    return text


def _choice(value: object, choices: Any, field: str, default: str | None = None) -> str:
    """A TextChoices value from its value or its Chinese label."""
    raw = "" if value is None else str(value).strip()
    if not raw and default is not None:
        return default
    for choice in choices:
        if raw in (choice.value, str(choice.label)):
            return str(choice.value)
    allowed = "、".join(f"{c.value}（{c.label}）" for c in choices)
    raise RegistryInputError(
        f"{field}「{raw}」无效，应为：{allowed}",
        f"invalid {field} '{raw}'; expected one of: {allowed}",
        field=field,
    )


def _coordinates(lng: float | None, lat: float | None) -> None:
    if (lng is None) != (lat is None):
        raise RegistryInputError("经度和纬度须同时填写", "longitude and latitude go together", field="lng")
    if lng is not None and lat is not None and not (73 <= lng <= 136 and 3 <= lat <= 54):
        raise RegistryInputError(
            f"坐标 ({lng}, {lat}) 不在中国境内", f"coordinates ({lng}, {lat}) are outside China", field="lng"
        )


# --- buildings and houses ---------------------------------------------------------------------------


def estate_for(name: str, grid: Grid) -> Estate | None:
    """The estate (小区) called ``name`` in the grid's community, created if missing, linked to the grid."""
    name = _text(name, "estate", max_length=100)
    if not name:
        return None
    estate, _ = Estate.objects.get_or_create(community_id=grid.community_id, name=name)
    estate.grids.add(grid)
    return estate


def prepare_building(
    *,
    code: object,
    name: object,
    grid: Grid,
    address: object,
    floors: object = 1,
    lng: float | None = None,
    lat: float | None = None,
    is_demo: bool = False,
) -> Building:
    code_text = _text(code, "code", max_length=32, required=True)
    try:
        floor_count = int(floors if floors not in (None, "") else 1)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise RegistryInputError(
            f"层数「{floors}」不是整数", f"floors '{floors}' is not a whole number", field="floors"
        ) from None
    if not 1 <= floor_count <= 200:
        raise RegistryInputError("层数应在 1–200 之间", "floors must be between 1 and 200", field="floors")
    _coordinates(lng, lat)
    return Building(
        code=code_text,
        name=_text(name, "name", max_length=100, required=True),
        grid=grid,
        address=_text(address, "address", max_length=200, required=True),
        floors=floor_count,
        lng=lng,
        lat=lat,
        is_demo=is_demo,
    )


@transaction.atomic
def create_building(*, actor: Any, estate_name: str = "", **fields: Any) -> Building:
    """Register a building in a grid (optionally in a named 小区, created on first use)."""
    building = prepare_building(**fields)
    check_grid_writable(actor, building.grid)
    if Building.objects.filter(code=building.code).exists():
        raise RegistryInputError(
            f"楼栋编码 {building.code} 已存在", f"building code {building.code} exists", field="code"
        )
    building.estate = estate_for(estate_name, building.grid)
    building.save()
    return building


def prepare_house(
    *,
    building: Building,
    room: object,
    unit: object = "",
    floor: object = None,
    use: object = "",
    occupancy: object = "",
    area: object = None,
    grid: Grid | None = None,
    is_demo: bool = False,
) -> House:
    """An unsaved house; a stated ``grid`` must be the building's grid."""
    if grid is not None and grid.pk != building.grid_id:
        raise RegistryInputError(
            f"房屋所在楼栋 {building.code} 属于另一个网格，不是 {grid.code}",
            f"the house's building {building.code} lies in another grid, not {grid.code}",
            field="grid_code",
        )
    try:
        floor_number = None if floor in (None, "") else int(floor)  # type: ignore[call-overload]
        area_value = None if area in (None, "") else Decimal(str(area))
    except (TypeError, ValueError, ArithmeticError):
        raise RegistryInputError(
            "楼层或面积不是数字", "floor or area is not a number", field="floor"
        ) from None
    return House(
        building=building,
        unit=_text(unit, "unit", max_length=16),
        room=_text(room, "room", max_length=16, required=True),
        floor=floor_number,
        use=_choice(use, HouseUse, "use", HouseUse.RESIDENTIAL),
        occupancy=_choice(occupancy, Occupancy, "occupancy", Occupancy.OWNER),
        area=area_value,
        is_demo=is_demo,
    )


@transaction.atomic
def create_house(*, actor: Any, **fields: Any) -> House:
    house = prepare_house(**fields)
    check_grid_writable(actor, house.building.grid)
    if House.objects.filter(building=house.building, unit=house.unit, room=house.room).exists():
        raise RegistryInputError(f"房屋 {house} 已存在", f"house {house} already exists", field="room")
    house.save()
    return house


@transaction.atomic
def set_occupancy(house_id: int, occupancy: str, *, actor: Any) -> House:
    house = _get(House, house_id, actor)
    check_grid_writable(actor, house.building.grid)
    house.occupancy = _choice(occupancy, Occupancy, "occupancy")
    house.save(update_fields=["occupancy", "updated_at"])
    return house


# --- residents and households ---------------------------------------------------------------------


def resident_columns(
    *,
    name: object,
    id_number: object,
    grid: Grid,
    phone: object = "",
    registration: object = "",
    house: House | None = None,
    sex: str | None = None,
    birth_date: dt.date | None = None,
    relation_to_head: object = "",
    is_demo: bool = False,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """The validated, derived and protected column values of a new resident, by attribute name
    (no duplicate check). ``sex``/``birth_date``, when stated, must agree with the ID number; the
    stored ones are always derived from it. A ``house`` must lie in ``grid``. A plain dict, not a
    model instance: the bulk import builds a million of these (see :func:`bulk_register_residents`).
    """
    identity = parse_id_number(id_number, today=today)
    check_stated_identity(identity, sex=sex, birth_date=birth_date)
    phone_text = parse_phone(phone)
    if house is not None and house.building.grid_id != grid.pk:
        raise RegistryInputError(
            f"房屋 {house} 所在楼栋属于另一个网格，不是 {grid.code}",
            f"house {house} is in a building of another grid, not {grid.code}",
            field="house",
        )
    id_value, id_hash, id_masked = pii_columns(identity.number, "id_number")
    phone_value, phone_hash, phone_masked = pii_columns(phone_text, "phone")
    return {
        "name": _text(name, "name", max_length=50, required=True),
        "id_number": id_value,
        "id_number_hash": id_hash,
        "id_number_masked": id_masked,
        "phone": phone_value,
        "phone_hash": phone_hash,
        "phone_masked": phone_masked,
        "sex": identity.sex,
        "birth_date": identity.birth_date,
        "registration": _choice(registration, Registration, "registration", Registration.REGISTERED),
        "status": ResidentStatus.ACTIVE.value,
        "grid_id": grid.pk,
        "house_id": house.pk if house is not None else None,
        "household_id": None,
        "relation_to_head": _text(relation_to_head, "relation_to_head", max_length=16),
        "is_demo": is_demo,
    }


def prepare_resident(**fields: Any) -> Resident:
    """An unsaved resident (see :func:`resident_columns` for the checks and arguments)."""
    columns = resident_columns(**fields)
    resident = Resident(**columns)
    resident.grid = fields["grid"]
    if fields.get("house") is not None:
        resident.house = fields["house"]
    return resident


def duplicate_error(field: str = "id_number") -> RegistryInputError:
    return RegistryInputError(
        "该身份证号码已登记（同一人不能重复登记；如已迁入本网格请修改原记录）",
        "this ID number is already registered (one person, one record: update the existing one)",
        field=field,
    )


@transaction.atomic
def register_resident(*, actor: Any, household: Household | None = None, **fields: Any) -> Resident:
    """Register one person in a grid. A second record for the same ID number is refused."""
    resident = prepare_resident(**fields)
    check_grid_writable(actor, resident.grid)
    if Resident.objects.filter(id_number_hash=resident.id_number_hash).exists():
        raise duplicate_error()
    if household is not None and household.grid_id != resident.grid.pk:
        raise RegistryInputError(
            "户与居民不在同一网格", "the household lies in another grid", field="household"
        )
    resident.household = household
    resident.save()
    return resident


def bulk_register_residents(residents: Iterable[Resident | dict[str, Any]], *, batch_size: int = 2000) -> int:
    """Insert prepared residents (already validated and checked for duplicates by the caller, in
    the caller's transaction) with one prepared multi-row INSERT (:mod:`registry.bulk`); the
    objects do not get their ``pk``. Returns how many rows were written."""
    return fast_insert(Resident, residents, batch_size=batch_size)


UPDATABLE = frozenset({"name", "phone", "registration", "status", "grid", "house", "relation_to_head"})


@transaction.atomic
def update_resident(resident_id: int, *, actor: Any, **changes: Any) -> Resident:
    """Change a resident's name, phone, population type, status, grid, house or relation to the
    household head. The ID number (and so sex and birth date) never changes: a wrong one means a
    wrong record (delete and register again)."""
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise RegistryInputError(
            f"不能修改字段：{', '.join(sorted(unknown))}",
            f"cannot change: {', '.join(sorted(unknown))}",
            field=sorted(unknown)[0],
        )
    resident = _get(Resident, resident_id, actor, for_update=True)
    check_grid_writable(actor, resident.grid)
    if "name" in changes:
        resident.name = _text(changes["name"], "name", max_length=50, required=True)
    if "phone" in changes:
        resident.phone, resident.phone_hash, resident.phone_masked = pii_columns(
            parse_phone(changes["phone"]), "phone"
        )
    if "registration" in changes:
        resident.registration = _choice(changes["registration"], Registration, "registration")
    if "status" in changes:
        resident.status = _choice(changes["status"], ResidentStatus, "status")
    if "grid" in changes:
        check_grid_writable(actor, changes["grid"])
        resident.grid = changes["grid"]
    if "house" in changes:
        resident.house = changes["house"]
    if resident.house is not None and resident.house.building.grid_id != resident.grid_id:
        raise RegistryInputError(
            "房屋所在楼栋属于另一个网格", "the house is in a building of another grid", field="house"
        )
    if "relation_to_head" in changes:
        resident.relation_to_head = _text(changes["relation_to_head"], "relation_to_head", max_length=16)
    resident.save()
    return resident


@transaction.atomic
def create_household(
    *, actor: Any, grid: Grid, number: str = "", house: House | None = None, is_demo: bool = False
) -> Household:
    check_grid_writable(actor, grid)
    if house is not None and house.building.grid_id != grid.pk:
        raise RegistryInputError(
            "房屋所在楼栋属于另一个网格", "the house is in a building of another grid", field="house"
        )
    return Household.objects.create(
        grid=grid, house=house, number=_text(number, "number", max_length=32), is_demo=is_demo
    )


@transaction.atomic
def add_to_household(
    household_id: int, resident_id: int, *, actor: Any, relation_to_head: str = "", head: bool = False
) -> Household:
    """Put a resident in a household (same grid); ``head=True`` makes them the 户主."""
    household = _get(Household, household_id, actor, for_update=True)
    resident = _get(Resident, resident_id, actor, for_update=True)
    check_grid_writable(actor, household.grid)
    if resident.grid_id != household.grid_id:
        raise RegistryInputError(
            "户与居民不在同一网格", "the household lies in another grid", field="household"
        )
    resident.household = household
    resident.relation_to_head = "户主" if head else _text(relation_to_head, "relation_to_head", max_length=16)
    resident.save(update_fields=["household", "relation_to_head", "updated_at"])
    if head:
        household.head = resident
        household.save(update_fields=["head", "updated_at"])
    return household


@transaction.atomic
def tag_resident(resident_id: int, tag_code: str, *, actor: Any, note: str = "") -> ResidentTag:
    """Mark a resident as a member of a key group; the actor must be allowed to see the tag."""
    resident = _get(Resident, resident_id, actor)
    check_grid_writable(actor, resident.grid)
    tag = KeyGroupTag.objects.filter(code=tag_code).first()
    if tag is None or (actor is not None and not tag.visible_for(actor)):
        raise RegistryInputError(
            f"未知的重点人群标签「{tag_code}」", f"unknown key-group tag '{tag_code}'", field="tag"
        )
    link, _ = ResidentTag.objects.get_or_create(
        resident=resident,
        tag=tag,
        defaults={"note": _text(note, "note", max_length=200), "added_by": actor},
    )
    return link


@transaction.atomic
def untag_resident(resident_id: int, tag_code: str, *, actor: Any) -> int:
    resident = _get(Resident, resident_id, actor)
    check_grid_writable(actor, resident.grid)
    tag = KeyGroupTag.objects.filter(code=tag_code).first()
    if tag is None or (actor is not None and not tag.visible_for(actor)):
        raise RegistryInputError(
            f"未知的重点人群标签「{tag_code}」", f"unknown key-group tag '{tag_code}'", field="tag"
        )
    deleted, _ = ResidentTag.objects.filter(resident=resident, tag=tag).delete()
    return deleted


# --- organisations and sites ----------------------------------------------------------------------


def prepare_organisation(
    *,
    name: object,
    kind: object,
    grid: Grid,
    credit_code: object = "",
    address: object = "",
    lng: float | None = None,
    lat: float | None = None,
    legal_representative: object = "",
    contact_name: object = "",
    contact_phone: object = "",
    employees: object = None,
    is_demo: bool = False,
) -> Organisation:
    _coordinates(lng, lat)
    try:
        staff = None if employees in (None, "") else int(employees)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        raise RegistryInputError(
            "从业人数不是整数", "employees is not a whole number", field="employees"
        ) from None
    phone, phone_hash, phone_masked = pii_columns(parse_phone(contact_phone, field="contact_phone"), "phone")
    return Organisation(
        name=_text(name, "name", max_length=200, required=True),
        kind=_choice(kind, OrganisationKind, "kind"),
        credit_code=parse_credit_code(credit_code),
        grid=grid,
        address=_text(address, "address", max_length=200),
        lng=lng,
        lat=lat,
        legal_representative=_text(legal_representative, "legal_representative", max_length=50),
        contact_name=_text(contact_name, "contact_name", max_length=50),
        contact_phone=phone,
        contact_phone_hash=phone_hash,
        contact_phone_masked=phone_masked,
        employees=staff,
        is_demo=is_demo,
    )


def credit_code_taken(code: str) -> RegistryInputError:
    return RegistryInputError(
        f"统一社会信用代码 {code} 已登记", f"credit code {code} is already registered", field="credit_code"
    )


@transaction.atomic
def register_organisation(*, actor: Any, **fields: Any) -> Organisation:
    organisation = prepare_organisation(**fields)
    check_grid_writable(actor, organisation.grid)
    if (
        organisation.credit_code
        and Organisation.objects.filter(credit_code=organisation.credit_code).exists()
    ):
        raise credit_code_taken(organisation.credit_code)
    organisation.save()
    return organisation


@transaction.atomic
def link_property_company(estate_id: int, organisation_id: int | None, *, actor: Any) -> Estate:
    """Name the property-service company (物业服务企业) that manages a 小区 (None: unlink)."""
    estate = Estate.objects.select_for_update().filter(pk=estate_id).first()
    if estate is None or (
        actor is not None and not Estate.objects.visible_to(actor).filter(pk=estate_id).exists()
    ):
        raise RegistryNotFound("小区不存在", "no such estate")
    for grid in estate.grids.all():
        check_grid_writable(actor, grid)
    company = None
    if organisation_id is not None:
        company = _get(Organisation, organisation_id, actor)
        if company.kind != OrganisationKind.PROPERTY:
            raise RegistryInputError(
                f"{company.name} 不是物业服务企业",
                f"{company.name} is not a property-service company",
                field="organisation",
            )
    estate.property_company = company
    estate.save(update_fields=["property_company", "updated_at"])
    return estate


@transaction.atomic
def register_key_site(
    *,
    actor: Any,
    name: object,
    kind: object,
    grid: Grid,
    organisation: Organisation | None = None,
    address: object = "",
    lng: float | None = None,
    lat: float | None = None,
    risk_level: object = "",
    manager_name: object = "",
    manager_phone: object = "",
    note: object = "",
    is_demo: bool = False,
) -> KeySite:
    check_grid_writable(actor, grid)
    _coordinates(lng, lat)
    phone, phone_hash, phone_masked = pii_columns(parse_phone(manager_phone, field="manager_phone"), "phone")
    return KeySite.objects.create(
        name=_text(name, "name", max_length=200, required=True),
        kind=_choice(kind, KeySiteKind, "kind"),
        grid=grid,
        organisation=organisation,
        address=_text(address, "address", max_length=200),
        lng=lng,
        lat=lat,
        risk_level=_choice(risk_level, RiskLevel, "risk_level", RiskLevel.LOW),
        manager_name=_text(manager_name, "manager_name", max_length=50),
        manager_phone=phone,
        manager_phone_hash=phone_hash,
        manager_phone_masked=phone_masked,
        note=_text(note, "note", max_length=500),
        is_demo=is_demo,
    )


# --- helpers ---------------------------------------------------------------------------------------


def _get[M: Building | House | Household | Resident | Organisation](
    model: type[M], pk: int, actor: Any, *, for_update: bool = False
) -> M:
    """A row the actor may see (the system sees every row); absent and forbidden look the same."""
    qs: Any = model.objects.all() if actor is None else model.objects.visible_to(actor)
    if for_update:
        qs = qs.select_for_update()
    row = qs.filter(pk=pk).first()
    if row is None:
        raise RegistryNotFound(
            f"{model._meta.verbose_name} 不存在", f"no such {model.__name__.lower()}", field="id"
        )
    return row
