"""Registry actions: protected columns, derived fields, duplicates, grids and scope of writes."""

from __future__ import annotations

import pytest
from django.db import connection

from tests.world import World
from yiwang.core.pii import lookup_hash
from yiwang.registry import actions
from yiwang.registry.errors import RegistryForbidden, RegistryInputError
from yiwang.registry.models import Building, House, Organisation, Resident
from yiwang.registry.queries import find_resident_by_id_number, grid_counts

from .helpers import make_credit_code, make_id

pytestmark = pytest.mark.django_db


def _raw(resident: Resident) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, phone FROM registry_resident WHERE id = %s", [resident.pk])
        row = cursor.fetchone()
    return str(row[0]), str(row[1])


def test_a_resident_is_stored_encrypted_with_hash_and_masked_form(resident_a1: Resident) -> None:
    raw_id, raw_phone = _raw(resident_a1)
    assert make_id() not in raw_id
    assert "13812341234" not in raw_phone
    fresh = Resident.objects.get(pk=resident_a1.pk)
    assert fresh.id_number == make_id()
    assert fresh.id_number_hash == lookup_hash(make_id(), "id_number")
    assert fresh.id_number_masked == f"370211********{make_id()[-4:]}"
    assert fresh.phone_masked == "138****1234"


def test_sex_and_birth_date_are_derived_from_the_id_number(resident_a1: Resident) -> None:
    assert resident_a1.sex == "M"
    assert resident_a1.birth_date.isoformat() == "1980-01-01"


def test_the_same_person_cannot_be_registered_twice(world: World, resident_a1: Resident) -> None:
    with pytest.raises(RegistryInputError) as err:
        actions.register_resident(actor=None, name="张三", id_number=make_id().lower(), grid=world.grid_b1)
    assert err.value.field == "id_number"
    assert Resident.objects.count() == 1


def test_a_house_in_a_building_of_another_grid_is_refused(world: World, house_a1: House) -> None:
    with pytest.raises(RegistryInputError) as err:
        actions.register_resident(
            actor=None, name="王五", id_number=make_id(seq=125), grid=world.grid_b1, house=house_a1
        )
    assert err.value.field == "house"
    with pytest.raises(RegistryInputError):
        actions.create_house(actor=None, building=house_a1.building, room="302", grid=world.grid_b1)


def test_a_grid_worker_writes_in_their_own_grid_only(world: World) -> None:
    worker = world.grid_worker_a1
    actions.register_resident(actor=worker, name="赵六", id_number=make_id(seq=127), grid=world.grid_a1)
    with pytest.raises(RegistryForbidden):
        actions.register_resident(actor=worker, name="钱七", id_number=make_id(seq=129), grid=world.grid_a2)
    assert not Resident.objects.filter(name="钱七").exists()


def test_leaders_and_dispatchers_read_but_do_not_write(world: World) -> None:
    for persona in (world.leader, world.dispatcher_a, world.operator, world.handler_a):
        with pytest.raises(RegistryForbidden):
            actions.create_building(
                actor=persona, code=f"X-{persona.pk}", name="楼", grid=world.grid_a1, address="路"
            )
    assert not Building.objects.exists()


def test_lookup_by_id_number_respects_scope(
    world: World, resident_a1: Resident, resident_b1: Resident
) -> None:
    assert find_resident_by_id_number(make_id(seq=124), world.dispatcher_b) == resident_b1
    assert find_resident_by_id_number(make_id(seq=124), world.dispatcher_a) is None


def test_organisations_need_a_valid_unique_credit_code(world: World) -> None:
    code = make_credit_code()
    actions.register_organisation(
        actor=None, name="海润物业", kind="物业服务企业", grid=world.grid_a1, credit_code=code
    )
    with pytest.raises(RegistryInputError) as err:
        actions.register_organisation(
            actor=None, name="重复", kind="enterprise", grid=world.grid_a1, credit_code=code
        )
    assert err.value.field == "credit_code"
    bad = code[:17] + ("0" if code[17] != "0" else "1")
    with pytest.raises(RegistryInputError):
        actions.register_organisation(
            actor=None, name="坏码", kind="enterprise", grid=world.grid_a1, credit_code=bad
        )
    assert Organisation.objects.count() == 1


def test_property_company_is_linked_to_its_estate(world: World, building_a1: Building) -> None:
    company = actions.register_organisation(actor=None, name="海润物业", kind="property", grid=world.grid_a1)
    assert building_a1.estate is not None
    estate = actions.link_property_company(building_a1.estate.pk, company.pk, actor=world.admin)
    assert estate.property_company == company
    shop = actions.register_organisation(actor=None, name="小卖部", kind="individual", grid=world.grid_a1)
    with pytest.raises(RegistryInputError):
        actions.link_property_company(building_a1.estate.pk, shop.pk, actor=world.admin)


def test_tags_are_only_set_by_someone_who_may_see_them(world: World, resident_a1: Resident) -> None:
    actions.tag_resident(resident_a1.pk, "elderly_alone", actor=world.grid_worker_a1)
    with pytest.raises(RegistryInputError):
        actions.tag_resident(resident_a1.pk, "community_correction", actor=world.grid_worker_a1)
    assert list(resident_a1.tags.values_list("code", flat=True)) == ["elderly_alone"]


def test_grid_counts_cover_people_houses_and_organisations(world: World, resident_a1: Resident) -> None:
    actions.tag_resident(resident_a1.pk, "elderly_alone", actor=None)
    actions.tag_resident(resident_a1.pk, "community_correction", actor=None)
    counts = grid_counts(world.grid_a1, world.grid_worker_a1)
    assert counts["residents"] == 1
    assert counts["houses"] == 1
    assert counts["buildings"] == 1
    assert counts["estates"] == 1
    assert counts["key_groups"]["elderly_alone"]["count"] == 1
    assert "community_correction" not in counts["key_groups"]
    assert grid_counts(world.grid_a1, world.admin)["key_groups"]["community_correction"]["count"] == 1


def test_updating_a_phone_rewrites_hash_and_mask(world: World, resident_a1: Resident) -> None:
    updated = actions.update_resident(resident_a1.pk, actor=world.grid_worker_a1, phone="13700002222")
    assert updated.phone_masked == "137****2222"
    assert Resident.objects.get(phone_hash=lookup_hash("13700002222", "phone")) == resident_a1
    with pytest.raises(RegistryInputError):
        actions.update_resident(resident_a1.pk, actor=world.grid_worker_a1, id_number=make_id(seq=131))
