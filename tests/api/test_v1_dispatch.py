"""The smart-dispatch endpoints: suggestions for intake and the queue, automatic dispatch, hotspots."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from tests.cases.conftest import IN_A1, new_case
from tests.dispatch.test_routing import WATER_TEXT, activate_synthetic_model, rule
from tests.world import World
from yiwang.cases.models import Case, Category
from yiwang.dispatch import actions
from yiwang.dispatch.classifier import reset_cache, service
from yiwang.dispatch.duplicates import clear_profile_cache


@pytest.fixture(autouse=True)
def _fresh_models(monkeypatch: pytest.MonkeyPatch, settings: Any, tmp_path: Path) -> Iterator[None]:
    settings.DATA_DIR = tmp_path
    monkeypatch.setattr(service, "RECHECK_SECONDS", 0.0)
    reset_cache()
    clear_profile_cache()
    yield
    reset_cache()


@pytest.fixture
def three(db: None) -> list[Category]:
    return list(Category.objects.filter(parent__isnull=False).order_by("code")[:3])


def suggest(client: Any, **body: Any) -> Any:
    return client.post("/api/v1/dispatch/suggest/", body, format="json")


def test_suggest_without_a_model_answers_empty_lists_not_an_error(world: World, client_for: Any) -> None:
    response = suggest(client_for(world.operator), text="小区门口垃圾没人清运", lng=IN_A1[0], lat=IN_A1[1])
    assert response.status_code == 200
    body = response.json()
    assert body["categories"] == []
    assert body["route"] is None


def test_suggest_gives_category_route_and_duplicates(
    world: World, client_for: Any, three: list[Category]
) -> None:
    activate_synthetic_model(three)
    rule(three[1], world.dept_b)
    existing = new_case(
        world, category=three[1].code, title=WATER_TEXT[0], description=WATER_TEXT[1], at=timezone.now()
    )
    response = suggest(client_for(world.dispatcher_a), text=" ".join(WATER_TEXT), lng=IN_A1[0], lat=IN_A1[1])
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["categories"][0]["code"] == three[1].code
    assert 0 < body["categories"][0]["confidence"] <= 1
    assert body["route"]["lead"]["id"] == world.dept_b.pk
    assert body["route"]["rule"] == "rule"
    assert [d["case_id"] for d in body["duplicates"]] == [existing.pk]


def test_suggested_duplicates_respect_the_users_scope(
    world: World, client_for: Any, three: list[Category]
) -> None:
    new_case(world, category=three[1].code, title=WATER_TEXT[0], description=WATER_TEXT[1], at=timezone.now())
    text, (lng, lat) = " ".join(WATER_TEXT), IN_A1
    assert suggest(client_for(world.dispatcher_a), text=text, lng=lng, lat=lat).json()["duplicates"]
    body = suggest(
        client_for(world.dispatcher_b), text=" ".join(WATER_TEXT), lng=IN_A1[0], lat=IN_A1[1]
    ).json()
    assert body["duplicates"] == []


@pytest.mark.parametrize("text", ["", "   ", "！" * 4000, "hello 世界 ok"])
def test_suggest_with_meaningless_text_answers_and_does_not_crash(
    world: World, client_for: Any, text: str
) -> None:
    response = suggest(client_for(world.operator), text=text)
    assert response.status_code == 200
    assert response.json()["duplicates"] == []


def test_suggest_rejects_wrong_types(world: World, client_for: Any) -> None:
    response = suggest(client_for(world.operator), text="x", lng="east")
    assert response.status_code == 400
    assert "lng" in response.json()["fields"]


def test_auto_dispatch_endpoint_dispatches_through_the_case_action(
    world: World, client_for: Any, three: list[Category]
) -> None:
    activate_synthetic_model(three)
    rule(three[1], world.dept_b)
    actions.update_dispatch_settings(world.admin, threshold="0.6")
    case = new_case(world, category=three[1].code, title=WATER_TEXT[0], description=WATER_TEXT[1])
    response = client_for(world.dispatcher_a).post(f"/api/v1/cases/{case.pk}/auto-dispatch/")
    assert response.status_code == 200
    assert response.json()["dispatched"] is True, response.json()
    assert Case.objects.get(pk=case.pk).status == "dispatched"


def test_auto_dispatch_without_a_model_explains_and_writes_nothing(world: World, client_for: Any) -> None:
    case = new_case(world)
    response = client_for(world.dispatcher_a).post(f"/api/v1/cases/{case.pk}/auto-dispatch/")
    assert response.status_code == 200
    assert response.json()["dispatched"] is False
    assert response.json()["reason"]
    assert Case.objects.get(pk=case.pk).status == "registered"


def test_auto_dispatch_outside_scope_is_404(world: World, client_for: Any) -> None:
    case = new_case(world)
    assert client_for(world.dispatcher_b).post(f"/api/v1/cases/{case.pk}/auto-dispatch/").status_code == 404


def test_hotspots_group_repeated_reports_in_scope(world: World, client_for: Any) -> None:
    now = timezone.now()
    for i in range(3):
        new_case(
            world,
            title="幸福小区夜间施工噪音扰民",
            description=f"幸福小区旁工地夜间施工噪音很大，影响休息（第{i + 1}次反映）",
            at=now,
        )
    response = client_for(world.dispatcher_a).get("/api/v1/dispatch/hotspots/?top=5")
    assert response.status_code == 200
    spots = response.json()
    assert spots
    assert len(spots[0]["case_numbers"]) == 3
    assert client_for(world.dispatcher_b).get("/api/v1/dispatch/hotspots/").json() == []
    assert client_for(world.dispatcher_a).get("/api/v1/dispatch/hotspots/?top=0").status_code == 400
