"""Comments on paper pages: post, reply, edit, delete, read a thread; the rules around the
SQL of :mod:`dailypapers.store.comments`.

::

    comment = post_comment(store, settings, user, "2501.01234", "Nice: $O(n)$ @ada")
    reply = post_comment(store, settings, other, "2501.01234", "Thanks", parent_id=comment.id)
    edit_comment(store, settings, user, comment.id, "Nice: $O(n \\log n)$")
    delete_comment(store, user, comment.id)        # a placeholder keeps the reply in place
    thread(store, "2501.01234")                     # top comments, each with its replies

Who may write: a signed-in member with a confirmed email, not suspended. Replies go one
level deep (a reply names a top comment of the same paper). The author edits and deletes;
moderators do too. Each write renders the Markdown once (:func:`~.render.render_comment`)
and keeps the paper's ``local_comments`` in the same transaction. New accounts (younger than
``COMMENT_NEW_ACCOUNT_DAYS``) have a stricter rate limit and at most
``COMMENT_NEW_ACCOUNT_LINKS`` links per comment. A suspended member's comments are hidden by
the read (:func:`thread`) and uncounted (:func:`suspension_changed`).

Listeners (:func:`add_listener`) hear of each new or edited comment after its commit, with
the ids of the members it mentions: notifications hang off that.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Connection, RowMapping

from dailypapers.accounts.limit_rules import parse_limits
from dailypapers.accounts.limits import RateLimiter
from dailypapers.accounts.models import User
from dailypapers.discussion.render import mentioned_names, render_comment
from dailypapers.settings import Settings
from dailypapers.store import Store
from dailypapers.store import comments as sql
from dailypapers.store import moderation as audit_rows
from dailypapers.store.batches import utc_now
from dailypapers.store.votes import WriterBusy, write_at_once

log = logging.getLogger(__name__)

__all__ = [
    "Comment",
    "CommentError",
    "CommentEvent",
    "NotAllowed",
    "UnknownComment",
    "UnknownPaper",
    "WriterBusy",
    "Version",
    "add_listener",
    "announce",
    "comment_by_id",
    "comment_versions",
    "count_links",
    "delete_comment",
    "edit_comment",
    "forget_user_comments",
    "mentioned_user_ids",
    "paper_exists",
    "post_comment",
    "set_hidden",
    "suspension_changed",
    "thread",
    "user_comments",
    "is_new_account",
]

MAX_DEPTH = 1  # replies to top comments only: a thread is one level deep


class CommentError(ValueError):
    """A comment the rules refuse; the message is meant for the person. ``status`` is the
    HTTP status the web layer answers with, ``field`` the form field at fault."""

    status = 400

    def __init__(self, message: str, *, field: str | None = "text") -> None:
        super().__init__(message)
        self.field = field


class UnknownPaper(CommentError):
    status = 404


class UnknownComment(CommentError):
    status = 404


class NotAllowed(CommentError):
    status = 403


@dataclass(frozen=True, slots=True)
class Comment:
    """A comment as readers get it. ``body``/``html`` are empty when it is deleted or (for
    readers other than moderators) hidden; ``hidden`` covers a suspended author too."""

    id: int
    paper_id: str
    parent_id: int | None
    user_id: int | None
    author_username: str | None
    author_fullname: str | None
    body: str
    html: str
    created_at: datetime
    edited_at: datetime | None
    deleted: bool
    hidden: bool
    hidden_reason: str | None = None
    replies: tuple[Comment, ...] = field(default=(), compare=False)

    @property
    def edited(self) -> bool:
        return self.edited_at is not None

    @property
    def visible(self) -> bool:
        return not self.deleted and not self.hidden

    @classmethod
    def from_row(cls, row: RowMapping | dict[str, Any]) -> Comment:
        return cls(
            id=row["id"],
            paper_id=row["paper_id"],
            parent_id=row["parent_id"],
            user_id=row["user_id"],
            author_username=row["author_username"],
            author_fullname=row["author_fullname"],
            body=row["body"],
            html=row["html"],
            created_at=row["created_at"],
            edited_at=row["edited_at"],
            deleted=row["deleted_at"] is not None or row["user_id"] is None,
            hidden=row["hidden_at"] is not None or row["author_suspended_at"] is not None,
            hidden_reason=row["hidden_reason"],
        )


@dataclass(frozen=True, slots=True)
class Version:
    """An earlier text of a comment, as written at ``written_at``."""

    body: str
    written_at: datetime


@dataclass(frozen=True, slots=True)
class CommentEvent:
    """What listeners hear: ``kind`` "posted" or "edited", the comment as it is now, the
    members it mentions (not its author), and who wrote the change."""

    kind: Literal["posted", "edited"]
    comment: Comment
    mentioned_user_ids: tuple[int, ...]
    actor: User


_LISTENERS: list[Callable[[Store, CommentEvent], None]] = []


def add_listener(listener: Callable[[Store, CommentEvent], None]) -> None:
    """Call ``listener(store, event)`` after each comment posted or edited (committed). A
    listener's error is logged, never undoes or refuses the comment."""
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)


def announce(store: Store, event: CommentEvent) -> None:
    """Tell the listeners of ``event`` (what :func:`post_comment` does unless given
    ``defer``)."""
    _announce(store, event)


def _announce(store: Store, event: CommentEvent) -> None:
    for listener in list(_LISTENERS):
        try:
            listener(store, event)
        except Exception:
            log.exception("comment listener %r failed", listener)


# Links a comment holds: Markdown links/images, autolinks and bare addresses alike.
_LINK = re.compile(r"\]\s*\(|<[a-zA-Z][a-zA-Z0-9+.-]*:|https?://|www\.", re.IGNORECASE)


def count_links(text: str) -> int:
    """How many links (or images) ``text`` holds, as the new-account rule counts them."""
    return len(_LINK.findall(text))


def _check_author(user: User) -> None:
    if user.suspended:
        raise NotAllowed("your account is suspended", field=None)
    if not user.confirmed:
        raise NotAllowed("confirm your email address before you comment", field=None)


def is_new_account(user: User, settings: Settings, now: datetime | None = None) -> bool:
    """Whether ``user`` is new (younger than ``COMMENT_NEW_ACCOUNT_DAYS``) for the limits."""
    return _is_new(user, settings, now or utc_now())


def _is_new(user: User, settings: Settings, now: datetime) -> bool:
    days = settings.comment_new_account_days
    return days > 0 and user.created_at > now - timedelta(days=days)


def _clean_text(text: str, settings: Settings) -> str:
    text = text.replace("\r\n", "\n").replace("\x00", "").strip()
    if not text:
        raise CommentError("write something first: the comment is empty")
    if len(text) > settings.comment_max_chars:
        raise CommentError(
            f"a comment holds at most {settings.comment_max_chars:,} characters "
            f"(this one has {len(text):,})"
        )
    return text


def _check_links(user: User, settings: Settings, text: str, now: datetime) -> None:
    allowed = settings.comment_new_account_links
    if _is_new(user, settings, now) and count_links(text) > allowed:
        days = settings.comment_new_account_days
        raise CommentError(
            f"new accounts (younger than {days} days) may put at most {allowed} "
            f"link{'s' if allowed != 1 else ''} in a comment"
        )


def _check_new_rate(
    limiter: RateLimiter | None, user: User, settings: Settings, now: datetime
) -> None:
    """Count a new account's comment against ``LIMIT_COMMENT_NEW`` (raises ``RateLimited``):
    before the comment's own transaction, as the limiter writes in one of its own."""
    if limiter is None or not _is_new(user, settings, now):
        return
    for limit in parse_limits(settings.limit_comment_new):
        if limit.scope == "account":
            limiter.check(
                "comment-new:account", str(user.id), limit=limit.count, per_seconds=limit.seconds
            )


def _render(connection: Connection, text: str) -> tuple[str, tuple[int, ...]]:
    """The comment's HTML, with mentions of existing members linked, and their ids."""
    names = mentioned_names(text) if "@" in text else []
    members = sql.existing_usernames(connection, names)
    return render_comment(text, members.keys()), tuple(members.values())


def _parent_of(connection: Connection, paper_id: str, parent_id: int) -> RowMapping:
    parent = sql.comment_by_id(connection, parent_id)
    if parent is None or parent["paper_id"] != paper_id:
        raise CommentError(
            f"there is no comment {parent_id} on this paper to reply to", field="parent"
        )
    if parent["parent_id"] is not None:
        raise CommentError(
            "replies go one level deep: reply to the comment that starts the thread",
            field="parent",
        )
    if parent["deleted_at"] is not None:
        raise CommentError("that comment was deleted: it takes no new replies", field="parent")
    return parent


def post_comment(
    store: Store,
    settings: Settings,
    user: User,
    paper_id: str,
    text: str,
    *,
    parent_id: int | None = None,
    limiter: RateLimiter | None = None,
    ip: str | None = None,
    now: datetime | None = None,
    at_once: bool = False,
    defer: Callable[[CommentEvent], None] | None = None,
) -> Comment:
    """``user``'s new comment on ``paper_id`` (a canonical stored id), a reply when
    ``parent_id`` names a top comment of it. Raises :class:`CommentError` (or a subclass)
    for what the rules refuse, ``RateLimited`` from ``limiter`` (counted per ``ip`` and
    account); nothing is written then. ``at_once``: never wait for SQLite's write lock
    (``WriterBusy`` if another writer holds it; for a caller on the event loop, as votes
    do: :func:`dailypapers.store.votes.write_at_once`). ``defer``: called with the event
    instead of telling the listeners now (a caller on the event loop tells them from a
    thread with :func:`announce`: a listener may wait for the store)."""
    now = now or utc_now(precise=True)
    _check_author(user)
    text = _clean_text(text, settings)
    _check_links(user, settings, text, now)
    _check_new_rate(limiter, user, settings, now)
    with write_at_once(store) if at_once else store.write() as connection:
        if not sql.paper_exists(connection, paper_id):
            raise UnknownPaper(f"no paper {paper_id[:80]!r}", field=None)
        if parent_id is not None:
            _parent_of(connection, paper_id, parent_id)
        if limiter is not None:  # counted in this transaction: a refusal writes nothing
            limiter.check_rule("comment", ip=ip, account=str(user.id), connection=connection)
        html, mentioned = _render(connection, text)
        comment_id = sql.insert_comment(
            connection,
            paper_id=paper_id,
            user_id=user.id,
            parent_id=parent_id,
            body=text,
            html=html,
            now=now,
        )
        row = sql.comment_by_id(connection, comment_id)
    assert row is not None
    comment = Comment.from_row(row)
    others = tuple(uid for uid in mentioned if uid != user.id)
    event = CommentEvent("posted", comment, others, user)
    if defer is not None:
        defer(event)
    else:
        _announce(store, event)
    return comment


def _own_comment(connection: Connection, user: User, comment_id: int) -> RowMapping:
    row = sql.comment_by_id(connection, comment_id)
    if row is None:
        raise UnknownComment(f"no comment {comment_id}", field=None)
    if row["user_id"] != user.id and not user.has_role("moderator"):
        raise NotAllowed("only its author or a moderator may change a comment", field=None)
    if row["deleted_at"] is not None:
        raise UnknownComment(f"comment {comment_id} was deleted", field=None)
    return row


def _audit_moderating(
    connection: Connection, user: User, row: RowMapping, action: str, now: datetime
) -> None:
    """A moderator's edit or deletion of someone else's comment goes in the audit log, in the
    write's transaction (as :func:`dailypapers.discussion.moderation.record` writes it)."""
    if row["user_id"] == user.id:
        return
    author = row["author_username"] or "(deleted account)"
    audit_rows.insert_audit(
        connection,
        actor_id=user.id,
        actor_name=user.username,
        action=action,
        target_type="comment",
        target_id=str(row["id"]),
        target_label=f"{author} on {row['paper_id']}",
        reason=None,
        created_at=now,
    )


def edit_comment(
    store: Store,
    settings: Settings,
    user: User,
    comment_id: int,
    text: str,
    *,
    now: datetime | None = None,
) -> Comment:
    """Replace the text of comment ``comment_id`` (by its author or a moderator); the text
    before is kept for moderators (:func:`comment_versions`) and the comment shows "edited".
    The same text again changes nothing."""
    now = now or utc_now(precise=True)
    if user.suspended:
        raise NotAllowed("your account is suspended", field=None)
    text = _clean_text(text, settings)
    with store.write() as connection:
        row = _own_comment(connection, user, comment_id)
        if row["user_id"] == user.id:
            _check_links(user, settings, text, now)
        if text == row["body"]:
            return Comment.from_row(row)
        _audit_moderating(connection, user, row, "edit_comment", now)
        html, mentioned = _render(connection, text)
        sql.update_body(connection, comment_id, body=text, html=html, now=now)
        changed = sql.comment_by_id(connection, comment_id)
    assert changed is not None
    comment = Comment.from_row(changed)
    others = tuple(uid for uid in mentioned if uid != comment.user_id)
    _announce(store, CommentEvent("edited", comment, others, user))
    return comment


def delete_comment(
    store: Store, user: User, comment_id: int, *, now: datetime | None = None
) -> Comment:
    """Delete comment ``comment_id`` (its author or a moderator): its text goes, a
    placeholder keeps its replies in place. The comment as it is now."""
    now = now or utc_now(precise=True)
    with store.write() as connection:
        _audit_moderating(
            connection, user, _own_comment(connection, user, comment_id), "delete_comment", now
        )
        sql.mark_deleted(connection, comment_id, now)
        row = sql.comment_by_id(connection, comment_id)
    assert row is not None
    return Comment.from_row(row)


def set_hidden(
    store: Store,
    moderator: User,
    comment_id: int,
    hidden: bool,
    reason: str | None = None,
    *,
    now: datetime | None = None,
) -> Comment:
    """Hide comment ``comment_id`` with ``reason`` or show it again (moderators only; the
    moderation helper's queue calls this and writes the audit log)."""
    if not moderator.has_role("moderator"):
        raise NotAllowed("only moderators hide comments", field=None)
    with store.write() as connection:
        paper = sql.set_hidden(
            connection,
            comment_id,
            hidden_at=(now or utc_now(precise=True)) if hidden else None,
            reason=reason if hidden else None,
            by=moderator.id if hidden else None,
        )
        if paper is None:
            raise UnknownComment(f"no comment {comment_id}", field=None)
        row = sql.comment_by_id(connection, comment_id)
    assert row is not None
    return Comment.from_row(row)


def paper_exists(store: Store, paper_id: str) -> bool:
    with store.read() as connection:
        return sql.paper_exists(connection, paper_id)


def comment_by_id(store: Store, comment_id: int, *, moderator: bool = False) -> Comment | None:
    """One comment (hidden text blanked unless ``moderator``), or None."""
    with store.read() as connection:
        row = sql.comment_by_id(connection, comment_id)
    return None if row is None else _shown(Comment.from_row(row), moderator)


def _shown(comment: Comment, moderator: bool) -> Comment:
    if (comment.deleted or (comment.hidden and not moderator)) and (comment.body or comment.html):
        return replace(comment, body="", html="")
    return comment


def thread(
    store: Store, paper_id: str, *, moderator: bool = False, connection: Connection | None = None
) -> list[Comment]:
    """The comments of ``paper_id`` as a thread: top comments oldest first, each with its
    replies oldest first. Deleted and hidden comments stay as placeholders (text blanked;
    moderators see hidden text) where they have replies to hold, and are left out where
    they have none (moderators see hidden ones always). ``connection``: a read transaction
    of ``store`` to read in (the page's own), else one of its own."""
    if connection is not None:
        rows = sql.thread_rows(connection, paper_id)
    else:
        with store.read() as reading:
            rows = sql.thread_rows(reading, paper_id)
    return build_thread([Comment.from_row(row) for row in rows], moderator=moderator)


def build_thread(comments: Sequence[Comment], *, moderator: bool = False) -> list[Comment]:
    """:func:`thread` from a paper's comments in time order (pure)."""
    replies: dict[int, list[Comment]] = {}
    for comment in comments:
        if comment.parent_id is not None and _kept(comment, moderator):
            replies.setdefault(comment.parent_id, []).append(_shown(comment, moderator))
    top: list[Comment] = []
    for comment in comments:
        if comment.parent_id is not None:
            continue
        own = tuple(replies.get(comment.id, ()))
        if own:
            top.append(replace(_shown(comment, moderator), replies=own))
        elif _kept(comment, moderator):
            top.append(_shown(comment, moderator))
    return top


def _kept(comment: Comment, moderator: bool) -> bool:
    return comment.visible or (moderator and comment.hidden and not comment.deleted)


def comment_versions(store: Store, comment_id: int) -> list[Version]:
    """The earlier texts of a comment, oldest first (for moderators)."""
    with store.read() as connection:
        rows = sql.versions_of(connection, comment_id)
    return [Version(row["body"], row["written_at"]) for row in rows]


def mentioned_user_ids(store: Store, text: str, *, exclude: int | None = None) -> list[int]:
    """Ids of the members ``text`` mentions (``@name``, outside code), in order of first
    mention, without ``exclude`` (the author)."""
    names = mentioned_names(text)
    with store.read() as connection:
        found = sql.existing_usernames(connection, names)
    ids = [found[name.casefold()] for name in names if name.casefold() in found]
    return [uid for uid in dict.fromkeys(ids) if uid != exclude]


def suspension_changed(store: Store, user_id: int) -> None:
    """Recount the papers ``user_id`` commented on after their suspension started or ended
    (their comments are hidden by the read; only the counts are kept)."""
    with store.write() as connection:
        sql.recount(connection, sql.papers_commented_by(connection, user_id))


def forget_user_comments(store: Store, user_id: int) -> int:
    """Before an account is deleted: its comments become placeholders, their text gone (the
    replies of others stay). How many."""
    with store.write() as connection:
        return sql.forget_user(connection, user_id, utc_now(precise=True))


def user_comments(store: Store, user_id: int) -> list[dict[str, Any]]:
    """A member's comments for "export my data" (JSON-ready)."""
    with store.read() as connection:
        rows = sql.comments_of_user(connection, user_id)
    return [
        {
            "id": row["id"],
            "paperId": row["paper_id"],
            "parent": row["parent_id"],
            "text": row["body"],
            "createdAt": row["created_at"].isoformat() + "Z",
            "editedAt": row["edited_at"].isoformat() + "Z" if row["edited_at"] else None,
            "hidden": row["hidden_at"] is not None,
        }
        for row in rows
    ]
