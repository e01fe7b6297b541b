"""Extra GeoJSON layers of the map (一图总揽): one registry, one line per layer.

A module adds its layer by appending an :class:`Overlay` to :data:`OVERLAYS`; the map renders a
toggle for each entry whose URL reverses and whose roles the user holds, and fetches the URL (it
must answer a GeoJSON FeatureCollection, scoped to the user) the first time the toggle is switched
on. An entry whose URL name does not reverse (the module is not installed yet, or its view has not
been written) is skipped, not an error. Example::

    Overlay("projects", _("民生项目"), "web:projects:geojson"),
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from yiwang.core.scoping import scope_of
from yiwang.people.models import Role


@dataclass(frozen=True)
class Overlay:
    key: str  # unique, [a-z0-9_-]: the toggle's id is "overlay-<key>"
    label: Any  # a lazy translation
    url_name: str  # a name for reverse(), without arguments
    roles: frozenset[str] = field(default_factory=frozenset)  # empty: everyone who sees the map
    colour: str = "#6a3d9a"


OVERLAYS: list[Overlay] = [
    # The roles are those of the module's own pages (web/access.py), whose GeoJSON answers 404 to others.
    Overlay("projects", _("攻坚项目"), "web:projects:geojson",
            frozenset({Role.LEADER, Role.ADMINISTRATOR, Role.DEPARTMENT_HANDLER}), colour="#b15928"),
    Overlay("deliberation", _("议事场所"), "web:deliberation:venues_geojson",
            frozenset({Role.LEADER, Role.ADMINISTRATOR, Role.GRID_WORKER}), colour="#1f78b4"),
]  # fmt: skip


def visible_overlays(user: Any, registry: Sequence[Overlay] | None = None) -> list[dict[str, str]]:
    """The overlays ``user`` may toggle, as ``{"key", "label", "url", "colour"}``: entries whose
    URL does not reverse and entries for roles the user does not hold are left out."""
    scope = scope_of(user)
    out = []
    for overlay in OVERLAYS if registry is None else registry:
        if overlay.roles and not scope.has_role(*overlay.roles):
            continue
        try:
            url = reverse(overlay.url_name)
        except NoReverseMatch:
            continue
        out.append({"key": overlay.key, "label": str(overlay.label), "url": url, "colour": overlay.colour})
    return out
