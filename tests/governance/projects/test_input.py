"""Bad input: a clear bilingual message naming the field, and nothing written."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.governance.projects.conftest import ProjectWorld, new_project
from yiwang.governance.projects import actions
from yiwang.governance.projects.errors import ProjectInputError, ProjectTransitionNotAllowed
from yiwang.governance.projects.models import (
    Evidence,
    KpiKind,
    KpiValue,
    Node,
    ProgressReport,
    Project,
    ProjectEvent,
    Supervision,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _counts() -> tuple[int, ...]:
    return tuple(
        m.objects.count()
        for m in (Project, Node, ProgressReport, Evidence, KpiValue, Supervision, ProjectEvent)
    )


def test_node_deadline_after_the_project_end_is_refused(pw: ProjectWorld) -> None:
    before = _counts()
    with pytest.raises(ProjectInputError) as err:
        actions.add_node(
            pw.world.leader,
            pw.project,
            name="超期节点",
            deadline=dt.date(2026, 7, 1),
            target_value="1",
            responsible=pw.world.handler_a,
        )
    assert err.value.field == "deadline"
    assert "不能晚于项目完成时限" in err.value.zh
    assert "after the project's end" in err.value.en
    assert _counts() == before


@pytest.mark.parametrize("target", ["-5", "0", "abc", "NaN"])
def test_node_target_must_be_a_positive_number(pw: ProjectWorld, target: str) -> None:
    before = _counts()
    with pytest.raises(ProjectInputError) as err:
        actions.add_node(
            pw.world.leader,
            pw.project,
            name="节点",
            deadline=dt.date(2026, 4, 1),
            target_value=target,
            responsible=pw.world.handler_a,
        )
    assert err.value.field == "target_value"
    assert _counts() == before


def test_progress_report_on_a_completed_project_is_refused(pw: ProjectWorld) -> None:
    for node in (pw.node1, pw.node2):
        actions.start_node(pw.world.leader, node)
        actions.complete_node(pw.world.leader, node)
    actions.complete_project(pw.world.leader, pw.project)
    before = _counts()
    with pytest.raises(ProjectTransitionNotAllowed) as err:
        actions.report_progress(pw.world.handler_a, pw.project, text="补报进度")
    assert "已完成" in err.value.zh
    assert _counts() == before


def test_kpi_value_for_a_period_outside_the_project_is_refused(pw: ProjectWorld) -> None:
    kpi = actions.add_kpi(pw.world.leader, pw.project, kind=KpiKind.TAX, name="税收", goal="1000")
    before = _counts()
    with pytest.raises(ProjectInputError) as err:
        actions.record_kpi_value(pw.world.handler_a, kpi, period=dt.date(2026, 7, 15), value="10")
    assert err.value.field == "period"
    assert "不在项目期限" in err.value.zh
    assert _counts() == before


def test_a_refused_evidence_file_writes_no_report(pw: ProjectWorld) -> None:
    before = _counts()
    bad = SimpleUploadedFile("report.exe", b"MZ\x90\x00" + b"\x00" * 32)
    with pytest.raises(ProjectInputError) as err:
        actions.report_progress(
            pw.world.handler_a_sub, pw.project, node=pw.node1, value="10", text="进展", files=[bad]
        )
    assert err.value.field == "attachments"
    pw.node1.refresh_from_db()
    assert pw.node1.current_value == 0
    assert _counts() == before


def test_progress_with_evidence_updates_the_node(pw: ProjectWorld) -> None:
    photo = SimpleUploadedFile("现场.png", PNG)
    report = actions.report_progress(
        pw.world.handler_a_sub, pw.project, node=pw.node1, value="40", text="已签约40户", files=[photo]
    )
    pw.node1.refresh_from_db()
    assert pw.node1.current_value == 40
    assert [(e.original_name, e.content_type) for e in report.evidence.all()] == [("现场.png", "image/png")]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"end_date": dt.date(2025, 12, 31)}, "end_date"),
        ({"lng": 120.0, "lat": None}, "lng"),
        ({"name": "  "}, "name"),
    ],
)
def test_bad_project_input_is_refused(pw: ProjectWorld, kwargs: dict[str, object], field: str) -> None:
    base: dict[str, object] = {
        "name": "新项目",
        "division": pw.world.street_a,
        "owner": pw.world.handler_a,
        "owner_department": pw.world.dept_a,
        "start_date": dt.date(2026, 1, 1),
        "end_date": dt.date(2026, 12, 31),
    }
    base.update(kwargs)
    before = _counts()
    with pytest.raises(ProjectInputError) as err:
        actions.create_project(pw.world.leader, **base)  # type: ignore[arg-type]
    assert err.value.field == field
    assert _counts() == before


def test_value_without_a_node_and_negative_values_are_refused(pw: ProjectWorld) -> None:
    with pytest.raises(ProjectInputError):
        actions.report_progress(pw.world.handler_a, pw.project, text="x", value="3")
    with pytest.raises(ProjectInputError):
        actions.report_progress(pw.world.handler_a, pw.project, node=pw.node1, text="x", value="-3")


def test_node_of_another_project_is_refused(pw: ProjectWorld) -> None:
    other = new_project(pw.world, name="另一个项目")
    with pytest.raises(ProjectInputError):
        actions.report_progress(pw.world.leader, other, node=pw.node1, text="x")


def test_supervision_reply_deadline_in_the_past_is_refused(pw: ProjectWorld) -> None:
    with pytest.raises(ProjectInputError) as err:
        actions.issue_supervision(
            pw.world.leader, pw.project, notice="加快进度", reply_due=dt.date(2026, 3, 1)
        )
    assert err.value.field == "reply_due"
