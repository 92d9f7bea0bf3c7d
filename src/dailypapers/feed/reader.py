"""The one read path of the web layer: pages, the JSON API and the Atom/RSS feeds (and mails
next) read papers only through a :class:`Reader`, so the same question shows the same papers
everywhere, and ``web/`` never imports ``store/``.

A reader holds one read transaction: everything one answer shows comes from one snapshot of
the store, even while an ingest writes. Opened per request::

    with read(store) as reader:
        latest = reader.latest_day()
        page = reader.period(latest, latest, sort="upvotes", limit=50)
        before, after = reader.neighbours(latest, latest)
        similar = reader.found(engine.similar(paper_id))  # search, then load the hits

It also gives the web app what it needs of the store itself: :func:`open_site_store` and
:func:`change_stamp` (when to drop cached answers).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Literal, Protocol, TypeVar

from sqlalchemy import Connection

from dailypapers.feed.daily import PeriodSort, period_page
from dailypapers.paper import PaperRecord
from dailypapers.settings import Settings
from dailypapers.store import Store, open_store
from dailypapers.store import entries as sql
from dailypapers.store.entries import FeedEntry, FeedPage, PaperClaims
from dailypapers.store.papers import get_paper, paper_stamp
from dailypapers.store.submissions import submitted_by
from dailypapers.store.vectors import SemanticProgress, semantic_progress
from dailypapers.store.votes import vote_stamp, voted_among, voted_papers

__all__ = [
    "FeedEntry",
    "FeedPage",
    "PaperClaims",
    "Reader",
    "SemanticProgress",
    "Store",
    "change_stamp",
    "open_site_store",
    "read",
]


class HasId(Protocol):
    @property
    def id(self) -> str: ...


H = TypeVar("H", bound=HasId)


class Reader:
    """Everything the site reads, over one connection in one read transaction."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def entries(self, ids: Sequence[str]) -> list[FeedEntry]:
        """The papers of ``ids`` that exist, in the order of ``ids``."""
        return sql.feed_entries(self.connection, ids)

    def entry(self, paper_id: str) -> FeedEntry | None:
        found = self.entries([paper_id])
        return found[0] if found else None

    def found(self, hits: Sequence[H]) -> list[tuple[H, FeedEntry]]:
        """Search hits (or similar papers) with their entries, in the hits' order.

        A hit whose paper is gone (the index is a little behind the store) is left out.
        """
        entries = {entry.id: entry for entry in self.entries([hit.id for hit in hits])}
        return [(hit, entries[hit.id]) for hit in hits if hit.id in entries]

    def semantic_progress(self, model: str) -> SemanticProgress:
        """How many papers have a current vector of ``model`` (the semantic index's reach)."""
        return semantic_progress(self.connection, model)

    def upvoted_among(self, user_id: int, ids: Sequence[str]) -> frozenset[str]:
        """Which of ``ids`` the member ``user_id`` upvoted: the one per-member lookup of a
        page, one query, kept apart from what everyone sees."""
        return voted_among(self.connection, user_id, ids)

    def upvoted_ids(self, user_id: int, limit: int = 1_000_000) -> frozenset[str]:
        """Every paper the member ``user_id`` upvoted (what a cache of their votes holds)."""
        return frozenset(voted_papers(self.connection, user_id, limit=limit))

    def upvoted_by(self, user_id: int, *, limit: int, offset: int = 0) -> list[FeedEntry]:
        """The papers ``user_id`` upvoted, most recent vote first."""
        return self.entries(voted_papers(self.connection, user_id, limit=limit, offset=offset))

    def submitted_by(self, user_id: int, *, limit: int, offset: int = 0) -> list[FeedEntry]:
        """The papers ``user_id`` submitted, newest submission first."""
        return self.entries(submitted_by(self.connection, user_id, limit=limit, offset=offset))

    def paper(self, paper_id: str) -> PaperRecord | None:
        """The whole stored record of one paper (its page), or None."""
        return get_paper(self.connection, paper_id)

    def claims(self, paper_id: str) -> PaperClaims:
        """The paper's approved authorship claims and its authors' links (one query)."""
        return sql.paper_claims(self.connection, paper_id)

    def period(
        self,
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
        """One page of the papers whose feed day is in [start, end], in ``sort`` order (in
        ``category``, and featured by the Hugging Face user name ``submitter``, if given)."""
        return period_page(
            self.connection, start, end, sort=sort, limit=limit, offset=offset,
            category=category, submitter=submitter, now=now,
        )  # fmt: skip

    def period_order(
        self,
        start: date,
        end: date,
        *,
        sort: Literal["upvotes", "recent"],
        limit: int,
        offset: int = 0,
        category: str | None = None,
    ) -> tuple[tuple[str, ...], int]:
        """The ids :meth:`period` shows in ``sort`` order (not trending), in order, and
        their period's total, without reading the papers: a cached list's check."""
        return sql.feed_order(
            self.connection, start, end, limit=limit, offset=offset, order=sort,
            category=category,
        )  # fmt: skip

    def neighbours(
        self, start: date, end: date, *, category: str | None = None
    ) -> tuple[date | None, date | None]:
        """The nearest days with papers before ``start`` and after ``end`` (None if none)."""
        return sql.neighbour_days(self.connection, start, end, category=category)

    def latest_day(self) -> date | None:
        """The newest day with papers: what the site shows when no day is asked."""
        return sql.latest_day(self.connection)

    def author(self, name: str, *, limit: int, offset: int = 0) -> FeedPage:
        """The papers of the author named exactly ``name``, newest first."""
        return sql.author_page(self.connection, name, limit=limit, offset=offset)


@contextmanager
def read(store: Store) -> Iterator[Reader]:
    """A reader over one read transaction of ``store``, closed at the end of the block."""
    with store.read() as connection:
        yield Reader(connection)


def open_site_store(settings: Settings) -> Store:
    """The site's database (migrated to the newest schema), as the app opens it."""
    return open_store(settings.resolved_database_url)


def votes_stamp(store: Store) -> object:
    """The votes' part of :func:`change_stamp` alone: cheap enough to read after each vote
    (the papers' part counts every paper)."""
    with store.read() as connection:
        return vote_stamp(connection)


def change_stamp(store: Store) -> object:
    """A value that changes whenever papers or votes do (compared, never read).

    Vectors are not in it: what search answers follows the engine that serves it (see
    ``LiveEngine.answers_generation``), which a cache of answers watches beside this.
    """
    with store.read() as connection:
        return paper_stamp(connection), vote_stamp(connection)
