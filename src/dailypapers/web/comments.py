"""Comments over HTTP: the paper page's forms (``POST /papers/{id}/comments``, ``POST
/comments/{id}/edit`` and ``/delete``, a moderator's ``GET /comments/{id}/versions``) and
the API (``GET``/``POST /api/papers/{id}/comments``, ``PATCH``/``DELETE
/api/comments/{id}``), all over :mod:`dailypapers.discussion.comments`.

Forms work without JavaScript: a comment answers 303 to the paper page at ``#comment-ID``;
a refused one answers the page again with the error beside the form and the text kept
(status 4xx). The API takes a bearer token with write scope (or a session with
``X-CSRF-Token``) and answers JSON: the thread as a list in reading order (each top
comment, then its replies), each comment with its author in the shape of Hugging Face's
users, its Markdown ``text``, its sanitised ``html``, ``parent``, ``createdAt``, ``edited``.

A write made here drops the cached answers that show its paper at once
(:meth:`~dailypapers.web.vote_watch.VoteWatch.discussed`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import APIRouter, BackgroundTasks, Depends, Form, HTTPException, Request
from pydantic import BaseModel, Field
from pydantic_core import to_json
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, RedirectResponse, Response

from dailypapers.accounts import User
from dailypapers.discussion import comments as discussion
from dailypapers.discussion.comments import Comment, CommentError
from dailypapers.web import auth, personal
from dailypapers.web.comment_view import CommentForm
from dailypapers.web.deps import MAX_ROW_ID, RowId, canonical_id, store_of
from dailypapers.web.limits import client_ip, limiter_of
from dailypapers.web.models import ErrorBody, HfTime, hf_time
from dailypapers.web.models import User as HfUser
from dailypapers.web.pages.paper import paper_response
from dailypapers.web.templating import render
from dailypapers.web.vote_watch import papers_shown_again

pages = APIRouter(include_in_schema=False)
api = APIRouter(
    prefix="/api",
    tags=["comments"],
    responses={
        400: {"model": ErrorBody},
        401: {"model": ErrorBody},
        403: {"model": ErrorBody},
        404: {"model": ErrorBody},
        429: {"model": ErrorBody, "description": "too many comments; see Retry-After"},
    },
)

T = TypeVar("T")


class CommentOut(BaseModel):
    """A comment. ``text`` is its Markdown source, ``html`` its rendering (sanitised, math
    as MathML); both are empty for a deleted or hidden comment (kept as a placeholder while
    it has replies). ``author`` is null once the account is deleted."""

    id: int
    paperId: str
    author: HfUser | None
    text: str
    html: str
    parent: int | None
    createdAt: HfTime
    edited: bool
    editedAt: HfTime | None
    deleted: bool
    hidden: bool


class NewComment(BaseModel):
    text: str = Field(description="Markdown; LaTeX math between $...$ or $$...$$")
    parent: int | None = Field(
        None, ge=1, le=MAX_ROW_ID, description="the top comment this replies to"
    )


class CommentEdit(BaseModel):
    text: str


def _author(comment: Comment) -> HfUser | None:
    if comment.author_username is None or comment.deleted:
        return None
    name = comment.author_username
    return HfUser(fullname=comment.author_fullname or name, name=name, user=name, type="user")


def comment_json(comment: Comment) -> dict[str, object]:
    """``comment_out(comment)`` as its JSON object, without the model (a thread of hundreds
    is written straight from dicts, as ``web.models.items_json`` writes lists of papers)."""
    author = _author(comment)
    return {
        "id": comment.id,
        "paperId": comment.paper_id,
        "author": None if author is None else author.model_dump(),
        "text": comment.body,
        "html": comment.html,
        "parent": comment.parent_id,
        "createdAt": hf_time(comment.created_at),
        "edited": comment.edited,
        "editedAt": None if comment.edited_at is None else hf_time(comment.edited_at),
        "deleted": comment.deleted,
        "hidden": comment.hidden,
    }


def comment_out(comment: Comment) -> CommentOut:
    return CommentOut(
        id=comment.id,
        paperId=comment.paper_id,
        author=_author(comment),
        text=comment.body,
        html=comment.html,
        parent=comment.parent_id,
        createdAt=comment.created_at,
        edited=comment.edited,
        editedAt=comment.edited_at,
        deleted=comment.deleted,
        hidden=comment.hidden,
    )


async def form_user(request: Request) -> User:
    """The member of a form POST: signed in, with this session's CSRF token."""
    return await auth.require_writer(request)


async def api_user(request: Request) -> User:
    """The member of an API write: 401 without credentials, 403 for a read-scope token."""
    if auth.current_user(request) is None and "authorization" not in request.headers:
        raise HTTPException(
            401,
            "send a personal API token with write scope: Authorization: Bearer TOKEN",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return await auth.require_writer(request)


def _post(
    request: Request,
    user: User,
    paper_id: str,
    text: str,
    parent: int | None,
    *,
    at_once: bool = False,
    defer: Callable[[discussion.CommentEvent], None] | None = None,
) -> Comment:
    with papers_shown_again(request) as written:
        comment = discussion.post_comment(
            store_of(request),
            request.app.state.settings,
            user,
            paper_id,
            text,
            parent_id=parent,
            limiter=limiter_of(request),
            ip=client_ip(request),
            at_once=at_once,
            defer=defer,
        )
        written(comment.paper_id)
    return comment


# A POST that finds SQLite's write lock taken tries again on the loop this often, for at
# most this long, before it waits in a worker thread instead.
RETRY_PAUSE = 0.002
RETRY_FOR = 0.25


async def _post_soon(
    request: Request,
    user: User,
    paper_id: str,
    text: str,
    parent: int | None,
    later: BackgroundTasks,
) -> Comment:
    """:func:`_post` on the event loop when it need not wait (SQLite, its write lock free,
    the limits in the store, not a new account: whose own limit writes apart), as votes
    do (``web/votes.py``): in a worker thread a comment waited for the GIL behind the
    loop at each call into SQLite, and behind the pages rendered in the threads. The
    rendering (a millisecond or two) runs on the loop too. Otherwise in a thread.

    When another writer holds the lock (a notification, a vote in a thread), the POST
    tries again every ``RETRY_PAUSE`` seconds, the loop serving others meanwhile: in a
    thread it waited in SQLite's busy handler, which sleeps 25 to 100 ms between looks
    once a wait is long, and then for the GIL; those few POSTs were the whole p99 under
    load (120-370 ms against a p50 of 9 ms inside the server, ``benchmarks/comments.py``).

    The listeners (notifications: their own transaction, which may wait for the store)
    run in ``later``, once the answer is sent: awaited here in a worker thread, they made
    a POST wait its turn for the GIL behind the rendering threads at each SQLite call
    (p50 258 ms against 59 ms for a page under load, ``benchmarks/comments.py``)."""
    store, settings = store_of(request), request.app.state.settings
    quick = store.is_sqlite and limiter_of(request).in_store
    if quick and not discussion.is_new_account(user, settings):
        give_up = time.monotonic() + RETRY_FOR
        while True:
            events: list[discussion.CommentEvent] = []
            try:
                comment = _post(
                    request, user, paper_id, text, parent, at_once=True, defer=events.append
                )
            except discussion.WriterBusy:
                if time.monotonic() >= give_up:
                    break
                await asyncio.sleep(RETRY_PAUSE)
                continue
            for event in events:
                later.add_task(discussion.announce, store, event)
            return comment
    return await run_in_threadpool(_post, request, user, paper_id, text, parent)


def _edit(request: Request, user: User, comment_id: int, text: str) -> Comment:
    with papers_shown_again(request) as written:
        comment = discussion.edit_comment(
            store_of(request), request.app.state.settings, user, comment_id, text
        )
        written(comment.paper_id)
    return comment


def _delete(request: Request, user: User, comment_id: int) -> Comment:
    with papers_shown_again(request) as written:
        comment = discussion.delete_comment(store_of(request), user, comment_id)
        written(comment.paper_id)
    return comment


def _api_call(call: Callable[[], T]) -> T:
    try:
        return call()
    except CommentError as error:
        raise HTTPException(error.status, str(error)) from None


# -- the API ---------------------------------------------------------------------------------


@api.get("/papers/{paper_id:path}/comments", response_model=list[CommentOut])
def api_thread(request: Request, paper_id: str) -> Response:
    """A paper's comments in reading order: each top comment, then its replies."""
    paper_id = canonical_id(paper_id)
    personal.record_papers(request.scope.setdefault("state", {}), [paper_id])
    store = store_of(request)
    if not discussion.paper_exists(store, paper_id):
        raise HTTPException(404, f"no paper {paper_id[:80]!r} here")
    user = auth.current_user(request)
    moderator = user is not None and user.has_role("moderator")
    answer: list[dict[str, object]] = []
    for top in discussion.thread(store, paper_id, moderator=moderator):
        answer.append(comment_json(top))
        answer.extend(comment_json(reply) for reply in top.replies)
    return Response(to_json(answer), media_type="application/json")


@api.post("/papers/{paper_id:path}/comments", status_code=201, response_model=CommentOut)
async def api_post(
    request: Request,
    paper_id: str,
    body: NewComment,
    user: Annotated[User, Depends(api_user)],
    later: BackgroundTasks,
) -> CommentOut:
    """Comment on a paper (``parent``: reply to a top comment); 201 with the comment (the
    notifications it makes follow just after the answer)."""
    paper = canonical_id(paper_id)
    try:
        comment = await _post_soon(request, user, paper, body.text, body.parent, later)
    except CommentError as error:
        raise HTTPException(error.status, str(error)) from None
    return comment_out(comment)


@api.patch("/comments/{comment_id}", response_model=CommentOut)
def api_edit(
    request: Request,
    comment_id: RowId,
    body: CommentEdit,
    user: Annotated[User, Depends(api_user)],
) -> CommentOut:
    """Change a comment's text (its author or a moderator): it shows "edited"."""
    return comment_out(_api_call(lambda: _edit(request, user, comment_id, body.text)))


@api.delete("/comments/{comment_id}", response_model=CommentOut)
def api_delete(
    request: Request, comment_id: RowId, user: Annotated[User, Depends(api_user)]
) -> CommentOut:
    """Delete a comment (its author or a moderator); its replies stay, under a placeholder."""
    return comment_out(_api_call(lambda: _delete(request, user, comment_id)))


# -- the page's forms ------------------------------------------------------------------------

TextField = Annotated[str, Form(max_length=100_000)]


def _to_comment(comment: Comment) -> RedirectResponse:
    return RedirectResponse(f"/papers/{comment.paper_id}#comment-{comment.id}", 303)


def _parent(value: str) -> int | None:
    if not value.strip():
        return None
    if not value.strip().isdigit() or int(value) > MAX_ROW_ID:
        raise CommentError("the comment to reply to is not a comment id", field="parent")
    return int(value)


@pages.post("/papers/{paper_id:path}/comments")
def comment_form(
    request: Request,
    paper_id: str,
    user: Annotated[User, Depends(form_user)],
    text: TextField = "",
    parent: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """A new comment or reply from the paper page; 303 back to it at the comment."""
    paper = canonical_id(paper_id)
    parent_id: int | None = None
    try:
        parent_id = _parent(parent)
        return _to_comment(_post(request, user, paper, text, parent_id))
    except CommentError as error:
        if isinstance(error, discussion.UnknownPaper):
            raise HTTPException(404, str(error)) from None
        form = CommentForm(text, str(error), parent_id=parent_id)
        return paper_response(request, paper, form, status_code=error.status)


def _comment_or_404(request: Request, comment_id: RowId, user: User) -> Comment:
    found = discussion.comment_by_id(
        store_of(request), comment_id, moderator=user.has_role("moderator")
    )
    if found is None:
        raise HTTPException(404, f"no comment {comment_id}")
    return found


@pages.post("/comments/{comment_id}/edit")
def edit_form(
    request: Request,
    comment_id: RowId,
    user: Annotated[User, Depends(form_user)],
    text: TextField = "",
) -> Response:
    """The edit of a comment from the paper page; 303 back to it."""
    try:
        return _to_comment(_edit(request, user, comment_id, text))
    except CommentError as error:
        if error.status != 400:
            raise HTTPException(error.status, str(error)) from None
        comment = _comment_or_404(request, comment_id, user)
        form = CommentForm(text, str(error), edit_id=comment_id)
        return paper_response(request, comment.paper_id, form, status_code=error.status)


@pages.post("/comments/{comment_id}/delete")
def delete_form(
    request: Request, comment_id: RowId, user: Annotated[User, Depends(form_user)]
) -> Response:
    """Delete a comment from the paper page; 303 back to where it was."""
    try:
        return _to_comment(_delete(request, user, comment_id))
    except CommentError as error:
        raise HTTPException(error.status, str(error)) from None


@pages.get("/comments/{comment_id}/versions")
def versions_page(
    request: Request,
    comment_id: RowId,
    user: Annotated[User, Depends(auth.require_role("moderator"))],
) -> Response:
    """A comment's earlier texts, for moderators."""
    comment = _comment_or_404(request, comment_id, user)
    context = {
        "title": f"Comment {comment_id}: earlier versions",
        "comment": comment,
        "versions": discussion.comment_versions(store_of(request), comment_id),
    }
    return render(request, "comment_versions.html", context)


@api.get("/comments/{comment_id}/versions", include_in_schema=False)
def api_versions(
    request: Request,
    comment_id: RowId,
    user: Annotated[User, Depends(auth.require_role("moderator"))],
) -> JSONResponse:
    """A comment's earlier texts (moderators)."""
    _comment_or_404(request, comment_id, user)
    versions = discussion.comment_versions(store_of(request), comment_id)
    return JSONResponse(
        [{"text": v.body, "writtenAt": v.written_at.isoformat() + "Z"} for v in versions]
    )
