"""Every transition × every persona: allowed, refused by role (403) or out of scope (404); and
every transition refused from a state that does not allow it (409)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.governance.enterprise.conftest import Channel, at_stage
from yiwang.cases.errors import ActionForbidden, CaseNotFound, TransitionNotAllowed
from yiwang.governance.enterprise import actions, workflow
from yiwang.governance.enterprise.errors import DemandForbidden, DemandNotFound, DemandTransitionNotAllowed
from yiwang.governance.enterprise.models import Demand, DemandEvent, DemandStatus

Call = Callable[[Channel, Demand | None, Any], object]

PERSONAS = (
    "admin",
    "leader",
    "dispatcher_a",
    "dispatcher_b",
    "operator",
    "handler_a",
    "banker",
    "banker2",
    "counsellor",
    "user_a",
    "user_b",
    "outsider",
)


def _file(ch: Channel, d: Demand | None, actor: Any) -> object:
    return actions.file_demand(
        actor=actor,
        enterprise_id=ch.ent_a.pk,
        kind="financing",
        description="需要流动资金",
        purpose="原材料",
        amount_requested="1000000",
        term_months=6,
    )


CALLS: dict[str, tuple[str, Call]] = {
    "file": ("new", _file),
    "route": (
        "submitted",
        lambda ch, d, a: actions.route_demand(d.pk, actor=a, department=ch.bank.department),  # type: ignore[union-attr]
    ),
    "accept": ("routed", lambda ch, d, a: actions.accept_demand(d.pk, actor=a)),  # type: ignore[union-attr]
    "decline": ("routed", lambda ch, d, a: actions.decline_demand(d.pk, actor=a, reason="非本行业务")),  # type: ignore[union-attr]
    "visit": ("accepted", lambda ch, d, a: actions.record_visit(d.pk, actor=a, note="实地了解经营情况")),  # type: ignore[union-attr]
    "match": (
        "accepted",
        lambda ch, d, a: actions.record_matching(  # type: ignore[union-attr]
            d.pk, actor=a, institution=ch.bank, product="科技贷", proposed_amount="800000"
        ),
    ),
    "conclude": (
        "accepted",
        lambda ch, d, a: actions.conclude_demand(d.pk, actor=a, amount_granted="800000"),
    ),  # type: ignore[union-attr]
    "callback": (
        "concluded",
        lambda ch, d, a: actions.record_demand_callback(d.pk, actor=a, satisfaction="satisfied"),  # type: ignore[union-attr]
    ),
    "withdraw": ("submitted", lambda ch, d, a: actions.withdraw_demand(d.pk, actor=a, reason="企业申请撤回")),  # type: ignore[union-attr]
}

_SEE_A = {"admin", "leader", "dispatcher_a", "counsellor", "user_a"}  # who sees enterprise A's demands
_BUREAU = {"admin", "dispatcher_a"}
# (allowed, refused by role or attachment: 403); everybody else: 404.
EXPECTED: dict[str, tuple[set[str], set[str]]] = {
    "file": ({"admin", "dispatcher_a", "counsellor", "user_a"}, {"leader", "operator", "handler_a", "banker", "banker2", "outsider"}),
    "route": (_BUREAU, _SEE_A - _BUREAU),
    "accept": ({"banker"}, _SEE_A),
    "decline": ({"banker"}, _SEE_A),
    "visit": ({"banker", "counsellor"}, _SEE_A - {"counsellor"}),
    "match": ({"banker", "counsellor"}, _SEE_A - {"counsellor"}),
    "conclude": ({"banker"}, _SEE_A),
    "callback": (_BUREAU, (_SEE_A - _BUREAU) | {"banker"}),
    "withdraw": (_BUREAU, _SEE_A - _BUREAU),
}  # fmt: skip


@pytest.mark.parametrize("transition", sorted(CALLS))
@pytest.mark.parametrize("persona", PERSONAS)
def test_transition_by_role(channel: Channel, transition: str, persona: str) -> None:
    stage, call = CALLS[transition]
    demand = None if stage == "new" else at_stage(channel, stage)
    actor = channel.personas()[persona]
    allowed, forbidden = EXPECTED[transition]
    events_before = DemandEvent.objects.count()
    if persona in allowed:
        call(channel, demand, actor)
        assert DemandEvent.objects.count() == events_before + 1
        if demand is not None:
            demand.refresh_from_db()
            assert demand.status == workflow.TRANSITIONS[transition].to_status(stage)
    elif persona in forbidden:
        with pytest.raises(ActionForbidden):
            call(channel, demand, actor)
        assert DemandEvent.objects.count() == events_before
    else:
        with pytest.raises(CaseNotFound):
            call(channel, demand, actor)
        assert DemandEvent.objects.count() == events_before


# (transition, a stage it does not allow, who tries: someone with the right role and scope)
WRONG_STATE = (
    ("route", "routed", "admin"),
    ("accept", "accepted", "banker"),
    ("decline", "concluded", "banker"),
    ("match", "routed", "banker"),
    ("conclude", "routed", "banker"),
    ("callback", "accepted", "admin"),
    ("withdraw", "routed", "admin"),
    ("visit", "closed", "counsellor"),
)


@pytest.mark.parametrize(("transition", "stage", "persona"), WRONG_STATE)
def test_transition_from_wrong_state_is_refused(
    channel: Channel, transition: str, stage: str, persona: str
) -> None:
    demand = at_stage(channel, stage)
    version = demand.version
    with pytest.raises(TransitionNotAllowed):
        CALLS[transition][1](channel, demand, channel.personas()[persona])
    demand.refresh_from_db()
    assert (demand.status, demand.version) == (stage, version)


def test_errors_subclass_the_case_errors() -> None:
    assert issubclass(DemandNotFound, CaseNotFound)
    assert issubclass(DemandForbidden, ActionForbidden)
    assert issubclass(DemandTransitionNotAllowed, TransitionNotAllowed)


def test_allowed_lists_only_the_steps_of_the_state_and_role() -> None:
    names = [t.name for t in workflow.allowed(DemandStatus.ACCEPTED, {"department_handler"})]
    assert names == ["decline", "visit", "match", "conclude"]
    assert workflow.allowed(DemandStatus.CLOSED, {"administrator"}) == []


def test_every_step_mirrors_on_the_case(channel: Channel) -> None:
    demand = at_stage(channel, "closed")
    kinds = list(demand.case.events.order_by("at", "pk").values_list("kind", flat=True))
    assert kinds == ["registered", "dispatched", "signed", "resolved", "verified", "called_back"]
    steps = list(demand.events.values_list("kind", flat=True))
    assert steps == ["file", "route", "accept", "conclude", "callback"]


def test_decline_sends_the_demand_back_to_be_routed_again(channel: Channel) -> None:
    demand = at_stage(channel, "accepted")
    actions.decline_demand(demand.pk, actor=channel.banker, reason="额度已满")
    demand.refresh_from_db()
    assert demand.status == DemandStatus.SUBMITTED
    assert demand.department is None
    assert demand.first_response_at is None
    assert demand.case.status == "registered"
    actions.route_demand(demand.pk, actor=channel.world.admin, department=channel.bank2.department)
    actions.accept_demand(demand.pk, actor=channel.banker2)
    demand.refresh_from_db()
    assert demand.status == DemandStatus.ACCEPTED


def test_a_stale_form_is_refused(channel: Channel) -> None:
    demand = at_stage(channel, "submitted")
    with pytest.raises(TransitionNotAllowed):
        actions.route_demand(
            demand.pk,
            actor=channel.world.admin,
            department=channel.bank.department,
            expected_version=demand.version + 1,
        )
