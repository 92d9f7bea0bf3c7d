"""The JSON API under /api: the daily feed, a paper, search and similar papers.

Shapes follow the Hugging Face papers API (see :mod:`dailypapers.web.models`). Bad parameters
are 4xx with a message (the app's error handler makes every 4xx JSON), never a 500.
"""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import RedirectResponse

from dailypapers.feed.trending import age_hours, trending_score
from dailypapers.paper import InvalidRecord, parse_arxiv_id
from dailypapers.search.engine import SearchEngine
from dailypapers.search.query import SearchRequest
from dailypapers.search.service import open_engine
from dailypapers.settings import Settings
from dailypapers.store import Store
from dailypapers.store.feed import (
    FeedEntry,
    Order,
    RankInput,
    feed_entries,
    feed_page,
    latest_day,
    rank_inputs,
)
from dailypapers.web.models import DailyPaper, ErrorBody, Paper, daily_item, paper_model
from dailypapers.web.periods import BadPeriod, parse_period

router = APIRouter(prefix="/api", responses={404: {"model": ErrorBody}, 422: {"model": ErrorBody}})

# Opening the engine loads indexes and the model: once per app, on the first search.
_engine_lock = threading.Lock()


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _engine(request: Request) -> SearchEngine:
    """The app's search engine, opened on first use."""
    state = request.app.state
    with _engine_lock:
        if getattr(state, "engine", None) is None:
            settings: Settings = state.settings
            state.engine = open_engine(state.store, settings)
    opened: SearchEngine = state.engine
    return opened


def _trending(store: Store, start: date, end: date, limit: int, offset: int) -> list[FeedEntry]:
    """A page of [start, end] by :func:`trending_score`, computed now (ties by id)."""
    now = datetime.now(UTC)
    with store.read() as connection:
        candidates = rank_inputs(connection, start, end)

        def key(c: RankInput) -> tuple[float, str]:
            age = age_hours(now, c.submitted_at, c.day)
            return -trending_score(c.hf_upvotes, age, stars=c.github_stars), c.id

        ranked = sorted(candidates, key=key)
        return feed_entries(connection, [c.id for c in ranked[offset : offset + limit]])


@router.get("/daily_papers", response_model=list[DailyPaper])
def daily_papers(
    request: Request,
    date: Annotated[str | None, Query(description="YYYY-MM-DD")] = None,
    week: Annotated[str | None, Query(description="YYYY-Www (ISO week)")] = None,
    month: Annotated[str | None, Query(description="YYYY-MM")] = None,
    sort: Annotated[
        Literal["publishedAt", "trending"] | None,
        Query(description="default: upvotes, then newest; publishedAt: newest first"),
    ] = None,
    p: Annotated[int, Query(ge=0, description="page number, from 0")] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> list[DailyPaper]:
    """The papers of a day (the latest day with papers by default), week or month."""
    try:
        period = parse_period(date, week, month)
    except BadPeriod as error:
        raise HTTPException(422, str(error)) from None
    store = _store(request)
    if period is None:
        with store.read() as connection:
            latest = latest_day(connection)
        if latest is None:
            return []
        period = (latest, latest)
    start, end = period
    if sort == "trending":
        entries = _trending(store, start, end, limit, p * limit)
    else:
        order: Order = "recent" if sort == "publishedAt" else "upvotes"
        with store.read() as connection:
            page = feed_page(connection, start, end, limit=limit, offset=p * limit, order=order)
        entries = page.entries
    return [daily_item(entry) for entry in entries]


@router.get("/papers/search", response_model=list[DailyPaper])
def search_papers(
    request: Request,
    q: Annotated[str, Query(description="cut to 250 characters")],
    limit: Annotated[int, Query(ge=1, le=120)] = 20,
) -> list[DailyPaper]:
    """Papers matching ``q`` (hybrid search), best first."""
    response = _engine(request).search(SearchRequest(text=q, limit=limit))
    with _store(request).read() as connection:
        entries = feed_entries(connection, [hit.id for hit in response.hits])
    return [daily_item(entry) for entry in entries]


def _canonical(paper_id: str) -> str:
    try:
        return parse_arxiv_id(paper_id)[0]
    except InvalidRecord:
        raise HTTPException(404, f"no paper {paper_id[:80]!r}") from None


def _entry(request: Request, paper_id: str) -> FeedEntry:
    with _store(request).read() as connection:
        found = feed_entries(connection, [paper_id])
    if not found:
        raise HTTPException(404, f"no paper {paper_id[:80]!r}")
    return found[0]


@router.get("/papers/{paper_id}/similar", response_model=list[DailyPaper])
def similar_papers(
    request: Request, paper_id: str, limit: Annotated[int, Query(ge=1, le=120)] = 10
) -> list[DailyPaper]:
    """The papers nearest to one by meaning (empty when semantic search is off)."""
    entry = _entry(request, _canonical(paper_id))
    hits = _engine(request).similar(entry.id, k=limit)
    with _store(request).read() as connection:
        entries = feed_entries(connection, [hit.id for hit in hits])
    return [daily_item(found) for found in entries]


@router.get(
    "/papers/{paper_id:path}",
    response_model=Paper,
    responses={307: {"description": "a versioned id or URL: to the canonical id"}},
)
def get_paper(request: Request, paper_id: str) -> Paper | RedirectResponse:
    """One paper by arXiv id; a versioned id or arxiv.org URL redirects to the plain id."""
    canonical = _canonical(paper_id)
    if canonical != paper_id:
        return RedirectResponse(request.url_for("get_paper", paper_id=canonical), 307)
    return paper_model(_entry(request, canonical))
