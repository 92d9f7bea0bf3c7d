"""The daily feed as pages, the API and the Atom/RSS feeds all read it: a period, ranked.

``period_page`` is the one function behind ``/``, ``/date/...``, ``/week/...``, ``/month/...``,
``/trending``, ``/api/daily_papers`` and the feeds. The SQL is in :mod:`dailypapers.store.feed`;
trending order is :func:`dailypapers.feed.trending.trending_score`, computed here at request
time because it depends on the clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Literal

from dailypapers.feed.trending import age_hours, trending_score
from dailypapers.store import Store
from dailypapers.store.feed import FeedPage, RankInput, feed_entries, feed_page, rank_inputs

# "upvotes": upvotes then newest (the daily page); "recent": newest first; "trending".
Sort = Literal["upvotes", "recent", "trending"]
Window = Literal["day", "week", "month"]
WINDOW_DAYS: dict[Window, int] = {"day": 1, "week": 7, "month": 30}


def trending_order(candidates: list[RankInput], now: datetime) -> list[str]:
    """Ids by trending score at ``now``, highest first (ties by id, so the order is stable)."""

    def key(candidate: RankInput) -> tuple[float, str]:
        age = age_hours(now, candidate.submitted_at, candidate.day)
        score = trending_score(
            candidate.hf_upvotes,
            age,
            stars=candidate.github_stars,
            comments=candidate.num_comments,
        )
        return -score, candidate.id

    return [candidate.id for candidate in sorted(candidates, key=key)]


def period_page(
    store: Store,
    start: date,
    end: date,
    *,
    sort: Sort = "upvotes",
    limit: int = 50,
    offset: int = 0,
    category: str | None = None,
    submitter: str | None = None,
    now: datetime | None = None,
) -> FeedPage:
    """The papers whose feed day is in [start, end], one page of them, in ``sort`` order.

    ``submitter`` keeps only the papers that Hugging Face user name featured.
    """
    with store.read() as connection:
        if sort != "trending":
            return feed_page(
                connection, start, end, limit=limit, offset=offset, order=sort,
                category=category, submitter=submitter,
            )  # fmt: skip
        candidates = rank_inputs(connection, start, end, category=category, submitter=submitter)
        ranked = trending_order(candidates, now or datetime.now(UTC))
        return FeedPage(feed_entries(connection, ranked[offset : offset + limit]), len(ranked))


def window_range(latest: date, window: Window) -> tuple[date, date]:
    """The days a trending window covers, ending on ``latest`` (the newest day with papers)."""
    return latest - timedelta(days=WINDOW_DAYS[window] - 1), latest
