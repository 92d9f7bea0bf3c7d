"""Papers as the search index sees them: what is searched, filtered on and shown in a hit.

``iter_documents`` pages through the papers in arXiv-id order (keyset pagination, so memory
stays flat at any size), optionally only those changed since a time, for incremental builds.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Row, select

from dailypapers.store.paper_lists import authors_of, categories_of
from dailypapers.store.schema import paper_links, papers

PAGE = 2000


@dataclass(frozen=True, slots=True)
class Document:
    """One paper for indexing; ``day`` is its feed day (see :func:`dailypapers.paper.feed_day`)."""

    id: str
    title: str
    abstract: str
    authors: tuple[str, ...]
    categories: tuple[str, ...]
    day: date | None
    has_code: bool
    content_hash: str
    updated_at: datetime


# Rows of the ``papers`` columns selected in ``iter_documents``.
PaperRows = Sequence[Row[*tuple[Any, ...]]]


def _page_documents(connection: Connection, rows: PaperRows) -> list[Document]:
    ids = [row.arxiv_id for row in rows]
    names = authors_of(connection, ids)
    categories = categories_of(connection, ids)
    with_code = set(
        connection.scalars(
            select(paper_links.c.paper_id)
            .where(paper_links.c.paper_id.in_(ids), paper_links.c.kind == "code")
            .distinct()
        )
    )
    return [
        Document(
            id=row.arxiv_id,
            title=row.title,
            abstract=row.abstract or "",
            authors=tuple(names.get(row.arxiv_id, ())),
            categories=tuple(categories.get(row.arxiv_id, ())),
            day=row.day,
            has_code=row.arxiv_id in with_code,
            content_hash=row.content_hash,
            updated_at=row.updated_at,
        )
        for row in rows
    ]


def documents_of_rows(connection: Connection, rows: PaperRows) -> list[Document]:
    """Documents of rows with the columns ``iter_documents`` selects (in their order)."""
    return _page_documents(connection, rows) if rows else []


def iter_documents(
    connection: Connection, *, since: datetime | None = None, page: int = PAGE
) -> Iterator[Document]:
    """Every paper (or those whose row changed at or after ``since``), in arXiv-id order."""
    columns = select(
        papers.c.arxiv_id, papers.c.title, papers.c.abstract, papers.c.feed_day.label("day"),
        papers.c.content_hash, papers.c.updated_at,
    )  # fmt: skip
    if since is not None:
        columns = columns.where(papers.c.updated_at >= since)
    after = ""
    while True:
        rows = connection.execute(
            columns.where(papers.c.arxiv_id > after).order_by(papers.c.arxiv_id).limit(page)
        ).all()
        if not rows:
            return
        yield from _page_documents(connection, rows)
        after = rows[-1].arxiv_id


def abstracts(connection: Connection, ids: Sequence[str]) -> dict[str, str]:
    """The abstracts of ``ids`` (for snippets of one page of hits)."""
    query = select(papers.c.arxiv_id, papers.c.abstract).where(papers.c.arxiv_id.in_(list(ids)))
    return {paper_id: text or "" for paper_id, text in connection.execute(query)}
