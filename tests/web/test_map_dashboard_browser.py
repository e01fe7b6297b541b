"""The map's light layers and the dashboard's charts in a real browser (the system's Chromium)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from tests.web.browser import CHROMIUM, CHROMIUM_ARGS, shot, signed_in
from tests.web.conftest import new_case
from tests.web.dash_helpers import MARCH_QUERY, rollup_example
from tests.world import World

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def test_map_heat_toggle_and_metric_selector_work_and_dashboard_charts_render(
    browser: Browser, live_server: object, world: World
) -> None:
    base = str(live_server)
    new_case(world)
    rollup_example(world)
    errors: list[str] = []
    ctx, page = signed_in(browser, base, "leader")
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{base}/map/")
    expect(page.locator("#map")).to_have_attribute("data-loaded", "1")
    expect(page.locator("#map")).to_have_attribute("data-metric", "open")
    heat = page.locator("#layer-heat")
    expect(heat).to_be_visible()
    heat.check()
    expect(heat).to_have_attribute("data-loaded", "1")
    page.select_option("#map-metric", "score")
    expect(page.locator("#map")).to_have_attribute("data-metric", "score")
    expect(page.locator("#map-legend .swatch")).to_have_count(5)
    shot(page, "20-map-heat")

    query = "&".join(f"{k}={v}" for k, v in MARCH_QUERY.items())
    page.goto(f"{base}/dashboard/?{query}")
    for chart in ("trend", "rates", "channels", "streets", "categories"):
        expect(page.locator(f"#chart-{chart}")).to_have_attribute("data-rendered", "1")
        assert page.locator(f"#chart-{chart} canvas").count() >= 1
    expect(page.locator("#table-street_rates tbody tr")).to_have_count(2)
    shot(page, "21-dashboard")
    assert errors == []
    ctx.close()
