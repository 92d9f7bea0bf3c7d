"""A period's papers in a given order: the one ranking behind the daily pages, ``/trending``,
``/api/daily_papers`` and the feeds (read through :class:`dailypapers.feed.reader.Reader`).

"upvotes" and "recent" are orders the database sorts (:mod:`dailypapers.store.entries`);
trending order is :func:`dailypapers.feed.trending.trending_score`, computed here at request
time because it depends on the clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Literal

from sqlalchemy import Connection

from dailypapers.feed.trending import age_hours, trending_score, window_upvotes
from dailypapers.store.entries import FeedPage, RankInput, feed_entries, feed_page, rank_inputs

# How a period's papers are sorted: "upvotes" then newest (the daily page), "recent" (newest
# first) or "trending". Search results have their own orders (search.query.SearchSort).
PeriodSort = Literal["upvotes", "recent", "trending"]


def trending_order(candidates: list[RankInput], now: datetime) -> list[str]:
    """Ids by trending score at ``now``, highest first (ties by id, so the order is stable)."""

    def key(candidate: RankInput) -> tuple[float, str]:
        age = age_hours(now, candidate.submitted_at, candidate.day)
        score = trending_score(
            window_upvotes(candidate.hf_upvotes, candidate.window_upvotes),
            age,
            stars=candidate.github_stars,
            comments=candidate.num_comments,
        )
        return -score, candidate.id

    return [candidate.id for candidate in sorted(candidates, key=key)]


def period_page(
    connection: Connection,
    start: date,
    end: date,
    *,
    sort: PeriodSort = "upvotes",
    limit: int = 50,
    offset: int = 0,
    category: str | None = None,
    submitter: str | None = None,
    now: datetime | None = None,
) -> FeedPage:
    """The papers whose feed day is in [start, end], one page of them, in ``sort`` order.

    ``submitter`` keeps only the papers that Hugging Face user name featured.
    """
    if sort != "trending":
        return feed_page(
            connection, start, end, limit=limit, offset=offset, order=sort,
            category=category, submitter=submitter,
        )  # fmt: skip
    candidates = rank_inputs(connection, start, end, category=category, submitter=submitter)
    ranked = trending_order(candidates, now or datetime.now(UTC))
    return FeedPage(feed_entries(connection, ranked[offset : offset + limit]), len(ranked))
