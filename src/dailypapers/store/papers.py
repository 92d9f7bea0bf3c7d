"""Writing and reading papers: batch upsert with new/updated/unchanged counts, lookups, counts.

``upsert_papers`` runs inside one write transaction (``Store.write``), so a batch is stored
whole or not at all: a run killed half-way leaves no half-written paper, and running it again
finds what was committed unchanged and completes the rest.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Insert,
    RowMapping,
    Table,
    bindparam,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from dailypapers.paper import Link, PaperRecord, content_hash, feed_day, merge, text_hash, web_url
from dailypapers.store import driver
from dailypapers.store.batches import chunks, utc_now
from dailypapers.store.paper_lists import authors_of, categories_of
from dailypapers.store.schema import (
    authors,
    paper_authors,
    paper_categories,
    paper_links,
    paper_vectors,
    papers,
)

# Record fields stored as columns of the same name in ``papers``.
_SAME_NAME = (
    "version", "title", "abstract", "comment", "journal_ref", "doi", "submitted_at",
    "first_listed_on", "featured_on", "featured_by", "hf_upvotes", "github_repo",
    "github_stars", "project_page", "hf_comments", "featured_by_user", "featured_by_avatar",
    "featured_by_type",
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


def _insert_ignore(connection: Connection, table: Table) -> Insert:
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement: Insert = dialect.insert(table).on_conflict_do_nothing()
    return statement


def _insert_many(
    connection: Connection, statement: Insert, columns: Sequence[str], rows: list[tuple[Any, ...]]
) -> None:
    """Run ``statement`` for each row of ``columns`` values with the driver's executemany.

    For the child tables' hundreds of thousands of rows, SQLAlchemy's per-row parameter
    handling costs more than SQLite's own insert. Their columns are strings and integers,
    which need no type conversion, so the rows can go to the driver as they are.
    """
    if not rows:
        return
    compiled = statement.compile(dialect=connection.dialect, column_keys=list(columns))
    if not compiled.positional:  # psycopg: named "%(name)s" placeholders
        named = [dict(zip(columns, row, strict=True)) for row in rows]
        connection.exec_driver_sql(compiled.string, named)
    elif compiled.positiontup == list(columns):  # SQLite: "?" placeholders in column order
        connection.exec_driver_sql(compiled.string, rows)
    else:
        raise ValueError(f"{statement}: binds {compiled.positiontup}, not {list(columns)}")


def load_records(connection: Connection, ids: Sequence[str]) -> dict[str, tuple[PaperRecord, str]]:
    """The stored record and content hash of each of ``ids`` that exists."""
    rows: dict[str, RowMapping] = {}
    for chunk in chunks(ids):
        query = select(papers).where(papers.c.arxiv_id.in_(chunk))
        rows.update({row["arxiv_id"]: row for row in connection.execute(query).mappings().all()})
    if not rows:
        return {}  # none stored (a batch of new papers): no need to look for their children
    present = list(rows)
    author_names = authors_of(connection, present)
    categories = categories_of(connection, present)
    found: dict[str, tuple[PaperRecord, str]] = {}
    for arxiv_id, row in rows.items():
        record = PaperRecord(
            arxiv_id=arxiv_id,
            authors=tuple(author_names.get(arxiv_id, ())),
            categories=tuple(categories.get(arxiv_id, ())),
            updated_at=row["arxiv_updated_at"],
            **{name: row[name] for name in _SAME_NAME},
        )
        found[arxiv_id] = (record, row["content_hash"])
    return found


# One paper's record (its authors and categories with it): built once, since a paper page
# reads it on every uncached request (building ``select(papers)`` cost more than running it),
# and run on the driver's cursor (store.driver): SQLAlchemy's execution and row mapping were
# two thirds of the 0.4 ms this read cost a paper page.
_ONE_PAPER = select(
    *(papers.c[name] for name in _SAME_NAME),
    papers.c.authors_json, papers.c.categories_json, papers.c.arxiv_updated_at,
).where(papers.c.arxiv_id == bindparam("arxiv_id"))  # fmt: skip
# The date and time columns, read back from the driver's values (SQLite gives ISO text).
_DAYS = frozenset({"first_listed_on", "featured_on"})
_MOMENTS = frozenset({"submitted_at"})


def _names(text: str | None) -> tuple[str, ...]:
    return tuple(json.loads(text)) if text else ()


def _value(name: str, value: Any) -> Any:
    if name in _DAYS:
        return driver.day(value)
    return driver.moment(value) if name in _MOMENTS else value


def get_paper(connection: Connection, arxiv_id: str) -> PaperRecord | None:
    """One paper by its arXiv id without version, or None."""
    rows = driver.fetch(connection, _ONE_PAPER, {"arxiv_id": arxiv_id})
    if not rows:
        return None
    *same, authors, categories, updated_at = rows[0]
    return PaperRecord(
        arxiv_id=arxiv_id,
        authors=_names(authors),
        categories=_names(categories),
        updated_at=driver.moment(updated_at),
        **{name: _value(name, value) for name, value in zip(_SAME_NAME, same, strict=True)},
    )


@dataclass(frozen=True, slots=True)
class _Merged:
    """A paper as it will be stored, with its links (computed once: they cost a regex scan)."""

    record: PaperRecord
    links: tuple[Link, ...]
    digest: str

    @classmethod
    def of(cls, record: PaperRecord) -> _Merged:
        links = record.links
        return cls(record, links, content_hash(record, links))


def json_list(values: Sequence[str]) -> str:
    """A list of names as the papers' ``*_json`` columns keep it (a JSON array)."""
    return json.dumps(list(values), ensure_ascii=False)


def _paper_row(paper: _Merged, now: datetime) -> dict[str, Any]:
    record = paper.record
    row = {name: getattr(record, name) for name in _SAME_NAME}
    code = (web_url(link.url) for link in paper.links if link.kind == "code")
    row.update(
        arxiv_id=record.arxiv_id,
        primary_category=record.primary_category,
        arxiv_updated_at=record.updated_at,
        authors_json=json_list(record.authors),
        categories_json=json_list(record.categories),
        code_link=next(filter(None, code), None),
        content_hash=paper.digest,
        text_hash=text_hash(record),
        feed_day=feed_day(record),
        updated_at=now,
    )
    return row


def _lookup_authors(connection: Connection, names: Sequence[str]) -> dict[str, int]:
    """The ids of those of ``names`` that are stored.

    Plain SQL run by the driver: a batch of new papers brings thousands of names, and
    building the SQLAlchemy query and its result rows cost more than the lookups themselves.
    """
    marker = "?" if connection.dialect.paramstyle == "qmark" else "%s"  # sqlite3, psycopg
    ids: dict[str, int] = {}
    for chunk in chunks(names):
        placeholders = ", ".join([marker] * len(chunk))
        query = f"SELECT name, id FROM authors WHERE name IN ({placeholders})"
        ids.update(connection.exec_driver_sql(query, tuple(chunk)).all())
    return ids


def _author_ids(connection: Connection, names: set[str]) -> dict[str, int]:
    """The id of each author in ``names``, adding those not stored yet."""
    ordered = sorted(names)
    ids = _lookup_authors(connection, ordered)
    missing = [name for name in ordered if name not in ids]
    if missing:
        statement = _insert_ignore(connection, authors)
        _insert_many(connection, statement, ["name"], [(name,) for name in missing])
        ids.update(_lookup_authors(connection, missing))
    return ids


def _delete_children(connection: Connection, ids: Sequence[str]) -> None:
    """Remove the authors, categories and links of papers about to get new ones."""
    for table in (paper_authors, paper_categories, paper_links):
        for chunk in chunks(ids):
            connection.execute(delete(table).where(table.c.paper_id.in_(chunk)))


def _insert_children(connection: Connection, written: Sequence[_Merged]) -> None:
    """Write the authors, categories and links of papers that have none stored."""
    author_ids = _author_ids(connection, {name for p in written for name in p.record.authors})
    author_rows = [
        (p.record.arxiv_id, i, author_ids[name])
        for p in written
        for i, name in enumerate(p.record.authors)
    ]
    category_rows = [
        (p.record.arxiv_id, i, category)
        for p in written
        for i, category in enumerate(p.record.categories)
    ]
    link_rows = [
        (p.record.arxiv_id, i, link.kind, link.url)
        for p in written
        for i, link in enumerate(p.links)
    ]
    for table, rows in (
        (paper_authors, author_rows),
        (paper_categories, category_rows),
        (paper_links, link_rows),
    ):
        _insert_many(connection, table.insert(), [c.key for c in table.columns], rows)


def _stored_hashes(connection: Connection, ids: Sequence[str]) -> dict[str, str]:
    """The content hash of each of ``ids`` that is stored."""
    found: dict[str, str] = {}
    for chunk in chunks(ids):
        query = select(papers.c.arxiv_id, papers.c.content_hash).where(papers.c.arxiv_id.in_(chunk))
        found.update({arxiv_id: digest for arxiv_id, digest in connection.execute(query).all()})
    return found


def upsert_papers(connection: Connection, records: Sequence[PaperRecord]) -> WriteCounts:
    """Merge ``records`` into the store; call inside ``Store.write()``.

    Records for the same paper in one batch are merged in order. A paper whose merged content
    hashes the same as what is stored is left untouched.

    A paper's first record is hashed before anything is read: if that matches the stored
    hash, the record *is* the stored paper, and merging a paper into itself changes nothing,
    so the stored record is not loaded. Re-reading a file thus costs one small query per
    chunk of ids instead of loading every paper with its authors and categories.
    """
    counts = WriteCounts()
    first: dict[str, _Merged] = {}
    for record in records:
        if record.arxiv_id not in first:
            first[record.arxiv_id] = _Merged.of(record)
    stored_hashes = _stored_hashes(connection, list(first))
    differing = [i for i, digest in stored_hashes.items() if digest != first[i].digest]
    stored = load_records(connection, differing)
    merged: dict[str, _Merged] = {}
    for record in records:
        arxiv_id = record.arxiv_id
        before: str | None  # the hash to compare with; None for a new paper
        if arxiv_id in merged:  # a later record for a paper already in this batch
            before = merged[arxiv_id].digest
            result = _Merged.of(merge(merged[arxiv_id].record, record))
        elif arxiv_id in stored:  # the first record, for a stored paper it differs from
            before = stored[arxiv_id][1]
            result = _Merged.of(merge(stored[arxiv_id][0], record))
        else:  # the first record, for a new paper or one stored exactly like this
            before = stored_hashes.get(arxiv_id)
            result = first[arxiv_id]
        if before is None:
            counts.new += 1
        elif result.digest != before:
            counts.updated += 1
        else:
            counts.unchanged += 1
        merged[arxiv_id] = result
    _write_changed(connection, merged, stored_hashes)
    return counts


def _write_changed(
    connection: Connection, merged: dict[str, _Merged], stored_hashes: dict[str, str]
) -> None:
    """Insert new papers and rewrite those whose hash changed, with their children."""
    now = utc_now(precise=True)
    inserts = [paper for arxiv_id, paper in merged.items() if arxiv_id not in stored_hashes]
    updates = [
        paper
        for arxiv_id, paper in merged.items()
        if arxiv_id in stored_hashes and stored_hashes[arxiv_id] != paper.digest
    ]
    if inserts:
        connection.execute(
            papers.insert(),
            [_paper_row(p, now) | {"created_at": now} for p in inserts],
        )
    if updates:
        connection.execute(
            update(papers).where(papers.c.arxiv_id == bindparam("key")),
            [_paper_row(p, now) | {"key": p.record.arxiv_id} for p in updates],
        )
        _delete_children(connection, [p.record.arxiv_id for p in updates])
    if inserts or updates:
        _insert_children(connection, inserts + updates)


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


def paper_stamp(connection: Connection) -> tuple[int, datetime | None]:
    """The count and newest change of the papers: it differs whenever a paper changed.

    A long-running reader (the web server's search engine and response cache) compares it now
    and then to know when to reload; one indexed query. Vectors are left out: a search engine
    reads them from index files that have stamps of their own, and a backlog being embedded
    writes vectors every few seconds.
    """
    paper_count, paper_newest = connection.execute(
        select(func.count(), func.max(papers.c.updated_at))
    ).one()
    return int(paper_count), paper_newest
