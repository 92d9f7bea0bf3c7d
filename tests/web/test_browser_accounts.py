"""Accounts in a real browser: Debian's Chromium (Playwright) signs up on the real server,
confirms the address from the mail the development sender wrote under DATA_DIR/mail, logs
in and logs out.

Run: ``.venv/bin/pytest tests/web/test_browser_accounts.py`` (``apt-get install chromium``).
"""

from __future__ import annotations

import email
import re
from collections.abc import Iterator
from email.message import EmailMessage
from email.policy import default
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from dailypapers.accounts import service as accounts
from dailypapers.settings import Settings
from tests.support.browser import Site, serve_site
from tests.support.site import site_settings

PASSWORD = "a passphrase nobody guesses"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, models_dir: Path) -> Iterator[Site]:
    """The site without papers: accounts need none."""
    settings = site_settings(tmp_path_factory.mktemp("accounts-site"), models_dir)
    with serve_site(settings, featured=False) as site:
        yield site


def _the_mail(settings: Settings) -> EmailMessage:
    (path,) = (settings.data_dir / "mail").glob("*.eml")
    message = email.message_from_bytes(path.read_bytes(), policy=default)
    assert isinstance(message, EmailMessage)
    return message


def test_sign_up_confirm_log_in_log_out(served: Site, browser: Browser) -> None:
    site, settings, store = served.url, served.settings, served.store
    context = browser.new_context()
    page: Page = context.new_page()
    page.goto(site + "/")
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("User name").fill("ada")
    page.get_by_label("Email", exact=True).fill("ada@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Check your mail")).to_be_visible()

    mail = _the_mail(settings)
    assert mail["To"] == "ada@example.org"
    body = mail.get_body(("plain",))
    assert body is not None
    link = re.search(r"(http://\S+/confirm\?token=\S+)", body.get_content())
    assert link and link.group(1).startswith(site)
    page.goto(link.group(1))
    page.get_by_role("button", name="Confirm this address").click()
    expect(page.get_by_text("ada@example.org is confirmed for ada")).to_be_visible()
    user = accounts.find_user(store, "ada")
    assert user is not None and user.confirmed

    page.get_by_role("link", name="Log in").first.click()
    page.get_by_label("User name or email").fill("ada@example.org")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong user name, email or password.")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    header = page.locator("header.site")
    expect(header.get_by_role("link", name="ada")).to_be_visible()
    cookie = next(c for c in context.cookies() if c["name"] == "dailypapers_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert accounts.resolve_session(store, cookie["value"]) is not None

    header.get_by_role("button", name="Log out").click()
    expect(header.get_by_role("link", name="Log in")).to_be_visible()
    assert accounts.resolve_session(store, cookie["value"]) is None
    context.close()
