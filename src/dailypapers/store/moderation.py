"""Moderation in SQL: members' reports of comments and the audit log (hiding a comment is
the comments' own write, :func:`dailypapers.store.comments.set_hidden`).

The rules (who may, what is recorded) are in :mod:`dailypapers.discussion.moderation`; every
function here runs in the caller's transaction, so an action, its effect on the paper's
comment count and its audit entry commit together.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, func, insert, select, update
from sqlalchemy.orm import aliased

from dailypapers.store.schema import audit_log, comment_reports, comments, papers, users


def insert_audit(connection: Connection, **entry: Any) -> int:
    """One audit entry: ``actor_id``, ``actor_name``, ``action``, ``target_type``,
    ``target_id``, ``target_label``, ``reason``, ``created_at``."""
    key = connection.execute(insert(audit_log).values(entry)).inserted_primary_key
    assert key is not None
    return int(key[0])


def audit_entries(connection: Connection, *, limit: int, offset: int) -> list[RowMapping]:
    """The newest entries first (by id: the order they were written in)."""
    query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit).offset(offset)
    return list(connection.execute(query).mappings())


def audit_count(connection: Connection) -> int:
    return connection.scalar(select(func.count()).select_from(audit_log)) or 0


def open_report_of(connection: Connection, comment_id: int, user_id: int) -> int | None:
    """The member's open report of the comment, if any."""
    query = select(comment_reports.c.id).where(
        comment_reports.c.comment_id == comment_id,
        comment_reports.c.user_id == user_id,
        comment_reports.c.resolved_at.is_(None),
    )
    return connection.scalar(query)


def insert_report(
    connection: Connection, comment_id: int, user_id: int, reason: str, now: datetime
) -> int:
    values = {"comment_id": comment_id, "user_id": user_id, "reason": reason, "created_at": now}
    key = connection.execute(insert(comment_reports).values(values)).inserted_primary_key
    assert key is not None
    return int(key[0])


def report_by_id(connection: Connection, report_id: int) -> RowMapping | None:
    query = select(comment_reports).where(comment_reports.c.id == report_id)
    return connection.execute(query).mappings().first()


_REPORTER = aliased(users, name="reporter")
_AUTHOR = aliased(users, name="author")


def open_reports(connection: Connection, *, limit: int, offset: int) -> list[RowMapping]:
    """Open reports, oldest first, each with its comment (``body``, ``paper_id``,
    ``hidden_at``), the reporter's and the author's user names and the paper's title."""
    query = (
        select(
            comment_reports,
            comments.c.body,
            comments.c.paper_id,
            comments.c.hidden_at,
            comments.c.user_id.label("author_id"),
            _REPORTER.c.username.label("reporter"),
            _AUTHOR.c.username.label("author"),
            papers.c.title,
        )
        .join(comments, comments.c.id == comment_reports.c.comment_id)
        .join(_REPORTER, _REPORTER.c.id == comment_reports.c.user_id)
        .outerjoin(_AUTHOR, _AUTHOR.c.id == comments.c.user_id)
        .join(papers, papers.c.arxiv_id == comments.c.paper_id)
        .where(comment_reports.c.resolved_at.is_(None))
        .order_by(comment_reports.c.created_at, comment_reports.c.id)
        .limit(limit)
        .offset(offset)
    )
    return list(connection.execute(query).mappings())


def open_report_count(connection: Connection) -> int:
    query = select(func.count()).where(comment_reports.c.resolved_at.is_(None))
    return connection.scalar(query) or 0


def resolve_reports(
    connection: Connection,
    *,
    resolution: str,
    by: int,
    now: datetime,
    comment_id: int | None = None,
    report_id: int | None = None,
) -> int:
    """Close the open reports of a comment (or one report); how many were open."""
    query = update(comment_reports).where(comment_reports.c.resolved_at.is_(None))
    if comment_id is not None:
        query = query.where(comment_reports.c.comment_id == comment_id)
    if report_id is not None:
        query = query.where(comment_reports.c.id == report_id)
    values = {"resolved_at": now, "resolved_by": by, "resolution": resolution}
    return connection.execute(query.values(values)).rowcount


def suspended_users(connection: Connection, limit: int = 200) -> list[RowMapping]:
    """The suspended accounts (``username``, ``suspended_at``), most recently first."""
    query = (
        select(users.c.username, users.c.suspended_at)
        .where(users.c.suspended_at.is_not(None))
        .order_by(users.c.suspended_at.desc())
        .limit(limit)
    )
    return list(connection.execute(query).mappings())
