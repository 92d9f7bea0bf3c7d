"""Parse Atom and RSS bodies with feedparser; shared by the arXiv API and RSS sources.

Nothing here fetches: callers GET the body with :class:`~dailypapers.ingest.http.Fetcher`
and hand the bytes over, so retries and Retry-After stay in one place.
"""

from __future__ import annotations

import io
from datetime import datetime
from time import struct_time
from typing import Any

import feedparser

from dailypapers.ingest.run import SourceUnusable


def parse_feed(body: bytes, where: str) -> Any:
    """The feedparser result for ``body``; :class:`SourceUnusable` if it is no feed at all."""
    # A BytesIO, never the bytes themselves: feedparser opens a str/bytes argument that
    # happens to name an existing file or a URL.
    feed = feedparser.parse(io.BytesIO(body))
    if not feed.get("version") and not feed.entries:
        raise SourceUnusable(f"{where}: not an RSS or Atom feed ({_problem(feed)})")
    return feed


def _problem(feed: Any) -> str:
    """Why feedparser found no feed, in one line."""
    error = feed.get("bozo_exception")
    return str(error).splitlines()[0] if error else "no feed element"


def utc_time(parsed: struct_time | None) -> datetime | None:
    """feedparser's ``*_parsed`` values are UTC; the store keeps naive UTC datetimes."""
    return datetime(*parsed[:6]) if parsed else None
