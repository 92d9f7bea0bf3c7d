"""Collections and "not interested" in a real browser (Playwright, Debian's Chromium) against
the real server: save a paper from a card with JavaScript (in place, no page load) and
without it (the form's POST and 303 back to the card), find it in "Read later" and download
its BibTeX export; "Not interested" takes a card off the day's list, in place with
JavaScript and by a page load without, and settings undoes it; the paper page's "Save" and
"Not interested" (with its undo), both ways.

Run: ``.venv/bin/pytest tests/web/test_browser_collections.py``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.support.browser import Site, member_contexts

DAY = "/date/2026-06-12"


@pytest.fixture
def contexts(browser: Browser, live_site: Site) -> Iterator[tuple[BrowserContext, BrowserContext]]:
    """One member's browser twice: with JavaScript and without."""
    with member_contexts(browser, live_site, "reader", accept_downloads=True) as made:
        yield made


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
    button = scripted.locator("ol.cards article.card").nth(0).locator("button.save")
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    expect(button).to_have_text("Saved")
    assert loads == []  # in place

    plain.goto(DAY)
    second, anchor = _card(plain, 1)
    plain.locator("ol.cards article.card").nth(1).locator("button.save").click()
    plain.wait_for_url(f"**{DAY}#{anchor}")
    saved = plain.locator("ol.cards article.card").nth(1).locator("button.save")
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


def test_save_and_not_interested_on_the_paper_page(
    contexts: tuple[BrowserContext, BrowserContext],
) -> None:
    scripted, plain = (context.new_page() for context in contexts)
    scripted.goto(DAY)
    paper, _ = _card(scripted, 2)
    scripted.goto(f"/papers/{paper}")
    loads: list[str] = []
    scripted.on("load", lambda loaded: loads.append(loaded.url))
    save = scripted.locator(".saving button.save")
    save.click()
    expect(save).to_have_text("Saved")
    save.click()  # and out of every collection again
    expect(save).to_have_text("Save")
    hide = scripted.locator("#hiding button")
    hide.click()
    expect(hide).to_have_attribute("aria-pressed", "true")
    expect(hide).to_have_text("Undo “Not interested”")
    expect(scripted.locator("article.paper h1")).to_be_visible()  # the page stays
    assert loads == []  # all in place
    scripted.goto(DAY)
    assert _shown(scripted, paper) == 0
    scripted.goto(f"/papers/{paper}")
    scripted.locator("#hiding button").click()  # undo
    expect(scripted.locator("#hiding button")).to_have_text("Not interested")

    plain.goto(f"/papers/{paper}")  # the same member, without JavaScript
    facts = f"t-{paper.replace('.', '-')}"  # back to the paper's facts, where the toggle is
    expect(plain.locator(f"#{facts} #hiding button")).to_have_count(1)
    plain.locator("#hiding button").click()
    plain.wait_for_url(f"**/papers/{paper}#{facts}")
    expect(plain.locator("#hiding button")).to_have_attribute("aria-pressed", "true")
    plain.locator("#hiding button").click()
    plain.wait_for_url(f"**/papers/{paper}#{facts}")
    expect(plain.locator("#hiding button")).to_have_text("Not interested")
    plain.locator(".saving button.save").click()
    expect(plain.locator(".saving button.save")).to_have_text("Saved")
    plain.goto(DAY)
    assert _shown(plain, paper) == 1
