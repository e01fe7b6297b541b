"""Errors of the mediation module: subclasses of the case pipeline's errors, so the API error
handler maps them (invalid → 400, not allowed → 409, forbidden → 403, not found → 404) and pages
show ``str(error)`` (Chinese / English)."""

from __future__ import annotations

from yiwang.cases.errors import ActionForbidden, CaseNotFound, InvalidCaseInput, TransitionNotAllowed


class DisputeNotFound(CaseNotFound):
    """The dispute does not exist or lies outside the actor's scope (the two look the same)."""


class DisputeTransitionNotAllowed(TransitionNotAllowed):
    """The dispute's status does not allow the action."""


class DisputeForbidden(ActionForbidden):
    """The actor's role may not perform the action."""


class InvalidDisputeInput(InvalidCaseInput):
    """Bad input: no parties, a due date before the agreement, a referral without a target…"""
