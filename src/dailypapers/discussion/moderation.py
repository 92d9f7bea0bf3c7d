"""Moderation: members report comments, moderators act, every action goes in the audit log.

Anyone signed in reports a comment with a reason (one open report per member and comment).
Moderators (and admins) hide or unhide a comment with a reason, dismiss a report, remove a
submission, suspend or restore a user with a reason; claim decisions (``community.claims``)
and role changes (here, for the CLI) are logged too. Each action and its audit entry are
written in one transaction where the action is SQL of ours; a suspension goes through
:func:`dailypapers.accounts.flows.set_suspended` (it ends the user's sessions and stops their
votes counting), its entry right after. The audit log is for admins (:func:`audit_page`).
SQL in :mod:`dailypapers.store.moderation`; the pages are :mod:`dailypapers.web.pages.
moderation`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, RowMapping

from dailypapers.accounts import User, flows
from dailypapers.discussion import notifications
from dailypapers.store import Store
from dailypapers.store import comments as comment_rows
from dailypapers.store import moderation as rows
from dailypapers.store import notifications as notification_rows
from dailypapers.store import submissions as submission_rows

ACTIONS = (
    "hide", "unhide", "dismiss", "remove_submission", "suspend", "restore",
    "approve_claim", "reject_claim", "set_role",
    "edit_comment", "delete_comment",  # a moderator's, of someone else's (discussion.comments)
)  # fmt: skip
MAX_REASON = 500
CLI_ACTOR = "(command line)"


class ModerationError(ValueError):
    """An action the rules refuse; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _reason(reason: str | None, *, required: bool) -> str | None:
    text = " ".join((reason or "").split())
    if len(text) > MAX_REASON:
        raise ModerationError(f"A reason is at most {MAX_REASON} characters.", 422)
    if required and not text:
        raise ModerationError("Give a reason.", 422)
    return text or None


def _moderator(actor: User) -> None:
    if not actor.has_role("moderator"):
        raise ModerationError("Only moderators do that.", 403)


def record(
    connection: Connection,
    actor: User | None,
    action: str,
    target_type: str,
    target_id: object,
    *,
    label: str | None = None,
    reason: str | None = None,
) -> int:
    """One audit entry in the caller's transaction (``actor`` None: the command line)."""
    assert action in ACTIONS, action
    return rows.insert_audit(
        connection,
        actor_id=actor.id if actor else None,
        actor_name=actor.username if actor else CLI_ACTOR,
        action=action,
        target_type=target_type,
        target_id=str(target_id)[:64],
        target_label=label,
        reason=reason,
        created_at=utcnow(),
    )


# Reports --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filed:
    """A report just filed: its id and the paper of the comment."""

    id: int
    paper_id: str


def report(store: Store, member: User, comment_id: int, reason: str) -> Filed:
    """File ``member``'s report of the comment."""
    text = _reason(reason, required=True)
    assert text is not None
    with store.write() as connection:
        comment = comment_rows.comment_by_id(connection, comment_id)
        if comment is None or comment["deleted_at"] is not None:
            raise ModerationError("There is no such comment.", 404)
        if comment["user_id"] == member.id:
            raise ModerationError("That is your own comment: edit or delete it instead.", 422)
        if rows.open_report_of(connection, comment_id, member.id) is not None:
            raise ModerationError("You have reported this comment already.", 409)
        report_id = rows.insert_report(connection, comment_id, member.id, text, utcnow())
    return Filed(report_id, str(comment["paper_id"]))


@dataclass(frozen=True)
class Report:
    id: int
    comment_id: int
    paper_id: str
    title: str
    reporter: str
    author: str | None
    reason: str
    body: str
    hidden: bool
    created_at: datetime

    @classmethod
    def from_row(cls, row: RowMapping) -> Report:
        return cls(
            id=row["id"],
            comment_id=row["comment_id"],
            paper_id=row["paper_id"],
            title=row["title"],
            reporter=row["reporter"],
            author=row["author"],
            reason=row["reason"],
            body=row["body"],
            hidden=row["hidden_at"] is not None,
            created_at=row["created_at"],
        )


def open_reports(store: Store, *, limit: int, offset: int) -> tuple[list[Report], int]:
    """The moderators' queue: a page of open reports, oldest first, and how many are open."""
    with store.read() as connection:
        found = rows.open_reports(connection, limit=limit, offset=offset)
        return [Report.from_row(row) for row in found], rows.open_report_count(connection)


def dismiss(store: Store, actor: User, report_id: int, reason: str | None = None) -> None:
    """Close a report without acting on the comment."""
    _moderator(actor)
    text = _reason(reason, required=False)
    with store.write() as connection:
        found = rows.report_by_id(connection, report_id)
        if found is None:
            raise ModerationError("There is no such report.", 404)
        now = utcnow()
        if not rows.resolve_reports(
            connection, resolution="dismissed", by=actor.id, now=now, report_id=report_id
        ):
            raise ModerationError("That report is closed already.", 409)
        record(connection, actor, "dismiss", "report", report_id, reason=text,
               label=f"comment {found['comment_id']}")  # fmt: skip


# Hiding ---------------------------------------------------------------------------------


def hide(store: Store, actor: User, comment_id: int, reason: str) -> str:
    """Hide the comment from readers (moderators still see it, with the reason), close its
    open reports and recount its paper's visible comments; the paper's id."""
    return _set_hidden(store, actor, comment_id, reason, hidden=True)


def unhide(store: Store, actor: User, comment_id: int, reason: str) -> str:
    """Show a hidden comment again; the paper's id."""
    return _set_hidden(store, actor, comment_id, reason, hidden=False)


def _set_hidden(store: Store, actor: User, comment_id: int, reason: str, *, hidden: bool) -> str:
    _moderator(actor)
    text = _reason(reason, required=True)
    with store.write() as connection:
        comment = comment_rows.comment_by_id(connection, comment_id)
        if comment is None or comment["deleted_at"] is not None:
            raise ModerationError("There is no such comment.", 404)
        if (comment["hidden_at"] is not None) == hidden:
            state = "hidden" if hidden else "shown"
            raise ModerationError(f"That comment is {state} already.", 409)
        now = utcnow()
        # The comments' own write: it recounts the paper's visible comments and moves the
        # clock cached pages watch, in this transaction.
        comment_rows.set_hidden(
            connection,
            comment_id,
            hidden_at=now if hidden else None,
            reason=text if hidden else None,
            by=actor.id if hidden else None,
        )
        if hidden:
            rows.resolve_reports(
                connection, resolution="hidden", by=actor.id, now=now, comment_id=comment_id
            )
            # Whoever it notified (a spam run of @-names) has nothing left to read there.
            notification_rows.mark_comment_read(connection, comment_id, now)
        author = comment["author_username"] or "(deleted account)"
        record(connection, actor, "hide" if hidden else "unhide", "comment", comment_id,
               label=f"{author} on {comment['paper_id']}", reason=text)  # fmt: skip
    if hidden:
        notifications.changed(None)  # whoever it notified has one unread less
    return str(comment["paper_id"])


# Submissions, users, roles ----------------------------------------------------------------


def remove_submission(store: Store, actor: User, paper_id: str, reason: str | None = None) -> None:
    """Take a submission off the feed (see ``store.submissions.remove_submission``)."""
    _moderator(actor)
    text = _reason(reason, required=False)
    with store.write() as connection:
        if not submission_rows.remove_submission(connection, paper_id):
            raise ModerationError(f"{paper_id[:80]!r} was not submitted here.", 404)
        record(connection, actor, "remove_submission", "paper", paper_id, reason=text)


def set_suspended(
    store: Store, actor: User | None, user: User, suspended: bool, reason: str | None
) -> User:
    """Suspend ``user`` (signed out everywhere, votes uncounted, comments hidden by the
    read) or restore them; ``actor`` None is the command line. Admins are suspended by the
    command line only, and nobody suspends themselves."""
    text = _reason(reason, required=actor is not None)
    if actor is not None:
        _moderator(actor)
        if actor.id == user.id:
            raise ModerationError("You cannot suspend or restore yourself.", 422)
        if user.has_role("admin") and not actor.has_role("admin"):
            raise ModerationError("Only admins suspend or restore an admin.", 403)
    if user.suspended == suspended:
        state = "suspended" if suspended else "not suspended"
        raise ModerationError(f"{user.username} is {state} already.", 409)
    changed = flows.set_suspended(store, user, suspended)
    with store.write() as connection:
        record(connection, actor, "suspend" if suspended else "restore", "user", user.id,
               label=user.username, reason=text)  # fmt: skip
    return changed


def suspended_users(store: Store) -> list[tuple[str, datetime]]:
    """The suspended accounts' user names and since when, most recently first (200 at most)."""
    with store.read() as connection:
        return [(r["username"], r["suspended_at"]) for r in rows.suspended_users(connection)]


def set_role(store: Store, actor: User | None, user: User, role: str) -> User:
    """Give ``user`` a role (``actor`` None: the command line), logged."""
    changed = flows.set_role(store, user, role)
    with store.write() as connection:
        record(connection, actor, "set_role", "user", user.id,
               label=user.username, reason=f"{user.role} -> {changed.role}")  # fmt: skip
    return changed


# The audit log ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditEntry:
    id: int
    actor: str
    action: str
    target_type: str
    target_id: str
    target_label: str | None
    reason: str | None
    created_at: datetime

    @property
    def href(self) -> str | None:
        """A page about the target, where there is one."""
        if self.target_type == "user" and self.target_label:
            return f"/users/{self.target_label}"
        if self.target_type == "paper":
            return f"/papers/{self.target_id}"
        return None


def audit_page(
    store: Store, reader: User, *, limit: int, offset: int
) -> tuple[list[AuditEntry], int]:
    """A page of the audit log, newest first, and how many entries there are (admins)."""
    if not reader.has_role("admin"):
        raise ModerationError("Only admins read the audit log.", 403)
    with store.read() as connection:
        found = rows.audit_entries(connection, limit=limit, offset=offset)
        total = rows.audit_count(connection)
    return [
        AuditEntry(
            id=row["id"],
            actor=row["actor_name"],
            action=row["action"],
            target_type=row["target_type"],
            target_id=row["target_id"],
            target_label=row["target_label"],
            reason=row["reason"],
            created_at=row["created_at"],
        )
        for row in found
    ], total
