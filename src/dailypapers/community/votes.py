"""Upvotes: add or take back a member's upvote of a paper, and count a suspended member's
votes no more (or again).

One upvote per member and paper: asking twice for the same state changes nothing (a double
click, a retried request), so the web forms and the API send the state wanted ("upvote" or
"take back") rather than a toggle. The answer is the paper's new state: whether this member
upvoted it and the count shown (imported from Hugging Face plus this site's own)::

    state = set_upvote(store, user_id, "2501.01234", True)
    state.upvotes, state.upvoted   # (43, True)

Ids are canonical arXiv ids without version (the web layer redirects others), so a vote
stays on a paper's new version.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Connection

from dailypapers.store import Store
from dailypapers.store import votes as sql
from dailypapers.store.batches import utc_now
from dailypapers.store.votes import WriterBusy

__all__ = [
    "UnknownPaper",
    "VoteState",
    "WriterBusy",
    "checkpoint",
    "set_upvote",
    "suspension_changed",
    "vote_state",
]


class UnknownPaper(LookupError):
    """No paper with that id is stored."""


@dataclass(frozen=True, slots=True)
class VoteState:
    """A paper's upvotes after a vote: the count shown and whether this member upvoted it;
    ``stamp``, when asked for, the votes' change stamp right after it (see
    :mod:`dailypapers.web.vote_watch`), and the paper's feed day (None: not known)."""

    paper_id: str
    upvoted: bool
    upvotes: int
    stamp: object = field(default=None, compare=False)
    day: date | None = field(default=None, compare=False)


def set_upvote(
    store: Store,
    user_id: int,
    paper_id: str,
    upvoted: bool,
    *,
    now: datetime | None = None,
    first: Callable[[Connection], Callable[[bool], None] | None] | None = None,
    stamp: bool = False,
    at_once: bool = False,
) -> VoteState:
    """Make ``user_id``'s upvote of ``paper_id`` be ``upvoted``; the paper's new state.

    One write transaction: ``first`` runs at its start (the rate limiter counting the vote
    there); whatever it raises rolls the whole vote back, and what it returns (if anything)
    is called once the transaction ended, with whether it committed (the limiter's leases).
    With ``stamp`` the state carries the votes' change stamp as this vote left it. Raises
    :class:`UnknownPaper` when there is no such paper (and nothing is written). ``at_once``:
    never wait for the write lock
    (SQLite only; :class:`~dailypapers.store.votes.WriterBusy` if another writer holds it).
    """
    settle = None
    try:
        with sql.write_at_once(store) if at_once else store.write() as connection:
            settle = first(connection) if first is not None else None
            counts, clock, day = sql.set_vote_stamped(
                connection, user_id, paper_id, upvoted, now or utc_now(precise=True)
            )
            if counts is None:
                raise UnknownPaper(f"no paper {paper_id[:80]!r}")  # rolls ``first`` back
    except BaseException:
        if settle is not None:
            settle(False)
        raise
    if settle is not None:
        settle(True)
    # The clock as this vote moved it, or as it was when it moved nothing.
    return VoteState(paper_id, upvoted, sum(counts), clock if stamp else None, day)


def checkpoint(store: Store) -> None:
    """What votes written at once leave undone (SQLite's WAL copied back); in a thread."""
    sql.checkpoint(store)


def vote_state(store: Store, user_id: int | None, paper_id: str) -> VoteState | None:
    """``paper_id``'s count and whether ``user_id`` (None: nobody signed in) upvoted it."""
    with store.read() as connection:
        counts = sql.upvotes_of(connection, paper_id)
        if counts is None:
            return None
        upvoted = user_id is not None and sql.has_voted(connection, user_id, paper_id)
    return VoteState(paper_id, upvoted, sum(counts))


def suspension_changed(store: Store, user_id: int) -> int:
    """Bring ``user_id``'s votes in line with their account: uncounted while it is suspended
    (``users.suspended_at`` set), counted again when it is not. Call it whenever a
    suspension starts or ends; returns how many votes changed."""
    with store.write() as connection:
        suspended = sql.is_suspended(connection, user_id)
        return sql.set_counted(connection, user_id, not suspended)
