"""Errors of 政企直通车. They subclass the case pipeline's errors, so the API's shared handler maps
them to the same statuses (400 / 403 / 404 / 409) and pages show ``.zh`` the same way."""

from __future__ import annotations

from yiwang.cases.errors import ActionForbidden, CaseNotFound, InvalidCaseInput, TransitionNotAllowed


class EnterpriseInputError(InvalidCaseInput):
    """Bad input: a wrong credit code, a negative or absurd amount, a missing reason… (400)."""


class DemandNotFound(CaseNotFound):
    """The demand or enterprise does not exist or lies outside the actor's scope (404)."""


class DemandTransitionNotAllowed(TransitionNotAllowed):
    """The demand's status does not allow the step (409)."""


class DemandForbidden(ActionForbidden):
    """The actor's role or attachment (enterprise, counsellor, institution) does not allow it (403)."""
