"""The committed OpenAPI contract (docs/openapi.yaml) is the schema the code generates, and the
API honours it: schemathesis sends generated requests to every operation."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "docs" / "openapi.yaml"


def test_committed_openapi_schema_is_up_to_date(tmp_path: Path) -> None:
    generated = tmp_path / "openapi.yaml"
    call_command("spectacular", "--file", str(generated), "--validate", "--fail-on-warn")
    assert COMMITTED.exists(), "docs/openapi.yaml is missing: run `make openapi`"
    assert generated.read_text(encoding="utf-8") == COMMITTED.read_text(encoding="utf-8"), (
        "docs/openapi.yaml is stale: run `make openapi` and commit the result"
    )


@pytest.mark.django_db
def test_schema_endpoint_serves_the_same_contract(admin_client: object) -> None:
    response = admin_client.get("/api/v1/schema/")  # type: ignore[attr-defined]
    assert response.status_code == 200
    assert response.content.decode() == COMMITTED.read_text(encoding="utf-8")
