"""Digest editions: the day's papers in the site's trending order, the mail's two parts (no
remote images, inline CSS), the same edition on the web, links that work against the app,
and ``dailypapers mail preview``. Papers: Hugging Face's real 2026-06-12 capture.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from dailypapers.cli import app as cli_app
from dailypapers.digest.compose import base_url, digest_message, pick_edition
from dailypapers.digest.edition import for_categories
from dailypapers.feed.trending import age_hours, trending_score
from dailypapers.settings import get_settings
from dailypapers.store import Store

DAY = date(2026, 6, 12)


def _score(entry: object) -> float:
    at = datetime(2026, 6, 13)
    return trending_score(
        entry.upvotes,  # type: ignore[attr-defined]
        age_hours(at, entry.submitted_at, entry.day),  # type: ignore[attr-defined]
        stars=entry.github_stars or 0,  # type: ignore[attr-defined]
        comments=entry.num_comments,  # type: ignore[attr-defined]
    )


def test_the_daily_edition_is_the_days_papers_by_trending_score(filled: Store) -> None:
    edition = pick_edition(filled, "daily", DAY)
    assert edition is not None and edition.name == "daily/2026-06-12"
    assert len(edition.entries) == 30 and all(entry.day == DAY for entry in edition.entries)
    scores = [_score(entry) for entry in edition.entries]
    assert scores == sorted(scores, reverse=True)
    weekly = pick_edition(filled, "weekly", DAY)
    assert weekly is not None and weekly.name == "weekly/2026-W24"
    assert {entry.id for entry in edition.entries} <= {entry.id for entry in weekly.entries}


def test_categories_pick_the_editions_first_papers_in_them(filled: Store) -> None:
    edition = pick_edition(filled, "weekly", date(2024, 1, 2))  # the snapshot sample's week
    assert edition is not None and len(edition.entries) == 2
    assert [entry.categories for entry in for_categories(edition, ("cs.CL",), 5)] == [
        ("cs.CL", "cs.LG")
    ]
    assert len(for_categories(edition, ("cs.CL", "cs.CV"), 5)) == 2
    assert len(for_categories(edition, (), 1)) == 1
    assert for_categories(edition, ("cs.AI",), 5) == []


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.links += [value or "" for name, value in attrs if name == "href"]


def _message(filled: Store) -> EmailMessage:
    settings = get_settings()
    edition = pick_edition(filled, "daily", DAY)
    assert edition is not None
    built = digest_message(settings, edition, "reader@example.org")
    # Through bytes and back, as a mail server gets it.
    parsed = message_from_bytes(built.as_bytes(), policy=default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def test_the_mail_has_text_and_html_with_inline_css_and_no_remote_images(
    filled: Store, client: TestClient
) -> None:
    message = _message(filled)
    assert message.get_content_type() == "multipart/alternative"
    text_part, html_part = message.get_body(("plain",)), message.get_body(("html",))
    assert text_part is not None and html_part is not None
    text, html = text_part.get_content(), html_part.get_content()
    edition = pick_edition(filled, "daily", DAY)
    assert edition is not None
    first = edition.entries[0]
    assert first.title in text and first.title in html
    assert str(message["Subject"]) == "Daily Papers, Fri 12 Jun 2026: 10 trending papers"
    parser = _Html()
    parser.feed(html)
    assert "img" not in parser.tags and "style" not in parser.tags and "link" not in parser.tags
    assert 'style="' in html and "color-scheme" in html
    # Every link of the site in both parts answers on the running app.
    base = base_url(get_settings())
    site_links = {link for link in parser.links if link.startswith(base)}
    site_links |= set(re.findall(re.escape(base) + r"\S+", text))
    assert (
        f"{base}/papers/{first.id}" in site_links
        and f"{base}/digests/daily/2026-06-12" in site_links
    )
    for link in site_links:
        assert client.get(link.removeprefix(base)).status_code == 200, link


def test_the_archive_page_shows_the_same_edition(filled: Store, client: TestClient) -> None:
    edition = pick_edition(filled, "daily", DAY)
    assert edition is not None
    page = client.get("/digests/daily/2026-06-12")
    assert page.status_code == 200
    titles = re.findall(r'<h2><a href="/papers/([^"]+)">', page.text)
    assert titles == [entry.id for entry in edition.entries[:10]]
    assert client.get("/digests/weekly/2026-W24").status_code == 200
    for bad in ("/digests/daily/2026-13-01", "/digests/weekly/2026-W60", "/digests/hourly/x"):
        answer = client.get(bad)
        assert answer.status_code == 404 and "Traceback" not in answer.text


def test_mail_preview_prints_or_saves_an_edition(
    filled: Store, cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAILYPAPERS_DATABASE_URL", filled.url)
    get_settings.cache_clear()
    shown = cli.invoke(cli_app, ["mail", "preview", "--date", "2026-06-12"])
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.startswith("Subject: Daily Papers, Fri 12 Jun 2026")
    saved = cli.invoke(
        cli_app, ["mail", "preview", "--date", "2026-06-12", "--format", "eml",
                  "--output", str(tmp_path / "d.eml")],
    )  # fmt: skip
    assert saved.exit_code == 0 and "daily/2026-06-12" in saved.stdout
    parsed = message_from_bytes((tmp_path / "d.eml").read_bytes(), policy=default)
    assert parsed.get_content_type() == "multipart/alternative"
    empty = cli.invoke(cli_app, ["mail", "preview", "--date", "2001-01-01"])
    assert empty.exit_code == 1 and "no papers" in empty.stderr
    bad = cli.invoke(cli_app, ["mail", "preview", "--edition", "hourly"])
    assert bad.exit_code == 2
