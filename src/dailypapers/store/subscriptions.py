"""SQL of email digest subscriptions (``schema.subscriptions``), for ``dailypapers.digest``.

One row per address, found by its casefolded key. Rows are plain dicts of the table's
columns (``Subscription`` in ``digest`` reads them).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, delete, func, insert, select, update

from dailypapers.store.schema import subscriptions


def subscription_by_key(connection: Connection, email_key: str) -> RowMapping | None:
    return (
        connection.execute(select(subscriptions).where(subscriptions.c.email_key == email_key))
        .mappings()
        .first()
    )


def subscription_by_id(connection: Connection, subscription_id: int) -> RowMapping | None:
    return (
        connection.execute(select(subscriptions).where(subscriptions.c.id == subscription_id))
        .mappings()
        .first()
    )


def insert_subscription(connection: Connection, values: Mapping[str, Any]) -> int:
    """A new row (the caller checked the address has none); its id."""
    row = connection.execute(insert(subscriptions).values(**values).returning(subscriptions.c.id))
    return int(row.scalar_one())


def update_subscription(
    connection: Connection, subscription_id: int, values: Mapping[str, Any]
) -> bool:
    result = connection.execute(
        update(subscriptions).where(subscriptions.c.id == subscription_id).values(**values)
    )
    return result.rowcount == 1


def delete_subscription(connection: Connection, subscription_id: int) -> bool:
    result = connection.execute(delete(subscriptions).where(subscriptions.c.id == subscription_id))
    return result.rowcount == 1


def delete_pending_before(connection: Connection, before: datetime) -> int:
    """Forget unconfirmed subscriptions made before ``before``; how many were deleted."""
    result = connection.execute(
        delete(subscriptions).where(
            subscriptions.c.status == "pending", subscriptions.c.created_at < before
        )
    )
    return result.rowcount


def list_subscriptions(
    connection: Connection, *, statuses: Sequence[str] | None = None
) -> list[RowMapping]:
    """Every subscription (of ``statuses`` if given), oldest first."""
    query = select(subscriptions).order_by(subscriptions.c.id)
    if statuses is not None:
        query = query.where(subscriptions.c.status.in_(statuses))
    return list(connection.execute(query).mappings())


def count_by_status(connection: Connection) -> dict[str, int]:
    rows = connection.execute(
        select(subscriptions.c.status, func.count()).group_by(subscriptions.c.status)
    )
    return {status: count for status, count in rows}


def add_bounce(connection: Connection, subscription_id: int, stop_at: int) -> int:
    """Count a permanent failure; at ``stop_at`` bounces the subscription stops (status
    bounced). The new count."""
    connection.execute(
        update(subscriptions)
        .where(subscriptions.c.id == subscription_id)
        .values(bounces=subscriptions.c.bounces + 1)
    )
    count = connection.execute(
        select(subscriptions.c.bounces).where(subscriptions.c.id == subscription_id)
    ).scalar_one_or_none()
    if count is not None and count >= stop_at:
        update_subscription(connection, subscription_id, {"status": "bounced"})
    return int(count or 0)
