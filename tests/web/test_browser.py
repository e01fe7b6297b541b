"""Journeys in a real browser (the system's Chromium through Playwright), against a live server.

Kept to a few journeys: each one costs seconds. Screenshots go to test-artifacts/web/.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.web.browser import CHROMIUM, CHROMIUM_ARGS, PHONE, shot, signed_in
from tests.web.conftest import IN_GRID_A1, first_category, new_case
from tests.world import World
from yiwang.cases.choices import CaseStatus
from yiwang.cases.models import Case

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

# Playwright's sync API keeps an event loop running in this thread; the ORM calls made by the
# tests themselves (fixtures, assertions) are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # No skip when Chromium is missing: CI installs it, and a silent skip would prove nothing.
    assert Path(CHROMIUM).exists(), f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _status(page: Page) -> str:
    return page.locator("[data-status]").first.get_attribute("data-status") or ""


def test_core_journey_from_intake_to_reopening(
    browser: Browser, live_server: object, world: World, tmp_path: Path
) -> None:
    base = str(live_server)
    photo = tmp_path / "result.png"
    photo.write_bytes(PNG)

    # The hotline operator registers the call.
    ctx, page = signed_in(browser, base, "operator")
    page.goto(f"{base}/intake/")
    page.fill("#id_title", "小区路灯不亮")
    page.fill("#id_description", "幸福小区3号楼门口路灯坏了三天")
    page.select_option("#id_category", first_category())
    page.fill("#id_lng", str(IN_GRID_A1[0]))
    page.fill("#id_lat", str(IN_GRID_A1[1]))
    page.fill("#id_reporter_phone", "13812345678")
    shot(page, "01-intake")
    page.click("#intake-form button[type=submit]")
    page.wait_for_url(re.compile(r"/cases/\d+/$"))
    case = Case.objects.get()
    assert _status(page) == CaseStatus.REGISTERED
    ctx.close()

    # The dispatcher dispatches it from the queue.
    ctx, page = signed_in(browser, base, "dispatcher_a")
    page.goto(f"{base}/queue/")
    page.check(f"input[name=case][value='{case.pk}']")
    page.select_option("#id_lead", str(world.dept_a.pk))
    shot(page, "02-queue")
    page.click("#queue-form button:has-text('派遣所选案件')")
    expect(page.locator(".message-success")).to_be_visible()
    ctx.close()

    # The department signs in its inbox, then resolves with a photo on the case page.
    ctx, page = signed_in(browser, base, "handler_a")
    page.goto(f"{base}/inbox/")
    page.locator(f"tr[data-case-id='{case.pk}'] button").click()
    page.wait_for_url(re.compile(rf"/cases/{case.pk}/$"))
    assert _status(page) == CaseStatus.IN_PROGRESS
    page.fill("#id_resolve-result", "已更换灯泡，恢复照明")
    page.set_input_files("#id_resolve-attachments", str(photo))
    page.click("#action-resolve button[type=submit]")
    expect(page.locator(".message-success")).to_be_visible()
    assert _status(page) == CaseStatus.RESOLVED
    shot(page, "03-resolved")
    ctx.close()

    # The dispatcher verifies; the operator calls back: 不满意; the dispatcher reopens.
    ctx, page = signed_in(browser, base, "dispatcher_a")
    page.goto(f"{base}/cases/{case.pk}/")
    page.check("#action-verify input[name='verify-passed'][value='1']")
    page.click("#action-verify button[type=submit]")
    expect(page.locator(".message-success")).to_be_visible()
    assert _status(page) == CaseStatus.CLOSED
    ctx.close()

    ctx, page = signed_in(browser, base, "operator")
    page.goto(f"{base}/cases/{case.pk}/")
    page.select_option("#id_callback-satisfaction", "unsatisfied")
    page.click("#action-callback button[type=submit]")
    expect(page.locator(".message-success")).to_be_visible()
    ctx.close()

    ctx, page = signed_in(browser, base, "dispatcher_a")
    page.goto(f"{base}/cases/{case.pk}/")
    page.fill("#id_reopen-note", "群众不满意，请二次办理")
    page.click("#action-reopen button[type=submit]")
    expect(page.locator(".message-success")).to_be_visible()
    assert _status(page) == CaseStatus.DISPATCHED
    shot(page, "04-reopened")
    ctx.close()
    case.refresh_from_db()
    assert (case.status, case.reopen_count) == (CaseStatus.DISPATCHED, 1)


def test_grid_worker_reports_from_a_phone_with_gps(
    browser: Browser, live_server: object, world: World, tmp_path: Path
) -> None:
    base = str(live_server)
    photo = tmp_path / "scene.png"
    photo.write_bytes(PNG)
    ctx, page = signed_in(
        browser,
        base,
        "grid_worker_a1",
        geolocation={"longitude": IN_GRID_A1[0], "latitude": IN_GRID_A1[1]},
        permissions=["geolocation"],
    )
    page.set_viewport_size(PHONE)
    page.goto(f"{base}/phone/")
    expect(page.locator("#gps-status")).to_contain_text("GPS")
    page.select_option("#id_category", index=1)
    page.fill("#id_description", "路口井盖缺失，存在安全隐患")
    page.set_input_files("#id_photo", str(photo))
    # Nothing wider than the phone: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "05-phone")
    page.click("#report-form button[type=submit]")
    expect(page.locator(".message-success")).to_be_visible()
    case = Case.objects.get()
    assert (case.channel, case.grid_id) == ("grid_patrol", world.grid_a1.pk)
    expect(page.locator(".case-card")).to_contain_text(case.number)
    ctx.close()


def test_map_loads_and_shows_the_grids(browser: Browser, live_server: object, world: World) -> None:
    base = str(live_server)
    new_case(world)
    ctx, page = signed_in(browser, base, "dispatcher_a")
    page.goto(f"{base}/map/")
    expect(page.locator("#map")).to_have_attribute("data-loaded", "1")
    assert page.locator("#map").get_attribute("data-grids") == "2"  # street A's grids only
    assert page.locator(".leaflet-overlay-pane canvas, .leaflet-overlay-pane svg").count() >= 1
    shot(page, "06-map")
    ctx.close()


def test_case_text_with_script_shows_as_text_in_the_browser(
    browser: Browser, live_server: object, world: World
) -> None:
    base = str(live_server)
    case = new_case(world, title="<script>alert(1)</script>", description="<img src=x onerror=alert(2)>")
    ctx, page = signed_in(browser, base, "dispatcher_a")  # any dialog fails the test
    page.goto(f"{base}/cases/{case.pk}/")
    expect(page.locator("h1 .case-title")).to_have_text("<script>alert(1)</script>")
    expect(page.locator(".case-description")).to_have_text("<img src=x onerror=alert(2)>")
    page.goto(f"{base}/queue/")
    expect(page.locator(f"tr[data-case-id='{case.pk}'] .case-title")).to_have_text(
        "<script>alert(1)</script>"
    )
    page.goto(f"{base}/map/")
    expect(page.locator("#map")).to_have_attribute("data-loaded", "1")
    shot(page, "07-escaped")
    ctx.close()
