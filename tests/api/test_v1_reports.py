"""Reports in the staff API: ask (202), poll, download; scoped like every other read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.world import World
from yiwang.analytics import reports
from yiwang.people.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


def test_asking_for_a_report_answers_202_and_the_file_downloads_once_built(
    world: World, client_for: Callable[[User], APIClient]
) -> None:
    client = client_for(world.leader)
    asked = client.post("/api/v1/reports/", {"kind": "monthly", "day": "2026-02-14"}, format="json")
    assert asked.status_code == 202
    body = asked.json()
    assert (body["period_start"], body["period_end"], body["status"]) == (
        "2026-02-01",
        "2026-02-28",
        "pending",
    )
    assert body["download_url"] is None
    assert client.get(f"/api/v1/reports/{body['id']}/download/").status_code == 404

    reports.generate(body["id"])
    polled = client.get(f"/api/v1/reports/{body['id']}/").json()
    assert polled["status"] == "done"
    assert polled["download_url"].endswith(f"/api/v1/reports/{body['id']}/download/")
    download = client.get(f"/api/v1/reports/{body['id']}/download/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content)[:2] == b"PK"


def test_bad_requests_get_the_error_shape(world: World, client_for: Callable[[User], APIClient]) -> None:
    client = client_for(world.leader)
    bad_kind = client.post("/api/v1/reports/", {"kind": "daily", "day": "2026-02-14"}, format="json")
    assert bad_kind.status_code == 400
    assert "kind" in bad_kind.json()["fields"]
    future = client.post("/api/v1/reports/", {"kind": "weekly", "day": "2099-02-14"}, format="json")
    assert future.status_code == 400
    assert future.json()["detail"] == "报表期间尚未开始"


def test_another_users_report_is_404(world: World, client_for: Callable[[User], APIClient]) -> None:
    report = reports.request_report(actor=world.leader, kind="weekly", day=dt.date(2026, 3, 11))
    assert client_for(world.dispatcher_a).get(f"/api/v1/reports/{report.pk}/").status_code == 404
