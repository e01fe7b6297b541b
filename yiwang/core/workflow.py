"""The shape of a workflow table shared by the co-governance modules: a transition is a name, the
states it may start from, the state it leads to (None: no change), the roles that may take it and a
label for messages. Each module keeps its own table and its own ``check`` (its errors differ)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[str]
    target: str | None  # None: the state does not change
    roles: frozenset[str]
    label: str

    def to_status(self, current: str) -> str:
        return current if self.target is None else self.target


def transition(
    name: str, sources: Iterable[str], target: str | None, roles: Iterable[str], label: str
) -> Transition:
    # str() turns a TextChoices member into its value (members hash by name, not by value).
    return Transition(
        name,
        frozenset(str(s) for s in sources),
        None if target is None else str(target),
        frozenset(str(r) for r in roles),
        label,
    )
