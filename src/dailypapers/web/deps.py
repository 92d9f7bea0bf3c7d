"""What route handlers share: the app's store, settings and search engine, by request; the
reader of one request (:func:`reader`); the lookup of a paper that answers 404 when it is not
there; the one check of a category parameter.

The search engine loads indexes and the embedding model, so each process holds one
(:class:`~dailypapers.search.service.LiveEngine`): opened in the background when the app
starts (see ``app.create_app``) or by the first request that needs it, and reopened in the
background when the store changes.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from functools import lru_cache
from typing import Annotated

from fastapi import HTTPException, Path, Request

from dailypapers.feed.reader import FeedEntry, Reader, Store, read
from dailypapers.paper import CATEGORY_RE, InvalidRecord, parse_arxiv_id
from dailypapers.search.engine import SearchEngine
from dailypapers.search.service import LiveEngine
from dailypapers.settings import Settings

# A row's id in a path (a comment, collection, alert, report...): the store's ids are 64-bit,
# so a larger number is refused as bad input (422) instead of failing in the database driver.
MAX_ROW_ID = 2**63 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def reader(request: Request) -> AbstractContextManager[Reader]:
    """The reader of this request: one read transaction for all the answer shows."""
    return read(store_of(request))


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def engine_of(request: Request) -> SearchEngine:
    live: LiveEngine = request.app.state.engine
    return live.get()


def canonical_id(paper_id: str) -> str:
    """The arXiv id without version of an id, versioned id or arxiv.org URL; else a 404."""
    try:
        return _canonical(paper_id)
    except InvalidRecord:
        raise HTTPException(404, f"no paper {paper_id[:80]!r}") from None


CANONICAL_MEMO = 4096  # ids kept with their canonical form (a miss parses again)


@lru_cache(maxsize=CANONICAL_MEMO)
def _canonical(paper_id: str) -> str:
    """``parse_arxiv_id``'s id, kept: every vote and paper page asks, mostly for ids
    asked for before (two regular expressions and a strip were ~1 % of a vote)."""
    return parse_arxiv_id(paper_id)[0]


def entry_or_404(reader: Reader, paper_id: str) -> FeedEntry:
    """The stored paper ``paper_id`` (a canonical id), or a 404 that names it."""
    entry = reader.entry(paper_id)
    if entry is None:
        raise HTTPException(404, f"no paper {paper_id[:80]!r}")
    return entry


def category_problem(category: str) -> str | None:
    """What is wrong with a category parameter, or None if it reads as an arXiv category."""
    if CATEGORY_RE.fullmatch(category):
        return None
    return f"category must look like cs.CL or hep-th, got {category[:40]!r}"


def check_category(category: str | None, *, status: int = 422) -> str | None:
    """A category filter as given, None for none ("All" sends an empty value), else ``status``.

    The one category check of the site: filters answer 422, a feed's path names a resource
    and answers 404.
    """
    if not category:
        return None
    problem = category_problem(category)
    if problem is not None:
        raise HTTPException(status, problem)
    return category
