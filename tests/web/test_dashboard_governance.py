"""The dashboard's 共建共治 table: each module's figures over what the user may see, only for the
modules whose pages the user can open, and the same rows in the Excel export."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from tests.world import World
from yiwang.governance.deliberation import actions as deliberation
from yiwang.people.models import User
from yiwang.web.periods import parse_period
from yiwang.web.views.governance_summary import governance_rows

pytestmark = pytest.mark.django_db


def _figures(user: User) -> dict[tuple[str, str], object]:
    period = parse_period({})
    rows, _links = governance_rows(user, period.start, period.end)
    return {(module, label): value for module, label, value in rows}


def test_a_leader_sees_every_module_and_a_new_topic_counts(world: World) -> None:
    before = _figures(world.leader)
    assert {module for module, _label in before} == {
        "村民议事",
        "矛盾调解",
        "攻坚项目",
        "政企直通车",
        "专项治理",
    }
    deliberation.submit_topic(actor=None, title="小区停车位规划", community=world.community_a)
    after = _figures(world.leader)
    assert after[("村民议事", "议题（全部）")] == before[("村民议事", "议题（全部）")] + 1


def test_a_dispatcher_sees_only_the_modules_of_their_pages(world: World) -> None:
    assert {module for module, _label in _figures(world.dispatcher_a)} == {"政企直通车", "专项治理"}
    assert {module for module, _label in _figures(world.handler_a)} == {"攻坚项目", "政企直通车"}


def test_the_export_has_the_governance_sheet_with_the_page_rows(
    world: World, client_for: Callable[[User], Client]
) -> None:
    deliberation.submit_topic(actor=None, title="村口路灯", community=world.community_a)
    client = client_for(world.leader)
    page = client.get(reverse("web:dashboard")).content.decode()
    assert "共建共治" in page
    assert reverse("web:deliberation:index") in page
    book = load_workbook(io.BytesIO(client.get(reverse("web:dashboard_export")).content))
    rows = list(book["共建共治"].iter_rows(values_only=True))
    assert rows[0] == ("模块", "指标", "数值")
    assert ("村民议事", "议题（全部）", 1) in rows
