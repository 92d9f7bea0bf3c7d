"""SQL of the digest outbox (``schema.deliveries``), for ``dailypapers.digest.outbox``.

Queueing is one ``INSERT ... SELECT`` of the confirmed subscriptions of a frequency that
skips rows already there (``UNIQUE (subscription_id, edition)``), so running it twice queues
nothing twice. Claiming reads due rows ``FOR UPDATE SKIP LOCKED`` on PostgreSQL (senders on
several machines take different rows without waiting); SQLite serialises writers
(``BEGIN IMMEDIATE``), which gives the same on one machine. Every later write checks the
owner and the ``sending`` status, so a sender that lost its lease changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Insert, Select, and_, bindparam, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite

from dailypapers.store.schema import deliveries, subscriptions

DONE = ("sent", "bounced", "failed", "empty")


@dataclass(frozen=True)
class Claimed:
    """A delivery taken for sending, with what its mail needs of the subscription."""

    id: int
    subscription_id: int
    email: str
    email_key: str
    categories: str
    attempts: int


def enqueue(connection: Connection, edition: str, frequency: str, now: datetime) -> int:
    """Queue ``edition`` for every confirmed ``frequency`` subscription not queued yet."""
    source = select(
        subscriptions.c.id,
        literal(edition),
        literal("due"),
        literal(0),
        literal(now),
        literal(now),
    ).where(  # fmt: skip
        subscriptions.c.status == "confirmed", subscriptions.c.frequency == frequency
    )
    columns = ["subscription_id", "edition", "status", "attempts", "not_before", "created_at"]
    statement: Insert
    if connection.dialect.name == "postgresql":
        statement = postgresql.insert(deliveries).from_select(columns, source)
        statement = statement.on_conflict_do_nothing()
    else:
        statement = sqlite.insert(deliveries).from_select(columns, source)
        statement = statement.on_conflict_do_nothing()
    return len(connection.execute(statement.returning(deliveries.c.id)).all())


def _claimable(edition: str, status: str) -> Select[Any]:
    return (
        select(
            deliveries.c.id,
            deliveries.c.subscription_id,
            subscriptions.c.email,
            subscriptions.c.email_key,
            subscriptions.c.categories,
            deliveries.c.attempts,
        )  # fmt: skip
        .join(subscriptions, subscriptions.c.id == deliveries.c.subscription_id)
        .where(deliveries.c.edition == edition, deliveries.c.status == status)
        .where(subscriptions.c.status == "confirmed")
    )


def claim(
    connection: Connection,
    edition: str,
    owner: str,
    *,
    now: datetime,
    lease_until: datetime,
    limit: int,
) -> list[Claimed]:
    """Take up to ``limit`` rows of ``edition`` whose sender's lease expired, then due rows,
    whose subscription is still confirmed. Call in a write transaction.

    Two queries, each walking the index on (edition, status, not_before) in its order, so a
    claim reads only the rows it takes (one query with ``status = 'due' OR status =
    'sending'`` ordered by id read and sorted every row of the edition at each claim)."""
    expired = (
        _claimable(edition, "sending")
        .where(deliveries.c.lease_until < now)
        .order_by(deliveries.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=deliveries)  # left out on SQLite
    )
    rows = list(connection.execute(expired).all())
    if len(rows) < limit:
        due = (
            _claimable(edition, "due")
            .where(deliveries.c.not_before <= now)
            .order_by(deliveries.c.not_before, deliveries.c.id)
            .limit(limit - len(rows))
            .with_for_update(skip_locked=True, of=deliveries)
        )
        rows += connection.execute(due).all()
    if not rows:
        return []
    connection.execute(
        update(deliveries)
        .where(deliveries.c.id.in_([row.id for row in rows]))
        .values(
            status="sending",
            owner=owner,
            lease_until=lease_until,
            attempts=deliveries.c.attempts + 1,
        )  # fmt: skip
    )
    return [
        Claimed(row.id, row.subscription_id, row.email, row.email_key, row.categories,
                row.attempts + 1)
        for row in rows
    ]  # fmt: skip


def _owned(delivery_id: int, owner: str) -> object:
    return and_(
        deliveries.c.id == delivery_id,
        deliveries.c.owner == owner,
        deliveries.c.status == "sending",
    )


# Built once: a digest run marks every delivery with it, one transaction each, and building
# the statement anew each time cost more than running it.
_FINISH = (
    update(deliveries)
    .where(
        deliveries.c.id == bindparam("b_id"),
        deliveries.c.owner == bindparam("b_owner"),
        deliveries.c.status == "sending",
    )
    .values(
        status=bindparam("b_status"),
        owner=None,
        lease_until=None,
        sent_at=bindparam("b_sent_at"),
        message_id=bindparam("b_message_id"),
        error=bindparam("b_error"),
    )
)


def finish(
    connection: Connection,
    delivery_id: int,
    owner: str,
    *,
    status: str,
    now: datetime,
    message_id: str | None = None,
    error: str | None = None,
) -> bool:
    """Record a delivery's end (sent, bounced, failed, empty); False if ``owner`` lost it."""
    result = connection.execute(
        _FINISH,
        {
            "b_id": delivery_id,
            "b_owner": owner,
            "b_status": status,
            "b_sent_at": now if status == "sent" else None,
            "b_message_id": message_id,
            "b_error": error[:2000] if error else None,
        },
    )
    return result.rowcount == 1


def retry_later(
    connection: Connection, delivery_id: int, owner: str, *, not_before: datetime, error: str
) -> bool:
    """Put a delivery back as due at ``not_before`` (the back-off of a temporary failure)."""
    result = connection.execute(
        update(deliveries)
        .where(_owned(delivery_id, owner))  # type: ignore[arg-type]
        .values(status="due", owner=None, lease_until=None, not_before=not_before,
                error=error[:2000])
    )  # fmt: skip
    return result.rowcount == 1


def release(connection: Connection, delivery_ids: list[int], owner: str) -> int:
    """Hand claimed rows back as due at once (the sender is stopping); the attempt is not
    counted against them."""
    result = connection.execute(
        update(deliveries)
        .where(
            deliveries.c.id.in_(delivery_ids),
            deliveries.c.owner == owner,
            deliveries.c.status == "sending",
        )
        .values(status="due", owner=None, lease_until=None, attempts=deliveries.c.attempts - 1)
    )
    return result.rowcount


def statuses(connection: Connection, edition: str) -> dict[str, int]:
    """How many deliveries of ``edition`` are in each status."""
    rows = connection.execute(
        select(deliveries.c.status, func.count())
        .where(deliveries.c.edition == edition)
        .group_by(deliveries.c.status)
    )
    return {status: count for status, count in rows}


def unsent_count(connection: Connection, edition: str, frequency: str) -> int:
    """Confirmed ``frequency`` subscriptions whose delivery of ``edition`` is not done."""
    done = select(deliveries.c.subscription_id).where(
        deliveries.c.edition == edition, deliveries.c.status.in_(DONE)
    )
    return connection.execute(
        select(func.count()).where(
            subscriptions.c.status == "confirmed",
            subscriptions.c.frequency == frequency,
            subscriptions.c.id.not_in(done),
        )
    ).scalar_one()


def next_retry(connection: Connection, edition: str) -> datetime | None:
    """When the earliest delivery of ``edition`` waiting on a back-off is due, if any."""
    earliest: datetime | None = connection.execute(
        select(func.min(deliveries.c.not_before)).where(
            deliveries.c.edition == edition, deliveries.c.status.in_(("due", "sending"))
        )
    ).scalar_one()
    return earliest


def sent_times(connection: Connection, edition: str) -> dict[str, datetime]:
    """When each sent delivery of ``edition`` was marked sent, by its Message-ID."""
    rows = connection.execute(
        select(deliveries.c.message_id, deliveries.c.sent_at).where(
            deliveries.c.edition == edition, deliveries.c.status == "sent"
        )
    )
    return {message_id: sent_at for message_id, sent_at in rows}


def subscription_of_message(connection: Connection, message_id: str) -> int | None:
    """The subscription a sent digest mail went to, by its Message-ID (a bounce report's)."""
    found: int | None = connection.execute(
        select(deliveries.c.subscription_id).where(deliveries.c.message_id == message_id).limit(1)
    ).scalar_one_or_none()
    return found
