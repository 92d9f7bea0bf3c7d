"""Comments in a real browser (Playwright, Debian's Chromium) against the real server, with
and without JavaScript: a member comments with math (MathML in the page), another replies,
the author edits ("edited" shows) and the other member sees no controls on it; the report
form is there for the other member, not for the author.

Run: ``.venv/bin/pytest tests/web/test_browser_comments.py``.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.support.browser import TIMEOUT_MS, Site
from tests.support.members import add_members, session_cookie


@pytest.mark.parametrize("javascript", [True, False])
def test_comment_with_math_reply_and_edit(
    live_site: Site, browser: Browser, javascript: bool
) -> None:
    url, store = live_site.url, live_site.store
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
        expect(top.locator(":scope > article details.report")).to_have_count(1)
        top.locator("details.reply summary").click()
        top.get_by_label("Your reply").fill("Agreed, see $$\\sum_i x_i$$")
        top.get_by_role("button", name="Reply").click()
        other.wait_for_url("**#comment-*")
        reply = other.locator(f"#{comment_id} ol.replies li.comment")
        expect(reply).to_have_count(1)
        expect(reply.locator('math[display="block"]')).to_have_count(1)

        page.goto(paper_path)
        mine = page.locator(f"#{comment_id}")
        expect(mine.locator(":scope > article details.report")).to_have_count(0)  # their own
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
