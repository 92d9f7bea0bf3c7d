"""Rate-limit counters in the store: read a key's two windows, add a hit only while there is
room, forget expired windows. The rules and arithmetic are ``accounts.limit_rules``.

``add_hit`` is one statement on both databases: ``INSERT ... ON CONFLICT DO UPDATE SET hits =
hits + 1 WHERE hits < :room RETURNING hits``. On PostgreSQL the conflicting row is locked and
the condition checked again against the committed count, so processes racing for the last
hit cannot both get it; SQLite runs the whole write transaction alone (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, delete, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite

from dailypapers.store.schema import rate_limits


def read_hits(
    connection: Connection, keys: Iterable[tuple[str, int]]
) -> dict[tuple[str, int], int]:
    """Hits stored for each (bucket, window start) asked for; missing ones are absent."""
    wanted = list(keys)
    if not wanted:
        return {}
    table = rate_limits
    query = select(table.c.bucket, table.c.window_start, table.c.hits).where(
        tuple_(table.c.bucket, table.c.window_start).in_(wanted)
    )
    return {(bucket, start): hits for bucket, start, hits in connection.execute(query)}


def add_hit(
    connection: Connection, bucket: str, window_start: int, expires_at: int, room: int
) -> int | None:
    """One more hit in the window if it holds fewer than ``room``; its new count, or None."""
    if room < 1:
        return None
    table = rate_limits
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    statement = insert(table).values(
        bucket=bucket, window_start=window_start, hits=1, expires_at=expires_at
    )
    upsert = statement.on_conflict_do_update(
        index_elements=[table.c.bucket, table.c.window_start],
        set_={"hits": table.c.hits + 1},
        where=table.c.hits < room,
    )
    hits = connection.execute(upsert.returning(table.c.hits)).scalar()
    return None if hits is None else int(hits)


def delete_expired(connection: Connection, now: int) -> int:
    """Forget windows that no longer count; how many rows went."""
    result = connection.execute(delete(rate_limits).where(rate_limits.c.expires_at < now))
    return int(result.rowcount or 0)
