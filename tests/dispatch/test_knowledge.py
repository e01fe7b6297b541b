"""Knowledge base: answers given to similar past questions, for the hotline operator."""

from __future__ import annotations

import datetime as dt
import io
import json
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tests.world import World
from yiwang.cases import actions
from yiwang.cases.models import Case
from yiwang.dispatch.knowledge import KnowledgeEntry, KnowledgeIndex, reset_cache, similar_answers
from yiwang.grids import locator

TZ = ZoneInfo("Asia/Shanghai")
AT = dt.datetime(2026, 3, 11, 10, 0, tzinfo=TZ)


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    locator.reset_cache()
    reset_cache()
    yield
    locator.reset_cache()
    reset_cache()


def answered(world: World, title: str, description: str, answer: str) -> Case:
    case = actions.create_case(
        actor=world.operator,
        channel="hotline_12345",
        category="SX-06001",
        title=title,
        description=description,
        lng=120.005,
        lat=35.905,
        at=AT,
    )
    return actions.answer_directly(case.pk, actor=world.operator, answer=answer)


@pytest.fixture
def knowledge(world: World) -> dict[str, Case]:
    return {
        "insurance": answered(
            world,
            "新生儿医保怎么办理",
            "孩子刚出生，想问新生儿医保在哪里办理，需要什么材料？",
            "新生儿可在出生后三个月内凭出生医学证明和户口簿到社区服务中心办理居民医保参保。",
        ),
        "card": answered(
            world,
            "社保卡丢了如何补办",
            "社保卡不慎丢失，请问怎么挂失补办？",
            "可拨打社保服务热线挂失，再携带身份证到合作银行网点补办社保卡。",
        ),
        "parking": answered(
            world,
            "小区停车收费标准咨询",
            "想了解住宅小区停车位收费标准由谁制定。",
            "住宅小区停车收费实行市场调节价，由业主大会与物业协商确定。",
        ),
    }


def test_the_most_similar_past_question_comes_first(knowledge: dict[str, Case]) -> None:
    answers = similar_answers("刚生了宝宝，新生儿医保去哪办理？")
    assert answers[0].case_id == knowledge["insurance"].pk
    assert "出生医学证明" in answers[0].answer
    assert answers[0].score > (answers[1].score if len(answers) > 1 else 0)


def test_limit_and_empty_questions(knowledge: dict[str, Case]) -> None:
    assert len(similar_answers("社保卡补办", limit=1)) == 1
    assert similar_answers("   ") == []
    assert similar_answers("社保卡补办", limit=0) == []


def test_only_cases_visible_to_the_user_are_suggested(world: World, knowledge: dict[str, Case]) -> None:
    assert similar_answers("社保卡丢了怎么补办", user=world.outsider) == []
    found = similar_answers("社保卡丢了怎么补办", user=world.operator)
    assert found
    assert found[0].case_id == knowledge["card"].pk


def test_open_cases_are_not_knowledge(world: World) -> None:
    actions.create_case(
        actor=world.operator,
        channel="hotline_12345",
        category="SX-06001",
        title="社保卡丢了如何补办",
        description="社保卡不慎丢失。",
        lng=120.005,
        lat=35.905,
        at=AT,
    )
    assert similar_answers("社保卡丢了怎么补办") == []


def test_newly_closed_cases_are_found_without_a_restart(world: World, knowledge: dict[str, Case]) -> None:
    similar_answers("公积金贷款额度怎么算")  # builds (and caches) the index before the new case
    new = answered(world, "公积金贷款额度怎么计算", "想知道公积金贷款额度。", "额度按缴存余额的倍数计算。")
    assert similar_answers("公积金贷款额度怎么算")[0].case_id == new.pk


def test_index_on_plain_entries_ranks_the_matching_entry_first() -> None:
    index = KnowledgeIndex(
        [
            KnowledgeEntry(
                key="1", title="路灯不亮找谁修", question="小区路灯坏了", answer="请联系城管部门。"
            ),
            KnowledgeEntry(
                key="2", title="孩子入学需要什么材料", question="小学报名", answer="户口簿和房产证明。"
            ),
        ]
    )
    assert index.search("小学入学要准备哪些材料", limit=1)[0][0].key == "2"
    assert KnowledgeIndex([]).search("任何问题") == []


def test_cli_ask_prints_answers(knowledge: dict[str, Case]) -> None:
    out = io.StringIO()
    call_command("knowledge", "ask", "新生儿医保怎么办", "--json", stdout=out)
    rows = json.loads(out.getvalue())
    assert rows[0]["number"] == knowledge["insurance"].number
    text = io.StringIO()
    call_command("knowledge", "ask", "新生儿医保怎么办", stdout=text)
    assert knowledge["insurance"].number in text.getvalue()
    with pytest.raises(CommandError):
        call_command("knowledge", "ask", "  ", stdout=io.StringIO())
