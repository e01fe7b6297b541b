"""A throwaway model with encrypted columns, for the PII and audit tests (no migration needed)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection, models
from django.test.utils import isolate_apps

from yiwang.core.fields import EncryptedCharField

TABLE = "test_pii_resident"


@pytest.fixture(name="resident_model")
def resident_model_fixture(db: None) -> Iterator[type[models.Model]]:
    """The table lives in the test's transaction only, so it vanishes with the rollback."""
    with isolate_apps("yiwang.core"):

        class Resident(models.Model):
            name = EncryptedCharField(max_length=10, pii_kind="name")
            phone = EncryptedCharField(max_length=20, blank=True, null=True, pii_kind="phone")
            note = models.CharField(max_length=20, blank=True)

            class Meta:
                app_label = "core"
                db_table = TABLE

            def __str__(self) -> str:
                return f"resident {self.pk}"

        # schema_editor() refuses to run inside SQLite's test transaction; the DDL itself is fine.
        sql, params = connection.schema_editor().table_sql(Resident)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
        yield Resident


def raw_column(column: str, pk: int) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {TABLE} WHERE id = %s", [pk])  # noqa: S608
        value: str | None = cursor.fetchone()[0]
        return value
