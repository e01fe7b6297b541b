"""The staff API on reference data: divisions, grids (GeoJSON), departments, users, categories."""

from __future__ import annotations

from typing import Any

from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from shapely.geometry import shape

from tests.world import World
from yiwang.grids.geometry import extent
from yiwang.grids.models import Grid


def codes(response: Any) -> set[str]:
    body = response.json()
    rows = body["results"] if isinstance(body, dict) and "results" in body else body
    return {row["code"] for row in rows}


def test_grids_are_scoped_to_the_user(world: World, client_for: Any) -> None:
    assert codes(client_for(world.dispatcher_b).get("/api/v1/grids/")) == {world.grid_b1.code}
    assert codes(client_for(world.admin).get("/api/v1/grids/")) == {
        world.grid_a1.code,
        world.grid_a2.code,
        world.grid_b1.code,
    }
    assert client_for(world.dispatcher_b).get(f"/api/v1/grids/{world.grid_a1.code}/").status_code == 404


def _store_extents(world: World) -> None:
    # The world's factory grids skip the grid actions, which are what fill the extent columns.
    for grid in (world.grid_a1, world.grid_a2, world.grid_b1):
        values = extent(shape(grid.boundary))
        fields = ("min_lng", "min_lat", "max_lng", "max_lat", "center_lng", "center_lat")
        Grid.objects.filter(pk=grid.pk).update(**dict(zip(fields, values, strict=True)))


def test_grid_geojson_is_a_feature_collection_filtered_by_bbox(world: World, client_for: Any) -> None:
    _store_extents(world)
    client = client_for(world.admin)
    body = client.get("/api/v1/grids/geojson/?bbox=119.99,35.89,120.02,35.92").json()
    assert body["type"] == "FeatureCollection"
    assert {f["id"] for f in body["features"]} == {world.grid_a1.code, world.grid_a2.code}
    feature = body["features"][0]
    assert feature["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert feature["properties"]["name"]


def test_a_malformed_bbox_is_400_with_a_message(world: World, client_for: Any) -> None:
    client = client_for(world.admin)
    for bad in ("1,2,3", "a,b,c,d", "120.1,35,120.0,36"):
        response = client.get(f"/api/v1/grids/geojson/?bbox={bad}")
        assert response.status_code == 400
        assert "bbox" in response.json()["fields"]


def test_divisions_are_scoped_and_looked_up_by_code(world: World, client_for: Any) -> None:
    client = client_for(world.dispatcher_b)
    assert world.street_a.code not in codes(client.get("/api/v1/divisions/"))
    assert client.get(f"/api/v1/divisions/{world.street_b.code}/").status_code == 200
    assert client.get(f"/api/v1/divisions/{world.street_a.code}/").status_code == 404


def test_users_are_for_administrators_only(world: World, client_for: Any) -> None:
    assert client_for(world.dispatcher_a).get("/api/v1/users/").status_code == 403
    response = client_for(world.admin).get("/api/v1/users/")
    assert response.status_code == 200
    usernames = {row["username"] for row in response.json()["results"]}
    assert world.handler_a.username in usernames


def test_categories_list_the_active_tree(world: World, client_for: Any) -> None:
    client = client_for(world.operator)
    response = client.get("/api/v1/categories/?page_size=200")
    assert response.status_code == 200
    assert len(codes(response)) == 200
    category = client.get("/api/v1/categories/SX-06001/").json()
    assert category["parent"]
    children = client.get(f"/api/v1/categories/?parent={category['id']}")
    assert children.status_code == 200


def test_departments_visible_to_a_handler(world: World, client_for: Any) -> None:
    response = client_for(world.handler_a).get("/api/v1/departments/")
    assert response.status_code == 200
    assert world.dept_a.code in codes(response)


def test_a_system_obtains_a_token_and_uses_it(world: World) -> None:
    world.dispatcher_a.set_password("Correct-Horse-9")
    world.dispatcher_a.save()
    client = APIClient()
    refused = client.post(
        "/api/v1/auth/token/", {"username": world.dispatcher_a.username, "password": "wrong"}, format="json"
    )
    assert refused.status_code == 400
    response = client.post(
        "/api/v1/auth/token/",
        {"username": world.dispatcher_a.username, "password": "Correct-Horse-9"},
        format="json",
    )
    assert response.status_code == 200
    token = response.json()["token"]
    assert Token.objects.get(user=world.dispatcher_a).key == token
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/cases/").status_code == 200
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert client.get("/api/v1/cases/").status_code == 401


def test_swagger_and_redoc_pages_use_local_static_files(world: World, client_for: Any) -> None:
    client = client_for(world.admin)
    for path in ("/api/v1/docs/", "/api/v1/redoc/"):
        page = client.get(path).content.decode()
        assert "drf_spectacular_sidecar" in page or "/static/" in page
        for remote in ("cdn.", "unpkg", "jsdelivr"):
            assert remote not in page
