"""SQL of saved-search alerts (``schema.alerts``) and what they found (``alert_matches``), for
``dailypapers.alerts``.

Matches are inserted with ``ON CONFLICT DO NOTHING`` on ``UNIQUE (alert_id, paper_id)``, in
the transaction that moves the alert's watermark, so a run repeated (or killed and run
again) records no paper twice. An email alert's matches are its outbox, claimed the way the
digest's deliveries are (:mod:`dailypapers.store.outbox`): due rows, or rows whose sender's
lease expired, taken a few alerts at a time (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; one
writer on SQLite); every later write checks the owner and the ``sending`` status.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import (
    Connection,
    RowMapping,
    and_,
    delete,
    distinct,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql

from dailypapers.store.documents import Document, documents_of_rows
from dailypapers.store.schema import (
    alert_matches,
    alerts,
    not_interested,
    paper_vectors,
    papers,
    users,
)

DONE = ("sent", "bounced", "failed")


def insert_alert(connection: Connection, values: Mapping[str, Any]) -> int:
    row = connection.execute(insert(alerts).values(**values).returning(alerts.c.id))
    return int(row.scalar_one())


def alert_by_id(connection: Connection, alert_id: int) -> RowMapping | None:
    return connection.execute(select(alerts).where(alerts.c.id == alert_id)).mappings().first()


def alerts_of_user(connection: Connection, user_id: int) -> list[RowMapping]:
    query = select(alerts).where(alerts.c.user_id == user_id).order_by(alerts.c.id)
    return list(connection.execute(query).mappings())


def update_alert(
    connection: Connection, alert_id: int, user_id: int, values: Mapping[str, Any]
) -> bool:
    """Change one of ``user_id``'s alerts; False when they have no such alert."""
    result = connection.execute(
        update(alerts).where(alerts.c.id == alert_id, alerts.c.user_id == user_id).values(**values)
    )
    return result.rowcount == 1


def set_vector(connection: Connection, alert_id: int, model: str, vector: bytes) -> None:
    connection.execute(
        update(alerts).where(alerts.c.id == alert_id).values(model=model, vector=vector)
    )


def delete_alert(connection: Connection, alert_id: int, user_id: int | None = None) -> bool:
    """Delete an alert (of ``user_id``, when given) and its matches."""
    query = delete(alerts).where(alerts.c.id == alert_id)
    if user_id is not None:
        query = query.where(alerts.c.user_id == user_id)
    return connection.execute(query).rowcount == 1


def runnable_alerts(connection: Connection) -> list[RowMapping]:
    """Every alert whose member is not suspended and, for email, has a confirmed address."""
    query = (
        select(alerts, users.c.email_confirmed_at, users.c.email)
        .join(users, users.c.id == alerts.c.user_id)
        .where(users.c.suspended_at.is_(None))
        .where(or_(alerts.c.channel == "feed", users.c.email_confirmed_at.is_not(None)))
        .order_by(alerts.c.id)
    )
    return list(connection.execute(query).mappings())


def owner_address(connection: Connection, alert_id: int) -> str | None:
    """The confirmed address of an alert's member (None: unconfirmed, suspended or gone)."""
    return connection.execute(
        select(users.c.email)
        .join(alerts, alerts.c.user_id == users.c.id)
        .where(alerts.c.id == alert_id, users.c.email_confirmed_at.is_not(None))
        .where(users.c.suspended_at.is_(None))
    ).scalar_one_or_none()


def new_papers(connection: Connection, after: datetime, until: datetime) -> list[Document]:
    """The papers created in ``(after, until]``, as the search index sees them."""
    rows = connection.execute(
        select(
            papers.c.arxiv_id, papers.c.title, papers.c.abstract, papers.c.feed_day.label("day"),
            papers.c.content_hash, papers.c.updated_at, papers.c.created_at,
        ).where(papers.c.created_at > after, papers.c.created_at <= until)
        .order_by(papers.c.created_at, papers.c.arxiv_id)
    ).all()  # fmt: skip
    return documents_of_rows(connection, rows)


def created_times(connection: Connection, ids: Sequence[str]) -> dict[str, datetime]:
    query = select(papers.c.arxiv_id, papers.c.created_at).where(papers.c.arxiv_id.in_(list(ids)))
    return {paper_id: created for paper_id, created in connection.execute(query)}


def vectors_of(
    connection: Connection, model: str, ids: Sequence[str]
) -> dict[str, npt.NDArray[np.float32]]:
    """The stored vectors of ``model`` among ``ids`` (papers not embedded yet are missing)."""
    query = select(paper_vectors.c.paper_id, paper_vectors.c.vector).where(
        paper_vectors.c.model == model, paper_vectors.c.paper_id.in_(list(ids))
    )
    return {pid: np.frombuffer(blob, dtype=np.float32) for pid, blob in connection.execute(query)}


def not_interested_of(connection: Connection, user_ids: Iterable[int]) -> dict[int, set[str]]:
    """The papers each member marked "not interested" (members with none are missing)."""
    query = select(not_interested.c.user_id, not_interested.c.paper_id).where(
        not_interested.c.user_id.in_(list(user_ids))
    )
    found: dict[int, set[str]] = {}
    for user_id, paper_id in connection.execute(query):
        found.setdefault(user_id, set()).add(paper_id)
    return found


def record_matches(
    connection: Connection,
    rows: Sequence[Mapping[str, Any]],
    watermarks: Mapping[int, datetime],
    now: datetime,
) -> int:
    """Insert matches (``alert_id``, ``paper_id``, ``words``, ``similarity``, ``status``) not
    recorded yet, and move each alert's watermark; how many rows were new."""
    added = 0
    if rows and connection.dialect.name == "sqlite":
        added = _insert_sqlite(connection, rows, now)
    elif rows:
        values = [
            {**row, "attempts": 0, "not_before": now, "created_at": now} for row in rows
        ]  # fmt: skip
        # psycopg's executemany says -1 rows: the inserted ids are returned and counted.
        statement = (
            postgresql.insert(alert_matches).on_conflict_do_nothing().returning(alert_matches.c.id)
        )
        for start in range(0, len(values), 5000):
            added += len(connection.execute(statement, values[start : start + 5000]).all())
    for alert_id, until in watermarks.items():
        connection.execute(
            update(alerts)
            .where(alerts.c.id == alert_id, alerts.c.checked_until < until)
            .values(checked_until=until, last_run_at=now)
        )
    return added


_INSERT_SQLITE = (
    "INSERT OR IGNORE INTO alert_matches (alert_id, paper_id, words, similarity, status, "
    "attempts, not_before, created_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?)"
)


def _insert_sqlite(connection: Connection, rows: Sequence[Mapping[str, Any]], now: datetime) -> int:
    """The driver's own executemany: a day's matches of 10,000 alerts are some 270,000 rows,
    and SQLAlchemy's per-row work made their insert take four times as long. The time is
    written as SQLAlchemy writes (and reads) SQLite datetimes."""
    stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f")
    values = [
        (row["alert_id"], row["paper_id"], row["words"], row["similarity"], row["status"],
         stamp, stamp)
        for row in rows
    ]  # fmt: skip
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
    cursor.executemany(_INSERT_SQLITE, values)
    return int(cursor.rowcount)


def set_watermarks(connection: Connection, until: datetime, now: datetime) -> int:
    """Move every alert's watermark up to ``until`` (a run that found nothing for them)."""
    result = connection.execute(
        update(alerts)
        .where(alerts.c.checked_until < until)
        .values(checked_until=until, last_run_at=now)
    )
    return result.rowcount


@dataclass(frozen=True)
class ClaimedMatch:
    """A match taken for sending, with what its mail needs."""

    id: int
    alert_id: int
    paper_id: str
    words: str
    similarity: float | None
    attempts: int


def _claimable(now: datetime) -> Any:
    return or_(
        and_(alert_matches.c.status == "due", alert_matches.c.not_before <= now),
        and_(alert_matches.c.status == "sending", alert_matches.c.lease_until < now),
    )


def claim(
    connection: Connection,
    owner: str,
    *,
    now: datetime,
    lease_until: datetime,
    alerts_limit: int,
) -> list[ClaimedMatch]:
    """Take every claimable match of up to ``alerts_limit`` alerts. In a write transaction."""
    chosen = (
        select(alert_matches.c.alert_id)
        .where(_claimable(now))
        .group_by(alert_matches.c.alert_id)
        .order_by(func.min(alert_matches.c.id))
        .limit(alerts_limit)
    )
    alert_ids = list(connection.scalars(chosen))
    if not alert_ids:
        return []
    rows = connection.execute(
        select(alert_matches)
        .where(alert_matches.c.alert_id.in_(alert_ids), _claimable(now))
        .order_by(alert_matches.c.alert_id, alert_matches.c.id)
        .with_for_update(skip_locked=True)
    ).mappings().all()  # fmt: skip
    connection.execute(
        update(alert_matches)
        .where(alert_matches.c.id.in_([row["id"] for row in rows]))
        .values(status="sending", owner=owner, lease_until=lease_until,
                attempts=alert_matches.c.attempts + 1)
    )  # fmt: skip
    return [
        ClaimedMatch(row["id"], row["alert_id"], row["paper_id"], row["words"],
                     row["similarity"], row["attempts"] + 1)
        for row in rows
    ]  # fmt: skip


def finish(
    connection: Connection,
    ids: Sequence[int],
    owner: str,
    *,
    status: str,
    now: datetime,
    message_id: str | None = None,
    error: str | None = None,
) -> int:
    """Record the end of claimed matches (sent, bounced, failed); how many ``owner`` held."""
    result = connection.execute(
        update(alert_matches)
        .where(alert_matches.c.id.in_(list(ids)), alert_matches.c.owner == owner,
               alert_matches.c.status == "sending")
        .values(status=status, owner=None, lease_until=None,
                sent_at=now if status == "sent" else None, message_id=message_id,
                error=error[:2000] if error else None)
    )  # fmt: skip
    return result.rowcount


def bounced_mails(connection: Connection, user_id: int) -> int:
    """How many alert mails to ``user_id``'s address bounced (refused with a 5xx, or reported
    back by a bounce message): distinct Message-IDs of bounced matches of their alerts."""
    query = (
        select(func.count(distinct(alert_matches.c.message_id)))
        .select_from(alert_matches.join(alerts, alerts.c.id == alert_matches.c.alert_id))
        .where(alerts.c.user_id == user_id, alert_matches.c.status == "bounced")
    )
    return int(connection.scalar(query) or 0)


def retry_later(
    connection: Connection, ids: Sequence[int], owner: str, *, not_before: datetime, error: str
) -> int:
    result = connection.execute(
        update(alert_matches)
        .where(alert_matches.c.id.in_(list(ids)), alert_matches.c.owner == owner,
               alert_matches.c.status == "sending")
        .values(status="due", owner=None, lease_until=None, not_before=not_before,
                error=error[:2000])
    )  # fmt: skip
    return result.rowcount


def release(connection: Connection, ids: Sequence[int], owner: str) -> int:
    """Hand claimed matches back as due (the sender is stopping); the attempt not counted."""
    result = connection.execute(
        update(alert_matches)
        .where(alert_matches.c.id.in_(list(ids)), alert_matches.c.owner == owner,
               alert_matches.c.status == "sending")
        .values(status="due", owner=None, lease_until=None,
                attempts=alert_matches.c.attempts - 1)
    )  # fmt: skip
    return result.rowcount


def bounce_message(connection: Connection, message_id: str) -> int:
    """Mark the matches a sent mail carried as bounced (a DSN came back); how many."""
    result = connection.execute(
        update(alert_matches)
        .where(alert_matches.c.message_id == message_id, alert_matches.c.status == "sent")
        .values(status="bounced")
    )
    return result.rowcount


def matches_of(connection: Connection, alert_id: int, *, limit: int = 50) -> list[RowMapping]:
    """An alert's newest matches with their papers (for its feed and page)."""
    query = (
        select(
            alert_matches.c.id, alert_matches.c.paper_id, alert_matches.c.words,
            alert_matches.c.similarity, alert_matches.c.status, alert_matches.c.created_at,
            papers.c.title, papers.c.abstract, papers.c.authors_json, papers.c.updated_at,
        )
        .join(papers, papers.c.arxiv_id == alert_matches.c.paper_id)
        .where(alert_matches.c.alert_id == alert_id)
        .order_by(alert_matches.c.id.desc())
        .limit(limit)
    )  # fmt: skip
    return list(connection.execute(query).mappings())


def papers_of(connection: Connection, ids: Sequence[str]) -> dict[str, RowMapping]:
    query = select(
        papers.c.arxiv_id, papers.c.title, papers.c.abstract, papers.c.authors_json
    ).where(papers.c.arxiv_id.in_(list(ids)))
    return {row["arxiv_id"]: row for row in connection.execute(query).mappings()}


def status_counts(connection: Connection, alert_id: int | None = None) -> dict[str, int]:
    query = select(alert_matches.c.status, func.count()).group_by(alert_matches.c.status)
    if alert_id is not None:
        query = query.where(alert_matches.c.alert_id == alert_id)
    return {status: count for status, count in connection.execute(query)}


def next_retry(connection: Connection) -> datetime | None:
    earliest: datetime | None = connection.execute(
        select(func.min(alert_matches.c.not_before)).where(
            alert_matches.c.status.in_(("due", "sending"))
        )
    ).scalar_one()
    return earliest
