"""What route handlers share: the app's store, settings and search engine, by request.

The search engine loads indexes and the embedding model, so it is opened once per process:
in the background when the app starts (see ``app.lifespan``), or by the first request that
needs it, whichever comes first; the others wait for it.
"""

from __future__ import annotations

import threading

from fastapi import HTTPException, Request
from starlette.datastructures import State

from dailypapers.paper import InvalidRecord, parse_arxiv_id
from dailypapers.search.engine import SearchEngine
from dailypapers.search.service import open_engine
from dailypapers.settings import Settings
from dailypapers.store import Store
from dailypapers.store.feed import FeedEntry, feed_entries

_engine_lock = threading.Lock()


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def engine_for(state: State) -> SearchEngine:
    """The app's search engine, opened on first use (one opening, however many ask at once)."""
    with _engine_lock:
        if getattr(state, "engine", None) is None:
            state.engine = open_engine(state.store, state.settings)
    engine: SearchEngine = state.engine
    return engine


def engine_of(request: Request) -> SearchEngine:
    return engine_for(request.app.state)


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
