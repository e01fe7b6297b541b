"""The web pages through Django's test client: who may open what, forms and their errors."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from tests.factories import PASSWORD, UserFactory
from tests.web.conftest import IN_GRID_A1, first_category, new_case
from tests.world import World
from yiwang.cases.choices import CaseStatus, Satisfaction
from yiwang.cases.models import Case
from yiwang.core.models_audit import AuditRecord
from yiwang.people.models import User
from yiwang.web.forms import category_choices

ClientFor = Callable[[User], Client]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _expect(case: Case, prefix: str) -> dict[str, object]:
    return {f"{prefix}-expected_status": case.status, f"{prefix}-expected_version": case.version}


# --- sign-in and navigation ---------------------------------------------------------------------------
def test_healthz_answers_ok(client: Client, db: None) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_pages_send_anonymous_users_to_the_login_page(client: Client, db: None) -> None:
    response = client.get(reverse("web:queue"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("web:login"))


def test_login_with_the_right_password_opens_the_start_page(client: Client, world: World) -> None:
    page = client.get(reverse("web:login"))
    assert 'for="id_username"' in page.content.decode()
    response = client.post(reverse("web:login"), {"username": "dispatcher_a", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("web:home")


def test_login_with_a_wrong_password_says_so(client: Client, world: World) -> None:
    response = client.post(reverse("web:login"), {"username": "dispatcher_a", "password": "wrong"})
    assert response.status_code == 200
    assert 'class="error"' in response.content.decode()


def test_navigation_shows_the_pages_of_the_role(client_for: ClientFor, world: World) -> None:
    html = client_for(world.handler_a).get(reverse("web:home")).content.decode()
    assert reverse("web:inbox") in html
    assert reverse("web:queue") not in html


@pytest.mark.parametrize(
    ("persona", "page", "status"),
    [
        ("dispatcher_a", "queue", 200),
        ("dispatcher_a", "map", 200),
        ("dispatcher_a", "dashboard", 200),
        ("dispatcher_a", "unsatisfied", 200),
        ("operator", "intake", 200),
        ("handler_a", "inbox", 200),
        ("grid_worker_a1", "phone", 200),
        ("handler_a", "queue", 404),
        ("grid_worker_a1", "intake", 404),
        ("outsider", "map", 404),
    ],
)
def test_each_page_opens_for_its_roles_only(
    client_for: ClientFor, world: World, persona: str, page: str, status: int
) -> None:
    assert client_for(getattr(world, persona)).get(reverse(f"web:{page}")).status_code == status


def test_english_pages_live_under_the_en_prefix(client_for: ClientFor, world: World) -> None:
    response = client_for(world.dispatcher_a).get("/en/queue/")
    assert response.status_code == 200
    assert '<html lang="en">' in response.content.decode()


# --- the case page -------------------------------------------------------------------------------------
def test_case_page_outside_the_users_scope_is_not_found(
    client_for: ClientFor, world: World, registered: Case
) -> None:
    url = reverse("web:case", args=[registered.pk])
    assert client_for(world.dispatcher_a).get(url).status_code == 200
    assert client_for(world.dispatcher_b).get(url).status_code == 404
    assert client_for(world.outsider).get(url).status_code == 404


def test_case_page_offers_only_the_actions_of_the_role_and_state(
    client_for: ClientFor, world: World, dispatched: Case
) -> None:
    url = reverse("web:case", args=[dispatched.pk])
    handler = client_for(world.handler_a).get(url).content.decode()
    assert 'id="action-sign"' in handler
    assert 'id="action-return"' in handler
    assert 'id="action-dispatch"' not in handler
    assert 'id="action-resolve"' not in handler
    dispatcher = client_for(world.dispatcher_a).get(url).content.decode()
    assert 'id="action-sign"' not in dispatcher
    assert 'id="action-urge"' in dispatcher
    other_department = client_for(world.handler_b).get(url)
    assert other_department.status_code == 404


def test_dispatch_from_the_case_page_moves_the_case_on(
    client_for: ClientFor, world: World, registered: Case
) -> None:
    response = client_for(world.dispatcher_a).post(
        reverse("web:case_action", args=[registered.pk, "dispatch"]),
        {**_expect(registered, "dispatch"), "dispatch-lead": world.dept_a.pk, "dispatch-note": "请处理"},
    )
    assert response.status_code == 302
    registered.refresh_from_db()
    assert registered.status == CaseStatus.DISPATCHED
    assert registered.lead_department == world.dept_a


def test_return_without_a_reason_shows_the_message_next_to_the_field(
    client_for: ClientFor, world: World, dispatched: Case
) -> None:
    response = client_for(world.handler_a).post(
        reverse("web:case_action", args=[dispatched.pk, "return"]), _expect(dispatched, "return")
    )
    assert response.status_code == 400
    assert 'id="id_return-reason_error"' in response.content.decode()
    dispatched.refresh_from_db()
    assert dispatched.status == CaseStatus.DISPATCHED


def test_a_stale_form_says_the_case_moved_on_and_shows_its_state(
    client_for: ClientFor, world: World, dispatched: Case
) -> None:
    stale = {"sign-expected_status": CaseStatus.REGISTERED, "sign-expected_version": dispatched.version - 1}
    response = client_for(world.handler_a).post(
        reverse("web:case_action", args=[dispatched.pk, "sign"]), stale
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert 'id="conflict"' in html
    assert str(CaseStatus.DISPATCHED.label) in html
    dispatched.refresh_from_db()
    assert dispatched.status == CaseStatus.DISPATCHED


def test_resolve_refuses_an_upload_of_the_wrong_type_and_saves_nothing(
    client_for: ClientFor, world: World, in_progress: Case
) -> None:
    fake = SimpleUploadedFile("photo.jpg", b"MZ not a picture", content_type="image/jpeg")
    response = client_for(world.handler_a).post(
        reverse("web:case_action", args=[in_progress.pk, "resolve"]),
        {**_expect(in_progress, "resolve"), "resolve-result": "已修复", "resolve-attachments": fake},
    )
    assert response.status_code == 400
    assert "photo.jpg" in response.content.decode()
    in_progress.refresh_from_db()
    assert in_progress.status == CaseStatus.IN_PROGRESS
    assert not in_progress.attachments.exists()


def test_resolve_with_a_photo_keeps_it_and_serves_it_in_scope(
    client_for: ClientFor, world: World, in_progress: Case
) -> None:
    photo = SimpleUploadedFile("done.png", PNG, content_type="image/png")
    handler = client_for(world.handler_a)
    response = handler.post(
        reverse("web:case_action", args=[in_progress.pk, "resolve"]),
        {**_expect(in_progress, "resolve"), "resolve-result": "已修复", "resolve-attachments": photo},
    )
    assert response.status_code == 302
    attachment = in_progress.attachments.get()
    assert handler.get(reverse("web:attachment", args=[attachment.pk]))["Content-Type"] == "image/png"
    assert client_for(world.handler_b).get(reverse("web:attachment", args=[attachment.pk])).status_code == 404


def test_the_reporter_phone_is_masked_and_a_reveal_without_the_grant_is_refused_and_logged(
    client_for: ClientFor, world: World, registered: Case
) -> None:
    client = client_for(world.dispatcher_a)
    html = client.get(reverse("web:case", args=[registered.pk])).content.decode()
    assert "13812345678" not in html
    assert "138****5678" in html
    response = client.post(reverse("web:case_reveal_phone", args=[registered.pk]), {"reveal-reason": "回访"})
    assert response.status_code == 403
    assert AuditRecord.objects.filter(success=False).exists()


def test_a_reveal_with_the_grant_shows_the_full_number_and_is_logged(
    client_for: ClientFor, world: World, registered: Case
) -> None:
    boss = UserFactory(username="root", is_superuser=True)
    response = client_for(boss).post(
        reverse("web:case_reveal_phone", args=[registered.pk]),
        {"reveal-reason": "回访"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "13812345678" in response.content.decode()
    assert AuditRecord.objects.filter(success=True).exists()


def test_case_text_with_html_is_shown_as_text(client_for: ClientFor, world: World) -> None:
    case = new_case(world, title="<script>alert(1)</script>", description="<img src=x onerror=alert(2)>")
    client = client_for(world.dispatcher_a)
    for url in (reverse("web:case", args=[case.pk]), reverse("web:queue")):
        html = client.get(url).content.decode()
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in client.get(reverse("web:case", args=[case.pk])).content.decode()
    # The dashboard's overdue list writes its rows in Python: escaped there too.
    Case.objects.filter(pk=case.pk).update(accept_due_at=timezone.now() - dt.timedelta(hours=1))
    html = client_for(world.leader).get(reverse("web:dashboard")).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script>" not in html


# --- intake ----------------------------------------------------------------------------------------------
def _intake(**extra: object) -> dict[str, object]:
    return {
        "idempotency_key": "k-0001",
        "channel": "hotline_12345",
        "title": "噪音扰民",
        "description": "夜间施工噪音",
        "category": first_category(),
        "lng": IN_GRID_A1[0],
        "lat": IN_GRID_A1[1],
        **extra,
    }


def test_intake_registers_once_even_when_submitted_twice(client_for: ClientFor, world: World) -> None:
    client = client_for(world.operator)
    first = client.post(reverse("web:intake"), _intake())
    second = client.post(reverse("web:intake"), _intake())
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Case.objects.filter(idempotency_key="k-0001").count() == 1


def test_intake_without_a_title_shows_the_error_and_registers_nothing(
    client_for: ClientFor, world: World
) -> None:
    response = client_for(world.operator).post(reverse("web:intake"), _intake(title=""))
    assert response.status_code == 400
    assert 'id="id_title_error"' in response.content.decode()
    assert not Case.objects.exists()


def test_intake_outside_the_district_shows_the_locators_message(client_for: ClientFor, world: World) -> None:
    response = client_for(world.operator).post(reverse("web:intake"), _intake(lng=100.0, lat=30.0))
    assert response.status_code == 400
    assert not Case.objects.exists()


def test_intake_with_an_answer_closes_the_consultation(client_for: ClientFor, world: World) -> None:
    client_for(world.operator).post(reverse("web:intake"), _intake(answer="请拨打物业电话"))
    case = Case.objects.get()
    assert case.status == CaseStatus.CLOSED
    assert case.result == "请拨打物业电话"


# --- queue, inbox --------------------------------------------------------------------------------------
def test_queue_lists_registered_cases_and_dispatches_several_at_once(
    client_for: ClientFor, world: World
) -> None:
    cases = [new_case(world, title=f"案件{i}") for i in range(2)]
    client = client_for(world.dispatcher_a)
    assert cases[0].number in client.get(reverse("web:queue")).content.decode()
    response = client.post(
        reverse("web:queue_dispatch"), {"case": [c.pk for c in cases], "lead": world.dept_a.pk}
    )
    assert response.status_code == 302
    assert set(Case.objects.values_list("status", flat=True)) == {CaseStatus.DISPATCHED}


def test_queue_merges_the_selected_case_into_another(client_for: ClientFor, world: World) -> None:
    keep, duplicate = new_case(world), new_case(world)
    client_for(world.dispatcher_a).post(
        reverse("web:queue_merge"), {"case": [duplicate.pk], "into": keep.number}
    )
    duplicate.refresh_from_db()
    assert duplicate.status == CaseStatus.MERGED
    assert duplicate.merged_into == keep


def test_queue_filters_with_the_shared_filterset(
    client_for: ClientFor, world: World, dispatched: Case
) -> None:
    client = client_for(world.dispatcher_a)
    assert dispatched.number not in client.get(reverse("web:queue")).content.decode()
    assert dispatched.number in client.get(reverse("web:queue") + "?status=dispatched").content.decode()


def test_inbox_shows_the_departments_cases_with_their_clock(
    client_for: ClientFor, world: World, dispatched: Case
) -> None:
    html = client_for(world.handler_a).get(reverse("web:inbox")).content.decode()
    assert dispatched.number in html
    assert "clock-" in html
    assert dispatched.number not in client_for(world.handler_b).get(reverse("web:inbox")).content.decode()


# --- map, dashboard, phone ----------------------------------------------------------------------------
def test_map_data_counts_open_cases_per_grid_in_scope(
    client_for: ClientFor, world: World, registered: Case
) -> None:
    client = client_for(world.dispatcher_a)
    data = client.get(reverse("web:map_data")).json()
    assert data["grids"] == {world.grid_a1.code: [1, 0]}  # [open, overdue]; grids without any left out
    assert data["total_open"] == 1
    assert [c["n"] for c in data["cases"]] == [registered.number]
    shapes = client.get(reverse("web:map_data"), {"layer": "shapes"}).json()
    codes = {f["properties"]["code"] for f in shapes["grids"]["features"]}
    assert world.grid_a1.code in codes
    assert world.grid_b1.code not in codes


def test_grid_panel_lists_staff_and_open_cases_and_hides_other_areas(
    client_for: ClientFor, world: World, registered: Case
) -> None:
    client = client_for(world.dispatcher_a)
    html = client.get(reverse("web:map_grid", args=[world.grid_a1.code])).content.decode()
    assert registered.number in html
    assert str(world.grid_worker_a1) in html
    assert client.get(reverse("web:map_grid", args=[world.grid_b1.code])).status_code == 404


def test_dashboard_exports_every_table_to_excel(
    client_for: ClientFor, world: World, registered: Case
) -> None:
    response = client_for(world.leader).get(reverse("web:dashboard_export"))
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames[0] == "三率（按街道）"  # one sheet per table: tests/web/test_dashboard_rollups.py


def test_phone_report_registers_a_patrol_case_with_its_photo(client_for: ClientFor, world: World) -> None:
    photo = SimpleUploadedFile("p.png", PNG, content_type="image/png")
    categories = [c for c in category_choices(("component", "matter")) if c[0]]
    response = client_for(world.grid_worker_a1).post(
        reverse("web:phone"),
        {
            "idempotency_key": "p-1",
            "category": categories[0][0],
            "description": "井盖缺失\n在路口",
            "photo": photo,
            "lng": IN_GRID_A1[0],
            "lat": IN_GRID_A1[1],
        },
    )
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.channel == "grid_patrol"
    assert case.title == "井盖缺失"
    assert case.grid == world.grid_a1
    assert case.attachments.count() == 1


def test_phone_report_without_position_or_address_asks_for_one(client_for: ClientFor, world: World) -> None:
    response = client_for(world.grid_worker_a1).post(
        reverse("web:phone"), {"idempotency_key": "p-2", "category": "x", "description": "井盖缺失"}
    )
    assert response.status_code == 400
    assert 'id="id_address_error"' in response.content.decode()


def test_grid_worker_verifies_a_resolved_case_on_site(
    client_for: ClientFor, world: World, in_progress: Case
) -> None:
    from yiwang.cases import actions

    case = actions.resolve_case(in_progress, actor=world.handler_a, result="已修复")
    client = client_for(world.grid_worker_a1)
    assert case.number in client.get(reverse("web:phone")).content.decode()
    prefix = f"v{case.pk}"
    client.post(
        reverse("web:phone_verify", args=[case.pk]), {**_expect(case, prefix), f"{prefix}-passed": "1"}
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED


def test_unsatisfied_board_lists_cases_rated_unsatisfied(
    client_for: ClientFor, world: World, in_progress: Case
) -> None:
    from yiwang.cases import actions

    case = actions.resolve_case(in_progress, actor=world.handler_a, result="已修复")
    case = actions.verify_case(case, actor=world.dispatcher_a, passed=True)
    actions.record_callback(
        case, actor=world.operator, contacted=True, solved=False, satisfaction=Satisfaction.UNSATISFIED
    )
    html = client_for(world.leader).get(reverse("web:unsatisfied")).content.decode()
    assert case.number in html
    assert world.dept_a.name in html
