"""Errors of village deliberation. They subclass the case errors so that the API's shared handler
maps them (400 / 403 / 404 / 409) and pages show ``str(error)``; every message is bilingual
(Chinese first). An action that raises has written nothing."""

from __future__ import annotations

from yiwang.cases.errors import ActionForbidden, CaseNotFound, InvalidCaseInput, TransitionNotAllowed


class DeliberationNotFound(CaseNotFound):
    """The topic or meeting does not exist or lies outside the actor's scope (404)."""


class StageNotAllowed(TransitionNotAllowed):
    """The topic's stage (or the meeting's state) does not allow the action (409)."""


class DeliberationForbidden(ActionForbidden):
    """The actor's role may not take the action (403)."""


class InvalidDeliberationInput(InvalidCaseInput):
    """Bad input: an empty resolution, a vote by a non-attendee, a meeting without quorum… (400)."""
