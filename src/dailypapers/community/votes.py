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

from dataclasses import dataclass
from datetime import datetime

from dailypapers.store import Store
from dailypapers.store import votes as sql
from dailypapers.store.batches import utc_now


class UnknownPaper(LookupError):
    """No paper with that id is stored."""


@dataclass(frozen=True, slots=True)
class VoteState:
    """A paper's upvotes after a vote: the count shown and whether this member upvoted it."""

    paper_id: str
    upvoted: bool
    upvotes: int


def set_upvote(
    store: Store, user_id: int, paper_id: str, upvoted: bool, *, now: datetime | None = None
) -> VoteState:
    """Make ``user_id``'s upvote of ``paper_id`` be ``upvoted``; the paper's new state.

    Raises :class:`UnknownPaper` when there is no such paper.
    """
    with store.write() as connection:
        if not sql.paper_exists(connection, paper_id):
            raise UnknownPaper(f"no paper {paper_id[:80]!r}")
        if upvoted:
            sql.add_vote(connection, user_id, paper_id, now or utc_now(precise=True))
        else:
            sql.remove_vote(connection, user_id, paper_id)
        counts = sql.upvotes_of(connection, paper_id)
    imported, local = counts or (0, 0)
    return VoteState(paper_id, upvoted, imported + local)


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
