"""The reporter's phone number is personal information: encrypted at rest, searchable only by its
keyed hash, never shown in full by the admin."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test import Client

from tests.cases.conftest import new_case
from tests.world import World
from yiwang.cases.models import Case
from yiwang.core.pii import lookup_hash

pytestmark = pytest.mark.django_db
PHONE = "13812341234"


def _raw_phone(case: Case) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT reporter_phone FROM cases_case WHERE id = %s", [case.pk])
        return str(cursor.fetchone()[0])


def test_intake_stores_the_phone_encrypted_with_a_lookup_hash(world: World) -> None:
    case = new_case(world, reporter_phone=PHONE)
    assert PHONE not in _raw_phone(case)
    assert Case.objects.get(pk=case.pk).reporter_phone == PHONE
    assert Case.objects.filter(reporter_phone_hash=lookup_hash(PHONE, "phone")).get() == case


def test_the_admin_shows_the_phone_masked_only(world: World, client: Client) -> None:
    case = new_case(world, reporter_phone=PHONE)
    world.admin.is_staff = world.admin.is_superuser = True
    world.admin.save()
    client.force_login(world.admin)
    page = client.get(f"/admin/cases/case/{case.pk}/change/")
    assert page.status_code == 200
    assert "138****1234" in page.text
    assert PHONE not in page.text


def test_the_migration_encrypts_phones_stored_in_plaintext(world: World) -> None:
    case = new_case(world)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE cases_case SET reporter_phone = %s, reporter_phone_hash = '' WHERE id = %s",
            [PHONE, case.pk],
        )
    migration = importlib.import_module("yiwang.cases.migrations.0003_encrypt_reporter_phone")
    # The function only uses the editor's connection (a real schema editor cannot open inside the
    # test's transaction on SQLite).
    migration.encrypt_existing_phones(None, SimpleNamespace(connection=connection))
    assert PHONE not in _raw_phone(case)
    case.refresh_from_db()
    assert case.reporter_phone == PHONE
    assert case.reporter_phone_hash == lookup_hash(PHONE, "phone")
