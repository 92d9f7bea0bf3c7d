"""Members' paper submissions in SQL: one per paper (its key), with member, note and time.

The submitted paper itself is written by :func:`dailypapers.store.papers.upsert_papers`
with "featured on" the day of the submission and "featured by" the member, as a paper
featured on Hugging Face is, so the feed, the API's ``submittedBy`` fields and
``?submitter=`` treat both alike; :mod:`dailypapers.community.submissions` holds the rules.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection, bindparam, delete, func, select, update

from dailypapers.store.batches import chunks
from dailypapers.store.comments import tick
from dailypapers.store.schema import paper_submissions, papers, users


@dataclass(frozen=True, slots=True)
class Submission:
    paper_id: str
    user_id: int
    note: str | None
    created_at: datetime


def add_submission(
    connection: Connection, paper_id: str, user_id: int, note: str | None, now: datetime
) -> None:
    values = {"paper_id": paper_id, "user_id": user_id, "note": note, "created_at": now}
    connection.execute(paper_submissions.insert().values(values))


def submission_of(connection: Connection, paper_id: str) -> Submission | None:
    row = connection.execute(
        select(paper_submissions).where(paper_submissions.c.paper_id == paper_id)
    ).one_or_none()
    return None if row is None else Submission(*row)


def count_since(connection: Connection, user_id: int, since: datetime) -> int:
    """How many papers ``user_id`` submitted at or after ``since`` (the daily cap)."""
    query = select(func.count()).where(
        paper_submissions.c.user_id == user_id, paper_submissions.c.created_at >= since
    )
    return connection.scalar(query) or 0


_NOTES = select(paper_submissions.c.paper_id, paper_submissions.c.note).where(
    paper_submissions.c.paper_id.in_(bindparam("ids", expanding=True))
)


def notes_among(connection: Connection, ids: Collection[str]) -> dict[str, str]:
    """The submitters' notes of those of ``ids`` that members submitted ("" for none)."""
    found: dict[str, str] = {}
    for chunk in chunks(list(ids)):
        rows = connection.execute(_NOTES, {"ids": list(chunk)})
        found.update((paper_id, note or "") for paper_id, note in rows)
    return found


@dataclass(frozen=True, slots=True)
class QueuedSubmission:
    """A submission as the moderators' queue lists it: the paper's title and the
    submitter's user name beside the row."""

    paper_id: str
    title: str
    user_id: int
    username: str
    note: str | None
    created_at: datetime


def submissions_of_user(connection: Connection, user_id: int) -> list[Submission]:
    """Every submission of ``user_id``, oldest first (their data export)."""
    query = (
        select(paper_submissions)
        .where(paper_submissions.c.user_id == user_id)
        .order_by(paper_submissions.c.created_at, paper_submissions.c.paper_id)
    )
    return [Submission(*row) for row in connection.execute(query)]


def recent_submissions(
    connection: Connection, *, limit: int, offset: int = 0
) -> tuple[list[QueuedSubmission], int]:
    """The newest submissions first, a page of them, and how many there are in all."""
    query = (
        select(
            paper_submissions.c.paper_id,
            papers.c.title,
            paper_submissions.c.user_id,
            users.c.username,
            paper_submissions.c.note,
            paper_submissions.c.created_at,
        )
        .join(papers, papers.c.arxiv_id == paper_submissions.c.paper_id)
        .join(users, users.c.id == paper_submissions.c.user_id)
        .order_by(paper_submissions.c.created_at.desc(), paper_submissions.c.paper_id)
        .limit(limit)
        .offset(offset)
    )
    page = [QueuedSubmission(*row) for row in connection.execute(query)]
    total = connection.scalar(select(func.count()).select_from(paper_submissions)) or 0
    return page, total


def submitted_by(connection: Connection, user_id: int, *, limit: int, offset: int = 0) -> list[str]:
    """Ids of the papers ``user_id`` submitted, newest first."""
    query = (
        select(paper_submissions.c.paper_id)
        .where(paper_submissions.c.user_id == user_id)
        .order_by(paper_submissions.c.created_at.desc(), paper_submissions.c.paper_id)
        .limit(limit)
        .offset(offset)
    )
    return list(connection.scalars(query))


def forget_submitter(connection: Connection, user_id: int) -> int:
    """Before ``user_id``'s account is deleted: the papers they submitted stay on the feed
    without their name (the submission rows and notes go with the account). How many."""
    theirs = select(paper_submissions.c.paper_id).where(paper_submissions.c.user_id == user_id)
    cleared = dict.fromkeys(
        ("featured_by", "featured_by_user", "featured_by_avatar", "featured_by_type")
    )
    query = update(papers).where(papers.c.arxiv_id.in_(theirs)).values(cleared)
    cleared_rows = int(connection.execute(query).rowcount)
    if cleared_rows:
        tick(connection)  # cards show who submitted a paper: cached copies must go
    return cleared_rows


def remove_submission(connection: Connection, paper_id: str) -> bool:
    """Take a submission off the feed (a moderator's decision); False if there was none.

    A paper known only from its submission is deleted with it (its votes go with it); one
    that arXiv also listed keeps its listing day and loses the "submitted by".
    """
    if submission_of(connection, paper_id) is None:
        return False
    connection.execute(delete(paper_submissions).where(paper_submissions.c.paper_id == paper_id))
    listed: date | None = connection.scalar(
        select(papers.c.first_listed_on).where(papers.c.arxiv_id == paper_id)
    )
    if listed is None:
        connection.execute(delete(papers).where(papers.c.arxiv_id == paper_id))
    else:
        cleared = dict.fromkeys(
            ("featured_on", "featured_by", "featured_by_user", "featured_by_avatar",
             "featured_by_type"),
        )  # fmt: skip
        connection.execute(
            update(papers)
            .where(papers.c.arxiv_id == paper_id)
            .values({**cleared, "feed_day": listed})
        )
    tick(connection)  # the paper left a day's list (its count unchanged): cached copies must go
    return True
