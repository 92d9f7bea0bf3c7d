"""Rate-limit counters in the store: read a key's two windows, add a hit only while there is
room, forget expired windows. The rules and arithmetic are ``accounts.limit_rules``.

``add_hit`` is one statement on both databases: ``INSERT ... ON CONFLICT DO UPDATE SET hits =
hits + 1 WHERE hits < :room RETURNING hits``. On PostgreSQL the conflicting row is locked and
the condition checked again against the committed count, so processes racing for the last
hit cannot both get it; SQLite runs the whole write transaction alone (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import BigInteger, Connection, Integer, String, bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from dailypapers.store.driver import fetch
from dailypapers.store.schema import rate_limits


def _statements(dialect: Any) -> dict[str, Any]:
    """The two statements of a check, built once per dialect (the upsert is the dialect's
    own) and run on the driver's cursor (:mod:`.driver`): a check runs with every vote."""
    table, bucket = rate_limits, bindparam("bucket", type_=String)
    statement = dialect.insert(table).values(
        bucket=bucket,
        window_start=bindparam("window_start", type_=BigInteger),
        hits=1,
        expires_at=bindparam("expires_at", type_=BigInteger),
    )
    upsert = statement.on_conflict_do_update(
        index_elements=[table.c.bucket, table.c.window_start],
        set_={"hits": table.c.hits + 1},
        where=table.c.hits < bindparam("room", type_=Integer),
    )
    windows = [bindparam("current", type_=BigInteger), bindparam("previous", type_=BigInteger)]
    return {
        "read": select(table.c.window_start, table.c.hits).where(
            table.c.bucket == bucket, table.c.window_start.in_(windows)
        ),
        "add": upsert.returning(table.c.hits),
    }


_SQL = {"sqlite": _statements(sqlite), "postgresql": _statements(postgresql)}


def _sql(connection: Connection) -> dict[str, Any]:
    return _SQL["postgresql" if connection.dialect.name == "postgresql" else "sqlite"]


def read_hits(
    connection: Connection, keys: Iterable[tuple[str, int]]
) -> dict[tuple[str, int], int]:
    """Hits stored for each (bucket, window start) asked for; missing ones are absent.
    One indexed read per bucket (a check asks for its current and previous window)."""
    windows: dict[str, list[int]] = {}
    for bucket, start in keys:
        windows.setdefault(bucket, []).append(start)
    found: dict[tuple[str, int], int] = {}
    for bucket, starts in windows.items():
        for pair in (starts[i : i + 2] for i in range(0, len(starts), 2)):
            params = {"bucket": bucket, "current": pair[0], "previous": pair[-1]}
            for start, hits in fetch(connection, _sql(connection)["read"], params):
                if start in pair:
                    found[(bucket, start)] = hits
    return found


def add_hit(
    connection: Connection, bucket: str, window_start: int, expires_at: int, room: int
) -> int | None:
    """One more hit in the window if it holds fewer than ``room``; its new count, or None."""
    if room < 1:
        return None
    params = {"bucket": bucket, "window_start": window_start, "expires_at": expires_at}
    rows = fetch(connection, _sql(connection)["add"], {**params, "room": room})
    return int(rows[0][0]) if rows else None


def delete_expired(connection: Connection, now: int) -> int:
    """Forget windows that no longer count; how many rows went."""
    result = connection.execute(delete(rate_limits).where(rate_limits.c.expires_at < now))
    return int(result.rowcount or 0)
