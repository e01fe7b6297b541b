"""Errors of the key projects module: subclasses of the case errors, so that the API's shared error
handler maps them (400 / 403 / 404 / 409) and pages show ``.zh`` like every other action error."""

from __future__ import annotations

from yiwang.cases.errors import ActionForbidden, CaseNotFound, InvalidCaseInput, TransitionNotAllowed


class ProjectNotFound(CaseNotFound):
    """The project (node, supervision, KPI) does not exist or is outside the actor's scope."""


class ProjectInputError(InvalidCaseInput):
    """Bad input: nothing was written."""


class ProjectTransitionNotAllowed(TransitionNotAllowed):
    """The state of the project (or node, or supervision) does not allow the action."""


class ProjectForbidden(ActionForbidden):
    """The actor's role or relation to the project does not allow the action."""
