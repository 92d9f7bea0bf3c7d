"""The Atom and RSS feeds over HTTP (in process): real ingested papers, read back by feedparser."""

from __future__ import annotations

import html
from datetime import date, datetime
from typing import Any
from urllib.parse import urlencode

import feedparser
import pytest
from defusedxml import ElementTree
from fastapi.testclient import TestClient

from dailypapers.paper import make_record
from dailypapers.store import Store
from dailypapers.store.papers import upsert_papers

SITE = "http://testserver/"
TOP = "2606.13681"  # the most upvoted paper of 2026-06-12 (118)
MEDIA_TYPES = {
    "atom": "application/atom+xml; charset=utf-8",
    "rss": "application/rss+xml; charset=utf-8",
}
FORMATS = list(MEDIA_TYPES)

# Markup-like text that must reach a reader as text, and a character XML cannot hold (BEL).
TRICKY = make_record(
    "2606.99901", "R&D <b>not bold</b> & Q&A",
    abstract="We show x < y && a > b; <script>alert(1)</script> stays text.\x07",
    authors=["Ada <Example>", "Bo & Co"], categories=["cs.CL", "cs.LG"],
    first_listed_on=date(2026, 6, 10), submitted_at=datetime(2026, 6, 9, 17, 30),
)  # fmt: skip
LATER = make_record(
    "2606.99902", "A Later Paper in cs.CL", abstract="Plain.", authors=["Cy Later"],
    categories=["cs.CL"], first_listed_on=date(2026, 6, 11), submitted_at=datetime(2026, 6, 10),
)  # fmt: skip
TOO_OLD = make_record(
    "2604.99903", "Listed Before the Category Window", categories=["cs.CL"],
    first_listed_on=date(2026, 4, 1),
)  # fmt: skip


@pytest.fixture
def filled(featured: Store) -> Store:
    """The featured papers and the sample (see conftest), and three more."""
    with featured.write() as connection:
        upsert_papers(connection, [TRICKY, LATER, TOO_OLD])
    return featured


def _feed(client: TestClient, path: str, fmt: str, **params: str) -> Any:
    """The feed at ``path`` + ``.fmt``, checked to be served and parsed as that format."""
    response = client.get(f"{path}.{fmt}", params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == MEDIA_TYPES[fmt]
    assert response.headers["cache-control"] == "public, max-age=300"
    parsed = feedparser.parse(response.content)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == ("atom10" if fmt == "atom" else "rss20")
    links = {link.rel: link.href for link in parsed.feed.links}
    assert links["self"] == str(response.url)
    parsed["alternate"] = links["alternate"]
    return parsed


def _ids(parsed: Any) -> list[str]:
    return [entry.link.removeprefix(f"{SITE}papers/") for entry in parsed.entries]


def _entry(parsed: Any, paper_id: str) -> Any:
    return next(entry for entry in parsed.entries if entry.link == f"{SITE}papers/{paper_id}")


def _shown(detail: Any) -> str:
    """What a reader shows of a text construct: HTML is unescaped, and must hold no markup."""
    if detail.type == "text/plain":
        return str(detail.value)
    assert detail.type == "text/html" and "<" not in detail.value
    return html.unescape(detail.value)


@pytest.mark.parametrize("fmt", FORMATS)
def test_daily_feed_is_the_latest_day_as_the_api_ranks_it(client: TestClient, fmt: str) -> None:
    parsed = _feed(client, "/feeds/daily", fmt)
    api = client.get("/api/daily_papers", params={"limit": 100}).json()
    assert _ids(parsed) == [item["paper"]["id"] for item in api]
    assert len(parsed.entries) == 30 and _ids(parsed)[0] == TOP
    feed = parsed.feed
    assert feed.title == "dailypapers: daily papers of 2026-06-12"
    assert parsed["alternate"] == SITE
    assert (feed.language, feed.generator) == ("en", "dailypapers")
    assert feed.updated_parsed[:6] == (2026, 6, 12, 0, 0, 0)  # the newest entry's time
    top, paper = parsed.entries[0], api[0]["paper"]
    assert top.id == top.link == f"{SITE}papers/{TOP}"
    assert top.title == paper["title"]
    assert [author.name for author in top.authors] == [a["name"] for a in paper["authors"]]
    assert len(top.authors) == 14 and top.authors[0].name == "Jundong Xu"
    assert _shown(top.summary_detail) == paper["summary"]
    assert top.published_parsed[:6] == (2026, 6, 11, 0, 0, 0)  # submitted to arXiv
    # An abstract that mentions tokens like <swi> keeps them as text.
    assert "<swi> to enter latent mode" in _shown(_entry(parsed, "2606.13106").summary_detail)
    if fmt == "atom":  # RSS has one link per item and no updated time
        links = {link.rel: link.href for link in top.links}
        assert links == {"alternate": top.link, "related": f"https://arxiv.org/abs/{TOP}"}
        assert top.updated_parsed[:6] == (2026, 6, 12, 0, 0, 0)  # the day it entered the feed


@pytest.mark.parametrize("fmt", FORMATS)
def test_category_feed_is_newest_first_and_keeps_text_as_text(client: TestClient, fmt: str) -> None:
    response = client.get(f"/feeds/categories/cs.CL.{fmt}")
    parsed = _feed(client, "/feeds/categories/cs.CL", fmt)
    # Not TOO_OLD nor the sample's 2024 cs.CL paper: both are before the last 30 days.
    assert _ids(parsed) == ["2606.99902", "2606.99901"]
    assert parsed.feed.title == "dailypapers: cs.CL"
    assert parsed["alternate"] == f"{SITE}?category=cs.CL"
    tricky = _entry(parsed, "2606.99901")
    assert [author.name for author in tricky.authors] == ["Ada <Example>", "Bo & Co"]
    assert [tag.term for tag in tricky.tags] == ["cs.CL", "cs.LG"]
    assert (
        _shown(tricky.summary_detail)
        == "We show x < y && a > b; <script>alert(1)</script> stays text."
    )
    if fmt == "atom":
        assert tricky.title_detail.type == "text/plain" and tricky.title == TRICKY.title
    else:  # RSS titles are plain text by the spec (feedparser guesses HTML when it sees <b>)
        item = ElementTree.fromstring(response.content).find("channel/item[2]")
        assert item.findtext("title") == TRICKY.title
    assert tricky.published_parsed[:6] == (2026, 6, 9, 17, 30, 0)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_category_without_papers_is_a_valid_empty_feed(client: TestClient, fmt: str) -> None:
    parsed = _feed(client, "/feeds/categories/math.AG", fmt)
    assert parsed.entries == [] and parsed.feed.title == "dailypapers: math.AG"
    assert parsed.feed.updated_parsed is not None


@pytest.mark.parametrize("fmt", FORMATS)
def test_trending_feed_windows(client: TestClient, fmt: str) -> None:
    day = _feed(client, "/feeds/trending", fmt, window="day")
    assert len(day.entries) == 30 and _ids(day)[0] == TOP  # one day: the most upvoted first
    assert day.feed.title == "dailypapers: trending today"
    week = _feed(client, "/feeds/trending", fmt)
    assert _ids(week) == _ids(_feed(client, "/feeds/trending", fmt, window="week"))
    assert set(_ids(week)) == set(_ids(day)) | {"2606.99901", "2606.99902"}
    assert week.feed.title == "dailypapers: trending this week"
    assert week["alternate"] == f"{SITE}trending?window=week"
    month = _feed(client, "/feeds/trending", fmt, window="month")
    assert set(_ids(month)) == set(_ids(week))  # April's paper is outside the month too


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/feeds/categories/BAD!.atom", 404),
        ("/feeds/categories/CS.CL.rss", 404),
        ("/feeds/categories/cs..CL.atom", 404),
        ("/feeds/trending.atom?window=year", 422),
        ("/feeds/trending.rss?window=", 422),
        ("/feeds/search.atom", 422),
        ("/feeds/daily.json", 404),
    ],
)
def test_bad_requests_are_json_errors(client: TestClient, path: str, status: int) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["status"] == status and isinstance(body["message"], str) and body["message"]


@pytest.mark.parametrize("query", ["", "%20%20", "%00", "%C2%96"])
def test_a_search_without_words_is_an_empty_feed(client: TestClient, query: str) -> None:
    # The schema allows any q; the answer is a feed that finds nothing, as the API's [].
    for fmt in FORMATS:
        response = client.get(f"/feeds/search.{fmt}?q={query}")
        assert response.status_code == 200, response.text
        assert "<entry>" not in response.text and "<item>" not in response.text


def test_search_feed_finds_a_paper_by_its_title(indexed_client: TestClient) -> None:
    client = indexed_client
    title = client.get(f"/api/papers/{TOP}").json()["title"]
    atom, rss = (_feed(client, "/feeds/search", fmt, q=title) for fmt in FORMATS)
    assert TOP in _ids(atom) and len(atom.entries) <= 50 and _ids(rss) == _ids(atom)
    days = [entry.updated_parsed[:3] for entry in atom.entries]
    assert days == sorted(days, reverse=True)  # newest first (the day it was listed)
    for parsed in (atom, rss):
        assert parsed.feed.title == f"dailypapers: search “{title}”"
        assert parsed["alternate"] == f"{SITE}search?{urlencode({'q': title})}"
    tricky = _feed(client, "/feeds/search", "atom", q="R&D <b>not bold</b>")
    assert "2606.99901" in _ids(tricky)
    assert tricky.feed.title == "dailypapers: search “R&D <b>not bold</b>”"
