"""Errors of the case pipeline. Every message is bilingual (Chinese first, English second).

Callers (web, API, hotline) catch :class:`CaseError` and show ``str(error)``, or pick ``.zh`` /
``.en`` by language; ``.code`` is a stable machine-readable slug for API clients. An action that
raises has written nothing: every action runs in one transaction.
"""

from __future__ import annotations

from typing import Any


class CaseError(Exception):
    """Base class; ``code`` is stable, ``zh`` / ``en`` are the human messages."""

    code = "case_error"

    def __init__(self, zh: str, en: str, **data: Any) -> None:
        self.zh = zh
        self.en = en
        self.data = data
        super().__init__(f"{zh} / {en}")

    @property
    def message(self) -> str:
        return str(self)


class CaseNotFound(CaseError):
    """The case does not exist or lies outside the actor's scope (the two look the same: 404)."""

    code = "not_found"


class TransitionNotAllowed(CaseError):
    """The current state of the case does not allow the action."""

    code = "transition_not_allowed"


class CaseConflict(TransitionNotAllowed):
    """Someone else changed the case first (a stale form, or two dispatchers at once)."""

    code = "conflict"


class ActionForbidden(CaseError):
    """The actor's role (or department) may not perform the action on this case."""

    code = "forbidden"


class InvalidCaseInput(CaseError):
    """Bad input: unknown category, location outside the district, text too long, missing reason…"""

    code = "invalid"

    def __init__(self, zh: str, en: str, *, field: str = "", **data: Any) -> None:
        self.field = field
        super().__init__(zh, en, **data)
