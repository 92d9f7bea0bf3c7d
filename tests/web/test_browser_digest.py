"""The digest in a real browser (Playwright, Debian's Chromium) on the real server, with a
real SMTP server: subscribe from the footer, confirm from the received mail, get a digest,
open its archive page, unsubscribe in one click.

Run: ``.venv/bin/pytest tests/web/test_browser_digest.py`` (``apt-get install chromium``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from dailypapers.digest import subscriptions as subs
from dailypapers.digest.compose import pick_edition
from dailypapers.digest.outbox import send_edition
from tests.support.browser import chromium, serve_site
from tests.support.site import site_settings
from tests.support.smtp import SmtpServer, start_smtp


def _link(server: SmtpServer, index: int, pattern: str) -> str:
    body = server.wait_for(index + 1)[index].get_body(("plain",))
    assert body is not None
    found = re.search(pattern, body.get_content())
    assert found, body.get_content()
    return found.group(0)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with start_smtp() as server:
        yield server


def test_subscribe_confirm_read_the_archive_and_unsubscribe(
    tmp_path: Path, models_dir: Path, shared_data: Path, smtp: SmtpServer
) -> None:
    settings = site_settings(tmp_path / "site", models_dir).model_copy(
        update={"smtp_url": smtp.url()}
    )
    with serve_site(settings) as site, chromium() as browser:
        page: Page = browser.new_page()
        page.goto(site.url + "/")
        page.get_by_label("Get trending papers in your email inbox").fill("ada@example.org")
        page.get_by_role("button", name="Subscribe").click()
        expect(page.get_by_role("heading", name="Check your mail")).to_be_visible()

        confirm = _link(smtp, 0, r"http://\S+/subscribe/confirm\?token=\S+")
        page.goto(confirm)
        page.get_by_role("button", name="Confirm this address").click()
        expect(page.get_by_role("heading", name="Subscribed")).to_be_visible()

        live = settings.model_copy(update={"site_url": site.url})
        edition = pick_edition(site.store, "daily", date(2026, 6, 12))
        assert edition is not None
        assert send_edition(site.store, live, edition).counts == {"sent": 1}
        archive = _link(smtp, 1, r"http://\S+/digests/daily/2026-06-12")
        page.goto(archive)
        expect(page.get_by_role("heading", name="Daily Papers, Fri 12 Jun 2026")).to_be_visible()
        first = edition.entries[0]
        expect(page.get_by_role("link", name=first.title)).to_be_visible()

        page.goto(_link(smtp, 1, r"http://\S+/unsubscribe\?token=\S+"))
        page.get_by_role("button", name="Unsubscribe").click()
        expect(page.get_by_role("heading", name="Unsubscribed")).to_be_visible()
        assert subs.all_subscriptions(site.store) == []
