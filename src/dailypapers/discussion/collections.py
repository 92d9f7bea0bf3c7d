"""Collections (members' named reading lists) and "not interested": the rules over
``store/collections.py`` and ``store/not_interested.py``.

A member's lists have names and slugs (``/users/{name}/collections/{slug}``), are public or
private, and the default "Read later" is made the first time a paper is saved without a
list named. Items keep an order (reordered by moving one or by giving every id), carry a
note, and are shown sorted by position, date added, upvotes or trending (the pure score of
:mod:`dailypapers.feed.trending`). Exports (BibTeX, CSV, JSON) and imports (arXiv ids in text,
BibTeX, or our own CSV and JSON) live in :mod:`dailypapers.discussion.exchange`.

Each function opens its own transaction of the given ``Store``; the routes in
``web/collections.py`` call them. Errors are :class:`CollectionError` with an HTTP status.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Connection, RowMapping

from dailypapers.accounts import User
from dailypapers.accounts.flows import register_export
from dailypapers.feed.trending import age_hours, trending_score
from dailypapers.paper import InvalidRecord, parse_arxiv_id
from dailypapers.store import Store
from dailypapers.store import collections as sql
from dailypapers.store import not_interested as marks
from dailypapers.store.entries import FeedEntry, feed_entries
from dailypapers.store.users import user_by_id

DEFAULT_NAME = "Read later"
DEFAULT_SLUG = "read-later"
NAME_MAX = 100
NOTE_MAX = 1000
ITEMS_MAX = 5000  # papers one collection may hold
COLLECTIONS_MAX = 200  # collections one member may have
Order = Literal["position", "added", "upvotes", "trending"]
ORDERS: tuple[Order, ...] = ("position", "added", "upvotes", "trending")


class CollectionError(Exception):
    """A request about collections that cannot be done; ``status`` is its HTTP status."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class Collection:
    id: int
    user_id: int
    name: str
    slug: str
    public: bool
    is_default: bool
    created_at: datetime
    updated_at: datetime
    size: int = 0

    @classmethod
    def from_row(cls, row: RowMapping) -> Collection:
        return cls(
            row["id"],
            row["user_id"],
            row["name"],
            row["slug"],
            bool(row["public"]),
            bool(row["is_default"]),
            row["created_at"],
            row["updated_at"],
            int(row.get("size") or 0),
        )


@dataclass(frozen=True, slots=True)
class Item:
    """A paper in a collection: where it stands, its note, when it was added, the paper."""

    paper_id: str
    position: int
    note: str | None
    added_at: datetime
    entry: FeedEntry | None


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def slugify(name: str) -> str:
    """``"Read later!"`` -> ``"read-later"``: ASCII letters, digits and dashes."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:80] or "list"


def clean_name(name: str) -> str:
    cleaned = " ".join(name.split())
    if not cleaned:
        raise CollectionError("a collection needs a name")
    if len(cleaned) > NAME_MAX:
        raise CollectionError(f"a collection's name has at most {NAME_MAX} characters")
    return cleaned


def clean_note(note: str | None) -> str | None:
    if note is None:
        return None
    cleaned = note.strip().replace("\x00", "")
    if len(cleaned) > NOTE_MAX:
        raise CollectionError(f"a note has at most {NOTE_MAX} characters")
    return cleaned or None


def canonical_paper_id(text: str) -> str:
    """The stored form of a paper id (no version); CollectionError if it is none."""
    try:
        return parse_arxiv_id(text)[0]
    except InvalidRecord as error:
        raise CollectionError(f"not an arXiv id: {text[:80]!r} ({error})") from None


def _free_slug(connection: Connection, user_id: int, name: str) -> str:
    base, taken = slugify(name), sql.slugs_of(connection, user_id)
    slug, number = base, 2
    while slug in taken:
        slug, number = f"{base}-{number}", number + 1
    return slug


def _create(
    connection: Connection, user_id: int, name: str, public: bool, is_default: bool
) -> Collection:
    if len(sql.slugs_of(connection, user_id)) >= COLLECTIONS_MAX:
        raise CollectionError(f"at most {COLLECTIONS_MAX} collections per member", 429)
    now = utcnow()
    slug = DEFAULT_SLUG if is_default else _free_slug(connection, user_id, name)
    if is_default and slug in sql.slugs_of(connection, user_id):
        slug = _free_slug(connection, user_id, name)
    collection_id = sql.create(
        connection,
        user_id=user_id,
        name=name,
        slug=slug,
        public=public,
        is_default=is_default,
        now=now,
    )
    row = sql.by_id(connection, collection_id)
    assert row is not None
    return Collection.from_row(row)


def create_collection(store: Store, user_id: int, name: str, *, public: bool = False) -> Collection:
    name = clean_name(name)
    with store.write() as connection:
        return _create(connection, user_id, name, public, False)


def _default(connection: Connection, user_id: int) -> Collection:
    row = sql.default_of(connection, user_id)
    if row is not None:
        return Collection.from_row(row)
    return _create(connection, user_id, DEFAULT_NAME, False, True)


def default_collection(store: Store, user_id: int) -> Collection:
    """The member's "Read later", made now if they have none yet."""
    with store.write() as connection:
        return _default(connection, user_id)


def collections_of(store: Store, user_id: int, *, public_only: bool = False) -> list[Collection]:
    with store.read() as connection:
        return [
            Collection.from_row(r)
            for r in sql.of_user(connection, user_id, public_only=public_only)
        ]


def get_collection(store: Store, collection_id: int) -> Collection | None:
    with store.read() as connection:
        row = sql.by_id(connection, collection_id)
    return None if row is None else Collection.from_row(row)


def by_slug(store: Store, user_id: int, slug: str) -> Collection | None:
    with store.read() as connection:
        row = sql.by_slug(connection, user_id, slug)
    return None if row is None else Collection.from_row(row)


def visible(collection: Collection | None, viewer_id: int | None) -> Collection:
    """``collection`` if ``viewer_id`` may read it (public, or theirs); else 404."""
    if collection is None or not (collection.public or collection.user_id == viewer_id):
        raise CollectionError("no such collection", 404)
    return collection


def _own(connection: Connection, user_id: int, collection_id: int) -> Collection:
    row = sql.by_id(connection, collection_id)
    if row is None or row["user_id"] != user_id:
        raise CollectionError("no such collection", 404)
    return Collection.from_row(row)


def update_collection(
    store: Store,
    user_id: int,
    collection_id: int,
    *,
    name: str | None = None,
    public: bool | None = None,
) -> Collection:
    """Rename (the slug follows, so the address changes) and/or make public or private."""
    with store.write() as connection:
        collection = _own(connection, user_id, collection_id)
        values: dict[str, Any] = {"updated_at": utcnow()}
        if name is not None and clean_name(name) != collection.name:
            values["name"] = clean_name(name)
            if not collection.is_default:
                values["slug"] = _free_slug(connection, user_id, values["name"])
        if public is not None:
            values["public"] = public
        sql.update_collection(connection, collection_id, values)
        row = sql.by_id(connection, collection_id)
        assert row is not None
        return Collection.from_row(row)


def delete_collection(store: Store, user_id: int, collection_id: int) -> None:
    with store.write() as connection:
        _own(connection, user_id, collection_id)
        sql.delete_collection(connection, collection_id)


def items_of(store: Store, collection_id: int) -> list[Item]:
    """The collection's items with their papers, in the collection's order."""
    with store.read() as connection:
        rows = sql.items(connection, collection_id)
        entries = {e.id: e for e in feed_entries(connection, [r["paper_id"] for r in rows])}
    return [
        Item(r["paper_id"], r["position"], r["note"], r["added_at"], entries.get(r["paper_id"]))
        for r in rows
    ]


def sort_items(items: Sequence[Item], order: str, now: datetime | None = None) -> list[Item]:
    """``items`` in ``order``: their position, newest added, most upvotes, or trending."""
    if order == "added":
        return sorted(items, key=lambda i: (i.added_at, -i.position), reverse=True)
    if order == "upvotes":
        return sorted(items, key=lambda i: (-(i.entry.upvotes if i.entry else 0), i.position))
    if order == "trending":
        moment = now or utcnow()

        def score(item: Item) -> float:
            entry = item.entry
            if entry is None:
                return 0.0
            age = age_hours(moment, entry.submitted_at, entry.day)
            stars = entry.github_stars or 0
            return trending_score(entry.upvotes, age, stars=stars, comments=entry.num_comments)

        return sorted(items, key=lambda i: (-score(i), i.position))
    if order != "position":
        raise CollectionError(f"sort by one of {', '.join(ORDERS)}", 400)
    return sorted(items, key=lambda i: i.position)


def _stored_paper(connection: Connection, paper_id: str) -> str:
    paper_id = canonical_paper_id(paper_id)
    if not sql.existing_papers(connection, [paper_id]):
        raise CollectionError(f"no paper {paper_id} on this site", 404)
    return paper_id


def add_paper(
    store: Store,
    user_id: int,
    paper_id: str,
    collection_id: int | None = None,
    note: str | None = None,
) -> tuple[Collection, bool]:
    """Save ``paper_id`` in the collection (the default one when None); whether it is new."""
    note = clean_note(note)
    with store.write() as connection:
        if collection_id is None:
            collection = _default(connection, user_id)
        else:
            collection = _own(connection, user_id, collection_id)
        paper_id = _stored_paper(connection, paper_id)
        if len(sql.items(connection, collection.id)) >= ITEMS_MAX:
            raise CollectionError(f"a collection holds at most {ITEMS_MAX} papers", 422)
        added = sql.add_item(connection, collection.id, paper_id, note, utcnow())
        sql.update_collection(connection, collection.id, {"updated_at": utcnow()})
        return collection, added


def remove_paper(store: Store, user_id: int, collection_id: int, paper_id: str) -> bool:
    paper_id = canonical_paper_id(paper_id)
    with store.write() as connection:
        _own(connection, user_id, collection_id)
        return sql.remove_item(connection, collection_id, paper_id)


def set_note(
    store: Store, user_id: int, collection_id: int, paper_id: str, note: str | None
) -> None:
    note, paper_id = clean_note(note), canonical_paper_id(paper_id)
    with store.write() as connection:
        _own(connection, user_id, collection_id)
        if not sql.set_note(connection, collection_id, paper_id, note):
            raise CollectionError(f"{paper_id} is not in this collection", 404)


def reorder(store: Store, user_id: int, collection_id: int, ids: Sequence[str]) -> None:
    """Give the items the order of ``ids``: every item of the collection once."""
    wanted = [canonical_paper_id(i) for i in ids]
    with store.write() as connection:
        _own(connection, user_id, collection_id)
        present = [r["paper_id"] for r in sql.items(connection, collection_id)]
        if sorted(wanted) != sorted(present):
            raise CollectionError("give every paper of the collection once, in the new order")
        sql.set_order(connection, collection_id, wanted)


def move(store: Store, user_id: int, collection_id: int, paper_id: str, to: int) -> None:
    """Move one item to position ``to`` (0 is first; past the end is last)."""
    paper_id = canonical_paper_id(paper_id)
    with store.write() as connection:
        _own(connection, user_id, collection_id)
        order = [r["paper_id"] for r in sql.items(connection, collection_id)]
        if paper_id not in order:
            raise CollectionError(f"{paper_id} is not in this collection", 404)
        order.remove(paper_id)
        order.insert(max(0, min(to, len(order))), paper_id)
        sql.set_order(connection, collection_id, order)


def containing(store: Store, user_id: int, paper_id: str) -> set[int]:
    with store.read() as connection:
        return sql.containing(connection, user_id, paper_id)


def saved_ids(store: Store, user_id: int) -> frozenset[str]:
    with store.read() as connection:
        return sql.saved_ids(connection, user_id)


# -- "not interested" ---------------------------------------------------------------------


def mark_not_interested(store: Store, user_id: int, paper_id: str) -> bool:
    paper_id = canonical_paper_id(paper_id)
    with store.write() as connection:
        _stored_paper(connection, paper_id)
        return marks.mark(connection, user_id, paper_id, utcnow())


def undo_not_interested(store: Store, user_id: int, paper_id: str) -> bool:
    paper_id = canonical_paper_id(paper_id)
    with store.write() as connection:
        return marks.unmark(connection, user_id, paper_id)


def not_interested_ids(store: Store, user_id: int) -> frozenset[str]:
    with store.read() as connection:
        return marks.ids_of(connection, user_id)


def not_interested_entries(store: Store, user_id: int) -> list[tuple[FeedEntry, datetime]]:
    """The papers the member marked, newest mark first, for settings."""
    with store.read() as connection:
        marked = marks.marked_of(connection, user_id)
        entries = {e.id: e for e in feed_entries(connection, [p for p, _ in marked])}
    return [(entries[p], when) for p, when in marked if p in entries]


def member_marks(store: Store, user_id: int) -> tuple[frozenset[str], frozenset[str]]:
    """(saved papers, not interested papers) of a member, in one read transaction: what
    the member merge of cached pages needs (web/personal.py)."""
    with store.read() as connection:
        return sql.saved_ids(connection, user_id), marks.ids_of(connection, user_id)


def members_marks(
    store: Store, user_ids: list[int]
) -> dict[int, tuple[frozenset[str], frozenset[str]]]:
    """:func:`member_marks` of many members in one read transaction (two queries a 500)."""
    with store.read() as connection:
        saved = sql.saved_by_users(connection, user_ids)
        hidden = marks.marked_by_users(connection, user_ids)
    return {user_id: (saved[user_id], hidden[user_id]) for user_id in user_ids}


# -- "export my data" -----------------------------------------------------------------------


def _time(value: datetime | None) -> str | None:
    return None if value is None else value.replace(tzinfo=UTC).isoformat()


def export_collections(store: Store, user: User) -> list[dict[str, Any]]:
    with store.read() as connection:
        lists = sql.of_user(connection, user.id)
        return [
            {
                "name": row["name"],
                "slug": row["slug"],
                "public": bool(row["public"]),
                "createdAt": _time(row["created_at"]),
                "items": [
                    {"paperId": i["paper_id"], "note": i["note"], "addedAt": _time(i["added_at"])}
                    for i in sql.items(connection, row["id"])
                ],
            }
            for row in lists
        ]


def export_not_interested(store: Store, user: User) -> list[dict[str, Any]]:
    with store.read() as connection:
        marked = marks.marked_of(connection, user.id)
    return [{"paperId": paper_id, "markedAt": _time(when)} for paper_id, when in marked]


register_export("collections", export_collections)
register_export("notInterested", export_not_interested)


def remove_everywhere(store: Store, user_id: int, paper_id: str) -> int:
    """Take ``paper_id`` out of every collection of the member (a card's "Saved" undone);
    how many collections held it."""
    paper_id = canonical_paper_id(paper_id)
    with store.write() as connection:
        held = sql.containing(connection, user_id, paper_id)
        for collection_id in held:
            sql.remove_item(connection, collection_id, paper_id)
        return len(held)


def owner_of(store: Store, collection: Collection) -> str:
    """The user name of the collection's owner."""
    with store.read() as connection:
        row = user_by_id(connection, collection.user_id)
    return str(row["username"]) if row else "?"
