"""Playwright helpers for the browser journeys: the system's Chromium (never a downloaded one),
a signed-in page per persona, screenshots kept under test-artifacts/web/."""

from __future__ import annotations

import os
from pathlib import Path

from playwright.sync_api import Browser, BrowserContext, Page

from tests.factories import PASSWORD

CHROMIUM = os.environ.get("YIWANG_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = (
    Path(os.environ.get("YIWANG_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))
    / "web"
)
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 375, "height": 667}


def signed_in(
    browser: Browser, base_url: str, username: str, **context_options: object
) -> tuple[BrowserContext, Page]:
    context = browser.new_context(viewport=DESKTOP, locale="zh-CN", **context_options)  # type: ignore[arg-type]
    page = context.new_page()
    page.on(
        "dialog", lambda dialog: (_ for _ in ()).throw(AssertionError(f"unexpected dialog: {dialog.message}"))
    )
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("#login-card button[type=submit]")
    page.wait_for_url(f"{base_url}/")
    return context, page


def shot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
