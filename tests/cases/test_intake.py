"""Intake: numbers, location, limits, idempotency, 110 hand-overs and bad input."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.base import ContentFile

from tests.cases.conftest import IN_A1, IN_B1, OUTSIDE, TZ, WEDNESDAY, new_case
from tests.world import World
from yiwang.cases import actions
from yiwang.cases.choices import CaseStatus, Channel, EventKind
from yiwang.cases.errors import ActionForbidden, InvalidCaseInput
from yiwang.cases.models import Attachment, Case, CaseEvent

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def nothing_written() -> None:
    assert Case.objects.count() == 0
    assert CaseEvent.objects.count() == 0
    assert Attachment.objects.count() == 0


def test_create_case_locates_numbers_and_records_the_registration(world: World) -> None:
    case = new_case(world)
    assert case.status == CaseStatus.REGISTERED
    assert case.number == "2603110001"
    assert (case.grid_id, case.community_id, case.street_id, case.district_id) == (
        world.grid_a1.pk,
        world.community_a.pk,
        world.street_a.pk,
        world.district.pk,
    )
    assert case.accept_limit is not None
    assert case.resolve_limit is not None
    event = CaseEvent.objects.get(case=case)
    assert (event.kind, event.actor, event.from_status, event.to_status) == (
        EventKind.REGISTERED,
        world.operator,
        "",
        CaseStatus.REGISTERED,
    )
    assert event.at == WEDNESDAY


def test_numbers_follow_a_daily_sequence(world: World) -> None:
    first = new_case(world)
    second = new_case(world)
    next_day = new_case(world, at=WEDNESDAY + dt.timedelta(days=1))
    assert (first.number, second.number, next_day.number) == ("2603110001", "2603110002", "2603120001")


def test_number_uses_the_beijing_day(world: World) -> None:
    # 23:30 UTC on the 10th is 07:30 on the 11th in Beijing.
    case = new_case(world, at=dt.datetime(2026, 3, 10, 23, 30, tzinfo=dt.UTC))
    assert case.number.startswith("260311")


def test_retry_with_the_same_idempotency_key_returns_the_same_case(world: World) -> None:
    first = new_case(world, idempotency_key="call-42")
    again = new_case(world, idempotency_key="call-42", title="重复提交")
    assert again.pk == first.pk
    assert Case.objects.count() == 1
    assert CaseEvent.objects.count() == 1


def test_idempotency_key_of_another_user_is_refused(world: World) -> None:
    new_case(world, idempotency_key="call-42")
    with pytest.raises(InvalidCaseInput):
        new_case(world, actor=world.dispatcher_a, idempotency_key="call-42")
    assert Case.objects.count() == 1


def test_point_near_a_grid_takes_the_nearest_grid(world: World) -> None:
    case = new_case(world, point=(120.0201, 35.905))  # ~10 m east of grid_a2
    assert case.grid_id == world.grid_a2.pk


def test_gcj02_input_is_stored_as_wgs84(world: World) -> None:
    from yiwang.core.coords import from_wgs84

    lng, lat = from_wgs84(*IN_B1, "gcj02")
    case = new_case(world, point=(lng, lat), crs="gcj02")
    assert case.grid_id == world.grid_b1.pk
    assert case.lng == pytest.approx(IN_B1[0], abs=1e-5)


def test_case_without_location_belongs_to_the_district(world: World) -> None:
    case = new_case(world, point=(None, None))  # type: ignore[arg-type]
    assert case.grid_id is None
    assert case.district_id == world.district.pk


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"category": "XX-99999"}, "category"),
        ({"lng": OUTSIDE[0], "lat": OUTSIDE[1]}, "location"),
        ({"lng": -70.0, "lat": 40.0}, "location"),
        ({"description": "字" * 4001}, "description"),
        ({"description": "   "}, "description"),
        ({"title": ""}, "title"),
        ({"urgency": "whenever"}, "urgency"),
        ({"channel": "pigeon"}, "channel"),
        ({"attachments": [ContentFile(b"MZ\x90\x00 not an image", name="photo.jpg")]}, "attachments"),
    ],
)
def test_bad_input_is_refused_with_a_bilingual_message_and_nothing_written(
    world: World, change: dict, field: str
) -> None:
    with pytest.raises(InvalidCaseInput) as exc:
        new_case(world, **change)
    assert exc.value.field == field
    assert exc.value.zh
    assert exc.value.en
    assert exc.value.zh != exc.value.en
    nothing_written()


def test_description_of_exactly_4000_characters_is_accepted(world: World) -> None:
    assert len(new_case(world, description="字" * 4000).description) == 4000


def test_oversized_attachment_is_refused(world: World, settings) -> None:
    settings.YIWANG_ATTACHMENT_MAX_BYTES = 32
    with pytest.raises(InvalidCaseInput) as exc:
        new_case(world, attachments=[ContentFile(PNG, name="a.png")])
    assert "过大" in exc.value.zh
    nothing_written()


def test_attachments_are_typed_by_their_bytes_not_their_name(world: World, settings, tmp_path) -> None:
    settings.MEDIA_ROOT = str(tmp_path)
    case = new_case(world, attachments=[ContentFile(JPEG, name="scan.pdf"), ContentFile(PNG, name="b.png")])
    types = sorted(case.attachments.values_list("content_type", flat=True))
    assert types == ["image/jpeg", "image/png"]
    att = case.attachments.first()
    assert att is not None
    assert att.event is not None
    assert att.event.kind == EventKind.REGISTERED
    assert att.size == len(att.file.read())


@pytest.mark.parametrize("persona", ["leader", "handler_a", "outsider"])
def test_roles_without_intake_may_not_register(world: World, persona: str) -> None:
    with pytest.raises(ActionForbidden):
        new_case(world, actor=getattr(world, persona))
    nothing_written()


def test_grid_worker_reports_from_patrol(world: World) -> None:
    case = new_case(world, actor=world.grid_worker_a1, channel=Channel.GRID_PATROL)
    assert case.created_by == world.grid_worker_a1


def test_public_channel_may_register_without_a_staff_actor(world: World) -> None:
    case = new_case(world, actor=None, channel=Channel.OPEN311)
    assert case.created_by is None
    assert case.events.get().actor is None


def test_staff_channel_needs_a_staff_actor(world: World) -> None:
    with pytest.raises(ActionForbidden):
        new_case(world, actor=None, channel=Channel.HOTLINE_12345)
    nothing_written()


def test_confidential_category_makes_the_case_confidential(world: World) -> None:
    case = new_case(world, category="DM-JB-0101")
    assert case.is_confidential
    assert case.demand_kind == "report"


def test_receive_from_110_registers_the_hand_over_and_returns_a_receipt(world: World) -> None:
    receipt = actions.receive_from_110(
        actor=world.operator,
        incident_number="110-20260311-0099",
        category="DM-QZ-0101",
        title="邻里噪音纠纷",
        description="110转来的非警务求助。",
        lng=IN_A1[0],
        lat=IN_A1[1],
        at=WEDNESDAY,
    )
    case = Case.objects.get(pk=receipt.case_id)
    assert receipt.case_number == case.number
    assert receipt.incident_number == "110-20260311-0099"
    assert (case.channel, case.external_ref) == (Channel.POLICE_110, "110-20260311-0099")
    assert case.events.get().kind == EventKind.RECEIVED_FROM_110
    again = actions.receive_from_110(
        actor=world.operator,
        incident_number="110-20260311-0099",
        category="DM-QZ-0101",
        title="邻里噪音纠纷",
        description="重发",
        at=WEDNESDAY,
    )
    assert again.case_id == receipt.case_id
    assert Case.objects.count() == 1


def test_receive_from_110_needs_the_incident_number(world: World) -> None:
    with pytest.raises(InvalidCaseInput):
        actions.receive_from_110(
            actor=world.operator, incident_number=" ", category="DM-QZ-0101", title="t", description="d"
        )
    nothing_written()


def test_backfilled_intake_keeps_its_moment(world: World) -> None:
    then = dt.datetime(2025, 12, 1, 9, 0, tzinfo=TZ)
    case = new_case(world, at=then)
    assert case.created_at == then
    assert case.number.startswith("251201")


def test_description_not_a_file_like_object(world: World) -> None:
    # Defensive: a stream is not text.
    with pytest.raises((InvalidCaseInput, AttributeError, TypeError)):
        new_case(world, description=io.BytesIO(b"x"))  # type: ignore[arg-type]
