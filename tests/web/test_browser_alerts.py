"""Saving an alert in a real browser (Playwright, Debian's Chromium) on the real server: an
anonymous visitor's search offers a log-in link; after logging in, "Save as alert" on the
search page saves the search with its filters, and /alerts lists it.

Run: ``.venv/bin/pytest tests/web/test_browser_alerts.py`` (``apt-get install chromium``).
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from dailypapers.alerts import service
from tests.support.accounts import PASSWORD, make_user
from tests.support.browser import chromium, serve_site
from tests.support.site import site_settings


def test_save_a_search_as_an_alert(tmp_path: Path, models_dir: Path) -> None:
    settings = site_settings(tmp_path / "site", models_dir)
    with serve_site(settings, search_index=True) as site, chromium() as browser:
        ada = make_user(site.store, "ada", confirmed=True, settings=settings)
        page: Page = browser.new_page()
        page.goto(site.url + "/search?q=speculative+decoding&code=true")
        page.get_by_role("link", name="Log in", exact=True).last.click()
        page.get_by_label("User name or email").fill("ada")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        expect(page).to_have_url(site.url + "/search?q=speculative+decoding&code=true")
        page.get_by_role("button", name="Save as alert").click()
        expect(page.get_by_role("heading", name="Your alerts")).to_be_visible()
        expect(page.get_by_role("status").first).to_contain_text("The alert is saved")
        expect(page.get_by_role("link", name="“speculative decoding”")).to_be_visible()
        [alert] = service.alerts_of(site.store, ada.id)
    assert (alert.query, alert.channel, alert.params["code"]) == (
        "speculative decoding",
        "email",
        True,
    )
