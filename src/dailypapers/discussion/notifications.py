"""On-site notifications: a reply to your comment, a mention of you (``@name``), a comment on
a paper you submitted or are a confirmed author of.

:func:`on_comment` listens to the comment service (:func:`dailypapers.discussion.comments.
add_listener`, registered when this module is imported: the web app imports it): after a
comment commits, who it concerns is read, and their notifications written in one
transaction of their own when there are any (a failure there is logged and leaves the
comment be). Each member gets at most one notification per
comment, of the most specific kind (a reply before a mention before a comment on their
paper), and never one for their own comment; an edit that adds a mention notifies the newly
mentioned. Mentions are the service's (``@name`` outside code, existing members). The
header shows the unread count (:func:`unread_count`, one indexed query); ``/notifications``
lists them (:mod:`dailypapers.web.notifications`). Per-kind email choices are stored for
the mail that sends them (:func:`email_prefs`); no mail is sent yet. SQL in
:mod:`dailypapers.store.notifications`.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, RowMapping

from dailypapers.accounts import User
from dailypapers.accounts.flows import register_export
from dailypapers.discussion.comments import CommentEvent, add_listener
from dailypapers.store import Store
from dailypapers.store import notifications as rows

KINDS = ("reply", "mention", "paper_comment")  # the order is the precedence
KIND_LABELS = {
    "reply": "Replies to my comments",
    "mention": "Mentions of me (@name)",
    "paper_comment": "Comments on papers I submitted or wrote",
}
EMAIL_DEFAULTS = {"reply": True, "mention": True, "paper_comment": True}


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def comment_recipients(
    connection: Connection, *, paper_id: str, parent_id: int | None, mentioned: Iterable[int]
) -> dict[int, str]:
    """Who a new comment concerns (member id -> kind), the comment's author included."""
    recipients: dict[int, str] = {}
    if parent_id is not None:
        parent_author = rows.comment_author(connection, parent_id)
        if parent_author is not None:
            recipients[parent_author] = "reply"
    for user_id in mentioned:
        recipients.setdefault(user_id, "mention")
    for user_id in rows.people_of_paper(connection, paper_id):
        recipients.setdefault(user_id, "paper_comment")
    return recipients


def notify_edit(
    connection: Connection,
    *,
    comment_id: int,
    paper_id: str,
    author_id: int | None,
    mentioned: Iterable[int],
    now: datetime | None = None,
) -> dict[int, str]:
    """After an edit: a mention for each member it mentions who heard nothing of the
    comment yet (an edit adds mentions; it never notifies anyone twice)."""
    told = rows.notified_about(connection, comment_id)
    recipients = {user_id: "mention" for user_id in mentioned if user_id not in told}
    return _write(connection, recipients, comment_id, paper_id, author_id, now)


def _write(
    connection: Connection,
    recipients: dict[int, str],
    comment_id: int,
    paper_id: str,
    author_id: int | None,
    now: datetime | None,
) -> dict[int, str]:
    if author_id is not None:
        recipients.pop(author_id, None)  # never to yourself
    created = now or utcnow()
    rows.insert_notifications(
        connection,
        (
            {
                "user_id": user_id,
                "kind": kind,
                "actor_id": author_id,
                "comment_id": comment_id,
                "paper_id": paper_id,
                "created_at": created,
            }
            for user_id, kind in recipients.items()
        ),
    )
    return recipients


def on_comment(store: Store, event: CommentEvent) -> None:
    """The comment service's listener (after the comment's commit): its notifications.

    A new comment's recipients are read first, and SQLite's write lock is taken only when
    someone is told: most comments tell no one, and a write here (in a worker thread,
    after the answer) held the lock while comment POSTs on the event loop found it taken
    and waited in a thread (their p99 under load, ``benchmarks/comments.py``)."""
    comment = event.comment
    if event.kind == "posted":
        with store.read() as connection:
            recipients = comment_recipients(
                connection,
                paper_id=comment.paper_id,
                parent_id=comment.parent_id,
                mentioned=event.mentioned_user_ids,
            )
        recipients.pop(comment.user_id or 0, None)
        if not recipients:
            return
        with store.write() as connection:
            told = _write(
                connection, recipients, comment.id, comment.paper_id, comment.user_id, None
            )
    else:
        with store.write() as connection:
            told = notify_edit(
                connection,
                comment_id=comment.id,
                paper_id=comment.paper_id,
                author_id=comment.user_id,
                mentioned=event.mentioned_user_ids,
            )
    if told:
        changed(told)


add_listener(on_comment)


@dataclass(frozen=True)
class Notification:
    id: int
    kind: str
    actor: str | None
    paper_id: str
    title: str
    comment_id: int | None
    excerpt: str
    created_at: datetime
    read: bool

    @classmethod
    def from_row(cls, row: RowMapping) -> Notification:
        gone = row["deleted_at"] is not None or row["hidden_at"] is not None
        body = "" if gone or row["body"] is None else " ".join(row["body"].split())
        return cls(
            id=row["id"],
            kind=row["kind"],
            actor=row["actor"],
            paper_id=row["paper_id"],
            title=row["title"],
            comment_id=row["comment_id"],
            excerpt=body[:200] + ("…" if len(body) > 200 else ""),
            created_at=row["created_at"],
            read=row["read_at"] is not None,
        )

    @property
    def href(self) -> str:
        anchor = f"#comment-{self.comment_id}" if self.comment_id is not None else ""
        return f"/papers/{self.paper_id}{anchor}"


def unread_count(store: Store, user_id: int) -> int:
    """The member's unread count, read now (one range of the ``(user_id, read_at)`` index)."""
    with store.read() as connection:
        return rows.unread_count(connection, user_id)


UNREAD_SIZE = 50_000  # members whose counts a process keeps at most; afresh beyond
_LIVE: weakref.WeakSet[UnreadCounts] = weakref.WeakSet()


class UnreadCounts:
    """Member id -> their unread count, kept by a web process for its cached pages' header
    (thread-safe), so a page served from the cache costs no query.

    Right at once for the changes this process makes (each is :func:`changed`, which every
    live instance hears), and within ``check_every`` seconds for any other process's: every
    change moves the notifications' clock in its own transaction, and :meth:`refresh` (run
    off the event loop when :meth:`due`) drops every count when the clock moved. That is the
    delay the cached pages themselves have (``ResponseCache.check_every``).
    """

    def __init__(self, store: Store, check_every: float = 2.0, *, local: bool = True) -> None:
        self.store = store
        self.check_every = check_every
        self._counts: dict[int, int] = {}
        self._clock: int | None = None
        self._checked = float("-inf")
        self._generation = 0  # moves with each drop: a load older than it is not kept
        self._lock = threading.Lock()
        if local:  # tests leave it out to play a process of its own
            _LIVE.add(self)

    def due(self) -> bool:
        return time.monotonic() - self._checked >= self.check_every

    def refresh(self) -> None:
        """Drop every count if the clock moved since the last look (blocking: one row)."""
        self._checked = time.monotonic()
        with self.store.read() as connection:
            now = rows.clock(connection)
        with self._lock:
            if now != self._clock:
                self._clock = now
                self._drop()

    def cached(self, user_id: int) -> int | None:
        return self._counts.get(user_id)

    def count(self, user_id: int) -> int:
        """The member's count: kept, or read now and kept (blocking)."""
        known = self._counts.get(user_id)
        if known is not None:
            return known
        with self._lock:
            mark = self._generation
        found = unread_count(self.store, user_id)
        with self._lock:
            if mark == self._generation:  # nothing changed while it was read
                if len(self._counts) >= UNREAD_SIZE:
                    self._counts.clear()
                self._counts[user_id] = found
        return found

    def forget(self, user_ids: Iterable[int] | None) -> None:
        """Forget the counts of ``user_ids`` (None: everyone's)."""
        with self._lock:
            if user_ids is None:
                self._drop()
                return
            self._generation += 1
            for user_id in user_ids:
                self._counts.pop(user_id, None)

    def _drop(self) -> None:
        self._generation += 1
        self._counts.clear()


def changed(user_ids: Iterable[int] | None) -> None:
    """This process changed the unread counts of ``user_ids`` (None: anyone's): after commit."""
    listed = None if user_ids is None else list(user_ids)
    for counts in list(_LIVE):
        counts.forget(listed)


def notifications_of(
    store: Store, user_id: int, *, limit: int, offset: int
) -> tuple[list[Notification], int]:
    """A page of the member's notifications, newest first, and how many there are."""
    with store.read() as connection:
        found = rows.notifications_of(connection, user_id, limit=limit, offset=offset)
        total = rows.count_of(connection, user_id)
    return [Notification.from_row(row) for row in found], total


def mark_read(store: Store, user_id: int, notification_id: int | None = None) -> int:
    """Mark one of the member's notifications read, or all (None); how many changed."""
    with store.write() as connection:
        marked = rows.mark_read(connection, user_id, utcnow(), notification_id)
    if marked:
        changed([user_id])
    return marked


def email_prefs(store: Store, user_id: int) -> dict[str, bool]:
    """Kind -> whether the member wants it by email (their choice, else the default)."""
    with store.read() as connection:
        chosen = rows.prefs_of(connection, user_id)
    return {kind: chosen.get(kind, EMAIL_DEFAULTS[kind]) for kind in KINDS}


def set_email_prefs(store: Store, user_id: int, choices: Mapping[str, bool]) -> None:
    """Store the member's choice for every kind (a kind left out of ``choices`` is off)."""
    with store.write() as connection:
        rows.set_prefs(connection, user_id, {kind: bool(choices.get(kind)) for kind in KINDS})


def export(store: Store, user: User) -> dict[str, object]:
    """The member's part of "export my data": their notifications and email choices."""
    found, _ = notifications_of(store, user.id, limit=1_000_000, offset=0)
    listed = [
        {
            "kind": n.kind,
            "from": n.actor,
            "paperId": n.paper_id,
            "commentId": n.comment_id,
            "createdAt": n.created_at.isoformat() + "Z",
            "read": n.read,
        }
        for n in found
    ]
    return {"items": listed, "email": email_prefs(store, user.id)}


register_export("notifications", export)
