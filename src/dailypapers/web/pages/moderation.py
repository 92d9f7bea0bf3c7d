"""The moderators' queue of paper submissions: the newest first, each removable.

``GET /moderation/submissions`` (``?p=`` pages of :data:`PAGE_SIZE`) lists the papers members
submitted: the paper, the submitter (linked to their profile), the note and the time, to
moderators and admins (everyone else gets 403). ``POST
/moderation/submissions/{paper_id}/remove`` (with the CSRF token) takes one off the feed
(:func:`dailypapers.community.submissions.remove`) and answers 303 back to the queue, which
says what was removed. The authorship claims' queue is :mod:`dailypapers.web.pages.claims`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException

from dailypapers.accounts.models import User
from dailypapers.community import submissions
from dailypapers.web.auth import require_role, require_writer
from dailypapers.web.deps import canonical_id, store_of
from dailypapers.web.templating import render

router = APIRouter()
PAGE_SIZE = 50
MAX_PAGE = 10_000


@router.get("/moderation/submissions")
def queue(
    request: Request,
    user: Annotated[User, Depends(require_role("moderator"))],
    p: Annotated[int, Query(ge=0, le=MAX_PAGE)] = 0,
    removed: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    listed, total = submissions.recent(store_of(request), limit=PAGE_SIZE, offset=p * PAGE_SIZE)
    context = {
        "title": "Submissions",
        "submissions": listed,
        "total": total,
        "page": p,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "removed": removed,
    }
    return render(request, "moderation_submissions.html", context)


@router.post("/moderation/submissions/{paper_id:path}/remove")
def remove(
    request: Request, paper_id: str, user: Annotated[User, Depends(require_writer)]
) -> Response:
    if not user.has_role("moderator"):
        raise HTTPException(403, "only moderators remove submissions")
    paper_id = canonical_id(paper_id)
    if not submissions.remove(store_of(request), paper_id):
        raise HTTPException(404, f"{paper_id[:80]!r} was not submitted here")
    return RedirectResponse(f"/moderation/submissions?removed={paper_id}", status_code=303)
