"""What route handlers share: the app's store, settings and search engine, by request, and
the lookup of a paper that answers 404 when it is not there.

The search engine loads indexes and the embedding model, so each process holds one
(:class:`~dailypapers.search.service.LiveEngine`): opened in the background when the app
starts (see ``app.create_app``) or by the first request that needs it, and reopened in the
background when the store changes.
"""

from __future__ import annotations

from fastapi import HTTPException, Request

from dailypapers.paper import InvalidRecord, parse_arxiv_id
from dailypapers.search.engine import SearchEngine
from dailypapers.search.service import LiveEngine
from dailypapers.settings import Settings
from dailypapers.store import Store
from dailypapers.store.entries import FeedEntry, feed_entries


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def engine_of(request: Request) -> SearchEngine:
    live: LiveEngine = request.app.state.engine
    return live.get()


def canonical_id(paper_id: str) -> str:
    """The arXiv id without version of an id, versioned id or arxiv.org URL; else a 404."""
    try:
        return parse_arxiv_id(paper_id)[0]
    except InvalidRecord:
        raise HTTPException(404, f"no paper {paper_id[:80]!r}") from None


def entry_or_404(request: Request, paper_id: str) -> FeedEntry:
    """The stored paper ``paper_id`` (a canonical id), or a 404 that names it."""
    with store_of(request).read() as connection:
        found = feed_entries(connection, [paper_id])
    if not found:
        raise HTTPException(404, f"no paper {paper_id[:80]!r}")
    return found[0]
