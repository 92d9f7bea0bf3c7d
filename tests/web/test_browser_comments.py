"""Comments in a real browser (Playwright, Debian's Chromium) against the real server, with
and without JavaScript: a member comments with math (MathML in the page), another replies,
the author edits ("edited" shows) and the other member sees no controls on it.

Run: ``.venv/bin/pytest tests/web/test_browser_comments.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from dailypapers.ingest.hf_daily import HfDailySource
from dailypapers.ingest.run import ingest
from dailypapers.store import Store, open_store
from dailypapers.web.app import create_app
from tests.conftest import SHARED_DATA
from tests.support.browser import LiveServer, launch_chromium
from tests.support.members import add_members, session_cookie
from tests.support.site import site_settings

CAPTURE = "arxiv-responses/hf-api/sotawhat_daily_papers_2026-06-12.json"
TIMEOUT_MS = 30_000  # bounded, with room for a loaded CI machine


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, models_dir: Path
) -> Iterator[tuple[str, Store]]:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared test data not found at {SHARED_DATA}")
    settings = site_settings(tmp_path_factory.mktemp("comments-site"), models_dir)
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


@pytest.mark.parametrize("javascript", [True, False])
def test_comment_with_math_reply_and_edit(
    served: tuple[str, Store], browser: Browser, javascript: bool
) -> None:
    url, store = served
    prefix = "js" if javascript else "plain"
    author, replier = add_members(store, 2, prefix=f"{prefix}talk")
    contexts = []
    for member in (author, replier):
        context = browser.new_context(base_url=url, java_script_enabled=javascript)
        context.add_cookies([session_cookie(store, member, url)])
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
    try:
        page = contexts[0].new_page()
        page.goto("/date/2026-06-12")
        page.locator("ol.cards article.card h2 a").first.click()
        paper_path = page.url.removeprefix(url)
        page.get_by_label("Add a comment").fill("The bound $\\mathcal{O}(n \\log n)$ is tight.")
        page.get_by_role("button", name="Comment", exact=True).click()
        page.wait_for_url("**#comment-*")
        comment = page.locator("li.comment").last
        expect(comment.locator("math")).to_have_count(1)
        expect(comment.locator("math mi").first).to_be_visible()
        comment_id = comment.get_attribute("id")

        other = contexts[1].new_page()
        other.goto(paper_path)
        top = other.locator(f"#{comment_id}")
        expect(top.locator(".comment-actions")).to_have_count(0)  # not theirs to change
        top.locator("details.reply summary").click()
        top.get_by_label("Your reply").fill("Agreed, see $$\\sum_i x_i$$")
        top.get_by_role("button", name="Reply").click()
        other.wait_for_url("**#comment-*")
        reply = other.locator(f"#{comment_id} ol.replies li.comment")
        expect(reply).to_have_count(1)
        expect(reply.locator('math[display="block"]')).to_have_count(1)

        page.goto(paper_path)
        mine = page.locator(f"#{comment_id}")
        mine.locator(".comment-actions details summary").click()
        mine.get_by_label("Edit your comment").fill("The bound $O(n)$ is tight.")
        mine.get_by_role("button", name="Save").click()
        page.wait_for_url(f"**#{comment_id}")
        mine = page.locator(f"#{comment_id}")
        expect(mine.locator(".edited").first).to_have_text("edited")
        expect(mine.locator(".comment-body").first).to_contain_text("is tight")
        expect(mine.locator("ol.replies li.comment")).to_have_count(1)
    finally:
        for context in contexts:
            context.close()
