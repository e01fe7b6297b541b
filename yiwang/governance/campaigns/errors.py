"""Errors of the campaigns module: subclasses of the case pipeline's errors, so that the web pages
and the API's shared handler map them like case errors (400 / 403 / 404 / 409), bilingual."""

from __future__ import annotations

from yiwang.cases.errors import ActionForbidden, CaseNotFound, InvalidCaseInput, TransitionNotAllowed


class CampaignNotFound(CaseNotFound):
    """The campaign (or target) does not exist or lies outside the actor's scope: 404."""

    code = "campaign_not_found"


class CampaignTransitionNotAllowed(TransitionNotAllowed):
    """The campaign's status does not allow the action: 409."""

    code = "campaign_transition_not_allowed"


class CampaignForbidden(ActionForbidden):
    """The actor's roles do not allow the action: 403."""

    code = "campaign_forbidden"


class InvalidCampaignInput(InvalidCaseInput):
    """Bad input (period, target, goal, field …): 400, nothing written."""

    code = "campaign_invalid"
