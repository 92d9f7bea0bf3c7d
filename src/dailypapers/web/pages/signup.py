"""Sign-up, email confirmation and password reset pages (no sign-in needed).

Links in mail open a page with a button (a POST with its CSRF token): a mail scanner that
opens every link confirms nothing. Mail is sent after the answer (``BackgroundTasks``), so
the answer takes as long whether or not an address has an account, and says the same.
Sign-up, log-in and reset are rate-limited per client IP and per account
(:mod:`dailypapers.accounts.limits`).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from dailypapers.accounts import AccountError, flows
from dailypapers.accounts.mails import AccountMail, send_account_mail
from dailypapers.settings import Settings
from dailypapers.web.auth import check_csrf, current_user
from dailypapers.web.deps import settings_of, store_of
from dailypapers.web.limits import client_ip, limiter_of
from dailypapers.web.templating import render

router = APIRouter()

CHECK_MAIL = (
    "Check your mail: if the address can be used, a message with a link is on its way "
    "(it may take a minute; look in the spam folder too)."
)


def base_url(request: Request) -> str:
    """The site's address for links in mail: DAILYPAPERS_SITE_URL, else this request's."""
    settings = settings_of(request)
    return settings.site_url or str(request.base_url)


def send_later(background: BackgroundTasks, mails: list[AccountMail], settings: Settings) -> None:
    for mail in mails:
        background.add_task(send_account_mail, mail, settings)


def _form(request: Request, name: str, status: int = 200, **context: object) -> Response:
    defaults: dict[str, object] = {"error": None, "field": None, "done": None}
    return render(request, name, {**defaults, **context}, status_code=status)


@router.get("/signup")
def signup_page(request: Request) -> Response:
    if current_user(request) is not None:
        return RedirectResponse("/settings", status_code=303)
    return _form(request, "signup.html", title="Sign up", username="", email="")


@router.post("/signup", dependencies=[Depends(check_csrf)])
def sign_up(
    request: Request,
    background: BackgroundTasks,
    username: Annotated[str, Form(max_length=100)],
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=4096)],
) -> Response:
    settings = settings_of(request)
    limiter_of(request).check_rule("signup", ip=client_ip(request), account=email.strip())
    try:
        mails = flows.sign_up(
            store_of(request), settings, base_url(request), username, email, password
        )
    except AccountError as refused:
        return _form(
            request,
            "signup.html",
            422,
            title="Sign up",
            username=username,
            email=email,
            error=str(refused),
            field=refused.field or "username",
        )
    send_later(background, mails, settings)
    return _form(request, "message.html", title="Check your mail", message=CHECK_MAIL)


@router.get("/confirm")
def confirm_page(request: Request, token: str = "") -> Response:
    return _form(
        request, "confirm.html", title="Confirm your address", token=token[:2000], action="/confirm"
    )


@router.post("/confirm", dependencies=[Depends(check_csrf)])
def confirm(request: Request, token: Annotated[str, Form(max_length=2000)]) -> Response:
    try:
        user = flows.confirm_email(store_of(request), settings_of(request), token)
    except AccountError as refused:
        return _form(request, "message.html", 400, title="Not confirmed", message=str(refused))
    message = f"Thank you: {user.email} is confirmed for {user.username}."
    return _form(
        request,
        "message.html",
        title="Address confirmed",
        message=message,
        login=current_user(request) is None,
    )


@router.get("/password/forgot")
def forgot_page(request: Request) -> Response:
    return _form(request, "forgot.html", title="Forgot your password")


@router.post("/password/forgot", dependencies=[Depends(check_csrf)])
def forgot(
    request: Request,
    background: BackgroundTasks,
    email: Annotated[str, Form(max_length=320)],
) -> Response:
    settings = settings_of(request)
    limiter_of(request).check_rule("reset", ip=client_ip(request), account=email.strip())
    mails = flows.request_reset(store_of(request), settings, base_url(request), email)
    send_later(background, mails, settings)
    return _form(request, "message.html", title="Check your mail", message=CHECK_MAIL)


@router.get("/password/reset")
def reset_page(request: Request, token: str = "") -> Response:
    try:
        flows.reset_user(store_of(request), settings_of(request), token[:2000])
    except AccountError as refused:
        return _form(request, "message.html", 400, title="Link not valid", message=str(refused))
    return _form(request, "reset.html", title="Choose a new password", token=token[:2000])


@router.post("/password/reset", dependencies=[Depends(check_csrf)])
def reset(
    request: Request,
    token: Annotated[str, Form(max_length=2000)],
    password: Annotated[str, Form(max_length=4096)],
) -> Response:
    try:
        flows.reset_password(store_of(request), settings_of(request), token, password)
    except AccountError as refused:
        if refused.field == "password":
            return _form(
                request,
                "reset.html",
                422,
                title="Choose a new password",
                token=token,
                error=str(refused),
                field="password",
            )
        return _form(request, "message.html", 400, title="Link not valid", message=str(refused))
    return _form(
        request,
        "message.html",
        title="Password changed",
        message="Your password is changed; every session was logged out.",
        login=True,
    )
