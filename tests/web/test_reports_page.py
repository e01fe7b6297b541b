"""The reports page: ask for a report, see it built, download it; other people's reports are 404."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from tests.world import World
from yiwang.analytics import reports
from yiwang.analytics.models import Report, ReportStatus
from yiwang.core.models_audit import AuditRecord
from yiwang.people.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path


def test_a_leader_asks_for_a_weekly_report_and_downloads_it_when_built(
    world: World, client_for: Callable[[User], Client]
) -> None:
    client = client_for(world.leader)
    response = client.post(reverse("web:reports"), {"kind": "weekly", "day": "2026-03-11"})
    assert response.status_code == 302
    report = Report.objects.get(requested_by=world.leader)
    assert (report.period_start, report.status) == (dt.date(2026, 3, 9), ReportStatus.PENDING)
    page = client.get(reverse("web:reports"))
    assert "排队中" in page.content.decode()
    assert 'hx-trigger="every 3s"' in page.content.decode()

    reports.generate(report.pk)
    download = client.get(reverse("web:report_download", args=[report.pk]))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith('attachment; filename="yiwang-weekly-20260309')
    assert AuditRecord.objects.filter(action="export", object_id=str(report.pk)).exists()


def test_a_report_of_a_future_period_is_refused_with_a_message(
    world: World, client_for: Callable[[User], Client]
) -> None:
    response = client_for(world.leader).post(reverse("web:reports"), {"kind": "monthly", "day": "2099-01-01"})
    assert response.status_code == 200
    assert "报表期间尚未开始" in response.content.decode()
    assert not Report.objects.exists()


def test_someone_elses_report_is_not_found(world: World, client_for: Callable[[User], Client]) -> None:
    report = reports.request_report(actor=world.leader, kind="weekly", day=dt.date(2026, 3, 11))
    reports.generate(report.pk)
    assert (
        client_for(world.dispatcher_a).get(reverse("web:report_download", args=[report.pk])).status_code
        == 404
    )
    assert client_for(world.handler_a).get(reverse("web:reports")).status_code == 404  # not a handler's page
