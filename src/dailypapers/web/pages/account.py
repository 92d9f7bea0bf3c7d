"""Account pages: log in, log out (here or everywhere), settings (profile, email, password,
API tokens, export as JSON, delete), and the profile ``/users/{name}``.

Every form posts with a CSRF token (``{{ csrf_field() }}``, checked by
:func:`dailypapers.web.auth.check_csrf` or :func:`~dailypapers.web.auth.require_writer`) and
answers with a 303 (post, redirect, get). Log-in answers a wrong password and an unknown
account alike, and gives the browser a new session token (no session fixation).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Form, HTTPException, Request
from fastapi.responses import JSONResponse
from starlette.responses import RedirectResponse, Response

from dailypapers.accounts import AccountError, User, flows
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
from dailypapers.web.deps import RowId, settings_of, store_of
from dailypapers.web.limits import client_ip, limiter_of
from dailypapers.web.notifications import settings_section as notification_choices
from dailypapers.web.pages.signup import base_url, send_later
from dailypapers.web.pages.subscribe import digest_settings
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
    limiter_of(request).check_rule("login", ip=client_ip(request), account=login.strip())
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


DONE = {
    "profile": "Your profile is saved.",
    "password": "Your password is changed; your other sessions were logged out.",
    "email": "Check your new address: the change takes effect when you open the link we sent.",
    "confirm": "A new confirmation link is on its way to your address.",
    "linked": "The identity is linked: you can log in with it now.",
    "unlinked": "The identity is unlinked.",
    "notifications": "Your notification choices are saved.",
}


def _settings_page(
    request: Request,
    user: User,
    *,
    new_token: str | None = None,
    error: str | None = None,
    field: str | None = None,
    status: int = 200,
) -> Response:
    context = {
        "title": "Settings",
        "user": user,
        "tokens": accounts.list_tokens(_store(request), user.id),
        "new_token": new_token,
        "done": DONE.get(request.query_params.get("done", "")),
        "error": error,
        "field": field,
        "digest": digest_settings(request, user),
        "notification_choices": notification_choices(request, user),
    }
    return render(request, "settings.html", context, status_code=status)


@router.get("/settings")
def settings_page(request: Request, user: Annotated[User, Depends(require_user)]) -> Response:
    return _settings_page(request, user)


@router.post("/settings/profile")
def save_profile(
    request: Request,
    user: Annotated[User, Depends(require_writer)],
    fullname: Annotated[str, Form(max_length=200)] = "",
    upvotes_public: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    flows.set_profile(_store(request), user, fullname=fullname, upvotes_public=bool(upvotes_public))
    return _see_other("/settings?done=profile")


@router.post("/settings/password")
def change_password(
    request: Request,
    user: Annotated[User, Depends(require_writer)],
    new_password: Annotated[str, Form(max_length=4096)],
    current_password: Annotated[str, Form(max_length=4096)] = "",
) -> Response:
    settings = settings_of(request)
    try:
        flows.change_password(
            _store(request),
            settings,
            user,
            current_password,
            new_password,
            keep_token=session_token(request),
        )
    except AccountError as refused:
        return _settings_page(request, user, error=str(refused), field=refused.field, status=422)
    return _see_other("/settings?done=password")


@router.post("/settings/email")
def change_email(
    request: Request,
    background: BackgroundTasks,
    user: Annotated[User, Depends(require_writer)],
    email: Annotated[str, Form(max_length=320)],
    current_password: Annotated[str, Form(max_length=4096)] = "",
) -> Response:
    settings = settings_of(request)
    limiter_of(request).check_rule("reset", ip=client_ip(request), account=user.username)
    try:
        mails = flows.request_email_change(
            _store(request), settings, base_url(request), user, current_password, email
        )
    except AccountError as refused:
        return _settings_page(request, user, error=str(refused), field=refused.field, status=422)
    send_later(background, mails, settings)
    return _see_other("/settings?done=email")


@router.post("/settings/confirm")
def resend_confirmation(
    request: Request, background: BackgroundTasks, user: Annotated[User, Depends(require_writer)]
) -> Response:
    settings = settings_of(request)
    limiter_of(request).check_rule("reset", ip=client_ip(request), account=user.username)
    send_later(background, flows.resend_confirmation(settings, base_url(request), user), settings)
    return _see_other("/settings?done=confirm")


@router.get("/settings/email/confirm")
def email_change_page(request: Request, token: str = "") -> Response:
    context = {
        "title": "Confirm your new address",
        "token": token[:2000],
        "action": "/settings/email/confirm",
    }
    return render(request, "confirm.html", context)


@router.post("/settings/email/confirm", dependencies=[Depends(check_csrf)])
def confirm_email_change(
    request: Request, token: Annotated[str, Form(max_length=2000)]
) -> Response:
    try:
        user = flows.confirm_email_change(_store(request), settings_of(request), token)
    except AccountError as refused:
        context = {"title": "Not changed", "message": str(refused)}
        return render(request, "message.html", context, status_code=400)
    context = {"title": "Address changed", "message": f"Your address is now {user.email}."}
    return render(request, "message.html", context)


@router.get("/settings/export.json")
def export(request: Request, user: Annotated[User, Depends(require_user)]) -> Response:
    data = flows.export_data(_store(request), user)
    return JSONResponse(
        data,
        headers={"Content-Disposition": f'attachment; filename="dailypapers-{user.id}.json"'},
    )


@router.post("/settings/delete")
def delete_account(
    request: Request,
    user: Annotated[User, Depends(require_writer)],
    current_password: Annotated[str, Form(max_length=4096)] = "",
    confirm: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    if confirm.strip() != user.username:
        return _settings_page(
            request,
            user,
            error="type your user name to delete the account",
            field="confirm",
            status=422,
        )
    try:
        flows.delete_account(_store(request), settings_of(request), user, current_password)
    except AccountError as refused:
        return _settings_page(
            request, user, error=str(refused), field="delete_password", status=422
        )
    clear_session_cookie(request)
    forget_user(request)
    context = {"title": "Account deleted", "message": "Your account and its data are deleted."}
    return render(request, "message.html", context)


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
    # Shown once, on this answer only (marked no-store like every signed-in page).
    return _settings_page(request, user, new_token=token)


@router.post("/settings/tokens/{token_id}/revoke")
def revoke_token(
    request: Request, token_id: RowId, user: Annotated[User, Depends(require_writer)]
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
