"""The digest in a real browser (Playwright, Debian's Chromium) on the real server, with a
real SMTP server: subscribe from the footer, confirm from the received mail, get a digest,
open its archive page, unsubscribe in one click.

Run: ``.venv/bin/pytest tests/web/test_browser_digest.py`` (``apt-get install chromium``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from dailypapers.digest import subscriptions as subs
from dailypapers.digest.compose import pick_edition
from dailypapers.digest.outbox import send_edition
from dailypapers.ingest.hf_daily import HfDailySource
from dailypapers.ingest.run import ingest
from dailypapers.store import open_store
from dailypapers.web.app import create_app
from tests.support.browser import LiveServer, launch_chromium
from tests.support.site import site_settings
from tests.support.smtp import SmtpServer, start_smtp
from tests.web.conftest import CAPTURE

TIMEOUT_MS = 10_000


def _link(server: SmtpServer, index: int, pattern: str) -> str:
    # The confirmation mail goes out in a background task after the page's answer: wait for
    # it (bounded) rather than read the server's list at once.
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while len(server.messages) <= index and time.monotonic() < deadline:
        time.sleep(0.05)
    body = server.messages[index].get_body(("plain",))
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
    store = open_store(settings.resolved_database_url)
    ingest(store, "hf", "capture", HfDailySource(shared_data / CAPTURE))
    expect.set_options(timeout=TIMEOUT_MS)
    try:
        with LiveServer(create_app(store, settings)) as server, sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            page: Page = browser.new_page()
            page.goto(server.url + "/")
            page.get_by_label("Get trending papers in your email inbox").fill("ada@example.org")
            page.get_by_role("button", name="Subscribe").click()
            expect(page.get_by_role("heading", name="Check your mail")).to_be_visible()

            confirm = _link(smtp, 0, r"http://\S+/subscribe/confirm\?token=\S+")
            page.goto(confirm)
            page.get_by_role("button", name="Confirm this address").click()
            expect(page.get_by_role("heading", name="Subscribed")).to_be_visible()

            live = settings.model_copy(update={"site_url": server.url})
            edition = pick_edition(store, "daily", date(2026, 6, 12))
            assert edition is not None
            assert send_edition(store, live, edition).counts == {"sent": 1}
            archive = _link(smtp, 1, r"http://\S+/digests/daily/2026-06-12")
            page.goto(archive)
            expect(
                page.get_by_role("heading", name="Daily Papers, Fri 12 Jun 2026")
            ).to_be_visible()
            first = edition.entries[0]
            expect(page.get_by_role("link", name=first.title)).to_be_visible()

            page.goto(_link(smtp, 1, r"http://\S+/unsubscribe\?token=\S+"))
            page.get_by_role("button", name="Unsubscribe").click()
            expect(page.get_by_role("heading", name="Unsubscribed")).to_be_visible()
            assert subs.all_subscriptions(store) == []
            browser.close()
    finally:
        store.dispose()
