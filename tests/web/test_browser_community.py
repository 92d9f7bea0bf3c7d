"""Voting and submitting in a real browser (Playwright, Debian's Chromium) against the real
server: upvote with JavaScript (in place, no page load) and without it (the form's POST and
303 back to the card), then submit a paper, which the server fetches from a real HTTP server
replaying a captured arXiv API answer, and find it on today's feed with its note.

Run: ``.venv/bin/pytest tests/web/test_browser_community.py``.
"""

from __future__ import annotations

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
from tests.support.replay import ReplayServer, Response
from tests.support.site import site_settings

CAPTURE = "arxiv-responses/hf-api/sotawhat_daily_papers_2026-06-12.json"
ARXIV = "arxiv-responses/api-atom/arxivpy_2026_idlist_0808.05394_1707.08567.body.xml"
DAY = "/date/2026-06-12"
TIMEOUT_MS = 10_000


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, models_dir: Path
) -> Iterator[tuple[str, Store]]:
    """The site over the day Hugging Face featured, its arXiv API a replay of a capture."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared test data not found at {SHARED_DATA}")
    with ReplayServer() as arxiv:
        body = (SHARED_DATA / ARXIV).read_bytes()
        arxiv.add("/api/query", Response(200, body, {"Content-Type": "application/atom+xml"}))
        settings = site_settings(tmp_path_factory.mktemp("community-site"), models_dir)
        settings = settings.model_copy(update={
            "arxiv_api_url": arxiv.base_url + "/api/query", "submission_max_age_days": 100_000,
        })  # fmt: skip
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
def member_context(
    browser: Browser, served: tuple[str, Store]
) -> Iterator[tuple[BrowserContext, BrowserContext]]:
    """A signed-in member's browser twice: with JavaScript and without."""
    url, store = served
    (member,) = add_members(store, 1, prefix=f"browser{datetime.now(UTC):%H%M%S%f}")
    cookie = session_cookie(store, member, url)
    contexts = [browser.new_context(base_url=url, java_script_enabled=js) for js in (True, False)]
    for context in contexts:
        context.add_cookies([cookie])
        context.set_default_timeout(TIMEOUT_MS)
    yield contexts[0], contexts[1]
    for context in contexts:
        context.close()


def _count(page: Page, index: int) -> int:
    return int(page.locator("ol.cards article.card").nth(index).locator(".count").inner_text())


def test_vote_with_and_without_javascript(
    member_context: tuple[BrowserContext, BrowserContext],
) -> None:
    scripted, plain = (context.new_page() for context in member_context)
    scripted.goto(DAY)
    button = scripted.locator("ol.cards article.card").nth(0).locator("form.votes button")
    before = _count(scripted, 0)
    loads: list[str] = []
    scripted.on("load", lambda loaded: loads.append(loaded.url))
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(button.locator(".count")).to_have_text(str(before + 1))
    assert loads == []  # updated in place
    button.click()  # again: taken back
    expect(button).to_have_attribute("aria-pressed", "false")
    expect(button.locator(".count")).to_have_text(str(before))

    plain.goto(DAY)
    card = plain.locator("ol.cards article.card").nth(1)
    before = _count(plain, 1)
    anchor = card.locator("h2").get_attribute("id")
    card.locator("form.votes button").click()
    plain.wait_for_url(f"**{DAY}#{anchor}")
    card = plain.locator("ol.cards article.card").nth(1)
    expect(card.locator("form.votes button")).to_have_attribute("aria-pressed", "true")
    assert _count(plain, 1) == before + 1


def test_submit_a_paper(member_context: tuple[BrowserContext, BrowserContext]) -> None:
    page = member_context[0].new_page()
    page.goto(DAY)
    page.get_by_label("arXiv id or link").fill("https://arxiv.org/abs/1707.08567v1")
    page.get_by_label("Note (optional)").fill("A <b>workshop</b> worth reading")
    page.get_by_role("button", name="Submit", exact=True).click()
    page.wait_for_url("**/date/*submitted=1707.08567*")
    expect(page.get_by_role("status").first).to_contain_text("Submitted 1707.08567")
    card = page.locator("ol.cards article.card", has_text="Proceedings of Workshop AEW10")
    expect(card.locator(".note")).to_have_text("A <b>workshop</b> worth reading")
    expect(card.locator(".submitter")).to_contain_text("submitted by")
    expect(card.locator("form.votes button")).to_have_attribute("aria-pressed", "true")
