"""The staff API on cases: scoped reads, filters, and every write through a case action."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from tests.cases.conftest import IN_A1, IN_B1, dispatched_case, in_progress_case, new_case
from tests.world import World
from yiwang.cases.models import Case, CaseEvent
from yiwang.core.models import AuditRecord

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def numbers(response: Any) -> set[str]:
    return {row["number"] for row in response.json()["results"]}


def test_anonymous_requests_are_refused(world: World) -> None:
    response = APIClient().get("/api/v1/cases/")
    assert response.status_code in (401, 403)
    assert response.json()["code"] == "not_authenticated"


def test_case_list_holds_only_cases_in_the_users_scope(world: World, client_for: Any) -> None:
    in_a = new_case(world)
    in_b = new_case(world, IN_B1)
    assert numbers(client_for(world.dispatcher_a).get("/api/v1/cases/")) == {in_a.number}
    assert numbers(client_for(world.dispatcher_b).get("/api/v1/cases/")) == {in_b.number}
    assert numbers(client_for(world.admin).get("/api/v1/cases/")) == {in_a.number, in_b.number}


def test_case_outside_scope_is_404_for_reads_and_actions(world: World, client_for: Any) -> None:
    case = new_case(world)
    client = client_for(world.dispatcher_b)
    assert client.get(f"/api/v1/cases/{case.pk}/").status_code == 404
    assert client.get(f"/api/v1/cases/{case.pk}/timeline/").status_code == 404
    response = client.post(f"/api/v1/cases/{case.pk}/dispatch/", {"lead": world.dept_b.pk}, format="json")
    assert response.status_code == 404
    assert Case.objects.get(pk=case.pk).status == "registered"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=registered", {"registered"}),
        ("status=dispatched", {"dispatched"}),
        ("status=registered&status=dispatched", {"registered", "dispatched"}),
        ("channel=web", set()),
        ("channel=hotline_12345", {"registered", "dispatched"}),
        ("q=nothing-like-this", set()),
        ("q=垃圾", {"registered", "dispatched"}),
        # The cases were dispatched in March with a deadline of days: overdue by now.
        ("overdue=true", {"dispatched"}),
        ("overdue=false", {"registered"}),
        ("created_after=2030-01-01T00:00:00%2B08:00", set()),
        ("created_before=2030-01-01T00:00:00%2B08:00", {"registered", "dispatched"}),
    ],
)
def test_case_list_filters(world: World, client_for: Any, query: str, expected: set[str]) -> None:
    new_case(world)
    dispatched_case(world)
    response = client_for(world.admin).get(f"/api/v1/cases/?{query}")
    assert response.status_code == 200
    assert {row["status"] for row in response.json()["results"]} == expected


def test_case_list_filters_by_area_code_and_department(world: World, client_for: Any) -> None:
    in_a = dispatched_case(world)
    in_b = new_case(world, IN_B1)
    client = client_for(world.admin)
    assert numbers(client.get(f"/api/v1/cases/?area={world.street_b.code}")) == {in_b.number}
    assert numbers(client.get(f"/api/v1/cases/?area={world.grid_a1.code}")) == {in_a.number}
    assert numbers(client.get(f"/api/v1/cases/?department={world.dept_a.pk}")) == {in_a.number}
    assert numbers(client.get("/api/v1/cases/?area=999999999999")) == set()


def test_case_list_filter_by_category_includes_children(world: World, client_for: Any) -> None:
    case = new_case(world)
    parent = case.category.parent
    assert parent is not None
    response = client_for(world.admin).get(f"/api/v1/cases/?category={parent.code}")
    assert numbers(response) == {case.number}


def test_case_list_rejects_malformed_filters(world: World, client_for: Any) -> None:
    client = client_for(world.admin)
    response = client.get("/api/v1/cases/?status=flying")
    assert response.status_code == 400
    assert "status" in response.json()["fields"]
    assert client.get("/api/v1/cases/?created_after=yesterday").status_code == 400


def test_case_list_is_cursor_paginated_with_a_capped_page_size(world: World, client_for: Any) -> None:
    for _ in range(3):
        new_case(world)
    client = client_for(world.admin)
    first = client.get("/api/v1/cases/?page_size=2").json()
    assert len(first["results"]) == 2
    second = client.get(first["next"]).json()
    assert len(second["results"]) == 1
    assert not {r["number"] for r in first["results"]} & {r["number"] for r in second["results"]}
    assert len(client.get("/api/v1/cases/?page_size=100000").json()["results"]) == 3


def test_list_rows_carry_no_personal_data(world: World, client_for: Any) -> None:
    new_case(world, reporter_name="张三丰", reporter_phone="13812345678")
    row = client_for(world.admin).get("/api/v1/cases/").json()["results"][0]
    assert "reporter_phone" not in row
    assert "13812345678" not in str(row)


def test_detail_masks_the_reporter(world: World, client_for: Any) -> None:
    case = new_case(world, reporter_name="张三丰", reporter_phone="13812345678")
    body = client_for(world.admin).get(f"/api/v1/cases/{case.pk}/").json()
    assert body["reporter_phone"] == "138****5678"
    assert body["reporter_name"] != "张三丰"
    assert body["reporter_name"].startswith("张")


def test_create_registers_a_case_through_the_action(world: World, client_for: Any) -> None:
    payload = {
        "channel": "hotline_12345",
        "category": "SX-06001",
        "title": "路灯不亮",
        "description": "小区东门路灯坏了一周。",
        "lng": IN_A1[0],
        "lat": IN_A1[1],
        "idempotency_key": "call-001",
    }
    client = client_for(world.operator)
    response = client.post("/api/v1/cases/", payload, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "registered"
    assert body["grid"] == world.grid_a1.code
    assert CaseEvent.objects.filter(case_id=body["id"], kind="registered").count() == 1
    # A retry with the same idempotency key registers nothing new.
    again = client.post("/api/v1/cases/", payload, format="json")
    assert again.json()["id"] == body["id"]
    assert Case.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"category": "NOPE-1"}, "category"),
        ({"description": "长" * 4001}, "description"),
        ({"lng": 121.5, "lat": 36.6}, "location"),
        ({"channel": "carrier_pigeon"}, "channel"),
        ({"lng": "east"}, "lng"),
    ],
)
def test_create_with_bad_input_is_400_and_writes_nothing(
    world: World, client_for: Any, change: dict[str, Any], field: str
) -> None:
    payload = {"channel": "hotline_12345", "category": "SX-06001", "title": "t", "description": "d"}
    payload.update(change)
    response = client_for(world.operator).post("/api/v1/cases/", payload, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["detail"]
    assert Case.objects.count() == 0


def test_malformed_json_body_is_400(world: World, client_for: Any) -> None:
    response = client_for(world.operator).post(
        "/api/v1/cases/", data=b"{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert Case.objects.count() == 0


def test_dispatch_endpoint_calls_the_action_and_records_an_event(world: World, client_for: Any) -> None:
    case = new_case(world)
    response = client_for(world.dispatcher_a).post(
        f"/api/v1/cases/{case.pk}/dispatch/",
        {"lead": world.dept_a.pk, "assisting": [world.dept_b.pk], "note": "请尽快处理"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "dispatched"
    assert body["lead_department"] == world.dept_a.pk
    assert {a["role"] for a in body["assignments"]} == {"lead", "assist"}
    assert CaseEvent.objects.filter(case=case, kind="dispatched").count() == 1


def test_action_not_allowed_in_the_current_state_is_409(world: World, client_for: Any) -> None:
    case = new_case(world)
    response = client_for(world.handler_a).post(f"/api/v1/cases/{case.pk}/sign/", {}, format="json")
    assert response.status_code in (403, 404, 409)
    case = dispatched_case(world)
    client = client_for(world.dispatcher_a)
    response = client.post(f"/api/v1/cases/{case.pk}/dispatch/", {"lead": world.dept_a.pk}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "transition_not_allowed"
    assert response.json()["detail_en"]


def test_stale_expected_version_is_409_conflict(world: World, client_for: Any) -> None:
    case = new_case(world)
    response = client_for(world.dispatcher_a).post(
        f"/api/v1/cases/{case.pk}/dispatch/",
        {"lead": world.dept_a.pk, "expected_version": case.version + 5},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert Case.objects.get(pk=case.pk).status == "registered"


def test_missing_required_action_input_is_400(world: World, client_for: Any) -> None:
    case = dispatched_case(world)
    response = client_for(world.handler_a).post(f"/api/v1/cases/{case.pk}/return/", {}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()["fields"]


def test_handler_flow_sign_progress_resolve_with_photo(world: World, client_for: Any) -> None:
    case = dispatched_case(world)
    client = client_for(world.handler_a)
    assert client.post(f"/api/v1/cases/{case.pk}/sign/", {}, format="json").status_code == 200
    progress = client.post(
        f"/api/v1/cases/{case.pk}/progress/",
        {"note": "已到现场", "attachments": [SimpleUploadedFile("site.png", PNG, content_type="image/png")]},
        format="multipart",
    )
    assert progress.status_code == 200, progress.json()
    resolved = client.post(
        f"/api/v1/cases/{case.pk}/resolve/",
        {"result": "已清运完毕", "photos": [SimpleUploadedFile("done.png", PNG, content_type="image/png")]},
        format="multipart",
    )
    assert resolved.status_code == 200, resolved.json()
    assert resolved.json()["status"] == "resolved"
    files = client.get(f"/api/v1/cases/{case.pk}/attachments/").json()
    assert len(files) == 2
    download = client.get(files[0]["download_url"])
    assert download.status_code == 200
    assert download["X-Content-Type-Options"] == "nosniff"
    assert b"".join(download.streaming_content) == PNG


def test_attachment_download_outside_scope_is_404(world: World, client_for: Any) -> None:
    case = in_progress_case(world)
    client_for(world.handler_a).post(
        f"/api/v1/cases/{case.pk}/progress/",
        {"note": "照片", "attachments": [SimpleUploadedFile("a.png", PNG, content_type="image/png")]},
        format="multipart",
    )
    attachment_id = case.attachments.get().pk
    response = client_for(world.dispatcher_b).get(f"/api/v1/attachments/{attachment_id}/download/")
    assert response.status_code == 404


def test_timeline_lists_events_oldest_first(world: World, client_for: Any) -> None:
    case = in_progress_case(world)
    events = client_for(world.admin).get(f"/api/v1/cases/{case.pk}/timeline/").json()
    assert [e["kind"] for e in events] == ["registered", "dispatched", "signed"]
    assert events[0]["kind_label"]


def test_receive_from_110_answers_with_a_receipt(world: World, client_for: Any) -> None:
    payload = {
        "incident_number": "110-2026-0001",
        "category": "SX-06001",
        "title": "噪音扰民",
        "description": "夜间施工噪音",
        "lng": IN_A1[0],
        "lat": IN_A1[1],
    }
    client = client_for(world.operator)
    response = client.post("/api/v1/cases/receive-from-110/", payload, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["incident_number"] == "110-2026-0001"
    again = client.post("/api/v1/cases/receive-from-110/", payload, format="json")
    assert again.json()["case_id"] == response.json()["case_id"]


def test_reveal_without_the_grant_is_403_and_audited(world: World, client_for: Any) -> None:
    case = new_case(world, reporter_phone="13812345678")
    response = client_for(world.dispatcher_a).post(
        f"/api/v1/cases/{case.pk}/reveal/", {"field": "reporter_phone", "reason": "回访"}, format="json"
    )
    assert response.status_code == 403
    record = AuditRecord.objects.get(action="pii.reveal")
    assert record.success is False


def test_reveal_with_the_grant_returns_the_value_and_audits_it(world: World, client_for: Any) -> None:
    case = new_case(world, reporter_phone="13812345678")
    world.dispatcher_a.user_permissions.add(
        Permission.objects.get(codename="view_full_pii", content_type__app_label="core")
    )
    response = client_for(world.dispatcher_a).post(
        f"/api/v1/cases/{case.pk}/reveal/", {"field": "reporter_phone", "reason": "回访核实"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["value"] == "13812345678"
    record = AuditRecord.objects.get(action="pii.reveal")
    assert record.success is True
    assert record.reason == "回访核实"
