"""The co-governance modules show on the one map: their GeoJSON layers are toggles for the roles
that may read them, and each answers a scoped FeatureCollection."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.world import World
from yiwang.web.map_layers import visible_overlays

pytestmark = pytest.mark.django_db


def test_a_leader_gets_the_projects_and_venues_layers_and_they_answer_geojson(world: World) -> None:
    layers = {layer["key"]: layer for layer in visible_overlays(world.leader)}
    assert {"projects", "deliberation"} <= set(layers)
    client = Client()
    client.force_login(world.leader)
    for key in ("projects", "deliberation"):
        response = client.get(layers[key]["url"])
        assert response.status_code == 200, key
        assert response.json()["type"] == "FeatureCollection"


def test_a_dispatcher_is_not_offered_layers_whose_pages_they_cannot_open(world: World) -> None:
    assert not {"projects", "deliberation"} & {layer["key"] for layer in visible_overlays(world.dispatcher_a)}
