"""Writing and reading papers: batch upsert with new/updated/unchanged counts, lookups, counts.

``upsert_papers`` runs inside one write transaction (``Store.write``), so a batch is stored
whole or not at all: a run killed half-way leaves no half-written paper, and running it again
finds what was committed unchanged and completes the rest.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Insert, Table, bindparam, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from dailypapers.paper import PaperRecord, content_hash, merge
from dailypapers.store.schema import (
    authors,
    paper_authors,
    paper_categories,
    paper_links,
    paper_vectors,
    papers,
)

# Below SQLite's and PostgreSQL's limits on bound parameters in one statement.
_IN_CHUNK = 500
_T = TypeVar("_T")

# Record fields stored as columns of the same name in ``papers``.
_SAME_NAME = (
    "version", "title", "abstract", "comment", "journal_ref", "doi", "submitted_at",
    "first_listed_on", "featured_on", "featured_by", "hf_upvotes", "github_repo",
    "github_stars", "project_page",
)  # fmt: skip


@dataclass
class WriteCounts:
    """How the records of one write compared with what was stored."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0

    def __iadd__(self, other: WriteCounts) -> WriteCounts:
        self.new += other.new
        self.updated += other.updated
        self.unchanged += other.unchanged
        return self


def _chunks(items: Sequence[_T], size: int = _IN_CHUNK) -> Iterator[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def _insert_ignore(connection: Connection, table: Table) -> Insert:
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement: Insert = dialect.insert(table).on_conflict_do_nothing()
    return statement


def _list_by_paper(
    connection: Connection, ids: Sequence[str], statement: Any
) -> dict[str, list[str]]:
    """Rows of (paper_id, value) ordered by position, grouped per paper."""
    grouped: dict[str, list[str]] = {}
    for chunk in _chunks(ids):
        for paper_id, value in connection.execute(statement(chunk)):
            grouped.setdefault(paper_id, []).append(value)
    return grouped


def load_records(connection: Connection, ids: Sequence[str]) -> dict[str, tuple[PaperRecord, str]]:
    """The stored record and content hash of each of ``ids`` that exists."""
    author_names = _list_by_paper(
        connection,
        ids,
        lambda chunk: (
            select(paper_authors.c.paper_id, authors.c.name)
            .join(authors, authors.c.id == paper_authors.c.author_id)
            .where(paper_authors.c.paper_id.in_(chunk))
            .order_by(paper_authors.c.paper_id, paper_authors.c.position)
        ),
    )
    categories = _list_by_paper(
        connection,
        ids,
        lambda chunk: (
            select(paper_categories.c.paper_id, paper_categories.c.category)
            .where(paper_categories.c.paper_id.in_(chunk))
            .order_by(paper_categories.c.paper_id, paper_categories.c.position)
        ),
    )
    found: dict[str, tuple[PaperRecord, str]] = {}
    for chunk in _chunks(ids):
        for row in connection.execute(
            select(papers).where(papers.c.arxiv_id.in_(chunk))
        ).mappings():
            record = PaperRecord(
                arxiv_id=row["arxiv_id"],
                authors=tuple(author_names.get(row["arxiv_id"], ())),
                categories=tuple(categories.get(row["arxiv_id"], ())),
                updated_at=row["arxiv_updated_at"],
                **{name: row[name] for name in _SAME_NAME},
            )
            found[row["arxiv_id"]] = (record, row["content_hash"])
    return found


def get_paper(connection: Connection, arxiv_id: str) -> PaperRecord | None:
    """One paper by its arXiv id without version, or None."""
    found = load_records(connection, [arxiv_id])
    return found[arxiv_id][0] if arxiv_id in found else None


def _paper_row(record: PaperRecord, digest: str, now: datetime) -> dict[str, Any]:
    row = {name: getattr(record, name) for name in _SAME_NAME}
    row.update(
        arxiv_id=record.arxiv_id,
        primary_category=record.primary_category,
        arxiv_updated_at=record.updated_at,
        content_hash=digest,
        updated_at=now,
    )
    return row


def _author_ids(connection: Connection, names: set[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    ordered = sorted(names)

    def lookup(wanted: Sequence[str]) -> None:
        for chunk in _chunks(wanted):
            query = select(authors.c.name, authors.c.id).where(authors.c.name.in_(chunk))
            ids.update({name: author_id for name, author_id in connection.execute(query)})

    lookup(ordered)
    missing = [name for name in ordered if name not in ids]
    if missing:
        connection.execute(_insert_ignore(connection, authors), [{"name": n} for n in missing])
        lookup(missing)
    return ids


def _replace_children(connection: Connection, records: Sequence[PaperRecord]) -> None:
    """Rewrite authors, categories and links of papers whose content changed."""
    ids = [record.arxiv_id for record in records]
    for table in (paper_authors, paper_categories, paper_links):
        for chunk in _chunks(ids):
            connection.execute(delete(table).where(table.c.paper_id.in_(chunk)))
    author_ids = _author_ids(connection, {name for r in records for name in r.authors})
    _insert_rows(
        connection,
        paper_authors,
        (
            {"paper_id": r.arxiv_id, "position": i, "author_id": author_ids[name]}
            for r in records
            for i, name in enumerate(r.authors)
        ),
    )
    _insert_rows(
        connection,
        paper_categories,
        (
            {"paper_id": r.arxiv_id, "position": i, "category": category}
            for r in records
            for i, category in enumerate(r.categories)
        ),
    )
    _insert_rows(
        connection,
        paper_links,
        (
            {"paper_id": r.arxiv_id, "position": i, "kind": link.kind, "url": link.url}
            for r in records
            for i, link in enumerate(r.links)
        ),
    )


def _insert_rows(connection: Connection, table: Table, rows: Iterable[dict[str, Any]]) -> None:
    batch = list(rows)
    if batch:
        connection.execute(table.insert(), batch)


def upsert_papers(connection: Connection, records: Sequence[PaperRecord]) -> WriteCounts:
    """Merge ``records`` into the store; call inside ``Store.write()``.

    Records for the same paper in one batch are merged in order. A paper whose merged content
    hashes the same as what is stored is left untouched.
    """
    counts = WriteCounts()
    stored = load_records(connection, list(dict.fromkeys(r.arxiv_id for r in records)))
    merged: dict[str, tuple[PaperRecord, str]] = {}
    for record in records:
        current = merged.get(record.arxiv_id) or stored.get(record.arxiv_id)
        result = merge(current[0] if current else None, record)
        digest = content_hash(result)
        if current is None:
            counts.new += 1
        elif digest != current[1]:
            counts.updated += 1
        else:
            counts.unchanged += 1
        merged[record.arxiv_id] = (result, digest)
    _write_changed(connection, merged, stored)
    return counts


def _write_changed(
    connection: Connection,
    merged: dict[str, tuple[PaperRecord, str]],
    stored: dict[str, tuple[PaperRecord, str]],
) -> None:
    now = _now()
    inserts, updates = [], []
    for arxiv_id, (record, digest) in merged.items():
        if arxiv_id not in stored:
            inserts.append(_paper_row(record, digest, now) | {"created_at": now})
        elif stored[arxiv_id][1] != digest:
            updates.append(_paper_row(record, digest, now))
    _insert_rows(connection, papers, inserts)
    if updates:
        connection.execute(
            update(papers).where(papers.c.arxiv_id == bindparam("key")),
            [row | {"key": row["arxiv_id"]} for row in updates],
        )
    changed = [merged[row["arxiv_id"]][0] for row in inserts + updates]
    if changed:
        _replace_children(connection, changed)


@dataclass(frozen=True)
class PaperCounts:
    papers: int
    authors: int
    with_code: int
    with_vectors: int


def count_papers(connection: Connection) -> PaperCounts:
    """How many papers and authors are stored, and how many have code links or vectors."""
    with_code = select(func.count(func.distinct(paper_links.c.paper_id))).where(
        paper_links.c.kind == "code"
    )
    return PaperCounts(
        papers=connection.scalar(select(func.count()).select_from(papers)) or 0,
        authors=connection.scalar(select(func.count()).select_from(authors)) or 0,
        with_code=connection.scalar(with_code) or 0,
        with_vectors=connection.scalar(select(func.count(func.distinct(paper_vectors.c.paper_id))))
        or 0,
    )
