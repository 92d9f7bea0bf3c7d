"""What a user typed, made safe and understood: length cap, arXiv ids and URLs, filters.

Nothing here searches; :mod:`dailypapers.search.engine` turns a :class:`SearchRequest` into
results. User text never reaches a query language raw: the lexical index parses words,
phrases and exclusions itself.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from dailypapers.paper import InvalidRecord, parse_arxiv_id

MAX_QUERY_CHARS = 250

Mode = Literal["hybrid", "lexical", "dense"]
# How search results are sorted (a period of the feed has its own: feed.daily.PeriodSort).
SearchSort = Literal["relevance", "newest"]


@dataclass(frozen=True)
class Filters:
    """Restrictions every retriever honours; empty means no restriction."""

    since: date | None = None
    until: date | None = None
    categories: tuple[str, ...] = ()
    has_code: bool | None = None
    author: str | None = None

    @property
    def active(self) -> bool:
        return any(
            (self.since, self.until, self.categories, self.has_code is not None, self.author)
        )


@dataclass(frozen=True)
class SearchRequest:
    text: str
    mode: Mode = "hybrid"
    limit: int = 20
    offset: int = 0
    sort: SearchSort = "relevance"
    filters: Filters = field(default_factory=Filters)
    # Highlighted abstract fragments for the page of hits (a few ms; pages want them, the
    # API's plain lists and the evaluation do not).
    snippets: bool = False


def _spaced(text: str) -> str:
    """``text`` with control and format characters and line and paragraph separators made
    spaces."""
    return "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text
    )


def clean_query(text: str) -> tuple[str, bool]:
    """Drop control characters (NUL and friends), collapse spaces, cut to 250 characters.

    Returns the cleaned text and whether it was cut.
    """
    # A printable text has none of those (checked in C): most queries skip the loop.
    kept = text if text.isprintable() else _spaced(text)
    cleaned = " ".join(kept.split())
    if len(cleaned) <= MAX_QUERY_CHARS:
        return cleaned, False
    return cleaned[:MAX_QUERY_CHARS].rstrip(), True


def as_arxiv_id(text: str) -> str | None:
    """The paper id when the whole query is an arXiv id, versioned id or arxiv.org URL."""
    candidate = text.strip().strip("<>[]()")
    if not candidate or " " in candidate:
        return None
    try:
        return parse_arxiv_id(candidate)[0]
    except InvalidRecord:
        return None
