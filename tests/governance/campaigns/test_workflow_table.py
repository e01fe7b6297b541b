"""The campaign transition table, state × role, without a database."""

from __future__ import annotations

import pytest

from yiwang.governance.campaigns import workflow
from yiwang.governance.campaigns.errors import CampaignForbidden, CampaignTransitionNotAllowed
from yiwang.governance.campaigns.models import CampaignStatus
from yiwang.people.models import Role

S = CampaignStatus
EXPECTED_ROLES = {
    "create": {Role.DISPATCHER, Role.LEADER, Role.ADMINISTRATOR},
    "start": {Role.DISPATCHER, Role.LEADER, Role.ADMINISTRATOR},
    "close": {Role.LEADER, Role.ADMINISTRATOR},
    "cancel": {Role.LEADER, Role.ADMINISTRATOR},
    "inspect": {Role.GRID_WORKER, Role.DISPATCHER, Role.ADMINISTRATOR},
    "report_finding": {Role.GRID_WORKER, Role.DISPATCHER, Role.ADMINISTRATOR},
}
EXPECTED_SOURCES = {
    "create": {workflow.NEW},
    "start": {S.DRAFT},
    "close": {S.RUNNING},
    "cancel": {S.DRAFT, S.RUNNING},
    "inspect": {S.RUNNING},
    "report_finding": {S.RUNNING},
}
STATES = [workflow.NEW, *S.values]


@pytest.mark.parametrize("name", sorted(EXPECTED_ROLES))
@pytest.mark.parametrize("role", sorted(Role.values))
def test_each_transition_is_allowed_exactly_for_its_roles(name: str, role: str) -> None:
    source = next(iter(EXPECTED_SOURCES[name]))
    if role in EXPECTED_ROLES[name]:
        assert workflow.check(name, source, [role]).name == name
    else:
        with pytest.raises(CampaignForbidden):
            workflow.check(name, source, [role])


@pytest.mark.parametrize("name", sorted(EXPECTED_SOURCES))
@pytest.mark.parametrize("status", STATES)
def test_each_transition_is_allowed_exactly_from_its_states(name: str, status: str) -> None:
    roles = [Role.ADMINISTRATOR, Role.LEADER, Role.GRID_WORKER]
    if status in EXPECTED_SOURCES[name]:
        assert workflow.check(name, status, roles).name == name
    else:
        with pytest.raises(CampaignTransitionNotAllowed) as raised:
            workflow.check(name, status, roles)
        assert raised.value.zh
        assert raised.value.en


def test_a_finished_campaign_refuses_before_asking_the_role() -> None:
    with pytest.raises(CampaignTransitionNotAllowed):
        workflow.check("close", S.CLOSED, [Role.HOTLINE_OPERATOR])


def test_targets_of_transitions_form_draft_running_closed_cancelled() -> None:
    targets = {name: t.target for name, t in workflow.TRANSITIONS.items()}
    assert targets == {
        "create": S.DRAFT,
        "start": S.RUNNING,
        "close": S.CLOSED,
        "cancel": S.CANCELLED,
        "inspect": None,
        "report_finding": None,
    }


def test_allowed_offers_only_possible_status_actions() -> None:
    assert workflow.allowed(S.DRAFT, [Role.DISPATCHER]) == ["start"]
    assert workflow.allowed(S.RUNNING, [Role.LEADER]) == ["close", "cancel"]
    assert workflow.allowed(S.CLOSED, [Role.ADMINISTRATOR]) == []
    assert workflow.allowed(S.RUNNING, [Role.GRID_WORKER]) == []
