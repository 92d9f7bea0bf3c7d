"""Collections and "not interested" in a real browser (Playwright, Debian's Chromium) against
the real server: save a paper from a card with JavaScript (in place, no page load) and
without it (the form's POST and 303 back to the card), find it in "Read later" and download
its BibTeX export; "Not interested" takes a card off the day's list, in place with
JavaScript and by a page load without, and settings undoes it.

Run: ``.venv/bin/pytest tests/web/test_browser_collections.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from dailypapers.ingest.hf_daily import HfDailySource
from dailypapers.ingest.run import ingest
from dailypapers.store import Store, open_store
from dailypapers.web.app import create_app
from tests.conftest import SHARED_DATA
from tests.support.browser import LiveServer, launch_chromium
from tests.support.members import add_members, session_cookie
from tests.support.site import site_settings

CAPTURE = "arxiv-responses/hf-api/sotawhat_daily_papers_2026-06-12.json"
DAY = "/date/2026-06-12"
TIMEOUT_MS = 30_000  # bounded, with room for a loaded CI machine


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, models_dir: Path
) -> Iterator[tuple[str, Store]]:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared test data not found at {SHARED_DATA}")
    settings = site_settings(tmp_path_factory.mktemp("collections-site"), models_dir)
    store = open_store(settings.resolved_database_url)
    try:
        ingest(store, "hf", "capture", HfDailySource(SHARED_DATA / CAPTURE))
        with LiveServer(create_app(store, settings)) as server:
            yield server.url, store
    finally:
        store.dispose()


@pytest.fixture(scope="module")
def browser(served: tuple[str, Store]) -> Iterator[Browser]:
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture
def contexts(
    browser: Browser, served: tuple[str, Store]
) -> Iterator[tuple[BrowserContext, BrowserContext]]:
    """One member's browser twice: with JavaScript and without."""
    url, store = served
    (member,) = add_members(store, 1, prefix=f"reader{datetime.now(UTC):%H%M%S%f}")
    cookie = session_cookie(store, member, url)
    made = [browser.new_context(base_url=url, java_script_enabled=js, accept_downloads=True)
            for js in (True, False)]  # fmt: skip
    for context in made:
        context.add_cookies([cookie])
        context.set_default_timeout(TIMEOUT_MS)
    yield made[0], made[1]
    for context in made:
        context.close()


def _card(page: Page, index: int) -> tuple[str, str]:
    """(paper id, anchor) of the ``index``-th card of the page."""
    title = page.locator("ol.cards article.card").nth(index).locator("h2 a")
    href = title.get_attribute("href") or ""
    anchor = page.locator("ol.cards article.card").nth(index).locator("h2").get_attribute("id")
    return href.removeprefix("/papers/"), anchor or ""


def _shown(page: Page, paper: str) -> int:
    return page.locator(f'ol.cards article.card h2 a[href="/papers/{paper}"]').count()


def test_save_from_a_card_and_export(contexts: tuple[BrowserContext, BrowserContext]) -> None:
    scripted, plain = (context.new_page() for context in contexts)
    scripted.goto(DAY)
    first, _ = _card(scripted, 0)
    loads: list[str] = []
    scripted.on("load", lambda loaded: loads.append(loaded.url))
    button = scripted.locator("ol.cards article.card").nth(0).locator("form.save button")
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(button).to_have_text("Saved")
    assert loads == []  # in place

    plain.goto(DAY)
    second, anchor = _card(plain, 1)
    plain.locator("ol.cards article.card").nth(1).locator("form.save button").click()
    plain.wait_for_url(f"**{DAY}#{anchor}")
    saved = plain.locator("ol.cards article.card").nth(1).locator("form.save button")
    expect(saved).to_have_attribute("aria-pressed", "true")

    plain.goto("/collections")
    plain.get_by_role("link", name="Read later").click()
    expect(plain.locator("ol.cards article.card")).to_have_count(2)
    with plain.expect_download() as download:
        plain.get_by_role("link", name="BibTeX").click()
    text = Path(download.value.path()).read_text()
    assert re.findall(r"eprint=\{([^}]+)\}", text) == [first, second]


def test_not_interested_hides_a_card(contexts: tuple[BrowserContext, BrowserContext]) -> None:
    scripted, plain = (context.new_page() for context in contexts)
    scripted.goto(DAY)
    first, _ = _card(scripted, 0)
    loads: list[str] = []
    scripted.on("load", lambda loaded: loads.append(loaded.url))
    scripted.locator("ol.cards article.card").nth(0).get_by_role(
        "button", name="Not interested"
    ).click()
    expect(scripted.locator(f'ol.cards a[href="/papers/{first}"]')).to_have_count(0)
    assert loads == []
    scripted.reload()
    assert _shown(scripted, first) == 0

    plain.goto(DAY)
    second, _ = _card(plain, 0)
    assert second != first
    plain.locator("ol.cards article.card").nth(0).get_by_role(
        "button", name="Not interested"
    ).click()
    plain.wait_for_url(f"**{DAY}*")
    assert _shown(plain, second) == 0 and _shown(plain, first) == 0

    plain.goto("/settings#not-interested")
    item = plain.locator("ul.hidden-papers li", has=plain.locator(f'a[href="/papers/{first}"]'))
    item.get_by_role("button", name="Show it again").click()
    plain.goto(DAY)
    assert _shown(plain, first) == 1 and _shown(plain, second) == 0
