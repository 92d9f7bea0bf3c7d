"""API response shapes, following the Hugging Face papers API where it makes sense.

Field names are the HF ones (camelCase) so a client written for huggingface.co/api works
here unchanged (``huggingface_hub.HfApi(endpoint=...)`` is tested against it). What we do not
have is null (thumbnail) or false (isAuthorParticipating). Times are written the way Hugging
Face writes them, ``2026-06-11T00:00:00.000Z``: its client parses no other form.

The models are the schema (OpenAPI, and what the tests check answers against); lists of
items are written by :func:`items_json` as plain dicts straight to JSON, the same fields
and values (a test compares the two), because validating and dumping 50 models cost an
uncached ``/api/daily_papers`` more than reading its papers.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from typing import Annotated

from pydantic import BaseModel, PlainSerializer, WithJsonSchema
from pydantic_core import to_json

from dailypapers.feed.reader import FeedEntry
from dailypapers.memo import Memo


def hf_time(moment: datetime) -> str:
    """``moment`` (naive times are UTC, as the store keeps them) as ``...T00:00:00.000Z``."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    if moment.year >= 1000:  # the same text as strftime's below, a fifth of its cost
        return f"{moment.isoformat(timespec='milliseconds')}Z"
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


EXAMPLE_TIME = "2026-06-11T00:00:00.000Z"
# A time in the API: written as Hugging Face does, declared ``format: date-time``.
HfTime = Annotated[
    datetime,
    PlainSerializer(hf_time, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time", "example": EXAMPLE_TIME}),
]


class Author(BaseModel):
    name: str


class User(BaseModel):
    """The Hugging Face user who featured a paper: ``name`` is the user name (as in
    huggingface.co/NAME, also given as ``user`` the way HF's ``submittedOnDailyBy`` does),
    ``fullname`` the name shown."""

    fullname: str
    name: str
    user: str
    avatarUrl: str | None = None
    type: str | None = None


class Paper(BaseModel):
    id: str
    authors: list[Author]
    publishedAt: HfTime | None
    title: str
    summary: str
    upvotes: int
    githubRepo: str | None
    githubStars: int | None
    projectPage: str | None
    submittedOnDailyAt: HfTime | None
    submittedOnDailyBy: User | None


class DailyPaper(BaseModel):
    """An item of /api/daily_papers (and of search and similar results)."""

    paper: Paper
    publishedAt: HfTime | None
    title: str
    summary: str
    # We serve no thumbnails (arXiv has none to link to), so always null for now.
    thumbnail: str | None = None
    # Comments as last imported from Hugging Face (0 when none are known).
    numComments: int = 0
    submittedBy: User | None
    isAuthorParticipating: bool = False


class ErrorBody(BaseModel):
    status: int
    message: str
    # The message again under the key Hugging Face uses, which its client shows in errors.
    error: str


def _user(entry: FeedEntry) -> User | None:
    if not entry.featured_by:
        return None
    # Papers imported before user names were kept have only the full name: the best we know.
    name = entry.featured_by_user or entry.featured_by
    return User(
        fullname=entry.featured_by,
        name=name,
        user=name,
        avatarUrl=entry.featured_by_avatar,
        type=entry.featured_by_type,
    )


def _midnight(day: date | None) -> datetime | None:
    return datetime.combine(day, time()) if day else None


def published_at(entry: FeedEntry) -> datetime | None:
    """When arXiv got the paper; papers known only from a listing have no submission time,
    so their first listing day (their feed day) stands in for it, at midnight UTC."""
    return entry.submitted_at or _midnight(entry.day)


def featured_at(entry: FeedEntry) -> datetime | None:
    """``submittedOnDailyAt``: when a member submitted the paper here (to the millisecond,
    as Hugging Face gives it), else midnight (UTC) of the day it was featured (Hugging
    Face's imports carry only the day)."""
    submitted = entry.submitted_here_at
    if submitted is not None and entry.featured_on == submitted.date():
        return submitted
    return _midnight(entry.featured_on)


def paper_model(entry: FeedEntry) -> Paper:
    return Paper(
        id=entry.id,
        authors=[Author(name=name) for name in entry.authors],
        publishedAt=published_at(entry),
        title=entry.title,
        summary=entry.abstract,
        upvotes=entry.upvotes,  # imported plus this site's own
        githubRepo=entry.github_repo,
        githubStars=entry.github_stars,
        projectPage=entry.project_page,
        submittedOnDailyAt=featured_at(entry),
        submittedOnDailyBy=_user(entry),
    )


def daily_item(entry: FeedEntry) -> DailyPaper:
    return DailyPaper(
        paper=paper_model(entry),
        publishedAt=published_at(entry),
        title=entry.title,
        summary=entry.abstract,
        numComments=entry.num_comments,
        submittedBy=_user(entry),
    )


def _time_json(moment: datetime | None) -> str | None:
    return None if moment is None else hf_time(moment)


def _user_json(entry: FeedEntry) -> dict[str, object] | None:
    if not entry.featured_by:
        return None
    name = entry.featured_by_user or entry.featured_by
    return {
        "fullname": entry.featured_by,
        "name": name,
        "user": name,
        "avatarUrl": entry.featured_by_avatar,
        "type": entry.featured_by_type,
    }


def paper_json(entry: FeedEntry) -> dict[str, object]:
    """``paper_model(entry)`` as its JSON object, without the model."""
    return {
        "id": entry.id,
        "authors": [{"name": name} for name in entry.authors],
        "publishedAt": _time_json(published_at(entry)),
        "title": entry.title,
        "summary": entry.abstract,
        "upvotes": entry.upvotes,
        "githubRepo": entry.github_repo,
        "githubStars": entry.github_stars,
        "projectPage": entry.project_page,
        "submittedOnDailyAt": _time_json(featured_at(entry)),
        "submittedOnDailyBy": _user_json(entry),
    }


def daily_json(entry: FeedEntry) -> dict[str, object]:
    """``daily_item(entry)`` as its JSON object, without the model."""
    paper = paper_json(entry)
    return {
        "paper": paper,
        "publishedAt": paper["publishedAt"],
        "title": entry.title,
        "summary": entry.abstract,
        "thumbnail": None,
        "numComments": entry.num_comments,
        "submittedBy": paper["submittedOnDailyBy"],
        "isAuthorParticipating": False,
    }


# An entry's item is kept, keyed by the entry itself (every field, so never stale; entries
# read again unchanged are the same objects, see store/entries.py, so hashing them is cheap).
_items: Memo[FeedEntry, bytes] = Memo()


def items_json(entries: Iterable[FeedEntry]) -> bytes:
    """A JSON list of ``DailyPaper`` items, as FastAPI would write the models."""
    parts = []
    made = []
    for entry in entries:
        item = _items.get(entry)
        if item is None:
            item = to_json(daily_json(entry))
            made.append((entry, item))
        parts.append(item)
    _items.keep_all(made)
    return b"[" + b",".join(parts) + b"]"
