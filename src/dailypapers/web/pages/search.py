"""The search page, ``/search?q=...``: highlighted snippets, filters, sorts and pages.

The query stays in the box; filters are plain form fields (date range, categories, has code),
so the page works without JavaScript and every result page has a URL. A bad filter value is
shown on the form with a 422, and a search that fell back to keywords says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from dailypapers.feed.periods import BadPeriod, parse_day
from dailypapers.feed.reader import FeedEntry
from dailypapers.index.lexical.snippet import Marker
from dailypapers.search.engine import Hit
from dailypapers.search.query import Filters, SearchRequest, SearchSort, clean_query
from dailypapers.web.deps import category_problem, engine_of, reader
from dailypapers.web.pages.common import SEARCH_PAGE_SIZE, check_page, feed_links, page_count
from dailypapers.web.progress import semantic_progress_of
from dailypapers.web.routing import Direct, QueryPairs, engine_ready_local, plain_values
from dailypapers.web.templating import render
from dailypapers.web.votes import community_context

router = APIRouter()

# The engine fuses at most a few hundred candidates; pages past them would be empty.
MAX_PAGE = 50
MAX_QUERY_CHARS = 2000  # what the box may send (the engine cuts it to 250 characters)


# Slotted, not frozen (as engine.Hit): twenty a page, each field set by a plain __init__.
@dataclass(slots=True, unsafe_hash=True)
class Result:
    """A hit as the page shows it: the paper's card, its snippet, whether it matched exactly."""

    entry: FeedEntry
    snippet: str | None
    exact: bool


def _day(name: str, text: str | None, problems: list[str]) -> date | None:
    if not text:
        return None
    try:
        return parse_day(text)
    except BadPeriod:
        problems.append(f"{name}: expected a date as YYYY-MM-DD, got {text[:40]!r}")
        return None


def _filters(
    since: str | None, until: str | None, categories: list[str], has_code: bool
) -> tuple[Filters, list[str]]:
    problems: list[str] = []
    start, end = _day("from", since, problems), _day("to", until, problems)
    if start and end and start > end:
        problems.append("the 'from' date is after the 'to' date")
    # Shown on the form instead of an error page.
    problems += [p for c in categories if c and (p := category_problem(c)) is not None]
    filters = Filters(start, end, tuple(c for c in categories if c), True if has_code else None)
    return filters, problems


def _results(
    request: Request, hits: list[Hit], text: str, marker: Marker
) -> tuple[list[Result], dict[str, object]]:
    """The hits with their entries and snippets, and what a signed-in member sees of them.

    The snippets are cut from the entries' abstracts, read here anyway, rather than by the
    engine (``SearchRequest.snippets``), which would read the abstracts a second time.
    """
    with reader(request) as read:
        found = read.found(hits)
        community = community_context(request, read, [entry for _hit, entry in found])
    # The page's snippets together: their words are looked up once for all (Marker.snippets).
    snippets = marker.snippets([entry.abstract for _hit, entry in found])
    results = [
        Result(entry, snippet or None, hit.exact)
        for (hit, entry), snippet in zip(found, snippets, strict=True)
    ]
    return results, community


@router.get("/search")
def search(
    request: Request,
    q: Annotated[str, Query(max_length=MAX_QUERY_CHARS)] = "",
    since: Annotated[str | None, Query(alias="from", max_length=40)] = None,
    until: Annotated[str | None, Query(alias="to", max_length=40)] = None,
    category: Annotated[list[str], Query(max_length=40)] = [],  # noqa: B006 - FastAPI copies it
    code: Annotated[bool, Query(description="only papers with code")] = False,
    sort: Annotated[SearchSort, Query(description="relevance or newest")] = "relevance",
    p: Annotated[int, Query(ge=0, le=MAX_PAGE, description="page number, from 0")] = 0,
) -> Response:
    """Hybrid search over titles and abstracts, a page of highlighted results."""
    text, _ = clean_query(q)
    categories = [c for c in category if c]
    filters, problems = _filters(since, until, categories, code)
    context: dict[str, object] = {
        "title": f"{text} - search" if text else "Search",
        "q": text,
        "since": since or "",
        "until": until or "",
        "categories": categories,
        "code": code,
        "sort": sort,
        "problems": problems,
        "results": [],
        "notes": [],
        "total": 0,
        "page": p,
        "pages": 1,
        "filtered": filters.active,
        "semantic": None,  # how far the semantic index is, said with results
    }
    if problems or not text:
        return render(request, "search.html", context, status_code=422 if problems else 200)
    engine = engine_of(request)
    response = engine.search(
        SearchRequest(
            text,
            limit=SEARCH_PAGE_SIZE,
            offset=p * SEARCH_PAGE_SIZE,
            sort=sort,
            filters=filters,
        )  # fmt: skip
    )
    check_page(p, response.candidates, SEARCH_PAGE_SIZE)
    marker = engine.marker(text, response.typos)
    results, community = _results(request, response.hits, text, marker)
    context.update(community)
    context.update(
        semantic=semantic_progress_of(request),
        results=results,
        notes=response.notes,
        total=response.candidates,
        pages=min(page_count(response.candidates, SEARCH_PAGE_SIZE), MAX_PAGE + 1),
        feeds=feed_links(f"Search: {text}", "/feeds/search", urlencode({"q": text})),
    )
    return render(request, "search.html", context)


_PLAIN_PAGE = re.compile("[0-9]{1,2}")


def _query_and_page(match: re.Match[str], query: QueryPairs) -> dict[str, object] | None:
    """A search by its words alone (and a page number), the box's own request: answered
    directly; a filter, a sort or a value FastAPI would check or refuse goes to the router."""
    values = plain_values(
        query, {"q": lambda text: len(text) <= MAX_QUERY_CHARS, "p": _PLAIN_PAGE.fullmatch}
    )
    if values is None or int(values.get("p", 0)) > MAX_PAGE:
        return None
    return {
        "q": values.get("q", ""), "since": None, "until": None, "category": [], "code": False,
        "sort": "relevance", "p": int(values.get("p", 0)),
    }  # fmt: skip


# A search by its words skips FastAPI's routing (web/routing.py).
DIRECT = (Direct("search", re.compile("/search"), _query_and_page, search, engine_ready_local),)
