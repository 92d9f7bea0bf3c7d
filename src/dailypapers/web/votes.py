"""Upvoting: the cards' form (``POST /papers/{id}/upvote``) and the API
(``POST``/``DELETE /api/papers/{id}/upvote``), both over :mod:`dailypapers.community.votes`.

The form (a card's button posting its page's member form, web/cards.py ``page_form``) carries
the CSRF token, the state wanted (``upvoted=1`` or ``0``, so a double click asks for the same
state twice and changes nothing) and the way back (``next``, a path on this site: the page,
to which the card's anchor is added). Without JavaScript it answers 303 there; ``static/
upvote.js`` sends it with ``Accept: application/json`` and gets the new state instead. The API
takes a bearer token with write scope and answers ``{"upvotes": N, "upvoted": true}``.

:func:`page_voter` is what pages call for a signed-in member: which of the page's papers
they upvoted, one query, beside the page everyone sees.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Annotated
from urllib.parse import quote, unquote_plus, urlencode

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from dailypapers.accounts.limits import RateLimiter
from dailypapers.community.votes import (
    UnknownPaper,
    VoteState,
    WriterBusy,
    checkpoint,
    set_upvote,
)
from dailypapers.feed.reader import FeedEntry, Reader, Store
from dailypapers.web import auth, personal
from dailypapers.web.cards import Voter, back_to_card
from dailypapers.web.deps import canonical_id, reader, store_of
from dailypapers.web.limits import client_ip
from dailypapers.web.member import (
    Member,
    api_writer,
    check_vote_limit,
    csrf_token,
    form_writer,
    member_of,
    signed_in,
)
from dailypapers.web.member_pages import marks_now
from dailypapers.web.models import ErrorBody
from dailypapers.web.routing import DirectForm, read_body, replayed
from dailypapers.web.vote_watch import VoteWatch

pages = APIRouter(include_in_schema=False)
api = APIRouter(
    prefix="/api",
    tags=["upvotes"],
    responses={
        401: {"model": ErrorBody},
        403: {"model": ErrorBody},
        404: {"model": ErrorBody},
        429: {"model": ErrorBody, "description": "too many votes; see Retry-After"},
    },
)


class UpvoteState(BaseModel):
    """A paper's upvotes after a vote: the count shown (imported plus this site's own) and
    whether the caller has upvoted it."""

    paperId: str
    upvotes: int
    upvoted: bool


def _state(state: VoteState) -> UpvoteState:
    return UpvoteState(paperId=state.paper_id, upvotes=state.upvotes, upvoted=state.upvoted)


@dataclass(frozen=True, slots=True)
class Voting:
    """What a vote needs of the app: its store, its rate limiter and its vote watch (None
    without the response cache), read from ``app.state`` once (each read is a call of its
    ``__getattr__``)."""

    store: Store
    limiter: RateLimiter
    watch: VoteWatch | None


def voting_of(app: Starlette) -> Voting:
    state = app.state
    return Voting(state.store, state.limiter, getattr(state, "vote_watch", None))


def _vote(
    voting: Voting, ip: str, member: Member, paper_id: str, upvoted: bool, at_once: bool = False
) -> VoteState:
    """The vote of ``member`` from address ``ip``, its limit counted in its own write
    transaction (one commit, not two)."""
    if member.suspended:
        raise HTTPException(403, "a suspended account cannot vote")
    paper_id = canonical_id(paper_id)
    store, watch = voting.store, voting.watch
    limit = partial(check_vote_limit, voting.limiter, ip, member.id)
    try:
        if watch is None:
            return set_upvote(store, member.id, paper_id, upvoted, first=limit, at_once=at_once)
        with watch.voting():
            state = set_upvote(
                store, member.id, paper_id, upvoted, first=limit, stamp=True, at_once=at_once
            )
            # The cached pages showing it show its new count, and the member their vote.
            watch.voted(state.paper_id, member.id, upvoted, state.upvotes, state.stamp, state.day)
            return state
    except UnknownPaper as error:
        raise HTTPException(404, str(error)) from None


CHECKPOINT_EVERY = 256  # votes on the event loop between checkpoints of the WAL
_votes = itertools.count(1)
_checkpoints: set[asyncio.Future[None]] = set()


async def vote_soon(
    voting: Voting, ip: str, member: Member, paper_id: str, upvoted: bool
) -> VoteState:
    """:func:`_vote`, on the event loop when it cannot wait: SQLite with no other writer
    holding the lock and the rate limits in the store. A thread would wait for the GIL
    behind the loop serving pages at each of the vote's calls into SQLite (about a
    millisecond of work took tens under load); on the loop it takes that millisecond. Its
    commit leaves the WAL's checkpoint to a thread, every ``CHECKPOINT_EVERY`` votes. Any
    other vote runs in a thread as every other write does."""
    store = voting.store
    if store.is_sqlite and voting.limiter.in_store:
        try:
            state = _vote(voting, ip, member, paper_id, upvoted, True)
        except WriterBusy:
            pass
        else:
            if next(_votes) % CHECKPOINT_EVERY == 0:
                # Not awaited: no vote waits for it (the set keeps it until it is done).
                done = asyncio.get_running_loop().run_in_executor(None, checkpoint, store)
                _checkpoints.add(done)
                done.add_done_callback(_checkpoints.discard)
            return state
    return await run_in_threadpool(_vote, voting, ip, member, paper_id, upvoted)


async def _request_vote(
    request: Request, member: Member, paper_id: str, upvoted: bool
) -> VoteState:
    """:func:`vote_soon` of a route's request."""
    return await vote_soon(voting_of(request.app), client_ip(request), member, paper_id, upvoted)


def _local(path: str, fallback: str) -> str:
    """``path`` if it is a path on this site (never another host: no open redirect)."""
    if path.startswith("/") and not path.startswith(("//", "/\\")):
        return path
    return fallback


def page_voter(request: Request, read: Reader, ids: Sequence[str]) -> Voter | None:
    """The signed-in member's view of a page's papers ``ids``; None for nobody signed in."""
    state = request.scope.setdefault("state", {})
    personal.record_papers(state, ids)
    member = signed_in(request)
    if member is None:
        return None
    # The way back drops the outcome of a submission, shown once.
    query = [(k, v) for k, v in request.query_params.multi_items() if k not in NOTICE_KEYS]
    back = quote(request.url.path) + (f"?{urlencode(query)}" if query else "")
    if personal.in_template(state):  # the same for every member: their votes come later
        return Voter(frozenset(), csrf_token(request), back, bool(state[personal.TEMPLATE_KEY]))
    upvoted = read.upvoted_among(member.id, ids) if ids else frozenset()
    saved, hidden = marks_now(store_of(request), request.app.state.member_marks, member.id)
    return Voter(upvoted, csrf_token(request), back, member.moderator, saved, hidden)


def community_context(
    request: Request, read: Reader, entries: Sequence[FeedEntry], also: Sequence[str] = ()
) -> dict[str, object]:
    """What a page of ``entries`` (and papers ``also``) adds for the community: the
    entries' submitters' notes (the same for everyone) and the signed-in member's votes
    among them all."""
    ids = [entry.id for entry in entries] + list(also)
    return {
        "voter": page_voter(request, read, ids),
        # Read with the entries: a page needs no query for them.
        "submission_notes": {e.id: e.note for e in entries if e.note is not None},
    }


PROFILE_PAPERS = 50  # the newest submissions and upvotes a profile lists


def profile_papers(request: Request, user_id: int, upvotes_public: bool) -> dict[str, object]:
    """What ``/users/{name}`` lists: the member's submitted papers, and the papers they
    upvoted when they made their upvotes public (None otherwise), as cards."""
    with reader(request) as read:
        submitted = read.submitted_by(user_id, limit=PROFILE_PAPERS)
        upvoted = read.upvoted_by(user_id, limit=PROFILE_PAPERS) if upvotes_public else None
        community = community_context(request, read, [*submitted, *(upvoted or [])])
    return {"submitted": submitted, "upvoted": upvoted, **community}


@dataclass(frozen=True)
class SubmissionNotice:
    """The outcome of a submission the daily page shows once (from the form's redirect)."""

    paper_id: str | None
    new: bool
    error: str | None


NOTICE_KEYS = ("submitted", "new", "submit_error")


def submission_notice(request: Request) -> SubmissionNotice | None:
    params = request.query_params
    error, paper = params.get("submit_error"), params.get("submitted")
    if not error and not paper:
        return None
    return SubmissionNotice(paper[:100] if paper else None, params.get("new") == "1", error)


NEXT_LENGTH = 2000  # the longest way back a vote form may carry


@pages.post("/papers/{paper_id:path}/upvote")
async def upvote_form(
    request: Request,
    paper_id: str,
    member: Annotated[Member, Depends(form_writer)],
    upvoted: Annotated[str, Form(pattern="^[01]$")] = "1",
    next: Annotated[str, Form(max_length=NEXT_LENGTH)] = "",
) -> Response:
    """Upvote (``upvoted=1``) or take the upvote back (``0``), then back to ``next``."""
    state = await _request_vote(request, member, paper_id, upvoted == "1")
    return _form_answer(request, state, next)


def _form_answer(request: Request, state: VoteState, next: str) -> Response:
    """The vote form's answer: the new state as JSON for ``upvote.js``, else 303 to ``next``
    (the page, from its member form) at the paper's card."""
    if "application/json" in request.headers.get("accept", ""):
        return Response(json_state(state), media_type="application/json")
    return RedirectResponse(
        _local(back_to_card(next, state.paper_id), f"/papers/{state.paper_id}"), 303
    )


# json.dumps(text, ensure_ascii=False), without the encoder it makes at each call.
_json_text = json.JSONEncoder(ensure_ascii=False).encode


def json_state(state: VoteState) -> bytes:
    """UpvoteState's fields as JSONResponse writes them (compact, UTF-8), without a model
    or a dict to dump: every vote answers."""
    paper = _json_text(state.paper_id)
    upvoted = "true" if state.upvoted else "false"
    return f'{{"paperId":{paper},"upvotes":{state.upvotes},"upvoted":{upvoted}}}'.encode()


async def _send_form_answer(
    request: Request, send: Send, accept: bytes, state: VoteState, next: str
) -> None:
    """:func:`_form_answer` sent as it sends it, the JSON one (``upvote.js``'s, nearly every
    vote) as the two messages Starlette's ``Response`` sends, without making one (its
    headers' encoding was about 2 % of a vote)."""
    if not wants_json(accept):
        await _form_answer(request, state, next)(request.scope, request.receive, send)
        return
    body = json_state(state)
    headers = [(b"content-length", str(len(body)).encode()), JSON_TYPE]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


JSON_TYPE = (b"content-type", b"application/json")


def wants_json(accept: bytes) -> bool:
    """Whether the vote form's ``Accept`` header asks for the JSON state, as
    :func:`_form_answer` reads it from Starlette's headers."""
    return "application/json" in accept.decode("latin-1")


_FORM_TYPE = b"application/x-www-form-urlencoded"
_FORM_FIELDS = frozenset({auth.CSRF_FIELD, "upvoted", "next"})


def plain_vote_form(scope: Scope) -> bytes | None:
    """Whether a POST's headers are the vote form's as the cards and ``upvote.js`` send it:
    urlencoded, the CSRF token in the body, no API token; then its ``Accept`` header (empty
    if none), else None."""
    kind, accept = b"", None
    for name, value in scope["headers"]:
        if name in (b"authorization", _CSRF_HEADER):
            return None
        if name == b"content-type":
            kind = value
        elif name == b"accept" and accept is None:  # the first, as Starlette's headers read
            accept = value
    return (accept or b"") if kind == _FORM_TYPE else None


_CSRF_HEADER = auth.CSRF_HEADER.lower().encode()


def _unquoted(part: str) -> str:
    """``unquote_plus`` of an ASCII name or value; as it is when nothing in it is quoted."""
    return unquote_plus(part) if "%" in part or "+" in part else part


def form_fields(body: bytes) -> dict[str, str] | None:
    """The vote form's fields as Starlette reads them (``unquote_plus`` of each name and
    value), when the body holds each of them once with a value the route takes as it is;
    else None (the router reads it, and answers what is missing or wrong). Read as text:
    ``bytes in bytes`` first tries the needle as an integer and formats the error it
    raises, a dozen times a vote."""
    if not body.isascii():
        return None
    text = body.decode("ascii")
    if ";" in text:  # python-multipart splits at ";" as well
        return None
    parts = text.split("&")
    if len(parts) != len(_FORM_FIELDS):  # one of each, no repeated field
        return None
    fields: dict[str, str] = {}
    for part in parts:
        name, equals, value = part.partition("=")
        if not equals:
            return None
        fields[_unquoted(name)] = _unquoted(value)
    if (
        fields.keys() != _FORM_FIELDS
        or fields["upvoted"] not in ("0", "1")
        or not fields["next"]
        or len(fields["next"]) > NEXT_LENGTH
    ):
        return None
    return fields


# The scope's key of a vote that ``web/vote_front.py`` made and that failed: the layers
# answer it, the form raising it where it would have voted.
FAILED_VOTE = "dailypapers.failed_vote"


async def upvote_form_direct(
    match: re.Match[str], scope: Scope, receive: Receive, send: Send, routed: ASGIApp
) -> None:
    """:func:`upvote_form` without FastAPI's matching, dependencies and form parsing, for
    the form as the cards send it (they took a third of a vote's CPU, 0.9 of 2.8 ms): the
    same checks in the same order (CSRF, then the session) and the same answers; any other
    request, or one whose body is not that form's, goes to the router
    (``routing.DirectForm``)."""
    accept = plain_vote_form(scope)
    if accept is None:
        await routed(scope, receive, send)
        return
    body = await read_body(receive)
    if body is None:  # the client left before sending it all: nobody to answer
        return
    fields = form_fields(body)
    if fields is None:
        await routed(scope, replayed(body, receive), send)
        return
    scope["endpoint"] = upvote_form
    request = Request(scope, replayed(body, receive), send)
    auth.require_csrf(request, fields[auth.CSRF_FIELD])
    member = member_of(auth.require_user(request))
    failed = scope.pop(FAILED_VOTE, None)
    if failed is not None:  # made in front of the layers (web/vote_front.py): answered here
        raise failed
    state = await _request_vote(request, member, match["paper_id"], fields["upvoted"] == "1")
    await _send_form_answer(request, send, accept, state, fields["next"])


VOTE_PATH = re.compile("/papers/(?P<paper_id>.+)/upvote")  # the form's path, matched whole
FORMS = (DirectForm("papers", VOTE_PATH, upvote_form_direct),)


@api.post("/papers/{paper_id:path}/upvote", response_model=UpvoteState)
async def api_upvote(
    request: Request, paper_id: str, member: Annotated[Member, Depends(api_writer)]
) -> UpvoteState:
    """Upvote a paper (again: nothing changes); needs a bearer token with write scope."""
    return _state(await _request_vote(request, member, paper_id, True))


@api.delete("/papers/{paper_id:path}/upvote", response_model=UpvoteState)
async def api_take_back(
    request: Request, paper_id: str, member: Annotated[Member, Depends(api_writer)]
) -> UpvoteState:
    """Take back an upvote (none: nothing changes); needs a bearer token with write scope."""
    return _state(await _request_vote(request, member, paper_id, False))
