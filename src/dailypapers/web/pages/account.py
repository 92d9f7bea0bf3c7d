"""Account pages: log in, log out (here or everywhere), settings (API tokens, ...), and the
profile ``/users/{name}``.

Every form posts with a CSRF token (``{{ csrf_field() }}``, checked by
:func:`dailypapers.web.auth.check_csrf` or :func:`~dailypapers.web.auth.require_writer`) and
answers with a 303 (post, redirect, get). Log-in answers a wrong password and an unknown
account alike, and gives the browser a new session token (no session fixation).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from starlette.responses import RedirectResponse, Response

from dailypapers.accounts import AccountError, User
from dailypapers.accounts import service as accounts
from dailypapers.feed.reader import Store
from dailypapers.web.auth import (
    check_csrf,
    clear_session_cookie,
    current_user,
    forget_user,
    require_user,
    require_writer,
    session_token,
    set_session_cookie,
)
from dailypapers.web.deps import store_of
from dailypapers.web.templating import render
from dailypapers.web.votes import profile_papers

router = APIRouter()

LOGIN_FAILED = "Wrong user name, email or password."


def safe_next(target: str | None) -> str:
    """A local path to go to after a form, never another site (``//evil``, ``/\\evil``)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target[:2000]


def _see_other(target: str) -> RedirectResponse:
    return RedirectResponse(target, status_code=303)


def _store(request: Request) -> Store:
    return store_of(request)


@router.get("/login")
def login_page(request: Request, next: str = "/") -> Response:  # noqa: A002
    if current_user(request) is not None:
        return _see_other(safe_next(next))
    context = {"title": "Log in", "next": safe_next(next), "error": None}
    return render(request, "login.html", context)


@router.post("/login", dependencies=[Depends(check_csrf)])
def log_in(
    request: Request,
    login: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=4096)],
    next: Annotated[str, Form(max_length=2000)] = "/",  # noqa: A002
) -> Response:
    store, settings = _store(request), request.app.state.settings
    user = accounts.authenticate(store, settings, login, password)
    if user is None:
        context = {
            "title": "Log in",
            "next": safe_next(next),
            "error": LOGIN_FAILED,
            "login": login,
        }
        return render(request, "login.html", context, status_code=401)
    old = session_token(request)
    if old:  # whatever session the browser held before ends: a new token, never the old one
        accounts.end_session(store, old)
    token = accounts.start_session(
        store, settings, user, user_agent=request.headers.get("user-agent")
    )
    set_session_cookie(request, token)
    forget_user(request)
    return _see_other(safe_next(next))


@router.post("/logout", dependencies=[Depends(check_csrf)])
def log_out(request: Request) -> Response:
    token = session_token(request)
    if token:
        accounts.end_session(_store(request), token)
    clear_session_cookie(request)
    forget_user(request)
    return _see_other("/")


@router.post("/logout/everywhere")
def log_out_everywhere(
    request: Request, user: Annotated[User, Depends(require_writer)]
) -> Response:
    accounts.end_all_sessions(_store(request), user.id)
    clear_session_cookie(request)
    forget_user(request)
    return _see_other("/")


@router.get("/settings")
def settings_page(request: Request, user: Annotated[User, Depends(require_user)]) -> Response:
    tokens = accounts.list_tokens(_store(request), user.id)
    context = {"title": "Settings", "user": user, "tokens": tokens, "new_token": None}
    return render(request, "settings.html", context)


@router.post("/settings/tokens")
def make_token(
    request: Request,
    user: Annotated[User, Depends(require_writer)],
    name: Annotated[str, Form(max_length=100)] = "token",
    scope: Annotated[str, Form(pattern="^(read|write)$")] = "read",
) -> Response:
    try:
        token, _ = accounts.create_token(_store(request), user, name, scope)
    except AccountError as refused:
        raise HTTPException(422, str(refused)) from None
    tokens = accounts.list_tokens(_store(request), user.id)
    # Shown once, on this answer only (marked no-store like every signed-in page).
    context = {"title": "Settings", "user": user, "tokens": tokens, "new_token": token}
    return render(request, "settings.html", context)


@router.post("/settings/tokens/{token_id}/revoke")
def revoke_token(
    request: Request, token_id: int, user: Annotated[User, Depends(require_writer)]
) -> Response:
    if not accounts.revoke_token(_store(request), user.id, token_id):
        raise HTTPException(404, "no such token of yours")
    return _see_other("/settings#tokens")


@router.get("/users/{name}")
def profile(request: Request, name: str) -> Response:
    user = accounts.find_user(_store(request), name[:40])
    if user is None or user.suspended:
        raise HTTPException(404, f"no user {name[:40]!r}")
    papers = profile_papers(request, user.id, user.upvotes_public)  # community: their papers
    return render(request, "user.html", {"title": user.display_name, "profile": user, **papers})
