"""Routing rules (specificity, fallback), automatic dispatch, training from closed cases, CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from tests.cases.conftest import IN_A1, IN_B1, OUTSIDE, WEDNESDAY, new_case
from tests.dispatch.classifier_helpers import corpus
from tests.factories import DepartmentFactory
from tests.world import World
from yiwang.cases.choices import CaseStatus, EventKind
from yiwang.cases.models import Case, CaseEvent, Category
from yiwang.dispatch import actions
from yiwang.dispatch.classifier import ClassifierInputError, fit, reset_cache, service
from yiwang.dispatch.models import ClassifierModel, DispatchSettings, RoutingRule
from yiwang.dispatch.routing import route
from yiwang.grids import locator
from yiwang.people.models import DepartmentKind


@pytest.fixture(autouse=True)
def _fresh_caches(monkeypatch: pytest.MonkeyPatch, settings: Any, tmp_path: Path) -> Iterator[None]:
    settings.DATA_DIR = tmp_path
    monkeypatch.setattr(service, "RECHECK_SECONDS", 0.0)
    locator.reset_cache()
    reset_cache()
    yield
    reset_cache()
    locator.reset_cache()


@pytest.fixture
def child(db: None) -> Category:
    return Category.objects.filter(parent__isnull=False, parent__parent__isnull=True).order_by("code").first()


def rule(category: Category, lead: Any, area: Any = None, priority: int = 0, **kwargs: Any) -> RoutingRule:
    return RoutingRule.objects.create(category=category, lead=lead, area=area, priority=priority, **kwargs)


# --- routing -------------------------------------------------------------------------------------
def test_rule_on_the_category_itself_beats_a_rule_on_its_parent(world: World, child: Category) -> None:
    rule(child.parent, world.dept_b, priority=100)
    own = rule(child, world.dept_a)
    decision = route(child, lng=IN_A1[0], lat=IN_A1[1])
    assert decision is not None
    assert decision.rule == own
    assert decision.lead == world.dept_a


def test_parent_category_rule_covers_its_children(world: World, child: Category) -> None:
    parent_rule = rule(child.parent, world.dept_b)
    decision = route(child, grid=world.grid_a1)
    assert decision is not None
    assert decision.rule == parent_rule
    assert "上级分类" in decision.explanation


def test_smaller_area_beats_larger_area_and_anywhere(world: World, child: Category) -> None:
    rule(child, world.dept_a)
    rule(child, world.dept_a_sub, area=world.street_a, priority=-5)
    community = rule(child, world.dept_b, area=world.community_a, priority=-10)
    decision = route(child, grid=world.grid_a1)
    assert decision is not None
    assert decision.rule == community


def test_rule_for_another_street_does_not_apply(world: World, child: Category) -> None:
    rule(child, world.dept_b, area=world.street_b)
    anywhere = rule(child, world.dept_a)
    decision = route(child, grid=world.grid_a1)
    assert decision is not None
    assert decision.rule == anywhere


def test_priority_breaks_ties_between_equally_specific_rules(world: World, child: Category) -> None:
    rule(child, world.dept_a, priority=1)
    high = rule(child, world.dept_b, priority=5)
    decision = route(child, grid=world.grid_b1)
    assert decision is not None
    assert decision.rule == high


def test_inactive_rules_are_ignored_and_assisting_departments_are_returned(
    world: World, child: Category
) -> None:
    rule(child, world.dept_b, is_active=False, priority=99)
    active = rule(child, world.dept_a)
    active.assisting.add(world.dept_b, world.dept_a)
    decision = route(child, grid=world.grid_a1)
    assert decision is not None
    assert decision.rule == active
    assert decision.assisting == [world.dept_b]  # the lead is not also an assistant


def test_no_rule_falls_back_to_the_street_office(world: World, child: Category) -> None:
    office = DepartmentFactory(
        code="JD-CJL", name="长江路街道办事处", kind=DepartmentKind.STREET, division=world.street_a
    )
    decision = route(child, lng=IN_A1[0], lat=IN_A1[1])
    assert decision is not None
    assert decision.source == "fallback"
    assert decision.lead == office
    assert decision.rule is None
    assert "属地" in decision.explanation


def test_no_rule_and_no_street_office_gives_no_route(world: World, child: Category) -> None:
    assert route(child, lng=IN_B1[0], lat=IN_B1[1]) is None
    assert route(child, lng=OUTSIDE[0], lat=OUTSIDE[1]) is None


# --- automatic dispatch ------------------------------------------------------------------------
@pytest.fixture
def three(db: None) -> list[Category]:
    return list(Category.objects.filter(parent__isnull=False).order_by("code")[:3])


def activate_synthetic_model(three: list[Category]) -> None:
    labels = dict(zip(("garbage", "water", "noise"), (c.code for c in three), strict=True))
    texts, codes = corpus(labels, per_class=40)
    actions.register_model(
        fit(texts, codes),
        actor=None,
        name="t",
        source="synthetic",
        n_train=len(texts),
        label_counts={},
        activate=True,
    )


WATER_TEXT = ("幸福路水管爆裂", "水管漏水，停水一整天，自来水水压很低，供水中断。")


def test_confident_matching_case_with_a_rule_is_dispatched_through_the_case_action(
    world: World, three: list[Category]
) -> None:
    activate_synthetic_model(three)
    rule(three[1], world.dept_b).assisting.add(world.dept_a)
    case = new_case(world, category=three[1].code, title=WATER_TEXT[0], description=WATER_TEXT[1])
    actions.update_dispatch_settings(world.admin, threshold="0.6")
    decision = actions.auto_dispatch(case, world.admin, at=WEDNESDAY)
    assert decision.dispatched, decision.reason
    case.refresh_from_db()
    assert case.status == CaseStatus.DISPATCHED
    assert case.lead_department == world.dept_b
    event = CaseEvent.objects.get(case=case, kind=EventKind.DISPATCHED)
    assert "自动派单" in event.note


def test_below_threshold_only_suggests_and_writes_nothing(world: World, three: list[Category]) -> None:
    activate_synthetic_model(three)
    rule(three[1], world.dept_b)
    case = new_case(world, category=three[1].code, title=WATER_TEXT[0], description=WATER_TEXT[1])
    actions.update_dispatch_settings(world.admin, threshold="1")
    decision = actions.auto_dispatch(case, world.admin)
    assert not decision.dispatched
    assert "低于阈值" in decision.reason
    assert decision.suggestions
    assert decision.suggestions[0].code == three[1].code
    assert decision.route is not None
    assert decision.route.lead == world.dept_b
    case.refresh_from_db()
    assert case.status == CaseStatus.REGISTERED
    assert not CaseEvent.objects.filter(case=case, kind=EventKind.DISPATCHED).exists()


def test_suggestion_disagreeing_with_the_case_category_is_not_dispatched(
    world: World, three: list[Category]
) -> None:
    activate_synthetic_model(three)
    rule(three[0], world.dept_a)
    case = new_case(world, category=three[0].code, title=WATER_TEXT[0], description=WATER_TEXT[1])
    actions.update_dispatch_settings(world.admin, threshold="0.5")
    decision = actions.auto_dispatch(case, world.admin)
    assert not decision.dispatched
    assert "不一致" in decision.reason


def test_fallback_route_alone_does_not_auto_dispatch(world: World, three: list[Category]) -> None:
    activate_synthetic_model(three)
    DepartmentFactory(code="JD", name="街道办", kind=DepartmentKind.STREET, division=world.street_a)
    case = new_case(world, category=three[1].code, title=WATER_TEXT[0], description=WATER_TEXT[1])
    actions.update_dispatch_settings(world.admin, threshold="0.5")
    decision = actions.auto_dispatch(case, world.admin)
    assert not decision.dispatched
    assert decision.route is not None
    assert decision.route.source == "fallback"


def test_without_a_model_auto_dispatch_only_explains(world: World, three: list[Category]) -> None:
    case = new_case(world, category=three[1].code)
    decision = actions.auto_dispatch(case, world.admin)
    assert not decision.dispatched
    assert decision.suggestions == []


def test_threshold_is_data_with_a_default_and_validated(db: None) -> None:
    assert DispatchSettings.current().auto_dispatch_threshold == Decimal("0.9")
    with pytest.raises(actions.DispatchActionError, match=r"0\.5 到 1"):
        actions.update_dispatch_settings(None, threshold="1.5")
    with pytest.raises(actions.DispatchActionError, match="数字"):
        actions.update_dispatch_settings(None, threshold="abc")
    actions.update_dispatch_settings(None, threshold="0.75")
    assert DispatchSettings.current().auto_dispatch_threshold == Decimal("0.75")


# --- training from closed cases ----------------------------------------------------------------
def close_cases(world: World, three: list[Category], per_class: int) -> None:
    labels = dict(zip(("garbage", "water", "noise"), (c.code for c in three), strict=True))
    texts, codes = corpus(labels, per_class=per_class)
    for text, code in zip(texts, codes, strict=True):
        new_case(world, category=code, title=text[:12], description=text)
    Case.objects.update(status=CaseStatus.CLOSED)  # test set-up: the history is already closed


def test_train_command_fits_on_closed_cases_and_activates(world: World, three: list[Category]) -> None:
    close_cases(world, three, per_class=8)
    out = StringIO()
    call_command("train", "--min-per-class", "5", "--activate", stdout=out)
    row = ClassifierModel.objects.get(is_active=True)
    assert row.n_train == 24
    assert sorted(row.classes) == sorted(c.code for c in three)
    assert row.label_counts == {c.code: 8 for c in three}
    assert service.suggest_categories("水管爆裂漏水停水")[0].code == three[1].code
    assert f"model #{row.pk}" in out.getvalue()


def test_train_without_closed_cases_is_a_clear_error(world: World) -> None:
    new_case(world)
    with pytest.raises(CommandError, match="没有已结案的案件"):
        call_command("train")


def test_train_with_a_single_big_enough_category_is_a_clear_error(
    world: World, three: list[Category]
) -> None:
    close_cases(world, three, per_class=3)
    with pytest.raises(ClassifierInputError, match="至少需要 2 个"):
        actions.training_set_from_cases(min_per_class=4)


# --- command line ------------------------------------------------------------------------------
def write_csv(path: Path, rows: list[tuple[str, str]], encoding: str, header: str = "text,label") -> Path:
    body = header + "\n" + "\n".join(f'"{t}",{label}' for t, label in rows) + "\n"
    path.write_bytes(body.encode(encoding))
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_classify_evaluate_prints_one_json_object(tmp_path: Path, encoding: str) -> None:
    texts, labels = corpus({"garbage": "A", "water": "B", "noise": "C"}, per_class=20)
    train = write_csv(tmp_path / "train.csv", list(zip(texts, labels, strict=True)), encoding)
    test_texts, test_labels = corpus({"garbage": "A", "water": "B", "noise": "C"}, per_class=5, seed=3)
    test = write_csv(tmp_path / "test.csv", list(zip(test_texts, test_labels, strict=True)), encoding)
    out = StringIO()
    call_command("classify", "evaluate", "--train", str(train), "--test", str(test), stdout=out)
    result = json.loads(out.getvalue())
    assert {"macro_f1", "accuracy", "n_train", "n_test", "train_seconds", "predict_per_second"} <= set(result)
    assert result["n_train"] == 60
    assert result["n_test"] == 15
    assert result["macro_f1"] > 0.9


def test_classify_evaluate_cross_validation_with_a_fallback_text_column(tmp_path: Path) -> None:
    texts, labels = corpus({"garbage": "A", "water": "B"}, per_class=15)
    rows = "\n".join(
        f'"{t if i % 2 else ""}","{" ".join(t)}",{label}'
        for i, (t, label) in enumerate(zip(texts, labels, strict=True))
    )
    path = tmp_path / "cv.csv"
    path.write_text("raw,tokens,cls\n" + rows + "\n", encoding="utf-8")
    out = StringIO()
    call_command(
        "classify",
        "evaluate",
        "--train",
        str(path),
        "--cv",
        "3",
        "--text-column",
        "raw",
        "--fallback-text-column",
        "tokens",
        "--label-column",
        "cls",
        stdout=out,
    )
    result = json.loads(out.getvalue())
    assert len(result["folds"]) == 3
    assert result["n_train"] == 20
    assert result["macro_f1"] > 0.8


def test_classify_evaluate_names_a_missing_column(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "x.csv", [("垃圾", "A")], "utf-8", header="body,label")
    with pytest.raises(CommandError, match="缺少列 text"):
        call_command("classify", "evaluate", "--train", str(path), "--cv", "2")


def test_route_command_shows_category_and_departments(world: World, three: list[Category]) -> None:
    activate_synthetic_model(three)
    rule(three[1], world.dept_b)
    out = StringIO()
    call_command(
        "route", "--text", "水管爆裂漏水停水", "--lng", str(IN_A1[0]), "--lat", str(IN_A1[1]), stdout=out
    )
    text = out.getvalue()
    assert three[1].code in text
    assert "主办: 水务集团" in text
    assert "社区A1" in text


def test_admin_preview_shows_the_routed_department(world: World, three: list[Category], client: Any) -> None:
    from django.contrib.auth import get_user_model

    activate_synthetic_model(three)
    rule(three[1], world.dept_b)
    boss = get_user_model().objects.create_superuser("boss", "boss@example.org", "Yiwang-test-pass-2026")
    client.force_login(boss)
    response = client.post(
        "/admin/dispatch/routingrule/preview/",
        {"text": "水管爆裂漏水停水", "lng": IN_A1[0], "lat": IN_A1[1], "category": ""},
    )
    assert response.status_code == 200
    assert "水务集团" in response.content.decode()
