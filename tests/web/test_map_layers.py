"""The map's data endpoint (issue 6): metric colouring from the rollups, the heat and hotspot layers,
grid staff on duty, the overlay registry and the gzipped response."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import math
from collections.abc import Iterator

import numpy as np
import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from tests.web.conftest import IN_GRID_A1, new_case
from tests.web.dash_helpers import MARCH, MARCH_QUERY, rollup_example
from tests.world import World
from yiwang.cases import actions
from yiwang.cases.models import Case
from yiwang.grids.models import Division
from yiwang.people.models import Role
from yiwang.web import map_layers
from yiwang.web.map_layers import Overlay, visible_overlays
from yiwang.web.views import mapview
from yiwang.web.views.mapview import heat_cells, on_duty


@pytest.fixture(autouse=True)
def _no_cached_hotspots() -> Iterator[None]:
    # The hotspot layer caches its answer per user id; ids are reused between tests.
    cache.clear()
    yield
    cache.clear()


def _client(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def _layer(user: object, **params: str) -> dict:  # type: ignore[type-arg]
    response = _client(user).get(reverse("web:map_data"), params)
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


# --- metric colouring -------------------------------------------------------------------------------
def test_metric_colouring_returns_the_hand_computed_score_per_street_and_grid(world: World) -> None:
    rollup_example(world)
    data = _layer(world.leader, layer="metric", metric="score", **MARCH_QUERY)
    # Street A: response 8/10, solve 6/10, satisfaction (5 + 0.9·3)/10 → 100·(.1·.8 + .5·.6 + .4·.77)
    assert data["streets"][world.street_a.code] == pytest.approx(68.8)
    assert data["grids"][world.grid_a1.code] == pytest.approx(68.8)
    # Street B: all four signed in time, nobody called back → the missing rates count as full.
    assert data["streets"][world.street_b.code] == pytest.approx(100.0)
    assert data["grids"][world.grid_a2.code] is None  # no rollup row: nothing to score
    assert data["higher_is_better"] is True
    assert data["breaks"] == [40.0, 60.0, 75.0, 90.0]


def test_metric_colouring_of_rates_and_new_cases(world: World) -> None:
    rollup_example(world)
    satisfaction = _layer(world.leader, layer="metric", metric="satisfaction", **MARCH_QUERY)
    assert satisfaction["streets"][world.street_a.code] == pytest.approx(77.0)
    assert satisfaction["unit"] == "%"
    new = _layer(world.leader, layer="metric", metric="new", **MARCH_QUERY)
    assert new["grids"][world.grid_a1.code] == 12
    assert new["grids"][world.grid_a2.code] == 0
    overdue = _layer(world.leader, layer="metric", metric="overdue", **MARCH_QUERY)
    assert overdue["streets"][world.street_a.code] == 1


def test_metric_colouring_outside_the_period_is_empty(world: World) -> None:
    rollup_example(world)
    data = _layer(
        world.leader, layer="metric", metric="new", period="custom", start="2026-04-01", end="2026-04-30"
    )
    assert data["grids"][world.grid_a1.code] == 0


def test_metric_colouring_is_limited_to_the_visible_area(world: World) -> None:
    rollup_example(world)
    data = _layer(world.dispatcher_a, layer="metric", metric="score", **MARCH_QUERY)
    assert world.street_b.code not in data["streets"]
    assert world.grid_b1.code not in data["grids"]


@given(st.lists(st.floats(min_value=0, max_value=100) | st.sampled_from([0.05, 0.15, 0.25, 2.675, 99.95])))
def test_metric_values_are_rounded_as_python_rounds_them_nan_shown_as_nothing(values: list[float]) -> None:
    got = mapview._one_decimal(np.array([*values, math.nan], dtype=np.float64))
    assert got == [*(round(v, 1) for v in values), None]


def test_open_cases_colouring_counts_open_cases_per_grid(world: World) -> None:
    new_case(world)
    new_case(world, title="井盖缺失")
    data = _layer(world.dispatcher_a, layer="metric", metric="open")
    assert data["grids"][world.grid_a1.code] == 2
    assert data["grids"][world.grid_a2.code] == 0
    assert data["streets"][world.street_a.code] == 2


def test_unknown_layer_is_a_clear_error(world: World) -> None:
    response = _client(world.dispatcher_a).get(reverse("web:map_data"), {"layer": "nope"})
    assert response.status_code == 400
    assert "未知的图层" in response.json()["error"]


# --- heat and hotspots ------------------------------------------------------------------------------
def test_heat_layer_bins_open_cases_into_cells(world: World) -> None:
    new_case(world)
    new_case(world, title="井盖缺失")
    data = _layer(world.dispatcher_a, layer="heat")
    assert data["max"] == 2
    [(x, y, n)] = data["cells"]
    assert n == 2
    half = data["step"] / 2
    assert abs(x - IN_GRID_A1[0]) <= half
    assert abs(y - IN_GRID_A1[1]) <= half


def test_heat_cells_leave_out_closed_and_out_of_scope_cases(world: World) -> None:
    new_case(world)
    assert heat_cells(Case.objects.visible_to(world.dispatcher_b).filter(status="registered")) == []


def _report(world: World, title: str, description: str, phone: str, days: int) -> Case:
    return actions.create_case(
        actor=world.operator,
        channel="hotline_12345",
        category="SX-06001",
        title=title,
        description=description,
        lng=IN_GRID_A1[0],
        lat=IN_GRID_A1[1],
        reporter_phone=phone,
        at=timezone.now() - dt.timedelta(days=days),
    )


def test_hotspot_layer_gives_centre_count_and_label(world: World) -> None:
    _report(world, "翠湖花园小区楼下餐馆油烟扰民", "翠湖花园小区餐馆油烟直排。", "13800000001", 3)
    _report(world, "翠湖花园小区夜宵摊油烟噪音", "翠湖花园小区楼下夜宵摊油烟大还吵。", "13800000002", 2)
    _report(world, "咨询社保卡补办", "社保卡丢了怎么补办？", "13800000003", 1)
    data = _layer(world.dispatcher_a, layer="hotspots", days="30")
    [spot] = data["hotspots"]
    assert spot["count"] == 2
    assert "翠湖花园" in spot["label"]
    assert (spot["x"], spot["y"]) == pytest.approx(IN_GRID_A1)
    assert _layer(world.dispatcher_b, layer="hotspots")["hotspots"] == []


def test_hotspot_layer_only_reads_the_last_days(world: World) -> None:
    _report(world, "翠湖花园小区楼下餐馆油烟扰民", "翠湖花园小区餐馆油烟直排。", "13800000001", 40)
    _report(world, "翠湖花园小区夜宵摊油烟噪音", "翠湖花园小区楼下夜宵摊油烟大还吵。", "13800000002", 45)
    assert _layer(world.dispatcher_a, layer="hotspots", days="30")["hotspots"] == []
    assert len(_layer(world.dispatcher_a, layer="hotspots", days="60")["hotspots"]) == 1


def test_hotspot_layer_reads_the_background_snapshot_once_mined(world: World) -> None:
    from yiwang.dispatch.hotspots import refresh_snapshots
    from yiwang.dispatch.models import HotspotSnapshot

    _report(world, "翠湖花园小区楼下餐馆油烟扰民", "翠湖花园小区餐馆油烟直排。", "13800000001", 3)
    _report(world, "翠湖花园小区夜宵摊油烟噪音", "翠湖花园小区楼下夜宵摊油烟大还吵。", "13800000002", 2)
    assert refresh_snapshots() == Division.objects.filter(level__in=["district", "street"]).count()
    # Proof the layer reads the stored rows, not a live mining: change the stored label.
    for row in HotspotSnapshot.objects.exclude(hotspots=[]):
        row.hotspots = [{**h, "label": "（快照）" + h["label"]} for h in row.hotspots]
        row.save()
    [spot] = _layer(world.dispatcher_a, layer="hotspots", days="30")["hotspots"]
    assert spot["label"].startswith("（快照）")
    assert spot["count"] == 2
    [spot] = _layer(world.leader, layer="hotspots", days="30")["hotspots"]
    assert spot["label"].startswith("（快照）")
    assert _layer(world.dispatcher_b, layer="hotspots", days="30")["hotspots"] == []


def test_users_who_do_not_see_whole_areas_get_a_live_mining_of_their_own_cases(world: World) -> None:
    from yiwang.dispatch.hotspots import refresh_snapshots, snapshot_for

    _report(world, "翠湖花园小区楼下餐馆油烟扰民", "翠湖花园小区餐馆油烟直排。", "13800000001", 3)
    _report(world, "翠湖花园小区夜宵摊油烟噪音", "翠湖花园小区楼下夜宵摊油烟大还吵。", "13800000002", 2)
    refresh_snapshots()
    assert snapshot_for(world.dispatcher_a, 30) is not None
    for user in (world.operator, world.handler_a, world.grid_worker_a1):
        assert snapshot_for(user, 30) is None, user
    assert snapshot_for(world.dispatcher_a, 60) is None  # only the default period is mined ahead
    # A dispatcher of street A before the first background run: mined live.
    from yiwang.dispatch.models import HotspotSnapshot

    HotspotSnapshot.objects.all().delete()
    assert snapshot_for(world.dispatcher_a, 30) is None
    assert len(_layer(world.dispatcher_a, layer="hotspots", days="30")["hotspots"]) == 1


# --- grid staff -------------------------------------------------------------------------------------
def test_grid_staff_are_on_duty_on_working_days_only(world: World) -> None:
    wednesday, saturday = dt.date(2026, 3, 11), dt.date(2026, 3, 14)
    duty = on_duty(world.dispatcher_a, wednesday)
    assert duty["workday"] is True
    assert str(world.grid_worker_a1) in [s["name"] for s in duty["grids"][world.grid_a1.code]]
    assert world.grid_b1.code not in duty["grids"]
    assert on_duty(world.dispatcher_a, saturday) == {"date": saturday, "workday": False, "grids": {}}


def test_duty_layer_answers_names_without_phones(world: World) -> None:
    world.grid_worker_a1.phone = "13812345678"
    world.grid_worker_a1.save(update_fields=["phone"])
    body = _client(world.dispatcher_a).get(reverse("web:map_data"), {"layer": "duty"}).content.decode()
    assert "13812345678" not in body
    assert "5678" not in body


def test_grid_panel_masks_staff_phones(world: World) -> None:
    world.grid_worker_a1.phone = "13812345678"
    world.grid_worker_a1.save(update_fields=["phone"])
    html = (
        _client(world.dispatcher_a).get(reverse("web:map_grid", args=[world.grid_a1.code])).content.decode()
    )
    assert str(world.grid_worker_a1) in html
    assert "13812345678" not in html
    assert "138****5678" in html


def test_grid_panel_shows_the_rollup_rates_of_the_period(world: World) -> None:
    rollup_example(world)
    url = reverse("web:map_grid", args=[world.grid_a1.code])
    html = _client(world.leader).get(url, MARCH_QUERY).content.decode()
    assert "<dd>80.0%</dd>" in html  # response 8/10
    assert "<dd>68.8</dd>" in html
    assert MARCH[0].isoformat() in html


# --- overlays ---------------------------------------------------------------------------------------
def test_overlay_entries_that_do_not_reverse_or_lack_the_role_are_skipped(world: World) -> None:
    registry = [
        Overlay("map", "地图", "web:map"),
        Overlay("projects", "民生项目", "web:projects:geojson_not_there"),
        Overlay("audit", "审计", "web:map", roles=frozenset({Role.AUDITOR})),
    ]
    assert [o["key"] for o in visible_overlays(world.dispatcher_a, registry)] == ["map"]
    assert visible_overlays(world.dispatcher_a, registry)[0]["url"] == reverse("web:map")


@pytest.fixture
def extra_overlays() -> Iterator[None]:
    saved = list(map_layers.OVERLAYS)
    map_layers.OVERLAYS[:] = [
        Overlay("demo-layer", "示例图层", "web:map"),
        Overlay("missing", "缺失图层", "web:missing:geojson"),
    ]
    yield
    map_layers.OVERLAYS[:] = saved


def test_map_page_renders_a_toggle_per_usable_overlay(world: World, extra_overlays: None) -> None:
    html = _client(world.dispatcher_a).get(reverse("web:map")).content.decode()
    assert 'id="overlay-demo-layer"' in html
    assert "overlay-missing" not in html
    assert 'id="layer-heat"' in html


# --- page weight ------------------------------------------------------------------------------------
def test_map_data_is_gzipped_when_the_client_accepts_it(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mapview, "GZIP_MIN", 0)  # the test world's answer is smaller than the floor
    new_case(world)
    client = _client(world.dispatcher_a)
    plain = client.get(reverse("web:map_data"))
    zipped = client.get(reverse("web:map_data"), HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert "Content-Encoding" not in plain
    assert zipped["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped["Vary"]
    assert json.loads(gzip.decompress(zipped.content)) == plain.json()
    assert len(zipped.content) < len(plain.content)


# --- shapes: cached per scope, revalidated by ETag -------------------------------------------------
def _shapes(client: Client, etag: str = "") -> object:
    headers = {"HTTP_IF_NONE_MATCH": etag} if etag else {}
    return client.get(reverse("web:map_data"), {"layer": "shapes"}, **headers)


def test_shapes_answer_304_to_a_browser_that_holds_the_current_version(world: World) -> None:
    client = _client(world.dispatcher_a)
    first = _shapes(client)
    assert first.status_code == 200  # type: ignore[attr-defined]
    assert first["Cache-Control"] == "private, no-cache"  # type: ignore[index]
    again = _shapes(client, first["ETag"])  # type: ignore[index]
    assert again.status_code == 304  # type: ignore[attr-defined]
    assert again.content == b""  # type: ignore[attr-defined]


def test_shapes_change_their_etag_when_a_grid_changes(world: World) -> None:
    client = _client(world.dispatcher_a)
    etag = _shapes(client)["ETag"]  # type: ignore[index]
    world.grid_a1.name = "改名后的网格"
    world.grid_a1.save()
    changed = _shapes(client, etag)
    assert changed.status_code == 200  # type: ignore[attr-defined]
    assert changed["ETag"] != etag  # type: ignore[index]
    names = {f["properties"]["name"] for f in changed.json()["grids"]["features"]}  # type: ignore[attr-defined]
    assert "改名后的网格" in names


def test_shapes_of_another_scope_are_another_version(world: World) -> None:
    a = _shapes(_client(world.dispatcher_a))
    leader = _shapes(_client(world.leader))
    assert a["ETag"] != leader["ETag"]  # type: ignore[index]
    # A browser holding one scope's shapes gets the other scope's in full, never a 304.
    assert _shapes(_client(world.leader), a["ETag"]).status_code == 200  # type: ignore[index, attr-defined]
    codes = {f["properties"]["code"] for f in leader.json()["grids"]["features"]}  # type: ignore[attr-defined]
    assert world.grid_b1.code in codes


def test_live_counts_separate_open_and_overdue_per_street_and_grid(world: World) -> None:
    late = new_case(world)
    new_case(world)
    Case.objects.filter(pk=late.pk).update(accept_due_at=timezone.now() - dt.timedelta(hours=1))
    data = _layer(world.dispatcher_a)
    assert data["grids"][world.grid_a1.code] == [2, 1]
    assert data["streets"][world.street_a.code] == [2, 1]
    assert sorted(c["late"] for c in data["cases"]) == [False, True]
