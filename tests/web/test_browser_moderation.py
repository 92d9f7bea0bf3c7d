"""Reporting and hiding a comment in a real browser (Playwright, Debian's Chromium) against
the real server: a member sees the unread count of their notifications in the header, opens
the reply it points to and reports it with a reason; a moderator finds the report from the
moderation index, hides the comment with a reason, and readers no longer see it.

Run: ``.venv/bin/pytest tests/web/test_browser_moderation.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, expect, sync_playwright

from dailypapers.discussion import comments as service
from dailypapers.ingest.hf_daily import HfDailySource
from dailypapers.ingest.run import ingest
from dailypapers.settings import Settings
from dailypapers.store import Store, open_store
from dailypapers.web.app import create_app
from tests.conftest import SHARED_DATA
from tests.support.browser import LiveServer, launch_chromium
from tests.support.members import add_members, member, session_cookie, set_role
from tests.support.site import site_settings
from tests.web.test_claims import a_paper_and_author

CAPTURE = "arxiv-responses/hf-api/sotawhat_daily_papers_2026-06-12.json"
TIMEOUT_MS = 30_000  # bounded, with room for a loaded CI machine
RUDE = "You are all wrong and stupid"


@pytest.fixture(scope="module")
def site(
    tmp_path_factory: pytest.TempPathFactory, models_dir: Path
) -> Iterator[tuple[str, Store, Settings]]:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared test data not found at {SHARED_DATA}")
    settings = site_settings(tmp_path_factory.mktemp("moderation-site"), models_dir)
    store = open_store(settings.resolved_database_url)
    try:
        ingest(store, "hf", "capture", HfDailySource(SHARED_DATA / CAPTURE))
        with LiveServer(create_app(store, settings)) as server:
            yield server.url, store, settings
    finally:
        store.dispose()


@pytest.fixture(scope="module")
def browser(site: tuple[str, Store, Settings]) -> Iterator[Browser]:
    expect.set_options(timeout=TIMEOUT_MS)
    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


def _context(browser: Browser, url: str, store: Store, user_id: int | None) -> BrowserContext:
    context = browser.new_context(base_url=url)
    context.set_default_timeout(TIMEOUT_MS)
    if user_id is not None:
        context.add_cookies([session_cookie(store, user_id, url)])
    return context


def test_a_member_reports_a_reply_and_a_moderator_hides_it(
    site: tuple[str, Store, Settings], browser: Browser
) -> None:
    url, store, settings = site
    paper, _ = a_paper_and_author(store)
    bob, ada, mod = add_members(store, 3, prefix="journey")
    set_role(store, mod, "moderator")
    top = service.post_comment(store, settings, member(store, bob), paper, "A careful $O(n)$ bound")
    rude = service.post_comment(store, settings, member(store, ada), paper, RUDE, parent_id=top.id)

    reporter = _context(browser, url, store, bob)
    page = reporter.new_page()
    page.goto(f"/papers/{paper}")
    header = page.locator("header.site .notifications")
    expect(header).to_have_text(re.compile(r"Notifications\s+1"))
    header.click()
    expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    page.locator(f'a[href$="#comment-{rude.id}"]').click()
    reply = page.locator(f"#comment-{rude.id}")
    expect(reply).to_contain_text(RUDE)
    reply.locator("details.report summary").click()
    reply.get_by_label("Why should a moderator look at it?").fill("insults, not science")
    reply.get_by_role("button", name="Send the report").click()
    expect(page.locator("#comments p.note")).to_contain_text("your report went to the moderators")
    reporter.close()

    moderator = _context(browser, url, store, mod)
    page = moderator.new_page()
    page.goto("/settings")
    page.get_by_role("link", name="Reported comments").click()
    report = page.locator("li.report").filter(has_text="insults, not science")
    expect(report).to_contain_text(RUDE)
    report.get_by_label("Reason for hiding").fill("personal attack")
    report.get_by_role("button", name="Hide the comment").click()
    expect(page.get_by_role("status")).to_contain_text("The comment is hidden")
    expect(page.get_by_text("No open reports")).to_be_visible()
    page.goto(f"/papers/{paper}")
    expect(page.locator(f"#comment-{rude.id}")).to_contain_text("hidden: personal attack")
    moderator.close()

    reader = _context(browser, url, store, None)
    page = reader.new_page()
    page.goto(f"/papers/{paper}")
    expect(page.locator(f"#comment-{top.id}")).to_contain_text("A careful")
    expect(page.get_by_text(RUDE)).to_have_count(0)
    reader.close()
