"""What the page modules share: page sizes, page counts and feed links."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import HTTPException

FEED_PAGE_SIZE = 50
SEARCH_PAGE_SIZE = 20


@dataclass(frozen=True)
class FeedLink:
    """A ``<link rel="alternate">`` of a page: an Atom or RSS feed of what it shows."""

    title: str
    href: str
    type: str


def feed_links(title: str, path: str, query: str = "") -> tuple[FeedLink, FeedLink]:
    """The Atom and RSS links of the feed at ``path`` (without its .atom/.rss suffix)."""
    suffix = f"?{query}" if query else ""
    return (
        FeedLink(f"{title} (Atom)", f"{path}.atom{suffix}", "application/atom+xml"),
        FeedLink(f"{title} (RSS)", f"{path}.rss{suffix}", "application/rss+xml"),
    )


def page_count(total: int, size: int) -> int:
    return max(1, -(-total // size))


def check_page(page: int, total: int, size: int) -> None:
    """A page past the last one is a 404 (page 0 of nothing is an empty page, not an error)."""
    if page >= page_count(total, size):
        raise HTTPException(
            404, f"there is no page {page}: the last page is {page_count(total, size) - 1}"
        )
