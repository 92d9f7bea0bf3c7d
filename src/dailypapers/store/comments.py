"""Comments in SQL: the rows of ``comments`` and ``comment_versions``, and each paper's
``local_comments`` kept beside them.

``local_comments`` counts the comments readers see: not deleted, not hidden, written by an
account that still exists and is not suspended. Every write that can change that set
recounts its paper in the same transaction (:func:`recount`: one indexed count per paper),
so the count is exact however many members write at once. Every write also moves the
community's clock (``vote_clock``, read by :func:`dailypapers.store.votes.vote_stamp`), so
cached pages showing a thread or a count are dropped (:func:`dailypapers.feed.reader.
change_stamp`).

Every function takes a connection of ``Store.write`` (writes) or ``Store.read`` (reads);
:mod:`dailypapers.discussion.comments` holds the rules around them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, and_, bindparam, func, select, update

from dailypapers.store.batches import chunks
from dailypapers.store.driver import fetch, moment
from dailypapers.store.schema import comment_versions, comments, papers, users, vote_clock

# The columns a reader of a thread needs: the comment and its author's name and state.
_COLUMNS = (
    comments,
    users.c.username.label("author_username"),
    users.c.fullname.label("author_fullname"),
    users.c.suspended_at.label("author_suspended_at"),
)
_WITH_AUTHOR = comments.outerjoin(users, users.c.id == comments.c.user_id)


def _visible_count(paper_id: Any) -> Any:
    """How many of ``paper_id``'s comments readers see, as a correlated subquery."""
    return (
        select(func.count())
        .select_from(comments.join(users, users.c.id == comments.c.user_id))
        .where(
            comments.c.paper_id == paper_id,
            comments.c.deleted_at.is_(None),
            comments.c.hidden_at.is_(None),
            users.c.suspended_at.is_(None),
        )
        .scalar_subquery()
    )


# Statements built once (the comment POST is a hot write): bound parameters, not literals.
_TICK = update(vote_clock).where(vote_clock.c.id == 1).values(changes=vote_clock.c.changes + 1)
_RECOUNT = (
    update(papers)
    .where(papers.c.arxiv_id == bindparam("paper"))
    .values(local_comments=_visible_count(papers.c.arxiv_id))
)
_EXISTS = select(papers.c.arxiv_id).where(papers.c.arxiv_id == bindparam("paper"))
_INSERT = comments.insert().returning(comments.c.id)
_BY_ID = select(*_COLUMNS).select_from(_WITH_AUTHOR).where(comments.c.id == bindparam("id"))


def tick(connection: Connection) -> None:
    """The discussion changed: move the clock the cache's change stamp reads."""
    connection.execute(_TICK)


def recount(connection: Connection, paper_ids: Sequence[str]) -> None:
    """Set ``local_comments`` of each of ``paper_ids`` from its visible comments; tick."""
    ids = sorted(set(paper_ids))
    if ids:
        connection.execute(_RECOUNT, [{"paper": paper} for paper in ids])
        tick(connection)


def paper_exists(connection: Connection, paper_id: str) -> bool:
    return connection.scalar(_EXISTS, {"paper": paper_id}) is not None


def insert_comment(
    connection: Connection,
    *,
    paper_id: str,
    user_id: int,
    parent_id: int | None,
    body: str,
    html: str,
    now: datetime,
) -> int:
    """Add a comment (its paper recounted); its id."""
    row = {
        "paper_id": paper_id,
        "user_id": user_id,
        "parent_id": parent_id,
        "body": body,
        "html": html,
        "created_at": now,
    }
    new_id = int(connection.execute(_INSERT, row).scalar_one())
    recount(connection, [paper_id])
    return new_id


def comment_by_id(connection: Connection, comment_id: int) -> RowMapping | None:
    """One comment with its author's columns (``author_*``), or None."""
    return connection.execute(_BY_ID, {"id": comment_id}).mappings().one_or_none()


# A thread as the page reads it, on the driver's cursor (store.driver): the columns of
# :data:`THREAD_COLUMNS`, in that order.
THREAD_COLUMNS = (
    "id", "paper_id", "parent_id", "user_id", "author_username", "author_fullname", "body",
    "html", "created_at", "edited_at", "deleted_at", "hidden_at", "hidden_reason",
    "author_suspended_at",
)  # fmt: skip
_THREAD = (
    select(
        comments.c.id,
        comments.c.paper_id,
        comments.c.parent_id,
        comments.c.user_id,
        users.c.username,
        users.c.fullname,
        comments.c.body,
        comments.c.html,
        comments.c.created_at,
        comments.c.edited_at,
        comments.c.deleted_at,
        comments.c.hidden_at,
        comments.c.hidden_reason,
        users.c.suspended_at,
    )  # fmt: skip
    .select_from(_WITH_AUTHOR)
    .where(comments.c.paper_id == bindparam("paper"))
    .order_by(comments.c.created_at, comments.c.id)
)
_TIMES = (8, 9, 10, 11, 13)  # the time columns of a thread row


def thread_rows(connection: Connection, paper_id: str) -> list[dict[str, Any]]:
    """Every comment of ``paper_id`` (deleted and hidden ones too), oldest first, as dicts
    of :data:`THREAD_COLUMNS` (one query on the driver's cursor: the paper page reads it)."""
    rows = []
    for found in fetch(connection, _THREAD, {"paper": paper_id}):
        row = list(found)
        for index in _TIMES:
            row[index] = moment(row[index])
        rows.append(dict(zip(THREAD_COLUMNS, row, strict=True)))
    return rows


def update_body(
    connection: Connection, comment_id: int, *, body: str, html: str, now: datetime
) -> bool:
    """Replace a live comment's text, keeping the text before it in ``comment_versions``
    (written at its last edit or creation); False if there is no such live comment."""
    old = connection.execute(
        select(comments.c.body, comments.c.created_at, comments.c.edited_at).where(
            comments.c.id == comment_id, comments.c.deleted_at.is_(None)
        )
    ).one_or_none()
    if old is None:
        return False
    written_at = old.edited_at or old.created_at
    connection.execute(
        comment_versions.insert().values(
            comment_id=comment_id, body=old.body, written_at=written_at
        )
    )
    connection.execute(
        update(comments)
        .where(comments.c.id == comment_id)
        .values(body=body, html=html, edited_at=now)
    )
    tick(connection)
    return True


def mark_deleted(connection: Connection, comment_id: int, now: datetime) -> str | None:
    """Delete a comment, keeping its row as a placeholder (text and earlier versions gone);
    its paper's id (recounted), or None if there was no live comment."""
    paper_id = connection.scalar(
        update(comments)
        .where(comments.c.id == comment_id, comments.c.deleted_at.is_(None))
        .values(body="", html="", deleted_at=now)
        .returning(comments.c.paper_id)
    )
    if paper_id is None:
        return None
    connection.execute(comment_versions.delete().where(comment_versions.c.comment_id == comment_id))
    recount(connection, [paper_id])
    return str(paper_id)


def set_hidden(
    connection: Connection,
    comment_id: int,
    *,
    hidden_at: datetime | None,
    reason: str | None,
    by: int | None,
) -> str | None:
    """Hide a comment (``hidden_at`` set, with ``reason`` and moderator ``by``) or show it
    again (``hidden_at`` None); its paper's id (recounted), or None if there is none."""
    paper_id = connection.scalar(
        update(comments)
        .where(comments.c.id == comment_id)
        .values(hidden_at=hidden_at, hidden_reason=reason, hidden_by=by)
        .returning(comments.c.paper_id)
    )
    if paper_id is None:
        return None
    recount(connection, [paper_id])
    return str(paper_id)


def versions_of(connection: Connection, comment_id: int) -> list[RowMapping]:
    """A comment's earlier texts (``body``, ``written_at``), oldest first."""
    query = (
        select(comment_versions.c.body, comment_versions.c.written_at)
        .where(comment_versions.c.comment_id == comment_id)
        .order_by(comment_versions.c.id)
    )
    return list(connection.execute(query).mappings())


def papers_commented_by(connection: Connection, user_id: int) -> list[str]:
    """The papers ``user_id`` has comments on (to recount after a suspension)."""
    query = select(comments.c.paper_id).where(comments.c.user_id == user_id).distinct()
    return list(connection.scalars(query))


def comments_of_user(connection: Connection, user_id: int) -> list[RowMapping]:
    """Every comment of ``user_id`` that is not deleted, oldest first (their export)."""
    query = (
        select(comments)
        .where(comments.c.user_id == user_id, comments.c.deleted_at.is_(None))
        .order_by(comments.c.created_at, comments.c.id)
    )
    return list(connection.execute(query).mappings())


def forget_user(connection: Connection, user_id: int, now: datetime) -> int:
    """Before ``user_id``'s account is deleted: each of their comments becomes a
    placeholder (text, rendering and earlier versions gone; replies stay). How many."""
    mine = and_(comments.c.user_id == user_id, comments.c.deleted_at.is_(None))
    ids = list(connection.scalars(select(comments.c.id).where(mine)))
    paper_ids = papers_commented_by(connection, user_id)
    connection.execute(update(comments).where(mine).values(body="", html="", deleted_at=now))
    for chunk in chunks(ids):
        connection.execute(
            comment_versions.delete().where(comment_versions.c.comment_id.in_(list(chunk)))
        )
    recount(connection, paper_ids)
    return len(ids)


def count_comments_since(connection: Connection, user_id: int, since: datetime) -> int:
    """How many comments ``user_id`` wrote at or after ``since`` (deleted ones too)."""
    query = select(func.count()).where(
        comments.c.user_id == user_id, comments.c.created_at >= since
    )
    return int(connection.scalar(query) or 0)


def existing_usernames(connection: Connection, names: Sequence[str]) -> dict[str, int]:
    """Which of ``names`` (any case) are accounts: their lower-cased name -> user id."""
    keys = sorted({name.casefold() for name in names})
    if not keys:
        return {}
    query = select(users.c.username_key, users.c.id).where(users.c.username_key.in_(keys))
    return {str(key): int(user_id) for key, user_id in connection.execute(query)}
