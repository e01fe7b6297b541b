"""Who sees which demand (outside scope: absent, 404) and bad input refused with nothing written."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.governance.enterprise.conftest import Channel, at_stage, credit_code, financing
from yiwang.cases.errors import CaseNotFound, InvalidCaseInput
from yiwang.cases.models import Case
from yiwang.governance.enterprise import actions
from yiwang.governance.enterprise.models import Demand, Enterprise, Matching


def _ids(user: object) -> set[int]:
    return set(Demand.objects.visible_to(user).values_list("pk", flat=True))


def test_each_role_sees_exactly_its_demands(channel: Channel) -> None:
    a = at_stage(channel, "routed")
    b = financing(channel.user_b)
    w = channel.world
    assert _ids(channel.user_a) == {a.pk}
    assert _ids(channel.user_b) == {b.pk}
    assert _ids(channel.counsellor) == {a.pk}  # assigned to enterprise A only
    assert _ids(channel.banker) == {a.pk}  # routed to the bank
    assert _ids(channel.banker2) == set()
    assert _ids(w.dispatcher_a) == {a.pk}
    assert _ids(w.dispatcher_b) == {b.pk}
    assert _ids(w.leader) == {a.pk, b.pk}
    assert _ids(w.operator) == set()
    assert _ids(w.handler_a) == set()
    assert _ids(w.outsider) == set()


def test_enterprise_a_cannot_act_on_or_file_for_enterprise_b(channel: Channel) -> None:
    b = financing(channel.user_b)
    with pytest.raises(CaseNotFound):
        actions.record_visit(b.pk, actor=channel.user_a, note="看看")
    with pytest.raises(CaseNotFound):
        financing(channel.user_a, enterprise_id=channel.ent_b.pk)


def test_enterprises_are_scoped_like_their_demands(channel: Channel) -> None:
    assert set(Enterprise.objects.visible_to(channel.user_a)) == {channel.ent_a}
    assert set(Enterprise.objects.visible_to(channel.counsellor)) == {channel.ent_a}
    assert set(Enterprise.objects.visible_to(channel.world.dispatcher_b)) == {channel.ent_b}
    assert set(Enterprise.objects.visible_to(channel.world.outsider)) == set()


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("-100", "负"),
        ("0", "大于零"),
        ("1000000000.01", "超出上限"),
        ("5e12", "超出上限"),
        ("abc", "不是有效数字"),
        ("12.345", "两位小数"),
        ("", "不能为空"),
        ("NaN", "不是有效数字"),
    ],
)
def test_a_bad_amount_is_refused_and_nothing_is_written(channel: Channel, amount: str, words: str) -> None:
    cases, demands = Case.objects.count(), Demand.objects.count()
    with pytest.raises(InvalidCaseInput) as info:
        financing(channel.user_a, amount_requested=amount)
    assert info.value.field == "amount_requested"
    assert words in info.value.zh or (words == "负" and "大于零" in info.value.zh)
    assert info.value.en
    assert (Case.objects.count(), Demand.objects.count()) == (cases, demands)


def test_the_ceiling_itself_is_accepted(channel: Channel) -> None:
    demand = financing(channel.user_a, amount_requested="1000000000")
    assert demand.amount_requested == Decimal("1000000000.00")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("term_months", "0"),
        ("term_months", "abc"),
        ("term_months", "999"),
        ("purpose", ""),
        ("collateral", "gold"),
    ],
)
def test_other_financing_fields_are_checked(channel: Channel, field: str, value: str) -> None:
    with pytest.raises(InvalidCaseInput) as info:
        financing(channel.user_a, **{field: value})
    assert info.value.field == field


def test_a_policy_question_needs_no_amount(channel: Channel) -> None:
    demand = actions.file_demand(
        actor=channel.user_a, kind="policy", description="研发费用加计扣除怎么申请？"
    )
    assert demand.amount_requested is None
    assert demand.case.channel == "enterprise"
    assert demand.case.category.code == "ENT-POLICY"


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("91370211MA0000001X", "校验位"),
        ("91370211MA00000", "18 位"),
        ("", "不能为空"),
        ("91ABCDEFMA00000010", "行政区划"),
    ],
)
def test_a_bad_credit_code_is_refused(channel: Channel, code: str, words: str) -> None:
    if words == "校验位":
        good = credit_code(99)
        code = good[:17] + ("0" if good[17] != "0" else "1")
    with pytest.raises(InvalidCaseInput) as info:
        actions.register_enterprise(
            actor=None, name="错误代码公司", credit_code=code, grid=channel.world.grid_a1, industry="C"
        )
    assert words in info.value.zh
    assert info.value.field == "credit_code"
    assert not Enterprise.objects.filter(organisation__name="错误代码公司").exists()


def test_the_same_enterprise_cannot_be_registered_twice(channel: Channel) -> None:
    with pytest.raises(InvalidCaseInput, match="已登记"):
        actions.register_enterprise(
            actor=None, name="重复", credit_code=credit_code(1), grid=channel.world.grid_a1, industry="C"
        )


def test_nothing_granted_needs_a_reason(channel: Channel) -> None:
    demand = at_stage(channel, "accepted")
    with pytest.raises(InvalidCaseInput, match="原因"):
        actions.conclude_demand(demand.pk, actor=channel.banker, amount_granted="0")
    with pytest.raises(InvalidCaseInput, match="负数"):
        actions.conclude_demand(demand.pk, actor=channel.banker, amount_granted="-1", note="x")
    demand.refresh_from_db()
    assert demand.status == "accepted"
    assert demand.case.status == "in_progress"
    actions.conclude_demand(demand.pk, actor=channel.banker, amount_granted="0", note="负债率偏高")
    demand.refresh_from_db()
    assert demand.amount_granted == 0


def test_a_matching_with_a_bad_amount_writes_nothing(channel: Channel) -> None:
    demand = at_stage(channel, "accepted")
    with pytest.raises(InvalidCaseInput):
        actions.record_matching(
            demand.pk, actor=channel.banker, institution=channel.bank, product="科技贷", proposed_amount="-5"
        )
    assert not Matching.objects.exists()


def test_a_handler_records_only_its_own_institutions_offers(channel: Channel) -> None:
    demand = at_stage(channel, "accepted")
    from yiwang.cases.errors import ActionForbidden

    with pytest.raises(ActionForbidden):
        actions.record_matching(
            demand.pk, actor=channel.banker, institution=channel.bank2, product="人才贷", proposed_amount="1"
        )
    matching = actions.record_matching(
        demand.pk,
        actor=channel.counsellor,
        institution=channel.bank2,
        product="人才贷",
        proposed_amount="100000",
    )
    assert matching.proposed_amount == Decimal("100000")


def test_first_response_deadline_counts_working_days(channel: Channel) -> None:
    import datetime as dt

    from yiwang.core.calendar import TZ

    channel.bank.first_response_days = 2
    channel.bank.save()
    demand = financing(channel.user_a, at=dt.datetime(2026, 3, 6, 10, 0, tzinfo=TZ))  # a Friday
    actions.route_demand(
        demand.pk,
        actor=channel.world.admin,
        department=channel.bank.department,
        at=dt.datetime(2026, 3, 6, 10, 0, tzinfo=TZ),
    )
    demand.refresh_from_db()
    assert demand.response_due_at == dt.datetime(
        2026, 3, 10, 10, 0, tzinfo=TZ
    )  # Tuesday: the weekend skipped
