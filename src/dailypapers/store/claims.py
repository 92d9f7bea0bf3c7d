"""Authorship claims: the ``claims`` table's SQL (rules in :mod:`dailypapers.community.claims`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, RowMapping, insert, select, update
from sqlalchemy.exc import IntegrityError

from dailypapers.store.comments import tick
from dailypapers.store.schema import author_links, authors, claims, paper_authors, papers, users


class DuplicateClaim(Exception):
    """The user has claimed this author name on this paper already."""


def author_of_paper(connection: Connection, paper_id: str, name: str) -> bool:
    """Whether ``name`` is one of the paper's authors, exactly as listed."""
    query = (
        select(authors.c.id)
        .join(paper_authors, paper_authors.c.author_id == authors.c.id)
        .where(paper_authors.c.paper_id == paper_id, authors.c.name == name)
    )
    return connection.execute(query).first() is not None


def insert_claim(
    connection: Connection, paper_id: str, author_name: str, user_id: int, created_at: datetime
) -> int:
    row = {
        "paper_id": paper_id,
        "author_name": author_name,
        "user_id": user_id,
        "status": "pending",
        "created_at": created_at,
    }
    try:
        with connection.begin_nested():
            key = connection.execute(insert(claims).values(row)).inserted_primary_key
    except IntegrityError:
        raise DuplicateClaim(f"{paper_id} {author_name}") from None
    assert key is not None
    return int(key[0])


def claim_by_id(connection: Connection, claim_id: int) -> RowMapping | None:
    return connection.execute(select(claims).where(claims.c.id == claim_id)).mappings().first()


def claims_with_status(connection: Connection, status: str, limit: int = 200) -> list[RowMapping]:
    """The oldest ``limit`` claims with ``status``, each with the claimant's ``username`` and
    the paper's ``title`` (what the moderators' queue shows)."""
    query = (
        select(claims, users.c.username, papers.c.title)
        .join(users, users.c.id == claims.c.user_id)
        .join(papers, papers.c.arxiv_id == claims.c.paper_id)
        .where(claims.c.status == status)
        .order_by(claims.c.id)
        .limit(limit)
    )
    return list(connection.execute(query).mappings())


def claims_of_paper(connection: Connection, paper_id: str) -> list[RowMapping]:
    query = select(claims).where(claims.c.paper_id == paper_id).order_by(claims.c.id)
    return list(connection.execute(query).mappings())


def decide_claim(
    connection: Connection, claim_id: int, status: str, moderator_id: int, decided_at: datetime
) -> bool:
    """Approve or reject a pending claim; False when it is not pending (any more)."""
    query = (
        update(claims)
        .where(claims.c.id == claim_id, claims.c.status == "pending")
        .values(status=status, decided_by=moderator_id, decided_at=decided_at)
    )
    if not connection.execute(query).rowcount:
        return False
    tick(connection)  # a paper's page shows its approved authors: cached copies must go
    return True


def claims_of_user(connection: Connection, user_id: int) -> list[RowMapping]:
    """Every claim ``user_id`` made, oldest first (their data export)."""
    query = select(claims).where(claims.c.user_id == user_id).order_by(claims.c.id)
    return list(connection.execute(query).mappings())


def approved_claims_of_author(connection: Connection, author_name: str) -> list[RowMapping]:
    query = (
        select(claims)
        .where(claims.c.author_name == author_name, claims.c.status == "approved")
        .order_by(claims.c.id)
    )
    return list(connection.execute(query).mappings())


def author_links_of(connection: Connection, paper_id: str) -> RowMapping | None:
    query = select(author_links).where(author_links.c.paper_id == paper_id)
    return connection.execute(query).mappings().first()


def set_author_links(
    connection: Connection,
    paper_id: str,
    code_url: str | None,
    project_url: str | None,
    user_id: int,
    set_at: datetime,
) -> None:
    values = {"code_url": code_url, "project_url": project_url, "set_by": user_id, "set_at": set_at}
    changed = connection.execute(
        update(author_links).where(author_links.c.paper_id == paper_id).values(values)
    ).rowcount
    if not changed:
        connection.execute(insert(author_links).values(paper_id=paper_id, **values))
    tick(connection)  # shown on the paper's page and cards: cached copies must go
