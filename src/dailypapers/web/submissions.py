"""Submitting papers: the daily page's form (``POST /submit``) and the API
(``POST /api/papers/submit``, body ``{"paper_id": ..., "comment": ...}`` as Hugging Face
takes it), both over :mod:`dailypapers.community.submissions`; and a moderator's removal
(``POST /papers/{id}/remove-submission``).

The form answers 303 to today's feed with the outcome in the query (``?submitted=ID`` or
``?submit_error=...``), which the daily page shows; the API answers JSON with the paper, its
day and whether it was new, or a 4xx/503 ``{status, message}`` that says why not.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from pydantic import BaseModel, Field
from starlette.responses import RedirectResponse, Response

from dailypapers.community.submissions import (
    ArxivUnreachable,
    SubmissionRefused,
    Submitted,
    Submitter,
    remove,
    submit,
)
from dailypapers.web.deps import canonical_id, settings_of, store_of
from dailypapers.web.member import Member, api_writer, check_limit, form_writer
from dailypapers.web.models import ErrorBody
from dailypapers.web.vote_watch import VoteWatch

pages = APIRouter(include_in_schema=False)
api = APIRouter(
    prefix="/api",
    tags=["submissions"],
    responses={
        400: {"model": ErrorBody, "description": "a body that is not JSON"},
        401: {"model": ErrorBody},
        403: {"model": ErrorBody},
        404: {"model": ErrorBody},
        429: {"model": ErrorBody},
        503: {"model": ErrorBody},
    },
)


class SubmitBody(BaseModel):
    paper_id: str = Field(min_length=1, max_length=300, description="arXiv id or URL")
    comment: str | None = Field(None, max_length=10_000, description="an optional note")


class SubmitAnswer(BaseModel):
    """What a submission did: ``new`` (on ``day``'s feed now) or the paper was featured
    already and the caller's upvote was added; the paper's upvotes after it."""

    paperId: str
    title: str
    day: date | None
    new: bool
    upvotes: int
    message: str


def _submitter(member: Member) -> Submitter:
    if member.suspended:
        raise HTTPException(403, "a suspended account cannot submit papers")
    return Submitter(member.id, member.username, member.fullname, member.confirmed)


def _submit(request: Request, member: Member, paper: str, note: str | None) -> Submitted:
    settings = settings_of(request)
    submitter = _submitter(member)
    check_limit(request, "submission", member)
    watch: VoteWatch | None = getattr(request.app.state, "vote_watch", None)
    try:
        if watch is None:
            return submit(store_of(request), settings, submitter, paper, note)
        with watch.voting():  # a submission upvotes: cached pages show it as a vote does
            done = submit(store_of(request), settings, submitter, paper, note)
            watch.voted(done.paper_id, member.id, True, done.vote.upvotes)
            return done
    except SubmissionRefused as error:
        raise HTTPException(error.status, str(error)) from None
    except ArxivUnreachable as error:
        raise HTTPException(503, str(error)) from None


@api.post("/papers/submit", response_model=SubmitAnswer)
def api_submit(
    request: Request, body: SubmitBody, member: Annotated[Member, Depends(api_writer)]
) -> SubmitAnswer:
    """Submit a paper to today's feed (a bearer token with write scope, a confirmed email)."""
    done = _submit(request, member, body.paper_id, body.comment)
    return SubmitAnswer(
        paperId=done.paper_id,
        title=done.title,
        day=done.day,
        new=done.new,
        upvotes=done.vote.upvotes,
        message=done.message,
    )


@pages.post("/submit")
def submit_form(
    request: Request,
    member: Annotated[Member, Depends(form_writer)],
    paper: Annotated[str, Form(max_length=300)] = "",
    note: Annotated[str, Form(max_length=10_000)] = "",
) -> Response:
    """The daily page's form: back to the feed with the outcome (or the reason) to show."""
    try:
        done = _submit(request, member, paper, note or None)
    except HTTPException as error:
        if error.status_code in (401, 403):
            raise
        query = urlencode({"submit_error": str(error.detail)[:300]})
        return RedirectResponse(f"/?{query}#submit", 303)
    target = f"/date/{done.day.isoformat()}" if done.day else "/"
    query = urlencode({"submitted": done.paper_id, "new": "1" if done.new else "0"})
    return RedirectResponse(f"{target}?{query}#submit", 303)


@pages.post("/papers/{paper_id:path}/remove-submission")
def remove_form(
    request: Request, paper_id: str, member: Annotated[Member, Depends(form_writer)]
) -> Response:
    """A moderator takes a submission off the feed."""
    if not member.moderator:
        raise HTTPException(403, "only moderators remove submissions")
    if not remove(store_of(request), canonical_id(paper_id)):
        raise HTTPException(404, f"{paper_id[:80]!r} was not submitted here")
    return RedirectResponse("/", 303)
