"""``create_case(attributes=…)``: answers checked against the category's CategoryAttribute rows."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.open311.conftest import ATTR_CODE, IN_A1, PLAIN_CODE
from tests.world import World
from yiwang.cases import actions
from yiwang.cases.errors import InvalidCaseInput
from yiwang.cases.models import Case, Category

pytestmark = pytest.mark.django_db


def register(world: World, category: str = ATTR_CODE, **attributes: list[str]) -> Case:
    fields: dict[str, Any] = {
        "actor": world.operator,
        "channel": "hotline_12345",
        "category": category,
        "title": "井盖缺失",
        "description": "路口井盖缺失",
        "lng": IN_A1[0],
        "lat": IN_A1[1],
        "attributes": attributes,
    }
    return actions.create_case(**fields)


def test_valid_answers_are_stored_normalised(world: World, attributes: Category) -> None:
    case = register(
        world,
        STATE=["missing"],
        HAZARDS=["kids", "traffic", "kids"],
        DEPTH=[" 3 "],
        SEEN_AT=["2026-11-20"],
        PLACE=["东门"],
        DETAIL=["第一行\n第二行"],
    )
    assert case.attributes == {
        "STATE": "missing",
        "HAZARDS": ["kids", "traffic"],
        "DEPTH": "3",
        "SEEN_AT": "2026-11-20",
        "PLACE": "东门",
        "DETAIL": "第一行\n第二行",
    }


def test_a_category_without_attributes_takes_none(world: World) -> None:
    assert register(world, PLAIN_CODE).attributes == {}


def test_unknown_codes_are_refused_by_create_case(world: World, attributes: Category) -> None:
    with pytest.raises(InvalidCaseInput) as caught:
        register(world, STATE=["missing"], COLOR=["red"])
    assert caught.value.field == "attribute[COLOR]"
    assert "COLOR" in caught.value.zh
    assert "COLOR" in caught.value.en
    assert Case.objects.count() == 0


def test_informational_attributes_take_no_answer(world: World, attributes: Category) -> None:
    with pytest.raises(InvalidCaseInput):
        register(world, STATE=["missing"], SAFETY=["ok"])


def test_missing_required_answer_is_refused_in_both_languages(world: World, attributes: Category) -> None:
    with pytest.raises(InvalidCaseInput) as caught:
        register(world)
    assert "必填" in caught.value.zh
    assert "required" in caught.value.en
    assert Case.objects.count() == 0


def test_list_keys_with_malformed_values_are_skipped(world: World, attributes: Category) -> None:
    attributes.attributes.filter(code="STATE").update(values=[{"key": "missing"}, "junk", {"name": "x"}])
    assert register(world, STATE=["missing"]).attributes == {"STATE": "missing"}
