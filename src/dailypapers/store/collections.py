"""Members' collections (reading lists) and their items, in SQL.

A collection belongs to one member, has a name, a slug unique among the member's lists (its
address) and is public or private; its items are papers in an order (``position`` 0, 1, ...)
with a note each. Every function takes a connection of ``Store.write`` (writes) or
``Store.read`` (reads); :mod:`dailypapers.discussion.collections` holds the rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, delete, func, insert, select, update

from dailypapers.store.schema import collection_items, collections, papers


def create(
    connection: Connection,
    *,
    user_id: int,
    name: str,
    slug: str,
    public: bool,
    is_default: bool,
    now: datetime,
) -> int:
    """A new collection's id (IntegrityError if the member has a list with ``slug``)."""
    row = {
        "user_id": user_id,
        "name": name,
        "slug": slug,
        "public": public,
        "is_default": is_default,
        "created_at": now,
        "updated_at": now,
    }
    statement = insert(collections).values(row).returning(collections.c.id)
    return int(connection.execute(statement).scalar_one())


def by_id(connection: Connection, collection_id: int) -> RowMapping | None:
    query = select(collections).where(collections.c.id == collection_id)
    return connection.execute(query).mappings().first()


def by_slug(connection: Connection, user_id: int, slug: str) -> RowMapping | None:
    query = select(collections).where(collections.c.user_id == user_id, collections.c.slug == slug)
    return connection.execute(query).mappings().first()


def default_of(connection: Connection, user_id: int) -> RowMapping | None:
    query = select(collections).where(
        collections.c.user_id == user_id, collections.c.is_default.is_(True)
    )
    return connection.execute(query).mappings().first()


_SIZE = (
    select(func.count())
    .where(collection_items.c.collection_id == collections.c.id)
    .scalar_subquery()
    .label("size")
)


def of_user(connection: Connection, user_id: int, *, public_only: bool = False) -> list[RowMapping]:
    """The member's collections with their ``size``: the default first, then by name."""
    query = select(collections, _SIZE).where(collections.c.user_id == user_id)
    if public_only:
        query = query.where(collections.c.public.is_(True))
    query = query.order_by(collections.c.is_default.desc(), collections.c.name, collections.c.id)
    return list(connection.execute(query).mappings())


def slugs_of(connection: Connection, user_id: int) -> set[str]:
    query = select(collections.c.slug).where(collections.c.user_id == user_id)
    return set(connection.scalars(query))


def update_collection(connection: Connection, collection_id: int, values: dict[str, Any]) -> None:
    connection.execute(
        update(collections).where(collections.c.id == collection_id).values(**values)
    )


def delete_collection(connection: Connection, collection_id: int) -> bool:
    # Items first: SQLite enforces the cascade only with its foreign keys pragma on.
    connection.execute(
        delete(collection_items).where(collection_items.c.collection_id == collection_id)
    )
    done = connection.execute(delete(collections).where(collections.c.id == collection_id))
    return bool(done.rowcount)


def items(connection: Connection, collection_id: int) -> list[RowMapping]:
    """The items (paper_id, position, note, added_at) of a collection, in their order."""
    query = (
        select(
            collection_items.c.paper_id,
            collection_items.c.position,
            collection_items.c.note,
            collection_items.c.added_at,
        )
        .where(collection_items.c.collection_id == collection_id)
        .order_by(collection_items.c.position, collection_items.c.added_at)
    )
    return list(connection.execute(query).mappings())


def existing_papers(connection: Connection, ids: Sequence[str]) -> set[str]:
    """Which of ``ids`` are stored papers."""
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        found.update(
            connection.scalars(select(papers.c.arxiv_id).where(papers.c.arxiv_id.in_(chunk)))
        )
    return found


def add_item(
    connection: Connection, collection_id: int, paper_id: str, note: str | None, now: datetime
) -> bool:
    """Append ``paper_id`` (stored) to the collection; False if it is there already."""
    present = select(collection_items.c.paper_id).where(
        collection_items.c.collection_id == collection_id,
        collection_items.c.paper_id == paper_id,
    )
    if connection.scalar(present) is not None:
        return False
    last = connection.scalar(
        select(func.max(collection_items.c.position)).where(
            collection_items.c.collection_id == collection_id
        )
    )
    row = {
        "collection_id": collection_id,
        "paper_id": paper_id,
        "position": 0 if last is None else last + 1,
        "note": note,
        "added_at": now,
    }
    connection.execute(insert(collection_items).values(row))
    return True


def remove_item(connection: Connection, collection_id: int, paper_id: str) -> bool:
    done = connection.execute(
        delete(collection_items).where(
            collection_items.c.collection_id == collection_id,
            collection_items.c.paper_id == paper_id,
        )
    )
    return bool(done.rowcount)


def set_note(connection: Connection, collection_id: int, paper_id: str, note: str | None) -> bool:
    done = connection.execute(
        update(collection_items)
        .where(
            collection_items.c.collection_id == collection_id,
            collection_items.c.paper_id == paper_id,
        )
        .values(note=note)
    )
    return bool(done.rowcount)


def set_order(connection: Connection, collection_id: int, ids: Sequence[str]) -> None:
    """Number the items ``ids`` (every item of the collection) 0, 1, ... in that order."""
    for position, paper_id in enumerate(ids):
        connection.execute(
            update(collection_items)
            .where(
                collection_items.c.collection_id == collection_id,
                collection_items.c.paper_id == paper_id,
            )
            .values(position=position)
        )


def saved_ids(connection: Connection, user_id: int) -> frozenset[str]:
    """Every paper in any collection of ``user_id`` (what their cards show as saved)."""
    query = (
        select(collection_items.c.paper_id)
        .join(collections, collections.c.id == collection_items.c.collection_id)
        .where(collections.c.user_id == user_id)
        .distinct()
    )
    return frozenset(connection.scalars(query))


def saved_by_users(connection: Connection, user_ids: Sequence[int]) -> dict[int, frozenset[str]]:
    """:func:`saved_ids` of each of ``user_ids`` (a batch: the member merge's re-reads)."""
    found: dict[int, set[str]] = {user_id: set() for user_id in user_ids}
    for start in range(0, len(user_ids), 500):
        query = (
            select(collections.c.user_id, collection_items.c.paper_id)
            .join(collections, collections.c.id == collection_items.c.collection_id)
            .where(collections.c.user_id.in_(user_ids[start : start + 500]))
        )
        for user_id, paper_id in connection.execute(query):
            found[user_id].add(paper_id)
    return {user_id: frozenset(ids) for user_id, ids in found.items()}


def containing(connection: Connection, user_id: int, paper_id: str) -> set[int]:
    """The ids of ``user_id``'s collections that hold ``paper_id``."""
    query = (
        select(collection_items.c.collection_id)
        .join(collections, collections.c.id == collection_items.c.collection_id)
        .where(collections.c.user_id == user_id, collection_items.c.paper_id == paper_id)
    )
    return set(connection.scalars(query))
