"""A member's notifications on the web, and their email choices.

``GET /notifications`` (``?p=`` pages of :data:`PAGE_SIZE`) lists them, newest first, each
linking to its comment; ``POST /notifications/{id}/read`` marks one read, ``POST
/notifications/read`` all of them (both with the CSRF token, 303 back to the list). ``POST
/settings/notifications`` stores the per-kind email choices (checkboxes named by kind) the
settings page shows (:func:`settings_section`). The header's unread count is
:func:`dailypapers.web.personal.notifications_link`. Rules in
:mod:`dailypapers.discussion.notifications`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from dailypapers.accounts.models import User
from dailypapers.discussion import notifications
from dailypapers.web.auth import require_user, require_writer
from dailypapers.web.deps import RowId, store_of
from dailypapers.web.templating import render

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
MAX_PAGE = 10_000


@router.get("/notifications")
def listing(
    request: Request,
    user: Annotated[User, Depends(require_user)],
    p: Annotated[int, Query(ge=0, le=MAX_PAGE)] = 0,
) -> Response:
    store = store_of(request)
    found, total = notifications.notifications_of(
        store, user.id, limit=PAGE_SIZE, offset=p * PAGE_SIZE
    )
    context = {
        "title": "Notifications",
        "notifications": found,
        "unread": notifications.unread_count(store, user.id),
        "page": p,
        "pages": max(1, -(-total // PAGE_SIZE)),
    }
    return render(request, "notifications.html", context)


@router.post("/notifications/read")
def mark_all(request: Request, user: Annotated[User, Depends(require_writer)]) -> Response:
    notifications.mark_read(store_of(request), user.id)
    return RedirectResponse("/notifications", status_code=303)


@router.post("/notifications/{notification_id}/read")
def mark_one(
    request: Request, notification_id: RowId, user: Annotated[User, Depends(require_writer)]
) -> Response:
    notifications.mark_read(store_of(request), user.id, notification_id)
    return RedirectResponse(f"/notifications#notification-{notification_id}", status_code=303)


Choice = Annotated[str, Form(max_length=10)]


@router.post("/settings/notifications")
def save_prefs(
    request: Request,
    user: Annotated[User, Depends(require_writer)],
    reply: Choice = "",
    mention: Choice = "",
    paper_comment: Choice = "",
) -> Response:
    chosen = {"reply": bool(reply), "mention": bool(mention), "paper_comment": bool(paper_comment)}
    notifications.set_email_prefs(store_of(request), user.id, chosen)
    return RedirectResponse("/settings?done=notifications#notifications-head", status_code=303)


def settings_section(request: Request, user: User) -> list[dict[str, Any]]:
    """The settings page's rows: each kind, its label and whether email is on."""
    prefs = notifications.email_prefs(store_of(request), user.id)
    return [
        {"kind": kind, "label": notifications.KIND_LABELS[kind], "email": prefs[kind]}
        for kind in notifications.KINDS
    ]
