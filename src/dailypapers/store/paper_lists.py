"""What every reader of papers shares: their authors, categories and code links, in order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, select

from dailypapers.store.batches import chunks
from dailypapers.store.schema import authors, paper_authors, paper_categories, paper_links


def _grouped(
    connection: Connection, ids: Sequence[str], statement: Select[Any], key: ColumnElement[str]
) -> dict[str, list[str]]:
    """Rows of (paper id, value) in position order, grouped per paper; ids in bounded chunks."""
    grouped: dict[str, list[str]] = {}
    for chunk in chunks(ids):
        for paper_id, value in connection.execute(statement.where(key.in_(list(chunk)))).all():
            grouped.setdefault(paper_id, []).append(value)
    return grouped


def authors_of(connection: Connection, ids: Sequence[str]) -> dict[str, list[str]]:
    """The author names of each of ``ids``, in order."""
    statement = (
        select(paper_authors.c.paper_id, authors.c.name)
        .join(authors, authors.c.id == paper_authors.c.author_id)
        .order_by(paper_authors.c.paper_id, paper_authors.c.position)
    )
    return _grouped(connection, ids, statement, paper_authors.c.paper_id)


def categories_of(connection: Connection, ids: Sequence[str]) -> dict[str, list[str]]:
    """The categories of each of ``ids``, primary first."""
    statement = select(paper_categories.c.paper_id, paper_categories.c.category).order_by(
        paper_categories.c.paper_id, paper_categories.c.position
    )
    return _grouped(connection, ids, statement, paper_categories.c.paper_id)


def code_links_of(connection: Connection, ids: Sequence[str]) -> dict[str, list[str]]:
    """The code repository links of each of ``ids`` (given or found in its text), in order."""
    statement = (
        select(paper_links.c.paper_id, paper_links.c.url)
        .where(paper_links.c.kind == "code")
        .order_by(paper_links.c.paper_id, paper_links.c.position)
    )
    return _grouped(connection, ids, statement, paper_links.c.paper_id)
