"""API response shapes, following the Hugging Face papers API where it makes sense.

Field names are the HF ones (camelCase) so a client written for huggingface.co/api works
here unchanged. What we do not have is null (thumbnail) or false (isAuthorParticipating).
"""

from __future__ import annotations

from datetime import date, datetime, time

from pydantic import BaseModel

from dailypapers.feed.reader import FeedEntry


class Author(BaseModel):
    name: str


class User(BaseModel):
    """HF gives a full user object; we keep the name shown for it."""

    fullname: str
    name: str


class Paper(BaseModel):
    id: str
    authors: list[Author]
    publishedAt: datetime | None
    title: str
    summary: str
    upvotes: int
    githubRepo: str | None
    githubStars: int | None
    projectPage: str | None
    submittedOnDailyAt: datetime | None
    submittedOnDailyBy: User | None


class DailyPaper(BaseModel):
    """An item of /api/daily_papers (and of search and similar results)."""

    paper: Paper
    publishedAt: datetime | None
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


def _user(name: str | None) -> User | None:
    return User(fullname=name, name=name) if name else None


def _midnight(day: date | None) -> datetime | None:
    return datetime.combine(day, time()) if day else None


def paper_model(entry: FeedEntry) -> Paper:
    return Paper(
        id=entry.id,
        authors=[Author(name=name) for name in entry.authors],
        publishedAt=entry.submitted_at,
        title=entry.title,
        summary=entry.abstract,
        upvotes=entry.hf_upvotes,
        githubRepo=entry.github_repo,
        githubStars=entry.github_stars,
        projectPage=entry.project_page,
        submittedOnDailyAt=_midnight(entry.featured_on),
        submittedOnDailyBy=_user(entry.featured_by),
    )


def daily_item(entry: FeedEntry) -> DailyPaper:
    return DailyPaper(
        paper=paper_model(entry),
        publishedAt=entry.submitted_at,
        title=entry.title,
        summary=entry.abstract,
        numComments=entry.num_comments,
        submittedBy=_user(entry.featured_by),
    )
