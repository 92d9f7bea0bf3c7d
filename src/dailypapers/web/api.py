"""The JSON API under /api: the daily feed, a paper, search and similar papers.

Shapes follow the Hugging Face papers API (see :mod:`dailypapers.web.models`). Bad parameters
are 4xx with a message (the app's error handler makes every 4xx JSON), never a 500.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic_core import to_json

from dailypapers.feed.daily import PeriodSort
from dailypapers.feed.periods import (
    DAY_PATTERN,
    MONTH_PATTERN,
    WEEK_PATTERN,
    BadPeriod,
    TooManyPeriods,
    parse_period,
)
from dailypapers.feed.reader import FeedEntry
from dailypapers.search.query import SearchRequest
from dailypapers.web.deps import canonical_id, engine_of, entry_or_404, reader
from dailypapers.web.models import DailyPaper, ErrorBody, Paper, items_json, paper_json
from dailypapers.web.progress import SEMANTIC_INDEX_HEADER, semantic_progress_of
from dailypapers.web.routing import (
    Direct,
    QueryPairs,
    anonymous_local,
    engine_ready_local,
    plain_values,
    without,
)

# A submitter's papers of every day, when no period narrows them.
ALL_DAYS, ALL_DAYS_END = date(1, 1, 1), date(9999, 12, 31)

# Pages beyond any real feed; the bound keeps the row offset inside a 64-bit integer.
MAX_PAGE = 100_000

router = APIRouter(prefix="/api", responses={404: {"model": ErrorBody}, 422: {"model": ErrorBody}})


def _items(entries: Sequence[FeedEntry]) -> Response:
    """A list answer, written without models (``response_model`` still declares its
    schema; see :func:`dailypapers.web.models.items_json`)."""
    return Response(items_json(entries), media_type="application/json")


@router.get("/daily_papers", response_model=list[DailyPaper])
def daily_papers(
    request: Request,
    date: Annotated[str | None, Query(pattern=DAY_PATTERN, description="YYYY-MM-DD")] = None,
    week: Annotated[
        str | None, Query(pattern=WEEK_PATTERN, description="YYYY-Www (ISO week)")
    ] = None,
    month: Annotated[str | None, Query(pattern=MONTH_PATTERN, description="YYYY-MM")] = None,
    submitter: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=200,
            description="Hugging Face user name of who featured the papers (all days unless "
            "a date, week or month is given)",
        ),
    ] = None,
    sort: Annotated[
        Literal["publishedAt", "trending"] | None,
        Query(description="default: upvotes, then newest; publishedAt: newest first"),
    ] = None,
    p: Annotated[int, Query(ge=0, le=MAX_PAGE, description="page number, from 0")] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 50,
) -> Response:
    """The papers of a day (the latest day with papers by default), week or month.

    At most one of date, week and month (an empty one counts as not given); one of the
    right shape that names no real period (2026-02-30, 2026-W53) is a 404.
    """
    try:
        period = parse_period(date, week, month)
    except TooManyPeriods as error:
        raise HTTPException(422, str(error)) from None
    except BadPeriod as error:  # the shape was checked above (the patterns): no such period
        raise HTTPException(404, f"no such day, week or month: {error}") from None
    if period is None and submitter is not None:
        period = (ALL_DAYS, ALL_DAYS_END)
    order: PeriodSort = "upvotes" if sort is None else "recent" if sort == "publishedAt" else sort
    with reader(request) as read:
        if period is None:
            latest = read.latest_day()
            if latest is None:
                return _items([])
            period = (latest, latest)
        page = read.period(*period, sort=order, limit=limit, offset=p * limit, submitter=submitter)
        return _items(page.entries)


@router.get("/papers/search", response_model=list[DailyPaper])
def search_papers(
    request: Request,
    q: Annotated[str, Query(description="cut to 250 characters")],
    limit: Annotated[int, Query(ge=1, le=120)] = 20,
) -> Response:
    """Papers matching ``q`` (hybrid search), best first."""
    response = engine_of(request).search(SearchRequest(text=q, limit=limit))
    with reader(request) as read:
        found = read.found(response.hits)
        answer = _items([entry for _hit, entry in found])
    answer.headers[SEMANTIC_INDEX_HEADER] = f"{semantic_progress_of(request).percent}%"
    return answer


_PLAIN_LIMIT = re.compile("[0-9]{1,3}")


def _words_only(match: re.Match[str], query: QueryPairs) -> dict[str, object] | None:
    """``/api/papers/search`` with one ``q`` and at most one plain ``limit`` in range."""
    values = plain_values(query, {"q": lambda _text: True, "limit": _PLAIN_LIMIT.fullmatch})
    if values is None or "q" not in values:
        return None
    count = int(values.get("limit", 20))
    return {"q": values["q"], "limit": count} if 1 <= count <= 120 else None


# A search by its words skips FastAPI's routing (web/routing.py), as the day's papers do.
SEARCH_DIRECT = (
    Direct("api", re.compile("/api/papers/search"), _words_only, search_papers, engine_ready_local),
)


@router.get("/papers/{paper_id}/similar", response_model=list[DailyPaper])
def similar_papers(
    request: Request, paper_id: str, limit: Annotated[int, Query(ge=1, le=120)] = 10
) -> Response:
    """The papers nearest to one by meaning (empty when semantic search is off)."""
    with reader(request) as read:
        entry = entry_or_404(read, canonical_id(paper_id))
        found = read.found(engine_of(request).similar(entry.id, k=limit))
        return _items([similar for _hit, similar in found])


@router.get(
    "/papers/{paper_id:path}",
    response_model=Paper,
    responses={307: {"description": "a versioned id or URL: to the canonical id"}},
)
def get_paper(request: Request, paper_id: str) -> Response:
    """One paper by arXiv id; a versioned id or arxiv.org URL redirects to the plain id."""
    canonical = canonical_id(paper_id)
    if canonical != paper_id:
        return RedirectResponse(request.url_for("get_paper", paper_id=canonical), 307)
    with reader(request) as read:
        entry = entry_or_404(read, canonical)
        # The model's JSON as FastAPI writes it (pydantic's serializer, the same bytes), from
        # its object rather than the model, which cost more than the rest of the answer.
        return Response(to_json(paper_json(entry)), media_type="application/json")


_DAILY_OTHERS = frozenset({"week", "month", "submitter", "sort", "p", "limit"})
_PLAIN_DAY = re.compile(DAY_PATTERN.removeprefix("^").removesuffix("$").replace(r"\d", "[0-9]"))


def _day_only(match: re.Match[str], query: QueryPairs) -> dict[str, object] | None:
    """``/api/daily_papers`` with at most one well-formed date and no other parameter."""
    days = [value for key, value in query if key == "date"]
    if not without(query, _DAILY_OTHERS) or len(days) > 1:
        return None
    if days and not (days[0] and _PLAIN_DAY.fullmatch(days[0])):
        return None
    day = days[0] if days else None
    return {"date": day, "week": None, "month": None, "submitter": None, "sort": None}


def _plain_id(match: re.Match[str], query: QueryPairs) -> dict[str, object] | None:
    return {"paper_id": match["paper_id"]}  # the route takes no query parameter


# The day's papers and a paper by its canonical (new-style) id skip FastAPI's routing
# (web/routing.py); the defaults are the routes'. A paper by another id (a version, an
# old-style id with its slash, a URL) goes through the router, which redirects it.
DIRECT = (
    Direct("api", re.compile("/api/daily_papers"), _day_only, daily_papers, anonymous_local),
    Direct(
        "api", re.compile(r"/api/papers/(?P<paper_id>[0-9]{4}\.[0-9]{4,5})"), _plain_id,
        get_paper, anonymous_local,
    ),
)  # fmt: skip
