"""The finance bureau's figures on a small history computed by hand (work hours 08:30–12:00, 13:30–17:30)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.governance.enterprise.conftest import Channel, financing
from yiwang.core.calendar import TZ
from yiwang.governance.enterprise import actions
from yiwang.governance.enterprise.stats import demand_stats


def _at(day: str, clock: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=TZ)


@pytest.fixture
def history(channel: Channel) -> Channel:
    admin, banker = channel.world.admin, channel.banker
    # D1: 100 万, routed Mon 09:30, accepted 10:30 (1 work hour), 80 万 granted.
    d1 = financing(channel.user_a, amount_requested="1000000", at=_at("2026-03-02", "09:00"))
    actions.route_demand(
        d1.pk, actor=admin, department=channel.bank.department, at=_at("2026-03-02", "09:30")
    )
    actions.accept_demand(d1.pk, actor=banker, at=_at("2026-03-02", "10:30"))
    actions.conclude_demand(d1.pk, actor=banker, amount_granted="800000", at=_at("2026-03-04", "10:00"))
    # D2: 200 万, routed Tue 09:00, accepted 16:30 (3 + 3 work hours), nothing granted.
    d2 = financing(channel.user_a, amount_requested="2000000", at=_at("2026-03-03", "08:40"))
    actions.route_demand(
        d2.pk, actor=admin, department=channel.bank.department, at=_at("2026-03-03", "09:00")
    )
    actions.accept_demand(d2.pk, actor=banker, at=_at("2026-03-03", "16:30"))
    actions.conclude_demand(
        d2.pk, actor=banker, amount_granted="0", note="抵押不足", at=_at("2026-03-05", "10:00")
    )
    # D3: 50 万, routed to bank 2 in April, never answered (late by June).
    d3 = financing(channel.user_b, amount_requested="500000", at=_at("2026-04-01", "09:00"))
    actions.route_demand(
        d3.pk, actor=admin, department=channel.bank2.department, at=_at("2026-04-01", "09:00")
    )
    # D4: a policy question, not routed. D5: withdrawn (not counted).
    actions.file_demand(
        actor=channel.user_a, kind="policy", description="政策咨询", at=_at("2026-04-02", "09:00")
    )
    d5 = financing(channel.user_b, amount_requested="300000", at=_at("2026-04-03", "09:00"))
    actions.withdraw_demand(d5.pk, actor=admin, reason="重复提交", at=_at("2026-04-03", "10:00"))
    return channel


def test_totals_match_the_hand_computed_figures(history: Channel) -> None:
    stats = demand_stats(history.world.leader, now=_at("2026-06-01", "09:00"))
    t = stats.total
    assert (t.demands, t.financing, t.concluded, t.granted_count) == (4, 3, 2, 1)
    assert t.requested == Decimal("3500000")
    assert t.granted == Decimal("800000")
    assert t.grant_rate == pytest.approx(0.5)
    assert t.amount_rate == pytest.approx(800000 / 3000000)
    assert t.response_hours == pytest.approx([1.0, 6.0])
    assert t.median_response_hours == pytest.approx(3.5)
    assert t.mean_response_hours == pytest.approx(3.5)
    assert t.late == 1


def test_rows_by_institution_and_by_month(history: Channel) -> None:
    stats = demand_stats(history.world.leader, now=_at("2026-06-01", "09:00"))
    by_inst = {r.label: (r.demands, r.granted, r.late) for r in stats.by_institution}
    assert by_inst == {
        "工商银行西海岸支行": (2, Decimal("800000"), 0),
        "青岛银行西海岸支行": (1, Decimal("0"), 1),
        "未派发": (1, Decimal("0"), 0),
    }
    assert [(r.label, r.demands) for r in stats.by_month] == [("2026-03", 2), ("2026-04", 2)]


def test_a_period_filter_and_the_scope_narrow_the_figures(history: Channel) -> None:
    march = demand_stats(history.world.leader, start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 31))
    assert march.total.demands == 2
    own = demand_stats(history.user_b, now=_at("2026-06-01", "09:00"))
    assert own.total.demands == 1  # enterprise B: D3 only (D5 withdrawn)
    assert demand_stats(history.world.outsider).total.demands == 0


def test_as_dict_is_json_ready(history: Channel) -> None:
    data = demand_stats(history.world.leader, now=_at("2026-06-01", "09:00")).as_dict()
    assert data["total"]["grant_rate"] == 0.5
    assert data["total"]["requested"] == "3500000.00"
