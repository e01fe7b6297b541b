"""Red / yellow / green on a fixed clock (Monday 2026-03-02): rules are data, days are working days."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.governance.projects.conftest import TODAY, ProjectWorld
from yiwang.core.calendar import WorkCalendar, get_calendar
from yiwang.core.models import DEFAULT_WORK_PERIODS, parse_periods
from yiwang.governance.projects import actions
from yiwang.governance.projects.models import Colour, ColourRule, Node
from yiwang.governance.projects.status import Rule, active_rule, node_colour, project_colour


def _node(pw: ProjectWorld, deadline: dt.date, current: str = "0", target: str = "100") -> Node:
    return actions.add_node(
        pw.world.leader,
        pw.project,
        name="测试节点",
        deadline=deadline,
        target_value=target,
        current_value=current,
        responsible=pw.world.handler_a,
        responsible_department=pw.world.dept_a,
    )


@pytest.mark.parametrize(
    ("deadline", "current", "colour"),
    [
        (dt.date(2026, 3, 31), "0", Colour.GREEN),  # 21 working days left
        (dt.date(2026, 3, 6), "0", Colour.YELLOW),  # Tue–Fri: 4 working days left, 0 %
        (dt.date(2026, 3, 6), "79.9", Colour.YELLOW),  # just below 80 %
        (dt.date(2026, 3, 6), "80", Colour.GREEN),  # at the threshold
        (dt.date(2026, 3, 9), "0", Colour.YELLOW),  # Tue–Fri + Mon: exactly 5
        (dt.date(2026, 3, 10), "0", Colour.GREEN),  # 6 working days left
        (dt.date(2026, 3, 2), "50", Colour.YELLOW),  # due today, not overdue yet
        (dt.date(2026, 2, 27), "99", Colour.RED),  # deadline passed
    ],
)
def test_node_colour_follows_deadline_and_progress(
    pw: ProjectWorld, deadline: dt.date, current: str, colour: Colour
) -> None:
    node = _node(pw, deadline, current)
    assert node_colour(node, TODAY, active_rule(), get_calendar()) == colour


def test_done_node_is_green_even_after_its_deadline(pw: ProjectWorld) -> None:
    node = _node(pw, dt.date(2026, 2, 27))
    actions.start_node(pw.world.leader, node)
    node = actions.complete_node(pw.world.leader, node)
    assert node_colour(node, TODAY, active_rule(), get_calendar()) == Colour.GREEN


def test_the_rule_is_data(pw: ProjectWorld) -> None:
    node = _node(pw, dt.date(2026, 3, 6))
    ColourRule.objects.update(yellow_workdays=2)
    assert active_rule() == Rule(2, Decimal("80.00"))
    assert node_colour(node, TODAY, active_rule(), get_calendar()) == Colour.GREEN


def test_defaults_apply_when_no_rule_is_active(pw: ProjectWorld) -> None:
    ColourRule.objects.update(is_active=False)
    assert active_rule() == Rule()


def test_holidays_are_not_working_days(pw: ProjectWorld) -> None:
    node = _node(pw, dt.date(2026, 3, 10))  # 6 working days left on a normal week
    with_holiday = WorkCalendar({dt.date(2026, 3, 4): False}, parse_periods(DEFAULT_WORK_PERIODS))
    assert node_colour(node, TODAY, Rule(), get_calendar()) == Colour.GREEN
    assert node_colour(node, TODAY, Rule(), with_holiday) == Colour.YELLOW


def test_project_takes_the_worst_colour_of_its_nodes(pw: ProjectWorld) -> None:
    assert project_colour(pw.project) == Colour.GREEN
    _node(pw, dt.date(2026, 3, 6))
    assert project_colour(pw.project) == Colour.YELLOW
    _node(pw, dt.date(2026, 2, 27))
    assert project_colour(pw.project) == Colour.RED


def test_draft_project_has_no_colour_and_completed_is_green(pw: ProjectWorld) -> None:
    draft = actions.create_project(
        pw.world.leader,
        name="草稿项目",
        division=pw.world.street_a,
        owner=pw.world.handler_a,
        owner_department=pw.world.dept_a,
        start_date=dt.date(2026, 1, 1),
        end_date=dt.date(2026, 2, 1),
    )
    assert project_colour(draft) is None
    for node in (pw.node1, pw.node2):
        actions.start_node(pw.world.leader, node)
        actions.complete_node(pw.world.leader, node)
    actions.complete_project(pw.world.leader, pw.project)
    pw.project.refresh_from_db()
    assert project_colour(pw.project) == Colour.GREEN


def test_progress_is_capped_and_shown_in_percent(pw: ProjectWorld) -> None:
    node = _node(pw, dt.date(2026, 3, 31), current="30", target="12")
    assert node.progress == Decimal("100")
    assert pw.node2.progress == Decimal("0")
