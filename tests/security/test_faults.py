"""Faults: a locked database, a repeated submission, a crash between a case row and its side
effects, a full disk during an upload. Each must leave nothing half-written and answer clearly."""

from __future__ import annotations

import errno
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import OperationalError
from django.test import Client

from tests.api.open311.conftest import IN_A1, PLAIN_CODE, post, report
from tests.security.personas import insert_middleware
from yiwang.api.actions import create_api_key
from yiwang.cases import actions
from yiwang.cases.models import Attachment, Case, CaseEvent
from yiwang.core.security import faults
from yiwang.grids import locator

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    locator.reset_cache()
    cache.clear()
    yield
    locator.reset_cache()
    cache.clear()


@pytest.fixture
def fault_middleware(settings: Any) -> None:
    insert_middleware(
        settings,
        "yiwang.core.security.faults.FaultMiddleware",
        after="django.middleware.common.CommonMiddleware",
    )


def payload(**extra: Any) -> dict[str, Any]:
    data = {
        "channel": "hotline_12345",
        "category": PLAIN_CODE,
        "title": "路灯不亮",
        "description": "小区东门路灯坏了一周。",
        "lng": IN_A1[0],
        "lat": IN_A1[1],
    }
    data.update(extra)
    return data


def operator_client(world: Any) -> Client:
    client = Client()
    client.force_login(world.operator)
    return client


def nothing_written() -> bool:
    return not (Case.objects.exists() or CaseEvent.objects.exists() or Attachment.objects.exists())


# --- the database locked mid-request ------------------------------------------------------------------


def test_database_locked_while_creating_is_503_and_writes_nothing(fault_middleware: None, world: Any) -> None:
    locked = OperationalError("database is locked")
    with mock.patch.object(CaseEvent.objects, "create", side_effect=locked):
        response = operator_client(world).post("/api/v1/cases/", payload(), content_type="application/json")
    assert response.status_code == 503
    assert response["Retry-After"] == str(faults.RETRY_AFTER_SECONDS)
    assert response.json()["code"] == faults.DATABASE_BUSY_CODE
    assert nothing_written()


def test_database_locked_on_open311_post_is_503_and_writes_nothing(
    fault_middleware: None, world: Any
) -> None:
    raw = create_api_key(world.admin, "应用")[1]
    with mock.patch.object(CaseEvent.objects, "create", side_effect=OperationalError("database is locked")):
        response = post(Client(), "json", report(raw))
    assert response.status_code == 503
    assert nothing_written()


def test_other_database_errors_are_not_disguised_as_busy() -> None:
    assert not faults.is_database_busy(OperationalError("no such table: x"))
    assert faults.is_database_busy(OperationalError("could not obtain lock on row"))


# --- a duplicate submission after a timeout -------------------------------------------------------------


def test_retry_with_the_same_idempotency_key_through_the_api_creates_one_case(world: Any) -> None:
    client = operator_client(world)
    first = client.post("/api/v1/cases/", payload(idempotency_key="call-7"), content_type="application/json")
    # The client timed out before reading the answer and sends the same request again.
    second = client.post("/api/v1/cases/", payload(idempotency_key="call-7"), content_type="application/json")
    assert first.status_code == 201
    assert second.status_code in (200, 201)
    assert second.json()["id"] == first.json()["id"]
    assert Case.objects.count() == 1
    assert CaseEvent.objects.count() == 1


def test_retry_after_a_locked_database_succeeds_once(fault_middleware: None, world: Any) -> None:
    client = operator_client(world)
    real_create = CaseEvent.objects.create
    calls = {"n": 0}

    def flaky(**kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OperationalError("database is locked")
        return real_create(**kwargs)

    with mock.patch.object(CaseEvent.objects, "create", side_effect=flaky):
        body = payload(idempotency_key="call-8")
        assert client.post("/api/v1/cases/", body, content_type="application/json").status_code == 503
        assert client.post("/api/v1/cases/", body, content_type="application/json").status_code == 201
        assert (
            client.post("/api/v1/cases/", body, content_type="application/json").json()["status"]
            == "registered"
        )
    assert Case.objects.count() == 1


def test_open311_retry_with_the_same_idempotency_header_creates_one_case(world: Any) -> None:
    raw = create_api_key(world.admin, "应用")[1]
    client = Client()
    first = post(client, "json", report(raw), HTTP_IDEMPOTENCY_KEY="dev-42-1")
    second = post(client, "json", report(raw), HTTP_IDEMPOTENCY_KEY="dev-42-1")
    assert first.status_code == second.status_code == 200
    assert Case.objects.count() == 1


# --- a crash between the case row and its side effects ---------------------------------------------------


def test_crash_after_the_case_row_rolls_back_the_case_and_its_notifications(
    world: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with (
        django_capture_on_commit_callbacks() as callbacks,
        mock.patch.object(CaseEvent.objects, "create", side_effect=RuntimeError("crash after case.save()")),
        pytest.raises(RuntimeError),
    ):
        actions.create_case(actor=world.operator, **payload())
    assert nothing_written()
    assert callbacks == []


def test_crash_in_dispatch_after_the_status_change_leaves_the_case_registered(
    world: Any, django_capture_on_commit_callbacks: Any
) -> None:
    case = actions.create_case(actor=world.operator, **payload())
    with (
        django_capture_on_commit_callbacks() as callbacks,
        mock.patch.object(CaseEvent.objects, "create", side_effect=RuntimeError("crash")),
        pytest.raises(RuntimeError),
    ):
        actions.dispatch_case(case.pk, actor=world.admin, lead=world.dept_a)
    case.refresh_from_db()
    assert case.status == "registered"
    assert case.accept_due_at is None
    assert case.assignments.count() == 0
    assert CaseEvent.objects.filter(case=case).count() == 1
    assert callbacks == []


# --- disk full while uploading ----------------------------------------------------------------------------


def _disk_full(*args: Any, **kwargs: Any) -> Any:
    raise OSError(errno.ENOSPC, "No space left on device")


def test_disk_full_during_upload_is_507_and_no_case_without_its_attachment(
    fault_middleware: None, world: Any
) -> None:
    photo = SimpleUploadedFile("photo.png", PNG, content_type="image/png")
    with mock.patch("django.core.files.storage.FileSystemStorage._save", side_effect=_disk_full):
        response = operator_client(world).post("/api/v1/cases/", {**payload(), "attachments": [photo]})
    assert response.status_code == 507
    assert response.json()["code"] == faults.STORAGE_FULL_CODE
    assert nothing_written()


def test_disk_full_is_recognised_through_a_wrapping_error() -> None:
    inner = OSError(errno.ENOSPC, "full")
    outer = RuntimeError("upload failed")
    outer.__cause__ = inner
    assert faults.is_disk_full(outer)
    assert not faults.is_disk_full(OSError(errno.EACCES, "denied"))
