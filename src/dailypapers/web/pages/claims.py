"""Authorship claims on the web: claim a name on a paper, and the moderators' queue.

``POST /papers/{id}/claims`` (form field ``author``) files a claim for the signed-in user;
``GET /moderation/claims`` lists pending claims to moderators and admins (others get 403);
``POST /moderation/claims/{claim_id}`` with ``decision=approve|reject`` decides one.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException

from dailypapers.accounts.models import User
from dailypapers.community import claims
from dailypapers.web.auth import require_role, require_writer
from dailypapers.web.deps import RowId, store_of
from dailypapers.web.templating import render
from dailypapers.web.vote_watch import papers_shown_again

router = APIRouter()


@router.post("/papers/{paper_id}/claims")
def claim(
    request: Request,
    paper_id: str,
    user: Annotated[User, Depends(require_writer)],
    author: Annotated[str, Form(max_length=500)],
) -> Response:
    try:
        claims.claim_authorship(store_of(request), user, paper_id, author)
    except claims.ClaimError as refused:
        raise HTTPException(refused.status, str(refused)) from None
    return RedirectResponse(f"/papers/{paper_id}?claimed=1", status_code=303)


@router.get("/moderation/claims")
def queue(request: Request, user: Annotated[User, Depends(require_role("moderator"))]) -> Response:
    context = {"title": "Authorship claims", "claims": claims.pending_claims(store_of(request))}
    return render(request, "claims_queue.html", context)


@router.post("/moderation/claims/{claim_id}")
def decide(
    request: Request,
    claim_id: RowId,
    user: Annotated[User, Depends(require_writer)],
    decision: Annotated[str, Form(pattern="^(approve|reject)$")],
) -> Response:
    with papers_shown_again(request) as shown:
        try:
            paper = claims.decide(store_of(request), user, claim_id, approve=decision == "approve")
        except claims.ClaimError as refused:
            raise HTTPException(refused.status, str(refused)) from None
        shown(paper)
    return RedirectResponse("/moderation/claims", status_code=303)


@router.post("/papers/{paper_id}/links")
def set_links(
    request: Request,
    paper_id: str,
    user: Annotated[User, Depends(require_writer)],
    code_url: Annotated[str, Form(max_length=2000)] = "",
    project_url: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    with papers_shown_again(request) as shown:
        try:
            claims.set_author_links(store_of(request), user, paper_id, code_url, project_url)
        except claims.ClaimError as refused:
            raise HTTPException(refused.status, str(refused)) from None
        shown(paper_id)
    return RedirectResponse(f"/papers/{paper_id}", status_code=303)
