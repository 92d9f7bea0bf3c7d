"""The moderators' pages: an index, the reports' queue, submissions, users, the audit log.

- ``GET /moderation``: links to every queue (moderators and admins; everyone else 403).
- ``POST /comments/{id}/report`` (any member, field ``reason``): files a report and answers
  303 back to the comment.
- ``GET /moderation/reports`` (``?p=`` pages): open reports, oldest first, each with the
  comment, its author, the reporter and the reason; ``POST /moderation/comments/{id}/hide``
  and ``.../unhide`` (field ``reason``, required), ``POST /moderation/reports/{id}/dismiss``.
- ``GET /moderation/submissions`` (``?p=`` pages of :data:`PAGE_SIZE`): the papers members
  submitted, newest first; ``POST /moderation/submissions/{paper_id}/remove`` takes one off
  the feed and answers 303 back to the queue, which says what was removed.
- ``GET /moderation/users`` (``?name=``): a user's state, with the form to suspend or
  restore them (``POST /moderation/users/{name}/suspend|restore``, field ``reason``).
- ``GET /moderation/log`` (``?p=``): the audit log, newest first, to admins only.

Every POST takes the CSRF token (:func:`~dailypapers.web.auth.require_writer`); the rules
and the audit entries are :mod:`dailypapers.discussion.moderation`. The authorship claims'
queue is :mod:`dailypapers.web.pages.claims`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException

from dailypapers.accounts import service as accounts
from dailypapers.accounts.models import User
from dailypapers.community import submissions
from dailypapers.discussion import moderation
from dailypapers.web.auth import require_role, require_writer
from dailypapers.web.deps import RowId, canonical_id, store_of
from dailypapers.web.templating import render

router = APIRouter()
PAGE_SIZE = 50
MAX_PAGE = 10_000
Reason = Annotated[str, Form(max_length=moderation.MAX_REASON)]
Moderator = Annotated[User, Depends(require_role("moderator"))]
Page = Annotated[int, Query(ge=0, le=MAX_PAGE)]


def _pages(total: int) -> int:
    return max(1, -(-total // PAGE_SIZE))


def _moderating(user: User) -> User:
    if not user.has_role("moderator"):
        raise HTTPException(403, "only moderators do that")
    return user


@contextmanager
def _refusals() -> Iterator[None]:
    """What the moderation rules refuse (:class:`~dailypapers.discussion.moderation.
    ModerationError`) becomes the HTTP error it names, with its message."""
    try:
        yield
    except moderation.ModerationError as refused:
        raise HTTPException(refused.status, str(refused)) from None


def _see_other(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


@router.get("/moderation")
def index(request: Request, user: Moderator) -> Response:
    with_counts = moderation.open_reports(store_of(request), limit=0, offset=0)
    context = {"title": "Moderation", "open_reports": with_counts[1]}
    return render(request, "moderation_index.html", context)


# Reports and comments ----------------------------------------------------------------------


@router.post("/comments/{comment_id}/report")
def report(
    request: Request,
    comment_id: RowId,
    user: Annotated[User, Depends(require_writer)],
    reason: Reason,
) -> Response:
    with _refusals():
        filed = moderation.report(store_of(request), user, comment_id, reason)
    return _see_other(f"/papers/{filed.paper_id}?reported=1#comment-{comment_id}")


@router.get("/moderation/reports")
def reports(
    request: Request,
    user: Moderator,
    p: Page = 0,
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    listed, total = moderation.open_reports(
        store_of(request), limit=PAGE_SIZE, offset=p * PAGE_SIZE
    )
    context = {
        "title": "Reported comments",
        "reports": listed,
        "total": total,
        "page": p,
        "pages": _pages(total),
        "done": DONE.get(done or ""),
    }
    return render(request, "moderation_reports.html", context)


DONE = {
    "hidden": "The comment is hidden; its reports are closed.",
    "unhidden": "The comment is shown again.",
    "dismissed": "The report is dismissed.",
}


@router.post("/moderation/comments/{comment_id}/hide")
def hide(
    request: Request,
    comment_id: RowId,
    user: Annotated[User, Depends(require_writer)],
    reason: Reason = "",
) -> Response:
    with _refusals():
        moderation.hide(store_of(request), _moderating(user), comment_id, reason)
    return _see_other("/moderation/reports?done=hidden")


@router.post("/moderation/comments/{comment_id}/unhide")
def unhide(
    request: Request,
    comment_id: RowId,
    user: Annotated[User, Depends(require_writer)],
    reason: Reason = "",
) -> Response:
    with _refusals():
        paper_id = moderation.unhide(store_of(request), _moderating(user), comment_id, reason)
    return _see_other(f"/papers/{paper_id}#comment-{comment_id}")


@router.post("/moderation/reports/{report_id}/dismiss")
def dismiss(
    request: Request,
    report_id: RowId,
    user: Annotated[User, Depends(require_writer)],
    reason: Reason = "",
) -> Response:
    with _refusals():
        moderation.dismiss(store_of(request), _moderating(user), report_id, reason)
    return _see_other("/moderation/reports?done=dismissed")


# Submissions --------------------------------------------------------------------------------


@router.get("/moderation/submissions")
def queue(
    request: Request,
    user: Moderator,
    p: Page = 0,
    removed: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    listed, total = submissions.recent(store_of(request), limit=PAGE_SIZE, offset=p * PAGE_SIZE)
    context = {
        "title": "Submissions",
        "submissions": listed,
        "total": total,
        "page": p,
        "pages": _pages(total),
        "removed": removed,
    }
    return render(request, "moderation_submissions.html", context)


@router.post("/moderation/submissions/{paper_id:path}/remove")
def remove(
    request: Request,
    paper_id: str,
    user: Annotated[User, Depends(require_writer)],
    reason: Reason = "",
) -> Response:
    paper_id = canonical_id(paper_id)
    with _refusals():
        moderation.remove_submission(store_of(request), _moderating(user), paper_id, reason)
    return _see_other(f"/moderation/submissions?removed={paper_id}")


# Users --------------------------------------------------------------------------------------


@router.get("/moderation/users")
def users(
    request: Request,
    user: Moderator,
    name: Annotated[str, Query(max_length=40)] = "",
    done: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    found = accounts.find_user(store_of(request), name.strip()) if name.strip() else None
    context = {
        "title": "Users",
        "name": name,
        "found": found,
        "missing": bool(name.strip()) and found is None,
        "done": done if done in ("suspended", "restored") else None,
        "suspended": moderation.suspended_users(store_of(request)),
    }
    return render(request, "moderation_users.html", context)


@router.post("/moderation/users/{name}/{action}")
def suspend_or_restore(
    request: Request,
    name: str,
    action: str,
    user: Annotated[User, Depends(require_writer)],
    reason: Reason = "",
) -> Response:
    if action not in ("suspend", "restore"):
        raise HTTPException(404, "no such action: suspend or restore")
    store = store_of(request)
    target = accounts.find_user(store, name)
    if target is None:
        raise HTTPException(404, f"no user {name[:40]!r}")
    with _refusals():
        moderation.set_suspended(store, _moderating(user), target, action == "suspend", reason)
    sessions = getattr(request.app.state, "sessions", None)
    if sessions is not None:  # cached pages stop knowing the suspended member at once
        sessions.forget(user_id=target.id)
    done = "suspended" if action == "suspend" else "restored"
    return _see_other(f"/moderation/users?name={target.username}&done={done}")


# The audit log ------------------------------------------------------------------------------


@router.get("/moderation/log")
def audit_log(
    request: Request, user: Annotated[User, Depends(require_role("admin"))], p: Page = 0
) -> Response:
    with _refusals():
        entries, total = moderation.audit_page(
            store_of(request), user, limit=PAGE_SIZE, offset=p * PAGE_SIZE
        )
    context = {
        "title": "Audit log",
        "entries": entries,
        "total": total,
        "page": p,
        "pages": _pages(total),
    }
    return render(request, "moderation_log.html", context)
