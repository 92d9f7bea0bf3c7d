"""Notifications in SQL: who to tell about a comment, the member's list and unread count,
marking read, and the per-kind email choices.

The rules (which kinds, never to yourself) are in :mod:`dailypapers.discussion.notifications`.
The unread count is read on every signed-in page, so it is one range of the
``(user_id, read_at)`` index, run on the driver's cursor (:func:`~dailypapers.store.driver.
fetch`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, bindparam, func, insert, select, update

from dailypapers.store.driver import fetch
from dailypapers.store.schema import (
    claims,
    comments,
    notification_clock,
    notification_prefs,
    notifications,
    paper_submissions,
    papers,
    users,
)

_UNREAD = select(func.count()).where(
    notifications.c.user_id == bindparam("user_id"), notifications.c.read_at.is_(None)
)


def unread_count(connection: Connection, user_id: int) -> int:
    rows = fetch(connection, _UNREAD, {"user_id": user_id})
    return int(rows[0][0]) if rows else 0


_CLOCK = select(notification_clock.c.changes).where(notification_clock.c.id == 1)


def clock(connection: Connection) -> int:
    """The notifications' clock: it moves with every change of an unread count."""
    rows = fetch(connection, _CLOCK, {})
    return int(rows[0][0]) if rows else 0


def tick(connection: Connection) -> None:
    connection.execute(
        update(notification_clock)
        .where(notification_clock.c.id == 1)
        .values(changes=notification_clock.c.changes + 1)
    )


def insert_notifications(connection: Connection, rows: Iterable[Mapping[str, Any]]) -> int:
    """Rows with ``user_id``, ``kind``, ``actor_id``, ``comment_id``, ``paper_id``,
    ``created_at``; how many were written."""
    listed = list(rows)
    if listed:
        connection.execute(insert(notifications), listed)
        tick(connection)
    return len(listed)


def notifications_of(
    connection: Connection, user_id: int, *, limit: int, offset: int
) -> list[RowMapping]:
    """The member's notifications, newest first, with the actor's user name (``actor``), the
    paper's title and the comment's text (``body``; empty once deleted)."""
    query = (
        select(
            notifications,
            users.c.username.label("actor"),
            papers.c.title,
            comments.c.body,
            comments.c.deleted_at,
            comments.c.hidden_at,
        )
        .outerjoin(users, users.c.id == notifications.c.actor_id)
        .join(papers, papers.c.arxiv_id == notifications.c.paper_id)
        .outerjoin(comments, comments.c.id == notifications.c.comment_id)
        .where(notifications.c.user_id == user_id)
        .order_by(notifications.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return list(connection.execute(query).mappings())


def count_of(connection: Connection, user_id: int) -> int:
    query = select(func.count()).where(notifications.c.user_id == user_id)
    return connection.scalar(query) or 0


def mark_read(
    connection: Connection, user_id: int, now: datetime, notification_id: int | None = None
) -> int:
    """Mark one of the member's notifications read (or all of them); how many changed."""
    query = update(notifications).where(
        notifications.c.user_id == user_id, notifications.c.read_at.is_(None)
    )
    if notification_id is not None:
        query = query.where(notifications.c.id == notification_id)
    changed = connection.execute(query.values(read_at=now)).rowcount
    if changed:
        tick(connection)
    return changed


def mark_comment_read(connection: Connection, comment_id: int, now: datetime) -> int:
    """Mark every notification of a comment read (it was hidden); how many changed."""
    query = update(notifications).where(
        notifications.c.comment_id == comment_id, notifications.c.read_at.is_(None)
    )
    changed = connection.execute(query.values(read_at=now)).rowcount
    if changed:
        tick(connection)
    return changed


def comment_author(connection: Connection, comment_id: int) -> int | None:
    """The user id of the comment's author (None: deleted account or no such comment)."""
    return connection.scalar(select(comments.c.user_id).where(comments.c.id == comment_id))


def notified_about(connection: Connection, comment_id: int) -> set[int]:
    """The members told about the comment already."""
    query = select(notifications.c.user_id).where(notifications.c.comment_id == comment_id)
    return {row[0] for row in connection.execute(query)}


def people_of_paper(connection: Connection, paper_id: str) -> list[int]:
    """Who the paper belongs to: its submitter and its confirmed (approved) authors."""
    submitter = select(paper_submissions.c.user_id).where(paper_submissions.c.paper_id == paper_id)
    authors = select(claims.c.user_id).where(
        claims.c.paper_id == paper_id, claims.c.status == "approved"
    )
    found = [row[0] for row in connection.execute(submitter.union(authors))]
    return list(dict.fromkeys(found))


def prefs_of(connection: Connection, user_id: int) -> dict[str, bool]:
    """The kinds the member chose for (kind -> email on); kinds not chosen are absent."""
    query = select(notification_prefs.c.kind, notification_prefs.c.email).where(
        notification_prefs.c.user_id == user_id
    )
    return {kind: bool(email) for kind, email in connection.execute(query)}


def set_prefs(connection: Connection, user_id: int, choices: Mapping[str, bool]) -> None:
    """Replace the member's choices with ``choices`` (kind -> email on)."""
    connection.execute(notification_prefs.delete().where(notification_prefs.c.user_id == user_id))
    rows = [{"user_id": user_id, "kind": k, "email": v} for k, v in choices.items()]
    if rows:
        connection.execute(insert(notification_prefs), rows)
