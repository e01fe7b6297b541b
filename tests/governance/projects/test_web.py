"""The pages: dashboard and list, project page with its action forms, evidence, GeoJSON layer."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from tests.factories import DepartmentFactory, UserFactory, grant
from tests.governance.projects.conftest import ProjectWorld
from yiwang.governance.projects.models import Evidence, Node, Project, ProjectStatus
from yiwang.people.models import Role, User

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def web(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_index_shows_the_dashboard_and_coloured_list(pw: ProjectWorld) -> None:
    response = web(pw.world.leader).get(reverse("web:projects:index"))
    assert response.status_code == 200
    html = response.content.decode()
    assert pw.project.name in html
    assert 'class="badge clock-green"' in html
    assert 'id="create-project"' in html  # leaders may create


def test_handler_sees_the_index_without_the_create_form(pw: ProjectWorld) -> None:
    response = web(pw.world.handler_b).get(reverse("web:projects:index"))
    assert response.status_code == 200
    assert 'id="create-project"' not in response.content.decode()


def test_index_is_not_offered_to_other_roles(pw: ProjectWorld) -> None:
    assert web(pw.world.dispatcher_a).get(reverse("web:projects:index")).status_code == 404


def test_unit_dashboard_and_colour_filter(pw: ProjectWorld) -> None:
    client = web(pw.world.leader)
    other = DepartmentFactory(code="QT", name="其他单位")
    assert (
        pw.project.name not in client.get(reverse("web:projects:index"), {"unit": other.pk}).content.decode()
    )
    assert (
        pw.project.name not in client.get(reverse("web:projects:index"), {"colour": "red"}).content.decode()
    )
    assert pw.project.name in client.get(reverse("web:projects:index"), {"colour": "green"}).content.decode()


def test_create_from_the_page(pw: ProjectWorld) -> None:
    response = web(pw.world.leader).post(
        reverse("web:projects:create"),
        {
            "create-name": "海洋经济园区",
            "create-division": pw.world.street_b.pk,
            "create-owner": pw.world.handler_b.pk,
            "create-owner_department": pw.world.dept_b.pk,
            "create-start_date": "2026-03-01",
            "create-end_date": "2026-12-31",
        },
    )
    project = Project.objects.get(name="海洋经济园区")
    assert response.status_code == 302
    assert response["Location"] == reverse("web:projects:detail", args=[project.pk])


def test_bad_create_shows_the_message_and_writes_nothing(pw: ProjectWorld) -> None:
    response = web(pw.world.leader).post(
        reverse("web:projects:create"),
        {
            "create-name": "倒置日期",
            "create-division": pw.world.street_a.pk,
            "create-owner": pw.world.handler_a.pk,
            "create-owner_department": pw.world.dept_a.pk,
            "create-start_date": "2026-12-01",
            "create-end_date": "2026-01-01",
        },
    )
    assert response.status_code == 400
    assert "完成时限不能早于开始日期" in response.content.decode()
    assert not Project.objects.filter(name="倒置日期").exists()


def test_detail_offers_the_allowed_actions(pw: ProjectWorld) -> None:
    html = web(pw.world.leader).get(reverse("web:projects:detail", args=[pw.project.pk])).content.decode()
    assert 'id="action-suspend"' in html
    assert 'id="action-supervise"' in html
    html = web(pw.world.handler_b).get(reverse("web:projects:detail", args=[pw.project.pk])).content.decode()
    assert 'id="action-suspend"' not in html
    assert 'id="action-report_progress"' in html


def test_detail_outside_scope_is_404(pw: ProjectWorld) -> None:
    stranger = grant(UserFactory(), Role.DEPARTMENT_HANDLER, department=DepartmentFactory(code="QT"))
    assert web(stranger).get(reverse("web:projects:detail", args=[pw.project.pk])).status_code == 404


def test_node_form_error_is_shown_and_nothing_written(pw: ProjectWorld) -> None:
    response = web(pw.world.leader).post(
        reverse("web:projects:action", args=[pw.project.pk, "add_node"]),
        {
            "add_node-name": "超期",
            "add_node-deadline": "2027-01-01",
            "add_node-target_value": "1",
            "add_node-responsible": pw.world.handler_a.pk,
            "add_node-responsible_department": pw.world.dept_a.pk,
        },
    )
    assert response.status_code == 400
    assert "不能晚于项目完成时限" in response.content.decode()
    assert Node.objects.count() == 2


def test_wrong_state_is_409_and_forbidden_is_403(pw: ProjectWorld) -> None:
    url = reverse("web:projects:action", args=[pw.project.pk, "approve"])
    assert web(pw.world.leader).post(url, {}).status_code == 409
    url = reverse("web:projects:action", args=[pw.project.pk, "suspend"])
    assert web(pw.world.handler_a).post(url, {}).status_code == 403
    pw.project.refresh_from_db()
    assert pw.project.status == ProjectStatus.IN_PROGRESS


def test_progress_with_evidence_and_download(pw: ProjectWorld) -> None:
    client = web(pw.world.handler_a_sub)
    response = client.post(
        reverse("web:projects:action", args=[pw.project.pk, "report_progress"]),
        {
            "report_progress-node": pw.node1.pk,
            "report_progress-value": "25",
            "report_progress-text": "已签约25户",
            "report_progress-attachments": SimpleUploadedFile("现场.png", PNG),
        },
    )
    assert response.status_code == 302
    evidence = Evidence.objects.get()
    download = client.get(reverse("web:projects:evidence", args=[evidence.pk]))
    assert download.status_code == 200
    assert download["Content-Type"] == "image/png"
    other = grant(UserFactory(), Role.DEPARTMENT_HANDLER, department=pw.world.dept_b)
    # dept_b holds node 2, so it sees the project and its evidence; a stranger does not.
    assert web(other).get(reverse("web:projects:evidence", args=[evidence.pk])).status_code == 200
    stranger = grant(UserFactory(), Role.LEADER, division=pw.world.street_b)
    assert web(stranger).get(reverse("web:projects:evidence", args=[evidence.pk])).status_code == 404


def test_node_start_from_its_row_form(pw: ProjectWorld) -> None:
    response = web(pw.world.handler_a_sub).post(
        reverse("web:projects:action", args=[pw.project.pk, "start_node"]), {"start_node-node": pw.node1.pk}
    )
    assert response.status_code == 302
    pw.node1.refresh_from_db()
    assert pw.node1.status == "in_progress"


def test_geojson_needs_sign_in_and_is_scoped(pw: ProjectWorld) -> None:
    url = reverse("web:projects:geojson")
    assert Client().get(url).status_code == 302
    body = web(pw.world.leader).get(url).json()
    assert body["type"] == "FeatureCollection"
    [feature] = body["features"]
    assert feature["geometry"] == {"type": "Point", "coordinates": [120.01, 35.91]}
    assert feature["properties"]["colour"] == "green"
    assert web(pw.world.outsider).get(url).json()["features"] == []


def test_owner_replies_to_supervision_from_the_page(pw: ProjectWorld) -> None:
    leader = web(pw.world.leader)
    response = leader.post(
        reverse("web:projects:action", args=[pw.project.pk, "supervise"]),
        {"supervise-notice": "请加快征迁进度", "supervise-reply_due": "2026-03-06"},
    )
    assert response.status_code == 302
    owner = web(pw.world.handler_a)
    html = owner.get(reverse("web:projects:detail", args=[pw.project.pk])).content.decode()
    assert "请加快征迁进度" in html
    assert 'name="reply_supervision-reply"' in html
    supervision = pw.project.supervisions.get()
    response = owner.post(
        reverse("web:projects:action", args=[pw.project.pk, "reply_supervision"]),
        {"reply_supervision-supervision": supervision.pk, "reply_supervision-reply": "本周完成"},
    )
    assert response.status_code == 302
    supervision.refresh_from_db()
    assert supervision.reply == "本周完成"


def test_kpi_forms_and_attainment_on_the_page(pw: ProjectWorld) -> None:
    client = web(pw.world.leader)
    url = reverse("web:projects:action", args=[pw.project.pk, "add_kpi"])
    data = {
        "add_kpi-kind": "tax",
        "add_kpi-name": "税收",
        "add_kpi-goal": "400",
        "add_kpi-period_kind": "month",
    }
    assert client.post(url, data).status_code == 302
    kpi = pw.project.kpis.get()
    url = reverse("web:projects:action", args=[pw.project.pk, "record_kpi"])
    data = {"record_kpi-indicator": kpi.pk, "record_kpi-period": "2026-02-01", "record_kpi-value": "100"}
    assert client.post(url, data).status_code == 302
    html = client.get(reverse("web:projects:detail", args=[pw.project.pk])).content.decode()
    assert "25.0%" in html
    data["record_kpi-period"] = "2027-02-01"
    response = client.post(url, data)
    assert response.status_code == 400
    assert "不在项目期限" in response.content.decode()
