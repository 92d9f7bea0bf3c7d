"""Personal API tokens' SQL: found by the SHA-256 of the token, listed and revoked per user."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, RowMapping, delete, select, update

from dailypapers.store.schema import api_tokens, users


def insert_token(
    connection: Connection,
    *,
    user_id: int,
    name: str,
    token_hash: str,
    prefix: str,
    scope: str,
    created_at: datetime,
) -> int:
    inserted = connection.execute(
        api_tokens.insert()
        .values(
            user_id=user_id,
            name=name,
            token_hash=token_hash,
            prefix=prefix,
            scope=scope,
            created_at=created_at,
        )
        .returning(api_tokens.c.id)
    )
    token_id: int = inserted.scalar_one()
    return token_id


def token_with_user(
    connection: Connection, token_hash: str
) -> tuple[RowMapping, RowMapping] | None:
    """(token, user) of a token hash, or None."""
    row = (
        connection.execute(
            select(api_tokens, users)
            .join(users, users.c.id == api_tokens.c.user_id)
            .where(api_tokens.c.token_hash == token_hash)
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    token = {column.name: row[api_tokens.c[column.name]] for column in api_tokens.columns}
    user = {column.name: row[users.c[column.name]] for column in users.columns}
    return token, user  # type: ignore[return-value]


def touch_token(connection: Connection, token_id: int, now: datetime) -> None:
    connection.execute(
        update(api_tokens).where(api_tokens.c.id == token_id).values(last_used_at=now)
    )


def user_tokens(connection: Connection, user_id: int) -> list[RowMapping]:
    query = (
        select(api_tokens)
        .where(api_tokens.c.user_id == user_id)
        .order_by(api_tokens.c.created_at.desc(), api_tokens.c.id.desc())
    )
    return list(connection.execute(query).mappings())


def delete_token(connection: Connection, user_id: int, token_id: int) -> bool:
    """Revoke the user's token ``token_id``; True when it was theirs and existed."""
    query = delete(api_tokens).where(api_tokens.c.id == token_id, api_tokens.c.user_id == user_id)
    return connection.execute(query).rowcount > 0
