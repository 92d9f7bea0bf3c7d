"""Rate-limit counters in the store: take a hit in a key's window only while its sliding
window has room, read a key's two windows, forget expired windows. The rules and arithmetic
are ``accounts.limit_rules``.

``take_hit`` is one statement on both databases, the budget of ``limit_rules.budget`` in SQL
(the previous window's hits read in it)::

    INSERT ... SELECT :bucket, :start, :n, :expires WHERE :n <= :limit - previous * :weight + e
    ON CONFLICT DO UPDATE SET hits = hits + :n WHERE hits + :n <= :limit - previous * :weight + e

(``n`` hits at once, all or none: one, or a process's lease of several, see
``accounts.limits.Leases``; ``floor(x) >= hits + n`` is ``hits + n <= x`` for whole numbers,
so no ``floor`` is needed, and the same doubles are added in the same order as in Python.)
Whether the hits were taken is the driver's row count (1: inserted or updated; 0: no room),
not a ``RETURNING`` clause: SQLite runs one as a trigger program, which cost about a third
of the statement. On PostgreSQL the conflicting row is locked and the condition checked
again against the committed count, so processes racing for the last hit cannot both get
it; SQLite runs the whole write transaction alone (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    BigInteger,
    Connection,
    Float,
    Integer,
    String,
    bindparam,
    delete,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite

from dailypapers.store.driver import changed, fetch, on_sqlite, sqlite_driver
from dailypapers.store.schema import rate_limits


def _statements(dialect: Any) -> dict[str, Any]:
    """The statements of a check, built once per dialect (the upsert is the dialect's own)
    and run on the driver's cursor (:mod:`.driver`): a check runs with every vote."""
    table, bucket = rate_limits, bindparam("bucket", type_=String)
    windows = [bindparam("current", type_=BigInteger), bindparam("previous", type_=BigInteger)]
    return {
        "read": select(table.c.window_start, table.c.hits).where(
            table.c.bucket == bucket, table.c.window_start.in_(windows)
        ),
        "take": _take(dialect, bucket),
    }


def _take(dialect: Any, bucket: Any) -> Any:
    """The statement of :func:`take_hit`."""
    table, before = rate_limits, rate_limits.alias("before")
    previous = func.coalesce(
        select(before.c.hits)
        .where(before.c.bucket == bucket, before.c.window_start == bindparam("previous"))
        .scalar_subquery(),
        0,
    )
    # limit_rules.budget's floor(limit - previous x weight + epsilon), as "one more fits".
    room = (
        bindparam("limit", type_=Integer) - previous * bindparam("weight", type_=Float)
        + bindparam("epsilon", type_=Float)
    )  # fmt: skip
    start = bindparam("window_start", type_=BigInteger)
    expires = bindparam("expires_at", type_=BigInteger)
    count = bindparam("count", type_=Integer)
    first = select(bucket, start, count, expires).where(count <= room)
    columns = ["bucket", "window_start", "hits", "expires_at"]
    return (
        dialect.insert(table)
        .from_select(columns, first)
        .on_conflict_do_update(
            index_elements=[table.c.bucket, table.c.window_start],
            set_={"hits": table.c.hits + count},
            where=table.c.hits + count <= room,
        )
    )


_SQL = {"sqlite": _statements(sqlite), "postgresql": _statements(postgresql)}
# take_hit's statement for SQLite's driver connection (its values are numbers and text,
# which the driver takes as they are: nothing to convert, as fetch would for a date).
_TAKE_ON_SQLITE = on_sqlite(_SQL["sqlite"]["take"], sqlite.dialect())


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


def take_hit(
    connection: Connection,
    bucket: str,
    window_start: int,
    expires_at: int,
    *,
    limit: int,
    previous: int,
    weight: float,
    epsilon: float,
    count: int = 1,
) -> bool:
    """``count`` more hits in the window starting at ``window_start`` if the sliding window
    has room for them all (``limit`` less the hits of the window starting at ``previous``,
    times ``weight``, plus ``epsilon`` against float rounding): whether they were counted
    (all or none). One statement."""
    params = {
        "bucket": bucket, "window_start": window_start, "expires_at": expires_at,
        "limit": limit, "previous": previous, "weight": weight, "epsilon": epsilon,
        "count": count,
    }  # fmt: skip
    if connection.dialect.name == "sqlite":  # on the driver's connection (votes check it)
        return int(_TAKE_ON_SQLITE.run(sqlite_driver(connection), params).rowcount) == 1
    return changed(connection, _sql(connection)["take"], params) == 1


def delete_expired(connection: Connection, now: int) -> int:
    """Forget windows that no longer count; how many rows went."""
    result = connection.execute(delete(rate_limits).where(rate_limits.c.expires_at < now))
    return int(result.rowcount or 0)
