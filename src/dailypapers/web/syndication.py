"""Atom and RSS 2.0 feeds: the daily papers, trending, one category and a search.

Reached at ``/feeds/daily.atom``, ``/feeds/trending.atom?window=week``,
``/feeds/categories/cs.CL.atom`` and ``/feeds/search.atom?q=...``, each also as ``.rss`` (the
suffix picks the format); the pages link to them with ``<link rel="alternate">``. The papers
come from the reader the pages and the API use (:mod:`dailypapers.feed.reader`) and the search
engine. One feedgen description per request is written as either format;
titles go in as plain text and abstracts as HTML-escaped text, so neither can become markup in
a reader. Errors are JSON ``{status, message}`` (see :mod:`dailypapers.web.errors`).
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from feedgen.entry import FeedEntry as FeedgenEntry
from feedgen.feed import FeedGenerator

from dailypapers.feed.periods import Window, window_range
from dailypapers.feed.reader import FeedEntry
from dailypapers.search.query import SearchRequest, clean_query
from dailypapers.web.deps import check_category, engine_of, reader
from dailypapers.web.models import ErrorBody


# Every error is JSON {status, message}; the schema says which (a 404 only where a path
# names something that may not exist).
# (Spelled out: FastAPI would give a "model" the feed's media type, not JSON's.)
def _json_error(description: str) -> dict[str, Any]:
    schema = {"content": {"application/json": {"schema": ErrorBody.model_json_schema()}}}
    return {"description": description, **schema}


router = APIRouter(
    prefix="/feeds", tags=["feeds"], responses={422: _json_error("a parameter is not valid")}
)
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: _json_error("no such category")}

FEED_ITEMS = 50  # entries per feed
CATEGORY_DAYS = 30  # a category feed looks this far back from the latest day with papers
DESCRIPTION = "New arXiv papers with readers' upvotes, from a dailypapers site"
# Feed readers poll; five minutes of client and proxy caching costs a reader nothing.
CACHE_CONTROL = "public, max-age=300"
WINDOW_TITLES: dict[Window, str] = {"day": "today", "week": "this week", "month": "this month"}

Format = Literal["atom", "rss"]

# Characters XML 1.0 cannot hold (most C0 controls, U+FFFE/FFFF, lone surrogates). lxml refuses
# them with an error, and one in one abstract must not turn a whole feed into a 500.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

# feedgen writes RSS dates by switching the process-wide locale to C and back; two threads
# doing that at once can restore each other's temporary C locale for good.
_rss_locale = threading.Lock()


class AtomResponse(Response):
    media_type = "application/atom+xml; charset=utf-8"


class RssResponse(Response):
    media_type = "application/rss+xml; charset=utf-8"


class _Entry(FeedgenEntry):  # type: ignore[misc]
    """feedgen's entry, with the rel (type, ...) of its Atom links kept.

    feedgen 1.0 loses them: its loop rebinds ``link`` to the new element before reading
    ``link.get("rel")``, so every link would read as the alternate and a reader could open
    arXiv instead of the paper's page here.
    """

    def atom_entry(self, extensions: bool = True) -> Any:
        element = super().atom_entry(extensions)
        for tag, link in zip(element.iterfind("link"), self.link() or [], strict=True):
            for name in ("rel", "type", "hreflang", "title", "length"):
                if link.get(name):
                    tag.set(name, link[name])
        return element


def _text(value: str) -> str:
    return _NOT_XML.sub("", value)


def _times(entry: FeedEntry, now: datetime) -> tuple[datetime, datetime]:
    """(published, updated): the arXiv submission, and when the paper entered the feed.

    Stored times are naive UTC; feedgen wants aware ones. A paper with neither a submission
    time nor a feed day (it can only turn up in a search) gets ``now``.
    """
    submitted = entry.submitted_at.replace(tzinfo=UTC) if entry.submitted_at else None
    listed = datetime.combine(entry.day, time(), UTC) if entry.day else None
    moments = [moment for moment in (submitted, listed) if moment is not None]
    if not moments:
        return now, now
    return moments[0], max(moments)


def _add_entry(feed: FeedGenerator, entry: FeedEntry, site: str, now: datetime) -> datetime:
    """Append ``entry`` to ``feed``; returns its updated time."""
    page = f"{site}papers/{entry.id}"
    published, updated = _times(entry, now)
    # feedgen prepends by default, which would reverse our order.
    item = feed.add_entry(_Entry(), order="append")
    item.guid(page, permalink=True)  # also the Atom id
    item.title(_text(entry.title))
    item.link(href=page, rel="alternate")
    item.link(href=f"https://arxiv.org/abs/{entry.id}", rel="related")
    if entry.authors:
        names = [_text(name) for name in entry.authors]
        item.author([{"name": name} for name in names])
        # RSS's <author> must be an email address, so feedgen drops bare names there.
        item.dc.dc_creator(names)
    if entry.abstract:
        # RSS descriptions are HTML by definition, so the text goes in escaped as HTML (and
        # marked so in Atom): "a <b> & c" shows as written in either format, never as markup.
        item.summary(html.escape(_text(entry.abstract), quote=False), type="html")
    if entry.categories:
        item.category([{"term": category} for category in entry.categories])
    item.published(published)
    item.updated(updated)
    return updated


def build_feed(
    title: str, self_url: str, page_url: str, entries: Sequence[FeedEntry], *, site: str
) -> FeedGenerator:
    """A feed of ``entries`` in order; ``site`` is the base URL that paper pages hang off."""
    now = datetime.now(UTC).replace(microsecond=0)
    feed = FeedGenerator()
    feed.load_extension("dc", atom=False, rss=True)
    feed.id(self_url)
    feed.title(_text(title))
    feed.subtitle(DESCRIPTION)
    # RSS has one channel <link>, and feedgen takes the last link given, whatever its rel.
    feed.link(href=self_url, rel="self")
    feed.link(href=page_url, rel="alternate")
    feed.language("en")
    feed.generator("dailypapers")
    # Atom wants a feed author unless every entry has one, and a paper may list no authors.
    feed.author(name="dailypapers")
    updated = [_add_entry(feed, entry, site, now) for entry in entries]
    feed.updated(max(updated, default=now))
    return feed


def render(feed: FeedGenerator, fmt: Format) -> Response:
    """The feed as an Atom or RSS 2.0 document."""
    headers = {"Cache-Control": CACHE_CONTROL}
    if fmt == "atom":
        return AtomResponse(feed.atom_str(pretty=True), headers=headers)
    with _rss_locale:
        return RssResponse(feed.rss_str(pretty=True), headers=headers)


def _respond(request: Request, title: str, page: str, entries: Sequence[FeedEntry]) -> Response:
    """The feed at this request's URL, in the format of its suffix; ``page`` is site-relative."""
    site = str(request.base_url)
    feed = build_feed(title, str(request.url), site + page, entries, site=site)
    return render(feed, "rss" if request.url.path.endswith(".rss") else "atom")


@router.get("/daily.atom", response_class=AtomResponse)
@router.get("/daily.rss", response_class=RssResponse)
def daily_feed(request: Request) -> Response:
    """The latest day with papers, most upvoted first (as the home page)."""
    with reader(request) as read:
        latest = read.latest_day()
        if latest is None:
            return _respond(request, "dailypapers: daily papers", "", [])
        page = read.period(latest, latest, sort="upvotes", limit=FEED_ITEMS)
    return _respond(request, f"dailypapers: daily papers of {latest}", "", page.entries)


@router.get("/trending.atom", response_class=AtomResponse)
@router.get("/trending.rss", response_class=RssResponse)
def trending_feed(
    request: Request,
    window: Annotated[Window, Query(description="day, week or month")] = "week",
) -> Response:
    """The trending papers of a window ending on the latest day with papers."""
    entries: list[FeedEntry] = []
    with reader(request) as read:
        latest = read.latest_day()
        if latest is not None:
            start, end = window_range(latest, window)
            entries = read.period(start, end, sort="trending", limit=FEED_ITEMS).entries
    title = f"dailypapers: trending {WINDOW_TITLES[window]}"
    return _respond(request, title, f"trending?window={window}", entries)


@router.get("/categories/{category}.atom", response_class=AtomResponse, responses=NOT_FOUND)
@router.get("/categories/{category}.rss", response_class=RssResponse, responses=NOT_FOUND)
def category_feed(request: Request, category: str) -> Response:
    """The newest papers listed in an arXiv category over the last 30 days with papers."""
    check_category(category, status=404)  # the path names a feed: a bad one does not exist
    entries: list[FeedEntry] = []
    with reader(request) as read:
        latest = read.latest_day()
        if latest is not None:
            start = latest - timedelta(days=CATEGORY_DAYS - 1)
            page = read.period(start, latest, sort="recent", category=category, limit=FEED_ITEMS)
            entries = page.entries
    page_path = "?" + urlencode({"category": category})
    return _respond(request, f"dailypapers: {category}", page_path, entries)


@router.get("/search.atom", response_class=AtomResponse)
@router.get("/search.rss", response_class=RssResponse)
def search_feed(
    request: Request, q: Annotated[str, Query(description="as on /search; cut to 250 characters")]
) -> Response:
    """The papers matching ``q``, newest first (what a feed reader wants of a saved search).

    A ``q`` without words (empty, spaces, control characters) finds nothing: an empty feed,
    as ``/api/papers/search`` answers an empty list.
    """
    text, _ = clean_query(q)
    entries: list[FeedEntry] = []
    if text:
        found = engine_of(request).search(SearchRequest(text=q, limit=FEED_ITEMS, sort="newest"))
        with reader(request) as read:
            entries = [entry for _hit, entry in read.found(found.hits)]
    page_path = "search?" + urlencode({"q": q})
    return _respond(request, f"dailypapers: search “{text}”", page_path, entries)
