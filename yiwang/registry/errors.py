"""Errors of the grid base database and the party registers. Every message is bilingual (Chinese
first, English second); ``field`` names the input that is wrong, ``code`` is a stable slug for API
clients. An action that raises has written nothing (every action runs in one transaction)."""

from __future__ import annotations

from typing import Any


class RegistryError(Exception):
    code = "registry_error"

    def __init__(self, zh: str, en: str, *, field: str = "", **data: Any) -> None:
        self.zh = zh
        self.en = en
        self.field = field
        self.data = data
        super().__init__(f"{zh} / {en}")

    @property
    def message(self) -> str:
        return f"{self.zh} / {self.en}"


class RegistryInputError(RegistryError):
    """Bad input: a wrong ID check digit, an unknown grid, a duplicate person…"""

    code = "invalid"


class RegistryNotFound(RegistryError):
    """The row does not exist or lies outside the actor's scope (the two look the same: 404)."""

    code = "not_found"


class RegistryForbidden(RegistryError):
    """The actor may not write in this grid (outside their scope, or a role without write rights)."""

    code = "forbidden"
