"""The API at /api/v1/projects/: scoped reads, one POST per action, errors in the shared shape."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from tests.governance.projects.conftest import ProjectWorld
from yiwang.governance.projects.models import KpiValue, Node, ProgressReport, ProjectStatus
from yiwang.people.models import User

BASE = "/api/v1/projects/"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def api(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_list_is_scoped_and_coloured(pw: ProjectWorld) -> None:
    body = api(pw.world.handler_b).get(BASE).json()
    assert [(r["code"], r["colour"]) for r in body["results"]] == [(pw.project.code, "green")]
    assert api(pw.world.outsider).get(BASE).json()["results"] == []


def test_detail_outside_scope_is_404(pw: ProjectWorld) -> None:
    response = api(pw.world.dispatcher_a).get(f"{BASE}{pw.project.pk}/")
    assert response.status_code == 404


def test_anonymous_is_refused(pw: ProjectWorld) -> None:
    assert APIClient().get(BASE).status_code in (401, 403)


def test_detail_lists_nodes_and_allowed_actions(pw: ProjectWorld) -> None:
    body = api(pw.world.handler_a_sub).get(f"{BASE}{pw.project.pk}/").json()
    assert [n["name"] for n in body["nodes"]] == ["征迁完成", "管网铺设"]
    assert body["nodes"][0]["allowed_actions"] == ["start_node"]
    assert body["nodes"][1]["allowed_actions"] == []
    assert "report_progress" in body["allowed_actions"]


def test_create_then_transitions_through_the_api(pw: ProjectWorld) -> None:
    client = api(pw.world.leader)
    response = client.post(
        BASE,
        {
            "name": "新材料产业园",
            "division": pw.world.street_b.code,
            "owner": pw.world.handler_b.pk,
            "owner_department": pw.world.dept_b.pk,
            "start_date": "2026-03-01",
            "end_date": "2026-12-31",
            "lng": 120.1,
            "lat": 35.9,
        },
    )
    assert response.status_code == 201, response.json()
    pk = response.json()["id"]
    assert client.post(f"{BASE}{pk}/approve/", {}).json()["status"] == ProjectStatus.APPROVED
    assert (
        api(pw.world.handler_b).post(f"{BASE}{pk}/start/", {"note": "开工"}).json()["status"] == "in_progress"
    )


def test_refused_transition_is_403_and_wrong_state_is_409(pw: ProjectWorld) -> None:
    response = api(pw.world.handler_a).post(f"{BASE}{pw.project.pk}/suspend/", {})
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"
    response = api(pw.world.leader).post(f"{BASE}{pw.project.pk}/approve/", {})
    assert response.status_code == 409
    assert response.json()["detail_en"]


def test_bad_node_is_400_with_the_field(pw: ProjectWorld) -> None:
    response = api(pw.world.leader).post(
        f"{BASE}{pw.project.pk}/nodes/",
        {"name": "x", "deadline": "2027-01-01", "target_value": "1", "responsible": pw.world.handler_a.pk},
    )
    assert response.status_code == 400
    assert "deadline" in response.json()["fields"]
    assert Node.objects.count() == 2


def test_node_actions_progress_with_evidence_and_kpi(pw: ProjectWorld) -> None:
    client = api(pw.world.handler_a_sub)
    node_url = f"{BASE}{pw.project.pk}/nodes/{pw.node1.pk}/"
    assert client.post(f"{node_url}start/", {}).status_code == 200
    response = client.post(
        f"{BASE}{pw.project.pk}/progress/",
        {
            "text": "签约60户",
            "node": pw.node1.pk,
            "value": "60",
            "attachments": [SimpleUploadedFile("a.png", PNG)],
        },
        format="multipart",
    )
    assert response.status_code == 201, response.json()
    assert len(response.json()["evidence"]) == 1
    assert ProgressReport.objects.get().node == pw.node1
    owner = api(pw.world.handler_a)
    kpi = (
        api(pw.world.leader)
        .post(f"{BASE}{pw.project.pk}/kpis/", {"kind": "tax", "name": "税收", "goal": "200"})
        .json()
    )
    response = owner.post(
        f"{BASE}{pw.project.pk}/kpis/{kpi['id']}/values/", {"period": "2026-02-10", "value": "50"}
    )
    assert response.json()["attainment"] == "25.0"
    response = owner.post(
        f"{BASE}{pw.project.pk}/kpis/{kpi['id']}/values/", {"period": "2025-12-10", "value": "5"}
    )
    assert response.status_code == 400
    assert KpiValue.objects.count() == 1


def test_supervision_reply_and_dashboard(pw: ProjectWorld) -> None:
    s = api(pw.world.leader).post(
        f"{BASE}{pw.project.pk}/supervisions/", {"notice": "加快进度", "reply_due": "2026-03-06"}
    )
    assert s.status_code == 201
    assert api(pw.world.leader).get(f"{BASE}dashboard/").json()["open_supervisions"] == 1
    reply = api(pw.world.handler_a).post(
        f"{BASE}{pw.project.pk}/supervisions/{s.json()['id']}/reply/", {"reply": "已部署"}
    )
    assert reply.json()["status"] == "replied"
    board = api(pw.world.leader).get(f"{BASE}dashboard/?unit={pw.world.dept_a.pk}").json()
    assert board["open_supervisions"] == 0
    assert board["by_colour"]["green"] == 1


@pytest.mark.parametrize("persona", ["outsider", "dispatcher_a"])
def test_actions_outside_scope_are_404(pw: ProjectWorld, persona: str) -> None:
    client = api(getattr(pw.world, persona))
    assert client.post(f"{BASE}{pw.project.pk}/progress/", {"text": "x"}).status_code == 404


def test_escalate_a_green_node_is_409(pw: ProjectWorld) -> None:
    response = api(pw.world.leader).post(f"{BASE}{pw.project.pk}/nodes/{pw.node2.pk}/escalate/", {})
    assert response.status_code == 409
