"""Reporting and hiding a comment in a real browser (Playwright, Debian's Chromium) against
the real server: a member sees the unread count of their notifications in the header, opens
the reply it points to and reports it with a reason; a moderator finds the report from the
moderation index, hides the comment with a reason, and readers no longer see it.

Run: ``.venv/bin/pytest tests/web/test_browser_moderation.py``.
"""

from __future__ import annotations

import re

from playwright.sync_api import Browser, BrowserContext, expect

from dailypapers.discussion import comments as service
from dailypapers.store import Store
from tests.support.browser import TIMEOUT_MS, Site
from tests.support.members import add_members, member, session_cookie, set_role
from tests.web.test_claims import a_paper_and_author

RUDE = "You are all wrong and stupid"


def _context(browser: Browser, url: str, store: Store, user_id: int | None) -> BrowserContext:
    context = browser.new_context(base_url=url)
    context.set_default_timeout(TIMEOUT_MS)
    if user_id is not None:
        context.add_cookies([session_cookie(store, user_id, url)])
    return context


def test_a_member_reports_a_reply_and_a_moderator_hides_it(
    live_site: Site, browser: Browser
) -> None:
    url, store, settings = live_site.url, live_site.store, live_site.settings
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
