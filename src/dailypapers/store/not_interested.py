"""Papers members marked "not interested", in SQL: one row per (member, paper).

A member's own daily, trending and search pages leave these papers out (the member merge of
:mod:`dailypapers.web.personal`), the email alerts take them as negative feedback, settings
list them with an undo. Marking twice changes nothing (the primary key is the pair).
Every function takes a connection of ``Store.write`` (writes) or ``Store.read`` (reads);
:mod:`dailypapers.discussion.collections` holds the rules around them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from dailypapers.store.schema import not_interested, papers


def mark(connection: Connection, user_id: int, paper_id: str, now: datetime) -> bool:
    """Mark ``paper_id`` (a stored, canonical id) not interesting to ``user_id``; True if
    newly marked, False if it was already or there is no such paper."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    source = select(
        papers.c.arxiv_id.label("paper_id"),
    ).where(papers.c.arxiv_id == paper_id)
    exists = connection.scalar(source)
    if exists is None:
        return False
    row = {"user_id": user_id, "paper_id": paper_id, "created_at": now}
    statement = dialect.insert(not_interested).values(row).on_conflict_do_nothing()
    return connection.execute(statement.returning(not_interested.c.paper_id)).first() is not None


def unmark(connection: Connection, user_id: int, paper_id: str) -> bool:
    """Undo the mark; False if there was none."""
    removed = connection.execute(
        delete(not_interested)
        .where(not_interested.c.user_id == user_id, not_interested.c.paper_id == paper_id)
        .returning(not_interested.c.paper_id)
    ).all()
    return bool(removed)


def ids_of(connection: Connection, user_id: int) -> frozenset[str]:
    """Every paper ``user_id`` marked not interested."""
    query = select(not_interested.c.paper_id).where(not_interested.c.user_id == user_id)
    return frozenset(connection.scalars(query))


def marked_of(connection: Connection, user_id: int) -> list[tuple[str, datetime]]:
    """(paper id, when) of each mark of ``user_id``, newest first (settings, data export)."""
    query = (
        select(not_interested.c.paper_id, not_interested.c.created_at)
        .where(not_interested.c.user_id == user_id)
        .order_by(not_interested.c.created_at.desc(), not_interested.c.paper_id)
    )
    return [(paper_id, created_at) for paper_id, created_at in connection.execute(query)]


def marked_by_users(connection: Connection, user_ids: list[int]) -> dict[int, frozenset[str]]:
    """Each of ``user_ids`` -> the papers they marked (for a batch such as an alerts run)."""
    found: dict[int, set[str]] = {user_id: set() for user_id in user_ids}
    for start in range(0, len(user_ids), 500):
        chunk = user_ids[start : start + 500]
        query = select(not_interested.c.user_id, not_interested.c.paper_id).where(
            not_interested.c.user_id.in_(chunk)
        )
        for user_id, paper_id in connection.execute(query):
            found[user_id].add(paper_id)
    return {user_id: frozenset(ids) for user_id, ids in found.items()}
