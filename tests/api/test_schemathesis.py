"""Schemathesis sends generated requests, valid and invalid, to every operation of the committed
contract, as a signed-in administrator on a small district with cases: no answer may be a 5xx, and
every answer must match the schema (body and content type)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token

from tests.cases.conftest import dispatched_case, new_case
from tests.world import World

CONTRACT = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"

schema = schemathesis.openapi.from_path(str(CONTRACT))
schema.app = get_wsgi_application()
# Bounded for CI: the explicit examples and a few generated ones per operation, not the exhaustive
# boundary-value coverage phase (hundreds of requests per operation).
schema.config.phases.coverage.enabled = False

CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.content_type_conformance,
]


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Iterator[None]:
    # Django closes the database connection at the end of each request; its test client turns that
    # off, and so must this direct WSGI call, or PostgreSQL loses the test's transaction.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def token(world: World) -> str:
    new_case(world)
    dispatched_case(world)
    return Token.objects.create(user=world.admin).key


@schema.parametrize()
@settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_api_honours_its_contract(case: schemathesis.Case, token: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Token {token}"}, checks=CHECKS)
