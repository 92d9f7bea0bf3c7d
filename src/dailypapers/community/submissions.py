"""Paper submissions: a member puts an arXiv paper on today's feed, with an optional note.

:func:`submit` takes an arXiv id or URL as typed. A paper already in the feed is not
submitted again: the member's upvote is added and the answer says where it is. An unknown
paper is fetched from the arXiv API first (outside any transaction); when arXiv cannot be
reached the member is told so (:class:`ArxivUnreachable`) and nothing is stored. Then one
write transaction stores the paper "featured on" today "by" the member (what the API's
``submittedOnDailyBy``/``submittedOnDailyAt`` and ``?submitter=`` read), the submission with
its note, and the member's upvote: all of it or none.

The rules are settings: a paper at most ``SUBMISSION_MAX_AGE_DAYS`` old (by its first
version), at most ``SUBMISSION_MAX_PER_DAY`` submissions per member and UTC day, a note of
at most ``SUBMISSION_NOTE_MAX`` characters. A broken rule raises :class:`SubmissionRefused`
with the message to show and the HTTP status that fits. Moderators see the newest
submissions with :func:`recent` and take one back with :func:`remove`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy.exc import IntegrityError

from dailypapers.community.votes import VoteState
from dailypapers.ingest.arxiv_api import fetch_papers
from dailypapers.ingest.http import Fetcher, make_fetcher
from dailypapers.ingest.run import SourceUnusable
from dailypapers.paper import InvalidRecord, PaperRecord, clean_text, feed_day, parse_arxiv_id
from dailypapers.settings import Settings
from dailypapers.store import Store, votes
from dailypapers.store import submissions as sql
from dailypapers.store.batches import utc_now
from dailypapers.store.entries import feed_entries
from dailypapers.store.papers import upsert_papers
from dailypapers.store.submissions import QueuedSubmission

# A member waits for the answer: one quick try, not the harvester's patient retries.
FETCH_TIMEOUT = 15.0


class SubmissionRefused(ValueError):
    """A submission the rules refuse; ``status`` is the HTTP status that says why."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


class ArxivUnreachable(RuntimeError):
    """The arXiv API could not be asked; nothing was stored."""


@dataclass(frozen=True, slots=True)
class Submitter:
    """The member submitting: id, user name and the name shown (their full name, if any)."""

    id: int
    username: str
    fullname: str | None
    confirmed: bool


@dataclass(frozen=True, slots=True)
class Submitted:
    """What a submission did: ``new`` (put on ``day``'s feed) or not (it was there already,
    on ``day``, and the member's upvote was added); the paper's upvotes after it."""

    paper_id: str
    title: str
    day: date | None
    new: bool
    vote: VoteState

    @property
    def message(self) -> str:
        if self.new:
            return f"Submitted: {self.title} is on the feed of {self.day}, with your upvote."
        where = f" (on the feed of {self.day})" if self.day else ""
        return f"{self.title} is already featured{where}: your upvote was added instead."


def _clean_note(note: str | None, settings: Settings) -> str | None:
    if note is None:
        return None
    cleaned = clean_text(note)
    if cleaned and len(cleaned) > settings.submission_note_max:
        raise SubmissionRefused(
            f"a note may hold at most {settings.submission_note_max} characters"
        )
    return cleaned or None


def _paper_id(text: str) -> str:
    try:
        return parse_arxiv_id(text)[0]
    except InvalidRecord:
        raise SubmissionRefused(f"not an arXiv id or URL: {text[:80]!r}") from None


def _upvote_existing(
    store: Store, member: Submitter, paper_id: str, now: datetime
) -> Submitted | None:
    """The answer for a paper already stored (the member's upvote added), or None."""
    with store.write() as connection:
        found = feed_entries(connection, [paper_id])
        if not found:
            return None
        votes.add_vote(connection, member.id, paper_id, now)
        count = sum(votes.upvotes_of(connection, paper_id) or (0, 0))
    entry = found[0]
    return Submitted(paper_id, entry.title, entry.day, False, VoteState(paper_id, True, count))


def _check_quota(store: Store, member: Submitter, settings: Settings, now: datetime) -> None:
    midnight = datetime.combine(now.date(), time())
    with store.read() as connection:
        today = sql.count_since(connection, member.id, midnight)
    if today >= settings.submission_max_per_day:
        raise SubmissionRefused(
            f"at most {settings.submission_max_per_day} submissions a day; try again tomorrow",
            429,
        )


def fetch_record(paper_id: str, settings: Settings, fetcher: Fetcher | None = None) -> PaperRecord:
    """The paper from the arXiv API; :class:`SubmissionRefused` if arXiv has no such paper,
    :class:`ArxivUnreachable` if arXiv cannot be asked."""
    own = fetcher is None
    if fetcher is None:
        fetcher = make_fetcher(settings)
        fetcher.retries, fetcher.timeout = 0, min(settings.http_timeout, FETCH_TIMEOUT)
    try:
        items = list(fetch_papers([paper_id], fetcher, settings.arxiv_api_url))
    except SourceUnusable as error:
        raise ArxivUnreachable(
            f"arXiv cannot be reached just now ({error}); try again later"
        ) from None
    finally:
        if own:
            fetcher.close()
    records = [i for i in items if isinstance(i, PaperRecord) and i.arxiv_id == paper_id]
    if not records:
        raise SubmissionRefused(f"arXiv has no paper {paper_id}", 404)
    return records[0]


def _check_age(record: PaperRecord, settings: Settings, now: datetime) -> None:
    oldest = now - timedelta(days=settings.submission_max_age_days)
    if record.submitted_at is not None and record.submitted_at < oldest:
        raise SubmissionRefused(
            f"{record.arxiv_id} was first submitted on {record.submitted_at:%Y-%m-%d}: papers "
            f"may be submitted up to {settings.submission_max_age_days} days old"
        )


def submit(
    store: Store,
    settings: Settings,
    member: Submitter,
    text: str,
    note: str | None = None,
    *,
    now: datetime | None = None,
    fetch: Callable[[str, Settings], PaperRecord] = fetch_record,
) -> Submitted:
    """Submit the paper ``text`` names (an id, versioned id or arxiv.org URL) for ``member``."""
    if not member.confirmed:
        raise SubmissionRefused("confirm your email address before submitting papers", 403)
    now = now or utc_now(precise=True)  # the API gives the time to the millisecond
    paper_id, note = _paper_id(text), _clean_note(note, settings)
    existing = _upvote_existing(store, member, paper_id, now)
    if existing is not None:
        return existing
    _check_quota(store, member, settings, now)
    record = fetch(paper_id, settings)
    _check_age(record, settings, now)
    featured = dataclasses.replace(
        record,
        featured_on=now.date(),
        featured_by=member.fullname or member.username,
        featured_by_user=member.username,
        featured_by_type="user",
    )
    try:
        with store.write() as connection:
            if feed_entries(connection, [paper_id]):  # submitted meanwhile by someone else
                raise IntegrityError("paper_submissions", None, Exception("stored meanwhile"))
            upsert_papers(connection, [featured])
            sql.add_submission(connection, paper_id, member.id, note, now)
            votes.add_vote(connection, member.id, paper_id, now)
            count = sum(votes.upvotes_of(connection, paper_id) or (0, 0))
    except IntegrityError:  # the same paper, from another member, a moment earlier
        again = _upvote_existing(store, member, paper_id, now)
        if again is None:
            raise
        return again
    vote = VoteState(paper_id, True, count)
    return Submitted(paper_id, featured.title, feed_day(featured), True, vote)


def recent(store: Store, *, limit: int, offset: int = 0) -> tuple[list[QueuedSubmission], int]:
    """The moderators' queue: a page of submissions, newest first, and how many there are."""
    with store.read() as connection:
        return sql.recent_submissions(connection, limit=limit, offset=offset)


def remove(store: Store, paper_id: str) -> bool:
    """Take a submission off the feed (moderators); False if there was no such submission."""
    with store.write() as connection:
        return sql.remove_submission(connection, paper_id)
