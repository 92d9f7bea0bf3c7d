"""The daily feed in SQL: the papers of a range of days, ranked, a page at a time.

A paper's feed day is its first arXiv listing, else its Hugging Face featuring, else its
submission date (:func:`dailypapers.paper.feed_day`); it is stored and indexed, so a day's
page reads only that day's rows, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Connection, and_, func, select, true

from dailypapers.paper import web_url
from dailypapers.store.paper_lists import authors_of, categories_of, code_links_of
from dailypapers.store.schema import authors, paper_authors, paper_categories, papers

Order = Literal["upvotes", "recent"]


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One paper as the feed and the API show it."""

    id: str
    title: str
    abstract: str
    authors: tuple[str, ...]
    categories: tuple[str, ...]
    day: date | None
    hf_upvotes: int
    num_comments: int
    github_repo: str | None
    github_stars: int | None
    project_page: str | None
    submitted_at: datetime | None
    featured_on: date | None
    featured_by: str | None
    # The repository to show a "code" badge for: the given one, else one found in the text.
    code_url: str | None


@dataclass(frozen=True, slots=True)
class FeedPage:
    entries: list[FeedEntry]
    total: int


@dataclass(frozen=True, slots=True)
class RankInput:
    """What trending needs of a paper: cheap to load for a whole month."""

    id: str
    hf_upvotes: int
    github_stars: int
    num_comments: int
    submitted_at: datetime | None
    day: date | None


def _in_category(category: str | None) -> ColumnElement[bool]:
    """Papers listed in ``category`` (any of their categories); every paper for None."""
    if category is None:
        return true()
    listed = select(paper_categories.c.paper_id).where(paper_categories.c.category == category)
    return papers.c.arxiv_id.in_(listed)


def _in_range(start: date, end: date, category: str | None = None) -> ColumnElement[bool]:
    """Days from ``start`` to ``end``, both included (and listed in ``category`` if given)."""
    return and_(papers.c.feed_day.between(start, end), _in_category(category))


def _ordering(order: Order) -> list[ColumnElement[Any]]:
    # COALESCE because NULLs sort first in PostgreSQL's DESC and last in SQLite's.
    upvotes = func.coalesce(papers.c.hf_upvotes, 0).desc()
    recent = func.coalesce(papers.c.submitted_at, datetime(1970, 1, 1)).desc()
    keys = [upvotes, recent] if order == "upvotes" else [recent, upvotes]
    return [*keys, papers.c.arxiv_id.desc()]


def feed_entries(connection: Connection, ids: Sequence[str]) -> list[FeedEntry]:
    """The papers of ``ids`` that exist, in the order of ``ids``."""
    if not ids:
        return []
    rows = {
        row.arxiv_id: row
        for row in connection.execute(
            select(papers, papers.c.feed_day.label("day")).where(papers.c.arxiv_id.in_(ids))
        )
    }
    names = authors_of(connection, ids)
    categories = categories_of(connection, ids)
    code = code_links_of(connection, ids)
    return [
        FeedEntry(
            id=row.arxiv_id,
            title=row.title,
            abstract=row.abstract or "",
            authors=tuple(names.get(pid, ())),
            categories=tuple(categories.get(pid, ())),
            day=row.day,
            hf_upvotes=row.hf_upvotes or 0,
            num_comments=row.hf_comments or 0,
            # Checked again on the way out: only http(s) links are ever rendered.
            github_repo=web_url(row.github_repo),
            github_stars=row.github_stars,
            project_page=web_url(row.project_page),
            submitted_at=row.submitted_at,
            featured_on=row.featured_on,
            featured_by=row.featured_by,
            code_url=web_url(row.github_repo) or next(filter(web_url, code.get(pid, ())), None),
        )  # fmt: skip
        for pid in ids
        if (row := rows.get(pid)) is not None
    ]


def feed_page(
    connection: Connection,
    start: date,
    end: date,
    *,
    limit: int,
    offset: int = 0,
    order: Order = "upvotes",
    category: str | None = None,
) -> FeedPage:
    """Papers whose feed day is in [start, end], by upvotes then recency (or the reverse)."""
    where = _in_range(start, end, category)
    total = connection.scalar(select(func.count()).select_from(papers).where(where))
    ids = list(
        connection.scalars(
            select(papers.c.arxiv_id)
            .where(where)
            .order_by(*_ordering(order))
            .limit(limit)
            .offset(offset)
        )
    )
    return FeedPage(feed_entries(connection, ids), total or 0)


def rank_inputs(
    connection: Connection, start: date, end: date, *, category: str | None = None
) -> list[RankInput]:
    """Every paper of [start, end] (in ``category``) with just what a ranking function needs."""
    statement = select(
        papers.c.arxiv_id, papers.c.hf_upvotes, papers.c.github_stars, papers.c.hf_comments,
        papers.c.submitted_at, papers.c.feed_day.label("day"),
    ).where(_in_range(start, end, category)).order_by(papers.c.arxiv_id)  # fmt: skip
    return [
        RankInput(
            row.arxiv_id,
            row.hf_upvotes or 0,
            row.github_stars or 0,
            row.hf_comments or 0,
            row.submitted_at,
            row.day,
        )  # fmt: skip
        for row in connection.execute(statement)
    ]


def latest_day(connection: Connection) -> date | None:
    """The most recent feed day that has papers: what the feed shows when no day is asked."""
    day: date | None = connection.scalar(select(func.max(papers.c.feed_day)))
    return day


def neighbour_days(
    connection: Connection, start: date, end: date, *, category: str | None = None
) -> tuple[date | None, date | None]:
    """The nearest days with papers (in ``category``) before ``start`` and after ``end``.

    None where there is none. Each is one indexed MAX/MIN, so "previous day" skips weekends
    and empty days for free.
    """
    day = papers.c.feed_day
    listed = _in_category(category)
    before: date | None = connection.scalar(select(func.max(day)).where(day < start, listed))
    after: date | None = connection.scalar(select(func.min(day)).where(day > end, listed))
    return before, after


def author_page(connection: Connection, name: str, *, limit: int, offset: int = 0) -> FeedPage:
    """The papers of the author named exactly ``name``, newest first."""
    mine = (
        select(paper_authors.c.paper_id)
        .join(authors, authors.c.id == paper_authors.c.author_id)
        .where(authors.c.name == name)
    )
    where = papers.c.arxiv_id.in_(mine)
    total = connection.scalar(select(func.count()).select_from(papers).where(where))
    ids = list(
        connection.scalars(
            select(papers.c.arxiv_id)
            .where(where)
            .order_by(*_ordering("recent"))
            .limit(limit)
            .offset(offset)
        )
    )
    return FeedPage(feed_entries(connection, ids), total or 0)
