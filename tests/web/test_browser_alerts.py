"""Saving an alert in a real browser (Playwright, Debian's Chromium) on the real server: an
anonymous visitor's search offers a log-in link; after logging in, "Save as alert" on the
search page saves the search with its filters, and /alerts lists it.

Run: ``.venv/bin/pytest tests/web/test_browser_alerts.py`` (``apt-get install chromium``).
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

from dailypapers.alerts import service
from dailypapers.index.job import run_index
from dailypapers.ingest.hf_daily import HfDailySource
from dailypapers.ingest.run import ingest
from dailypapers.store import open_store
from dailypapers.web.app import create_app
from tests.support.accounts import PASSWORD, make_user
from tests.support.browser import LiveServer, launch_chromium
from tests.support.site import site_settings
from tests.web.conftest import CAPTURE

TIMEOUT_MS = 30_000  # bounded, with room for a loaded CI machine


def test_save_a_search_as_an_alert(tmp_path: Path, models_dir: Path, shared_data: Path) -> None:
    settings = site_settings(tmp_path / "site", models_dir)
    store = open_store(settings.resolved_database_url)
    ingest(store, "hf", "capture", HfDailySource(shared_data / CAPTURE))
    run_index(store, settings)  # as `dailypapers index` would: search has both indexes
    ada = make_user(store, "ada", confirmed=True, settings=settings)
    expect.set_options(timeout=TIMEOUT_MS)
    try:
        with LiveServer(create_app(store, settings)) as server, sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page: Page = browser.new_page()
            page.goto(server.url + "/search?q=speculative+decoding&code=true")
            page.get_by_role("link", name="Log in", exact=True).last.click()
            page.get_by_label("User name or email").fill("ada")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            expect(page).to_have_url(server.url + "/search?q=speculative+decoding&code=true")
            page.get_by_role("button", name="Save as alert").click()
            expect(page.get_by_role("heading", name="Your alerts")).to_be_visible()
            expect(page.get_by_role("status").first).to_contain_text("The alert is saved")
            expect(page.get_by_role("link", name="“speculative decoding”")).to_be_visible()
            browser.close()
    finally:
        store.dispose()
    [alert] = service.alerts_of(open_store(settings.resolved_database_url), ada.id)
    assert (alert.query, alert.channel, alert.params["code"]) == (
        "speculative decoding",
        "email",
        True,
    )
