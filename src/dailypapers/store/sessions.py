"""Sessions' SQL: one row per signed-in browser, found by the SHA-256 of its token.

A session is valid while ``expires_at`` is ahead; expired rows are removed when their user
next signs in (and by :func:`delete_expired`). Joined with ``users`` so resolving a cookie is
one query.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, RowMapping, delete, select, update

from dailypapers.store.schema import sessions, users


def insert_session(
    connection: Connection,
    *,
    user_id: int,
    token_hash: str,
    role: str,
    created_at: datetime,
    expires_at: datetime,
    user_agent: str | None,
) -> int:
    inserted = connection.execute(
        sessions.insert()
        .values(
            user_id=user_id,
            token_hash=token_hash,
            role=role,
            created_at=created_at,
            expires_at=expires_at,
            user_agent=user_agent,
        )
        .returning(sessions.c.id)
    )
    session_id: int = inserted.scalar_one()
    return session_id


def session_with_user(
    connection: Connection, token_hash: str, now: datetime
) -> tuple[RowMapping, RowMapping] | None:
    """(session, user) of an unexpired session token hash, or None."""
    row = (
        connection.execute(
            select(sessions, users)
            .join(users, users.c.id == sessions.c.user_id)
            .where(sessions.c.token_hash == token_hash, sessions.c.expires_at > now)
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    session = {column.name: row[sessions.c[column.name]] for column in sessions.columns}
    user = {column.name: row[users.c[column.name]] for column in users.columns}
    return session, user  # type: ignore[return-value]


def sessions_with_users(
    connection: Connection, token_hashes: list[str], now: datetime
) -> dict[str, tuple[RowMapping, RowMapping]]:
    """:func:`session_with_user` of many token hashes in one query: those unexpired, by hash."""
    rows = (
        connection.execute(
            select(sessions, users)
            .join(users, users.c.id == sessions.c.user_id)
            .where(sessions.c.token_hash.in_(token_hashes), sessions.c.expires_at > now)
        )
        .mappings()
        .all()
    )
    found = {}
    for row in rows:
        session = {column.name: row[sessions.c[column.name]] for column in sessions.columns}
        user = {column.name: row[users.c[column.name]] for column in users.columns}
        found[session["token_hash"]] = (session, user)
    return found  # type: ignore[return-value]


def replace_token(connection: Connection, session_id: int, token_hash: str, role: str) -> bool:
    """Give the session a new token (and the role it now holds); True when it still exists."""
    result = connection.execute(
        update(sessions).where(sessions.c.id == session_id).values(token_hash=token_hash, role=role)
    )
    return result.rowcount > 0


def user_sessions(connection: Connection, user_id: int, now: datetime) -> list[RowMapping]:
    query = (
        select(sessions)
        .where(sessions.c.user_id == user_id, sessions.c.expires_at > now)
        .order_by(sessions.c.created_at.desc())
    )
    return list(connection.execute(query).mappings())


def delete_session(connection: Connection, token_hash: str) -> bool:
    query = delete(sessions).where(sessions.c.token_hash == token_hash)
    return connection.execute(query).rowcount > 0


def delete_user_sessions(
    connection: Connection, user_id: int, *, keep_hash: str | None = None
) -> int:
    """End every session of the user (but the one whose hash is ``keep_hash``); how many."""
    query = delete(sessions).where(sessions.c.user_id == user_id)
    if keep_hash is not None:
        query = query.where(sessions.c.token_hash != keep_hash)
    return connection.execute(query).rowcount


def delete_expired(connection: Connection, now: datetime, *, user_id: int | None = None) -> int:
    query = delete(sessions).where(sessions.c.expires_at <= now)
    if user_id is not None:
        query = query.where(sessions.c.user_id == user_id)
    return connection.execute(query).rowcount
