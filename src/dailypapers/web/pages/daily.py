"""The daily feed pages: ``/``, ``/date/YYYY-MM-DD``, ``/week/YYYY-Www``, ``/month/YYYY-MM`` and
``/trending?window=day|week|month``.

A period's papers come from the request's :class:`~dailypapers.feed.reader.Reader`, as in the
API and the feeds, in one read transaction with the days around it. Previous and next skip
empty days (the nearest day with papers); an empty day says so and links to the nearest day
that has papers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from starlette.responses import Response

from dailypapers.feed.daily import PeriodSort
from dailypapers.feed.periods import (
    BadPeriod,
    Window,
    parse_day,
    parse_month,
    parse_week,
    window_range,
)
from dailypapers.feed.reader import Reader
from dailypapers.web.deps import check_category, reader
from dailypapers.web.list_order import ListOrder, record_order
from dailypapers.web.pages.common import FEED_PAGE_SIZE, check_page, feed_links, page_count
from dailypapers.web.routing import Direct, QueryPairs, anonymous_local, without
from dailypapers.web.templating import render
from dailypapers.web.votes import NOTICE_KEYS, community_context, submission_notice

router = APIRouter()

Unit = Literal["day", "week", "month"]
SortParam = Annotated[PeriodSort, Query(description="upvotes (then newest), recent or trending")]
PageParam = Annotated[int, Query(ge=0, le=10_000, description="page number, from 0")]
CategoryParam = Annotated[str | None, Query(max_length=40)]


@dataclass(frozen=True)
class FeedOptions:
    """What every feed page takes from its query: the order, the page and a category."""

    sort: PeriodSort
    page: int
    category: str | None


def feed_options(
    sort: SortParam = "upvotes", p: PageParam = 0, category: CategoryParam = None
) -> FeedOptions:
    return FeedOptions(sort, p, check_category(category))


Options = Annotated[FeedOptions, Depends(feed_options)]
DEFAULT_OPTIONS = feed_options()
_OPTION_NAMES = frozenset({"sort", "p", "category"})


@dataclass(frozen=True)
class Period:
    unit: Unit
    start: date
    end: date

    @property
    def title(self) -> str:
        if self.unit == "day":
            return self.start.strftime("%A %-d %B %Y")
        if self.unit == "week":
            year, week, _ = self.start.isocalendar()
            return f"Week {week} of {year} ({self.start:%-d %b} to {self.end:%-d %b})"
        return self.start.strftime("%B %Y")


def _period(unit: Unit, text: str) -> Period:
    """The period a path names; a malformed one is a page that does not exist."""
    try:
        if unit == "day":
            day = parse_day(text)
            return Period("day", day, day)
        if unit == "week":
            return Period("week", *parse_week(text))
        return Period("month", *parse_month(text))
    except BadPeriod as error:
        raise HTTPException(404, str(error)) from None


def _path(unit: Unit, day: date) -> str:
    if unit == "day":
        return f"/date/{day.isoformat()}"
    if unit == "week":
        year, week, _ = day.isocalendar()
        return f"/week/{year}-W{week:02d}"
    return f"/month/{day:%Y-%m}"


def _nearest(day: date, before: date | None, after: date | None) -> date | None:
    """Of the days around an empty day, the closer one (the earlier one on a tie)."""
    if before is None or after is None:
        return before or after
    return before if (day - before) <= (after - day) else after


def _period_view(
    request: Request,
    read: Reader,
    period: Period,
    options: FeedOptions,
    canonical: str | None = None,
) -> Response:
    sort, page, category = options.sort, options.page, options.category
    found = read.period(
        period.start,
        period.end,
        sort=sort,
        limit=FEED_PAGE_SIZE,
        offset=page * FEED_PAGE_SIZE,
        category=category,
    )
    check_page(page, found.total, FEED_PAGE_SIZE)
    if sort != "trending":  # an order only votes change: checked again at expiry
        ids = tuple(entry.id for entry in found.entries)
        order = ListOrder(period.start, period.end, sort, FEED_PAGE_SIZE,
                          page * FEED_PAGE_SIZE, category, ids, found.total)  # fmt: skip
        record_order(request.scope.setdefault("state", {}), order)
    before, after = read.neighbours(period.start, period.end, category=category)
    # Moving to another day or view keeps the sort and the category, not the page number.
    # (Nor the outcome of a submission, shown once.)
    dropped = ("p", *NOTICE_KEYS)
    keep = urlencode(
        [(k, v) for k, v in request.query_params.multi_items() if k not in dropped and v]
    )
    suffix = f"?{keep}" if keep else ""
    context = {
        "title": f"Papers of {period.title}" if period.unit == "day" else f"Papers, {period.title}",
        "heading": period.title,
        "period": period,
        "entries": found.entries,
        "total": found.total,
        "page": page,
        "pages": page_count(found.total, FEED_PAGE_SIZE),
        "first_rank": page * FEED_PAGE_SIZE + 1,
        "sort": sort,
        "category": category,
        "previous": _path(period.unit, before) + suffix if before else None,
        "next": _path(period.unit, after) + suffix if after else None,
        "views": {unit: _path(unit, period.start) + suffix for unit in ("day", "week", "month")},
        "suffix": suffix,
        "nearest": _nearest(period.start, before, after) if found.total == 0 else None,
        "canonical": canonical or _path(period.unit, period.start),
        "feeds": _feeds(category),
        **community_context(request, read, found.entries),
        "submission": submission_notice(request) if period.unit == "day" else None,
    }
    return render(request, "feed.html", context)


def _feeds(category: str | None) -> tuple[object, ...]:
    if category:
        return feed_links(f"New in {category}", f"/feeds/categories/{category}")
    return feed_links("Daily papers", "/feeds/daily") + feed_links("Trending", "/feeds/trending")


@router.get("/")
def home(request: Request, options: Options) -> Response:
    """The latest day with papers."""
    with reader(request) as read:
        latest = read.latest_day()
        if latest is None:
            return render(request, "empty_site.html", {"title": "No papers yet"})
        return _period_view(request, read, Period("day", latest, latest), options, "/")


@router.get("/date/{day}")
def day_page(request: Request, day: str, options: Options) -> Response:
    with reader(request) as read:
        return _period_view(request, read, _period("day", day), options)


@router.get("/week/{week}")
def week_page(request: Request, week: str, options: Options) -> Response:
    with reader(request) as read:
        return _period_view(request, read, _period("week", week), options)


@router.get("/month/{month}")
def month_page(request: Request, month: str, options: Options) -> Response:
    with reader(request) as read:
        return _period_view(request, read, _period("month", month), options)


WINDOW_TITLES: dict[Window, str] = {"day": "today", "week": "this week", "month": "this month"}


@router.get("/trending")
def trending(
    request: Request,
    window: Annotated[Window, Query(description="day, week or month")] = "week",
    p: PageParam = 0,
    category: CategoryParam = None,
) -> Response:
    """Papers of the last day, week or month by the trending score (see /about/ranking)."""
    category = check_category(category)
    with reader(request) as read:
        latest = read.latest_day()
        if latest is None:
            return render(request, "empty_site.html", {"title": "No papers yet"})
        start, end = window_range(latest, window)
        found = read.period(
            start, end, sort="trending", limit=FEED_PAGE_SIZE,
            offset=p * FEED_PAGE_SIZE, category=category,
        )  # fmt: skip
        community = community_context(request, read, found.entries)
    check_page(p, found.total, FEED_PAGE_SIZE)
    context = {
        "title": f"Trending {WINDOW_TITLES[window]}",
        "window": window,
        "windows": WINDOW_TITLES,
        "start": start,
        "end": end,
        "entries": found.entries,
        "total": found.total,
        "page": p,
        "pages": page_count(found.total, FEED_PAGE_SIZE),
        "first_rank": p * FEED_PAGE_SIZE + 1,
        "category": category,
        "feeds": feed_links(
            f"Trending {WINDOW_TITLES[window]}", "/feeds/trending", f"window={window}"
        ),
        **community,
    }
    return render(request, "trending.html", context)


def _default_options(match: re.Match[str], query: QueryPairs) -> dict[str, object] | None:
    """A day's page with none of the feed's options in its query: answered directly."""
    if not without(query, _OPTION_NAMES):
        return None
    return {"options": DEFAULT_OPTIONS, **match.groupdict()}


# The latest day and a day by date without options skip FastAPI's routing (web/routing.py),
# on the event loop for anonymous visitors over SQLite.
DIRECT = (
    Direct("", re.compile("/"), _default_options, home, anonymous_local),
    Direct("date", re.compile("/date/(?P<day>[^/]+)"), _default_options, day_page, anonymous_local),
)
