"""Voting and submitting in a real browser (Playwright, Debian's Chromium) against the real
server: upvote with JavaScript (in place, no page load) and without it (the form's POST and
303 back to the card), then submit a paper, which the server fetches from a real HTTP server
replaying a captured arXiv API answer, and find it on today's feed with its note.

And the whole journey of issue 10 as one person takes it: sign up, confirm from the mail the
development sender wrote under DATA_DIR/mail, log in, vote with and without JavaScript, submit
a paper, claim authorship of it; a moderator approves the claim from the queue (reached from
the settings page), the badge shows and the author page links the member; the moderator
removes the submission from the submissions' queue; the member logs out.

Run: ``.venv/bin/pytest tests/web/test_browser_community.py``.
"""

from __future__ import annotations

import email
import re
import time
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
from playwright._impl._api_structures import SetCookieParam
from playwright.sync_api import Browser, BrowserContext, Page, expect

from dailypapers.accounts import service as accounts
from dailypapers.settings import Settings
from tests.conftest import SHARED_DATA
from tests.support.browser import TIMEOUT_MS, Site, member_contexts, serve_site
from tests.support.members import add_members, session_cookie, set_role
from tests.support.replay import ReplayServer, Response
from tests.support.site import site_settings

ARXIV = "arxiv-responses/api-atom/arxivpy_2026_idlist_0808.05394_1707.08567.body.xml"
# Ten papers arXiv answered a search with: the journey submits one of them.
ARXIV_MORE = "arxiv-responses/api-atom/arxivpy_2026_search_testing_start0_max10.body.xml"
JOURNEY_PAPER = "2202.12139"
ATOM = {"Content-Type": "application/atom+xml"}
PASSWORD = "a passphrase nobody guesses"
DAY = "/date/2026-06-12"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> Iterator[Site]:
    """The site over the day Hugging Face featured, its arXiv API a replay of captures."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared test data not found at {SHARED_DATA}")
    with ReplayServer() as arxiv:
        more = (SHARED_DATA / ARXIV_MORE).read_bytes()
        arxiv.add("/api/query", Response(200, (SHARED_DATA / ARXIV).read_bytes(), ATOM))
        arxiv.add("/api/query", Response(200, more, ATOM), query={"id_list": JOURNEY_PAPER})
        settings = site_settings(tmp_path_factory.mktemp("community-site"), models_dir)
        settings = settings.model_copy(update={
            "arxiv_api_url": arxiv.base_url + "/api/query", "submission_max_age_days": 100_000,
        })  # fmt: skip
        with serve_site(settings) as served:
            yield served


@pytest.fixture
def member_context(browser: Browser, site: Site) -> Iterator[tuple[BrowserContext, BrowserContext]]:
    """A signed-in member's browser twice: with JavaScript and without."""
    with member_contexts(browser, site, "browser") as made:
        yield made


def _count(page: Page, index: int) -> int:
    return int(page.locator("ol.cards article.card").nth(index).locator(".count").inner_text())


def test_vote_with_and_without_javascript(
    member_context: tuple[BrowserContext, BrowserContext],
) -> None:
    scripted, plain = (context.new_page() for context in member_context)
    scripted.goto(DAY)
    button = scripted.locator("ol.cards article.card").nth(0).locator("button.votes")
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
    card.locator("button.votes").click()
    plain.wait_for_url(f"**{DAY}#{anchor}")
    card = plain.locator("ol.cards article.card").nth(1)
    expect(card.locator("button.votes")).to_have_attribute("aria-pressed", "true")
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
    expect(card.locator("button.votes")).to_have_attribute("aria-pressed", "true")


def _link_in_mail(settings: Settings, to: str) -> str:
    """The confirmation link of the mail the development sender wrote to ``to`` (it goes out
    after the answer, so it may take a moment to appear)."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        for path in sorted((settings.data_dir / "mail").glob("*.eml")):
            mail = email.message_from_bytes(path.read_bytes(), policy=default)
            if mail["To"] == to:
                body = mail.get_body(("plain",))
                assert isinstance(body, EmailMessage)
                found = re.search(r"(http://\S+/confirm\?token=\S+)", body.get_content())
                assert found, body.get_content()
                return found.group(1)
        time.sleep(0.05)
    raise AssertionError(f"no mail to {to} under {settings.data_dir / 'mail'}")


def _vote(page: Page, index: int) -> None:
    """Upvote the ``index``-th card of the day and see it counted."""
    page.goto(DAY)
    before = _count(page, index)
    page.locator("ol.cards article.card").nth(index).locator("button.votes").click()
    button = page.locator("ol.cards article.card").nth(index).locator("button.votes")
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(button.locator(".count")).to_have_text(str(before + 1))


def test_the_whole_journey(site: Site, browser: Browser) -> None:
    url, store, settings = site.url, site.store, site.settings
    context = browser.new_context(base_url=url)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto("/signup")
    page.get_by_label("User name").fill("journey")
    page.get_by_label("Email", exact=True).fill("journey@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Check your mail")).to_be_visible()
    page.goto(_link_in_mail(settings, "journey@example.org"))
    page.get_by_role("button", name="Confirm this address").click()
    expect(page.get_by_text("journey@example.org is confirmed for journey")).to_be_visible()

    page.goto("/login")
    page.get_by_label("User name or email").fill("journey")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    header = page.locator("header.site")
    expect(header.get_by_role("link", name="journey")).to_be_visible()

    _vote(page, 2)  # with JavaScript
    plain = browser.new_context(base_url=url, java_script_enabled=False)
    plain.set_default_timeout(TIMEOUT_MS)
    session: list[SetCookieParam] = [
        {"name": cookie["name"], "value": cookie["value"], "url": url}
        for cookie in context.cookies()
    ]
    plain.add_cookies(session)
    _vote(plain.new_page(), 3)  # without: the form's POST and 303 back
    plain.close()

    page.goto(DAY)
    page.get_by_label("arXiv id or link").fill(JOURNEY_PAPER)
    page.get_by_label("Note (optional)").fill("Worth a <b>look</b>")
    page.get_by_role("button", name="Submit", exact=True).click()
    page.wait_for_url(f"**/date/*submitted={JOURNEY_PAPER}*")
    expect(page.get_by_role("status").first).to_contain_text(f"Submitted {JOURNEY_PAPER}")

    page.goto(f"/papers/{JOURNEY_PAPER}")
    author = page.locator("#claim-author option").first.inner_text()
    page.get_by_label("I am the author").select_option(author)
    page.get_by_role("button", name="Claim authorship").click()
    sent = page.get_by_text("Your claim went to the moderators")
    expect(sent).to_have_attribute("role", "status")

    (moderator_id,) = add_members(store, 1, prefix="journeymod")
    set_role(store, moderator_id, "moderator")
    moderator = browser.new_context(base_url=url)
    moderator.set_default_timeout(TIMEOUT_MS)
    moderator.add_cookies([session_cookie(store, moderator_id, url)])
    queue = moderator.new_page()
    queue.goto("/settings")
    queue.get_by_role("link", name="Authorship claims").click()
    claim = queue.locator("ul.claims li", has_text=author)
    expect(claim.get_by_role("link", name="journey")).to_have_attribute("href", "/users/journey")
    claim.get_by_role("button", name="Approve").click()
    expect(queue.get_by_text("No claims are waiting.")).to_be_visible()

    page.goto(f"/papers/{JOURNEY_PAPER}")
    badge = page.locator("a.badge.claimed")
    expect(badge).to_have_text("verified author: journey")
    expect(badge).to_have_attribute("href", "/users/journey")
    page.get_by_role("link", name=author, exact=True).first.click()
    expect(page.get_by_text("Confirmed as this author:")).to_be_visible()
    expect(page.locator("main").get_by_role("link", name="journey")).to_have_attribute(
        "href", "/users/journey"
    )

    queue.goto("/settings")
    queue.get_by_role("link", name="Submissions").click()
    row = queue.locator("table.moderation-queue tr", has_text=JOURNEY_PAPER)
    expect(row.get_by_role("link", name="journey")).to_have_attribute("href", "/users/journey")
    expect(row).to_contain_text("Worth a <b>look</b>")
    row.get_by_role("button", name="Remove").click()
    expect(queue.get_by_role("status")).to_have_text(f"Removed the submission of {JOURNEY_PAPER}.")
    moderator.close()

    header.get_by_role("button", name="Log out").click()
    expect(header.get_by_role("link", name="Log in")).to_be_visible()
    user = accounts.find_user(store, "journey")
    assert user is not None and user.confirmed
    context.close()
