"""Digest subscription pages: subscribe (the footer box posts here), confirm, unsubscribe.

``POST /subscribe`` takes no CSRF token: the footer box sits on cached pages, which must not
carry one, and a forged post can do no more than the visitor could themselves (ask for a
confirmation mail, at most one a day per address, rate-limited per IP). Every answer is the
same "check your mail", whatever was known about the address, and the mail goes out after
the answer. Confirming is a button on the link's page (a POST with its CSRF token), so a
mail scanner that opens links confirms nothing. Unsubscribing is RFC 8058's one-click: a
POST to the link (the token is the authority; no log-in, no cookie), or its page's button.

Signed-in members manage the subscription of their account's confirmed address from the
settings page (``digest_settings`` is that section's context): ``POST /settings/digest``
subscribes or changes frequency and categories, confirmed at once (confirming the account's
address was the opt-in), ``POST /settings/digest/unsubscribe`` deletes it; both take the
session's CSRF token (or a write-scope API token).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from dailypapers.accounts import User
from dailypapers.accounts.limit_rules import parse_limits
from dailypapers.accounts.limits import ip_key
from dailypapers.digest import subscriptions as subs
from dailypapers.digest.links import LinkError, site_base
from dailypapers.digest.mails import confirmation_mail, send_quietly
from dailypapers.web.auth import check_csrf, require_writer
from dailypapers.web.deps import settings_of, store_of
from dailypapers.web.limits import client_ip, limiter_of
from dailypapers.web.templating import render

router = APIRouter()

CHECK_MAIL = (
    "Check your mail: if the address can receive the digest, a message with a link to "
    "confirm is on its way (look in the spam folder too). Nothing is sent until you confirm."
)


def _limit(request: Request, email: str) -> None:
    """Count the request against DAILYPAPERS_LIMIT_SUBSCRIBE (RateLimited: a 429)."""
    keys = {"ip": ip_key(client_ip(request)), "account": subs.email_key(email)}
    for limit in parse_limits(settings_of(request).limit_subscribe):
        limiter_of(request).check(
            f"subscribe:{limit.scope}", keys[limit.scope], limit=limit.count,
            per_seconds=limit.seconds,
        )  # fmt: skip


def _form(request: Request, status: int = 200, **context: object) -> Response:
    defaults: dict[str, object] = {
        "title": "Subscribe to the digest", "error": None, "email": "", "frequency": "daily",
        "chosen": (), "all_categories": settings_of(request).categories,
    }  # fmt: skip
    return render(request, "subscribe.html", {**defaults, **context}, status_code=status)


def _message(request: Request, title: str, message: str, status: int = 200) -> Response:
    return render(request, "message.html", {"title": title, "message": message}, status_code=status)


@router.get("/subscribe")
def subscribe_page(request: Request) -> Response:
    return _form(request)


@router.post("/subscribe")
def subscribe(
    request: Request,
    background: BackgroundTasks,
    email: Annotated[str, Form(max_length=320)],
    frequency: Annotated[str, Form(max_length=16)] = "daily",
    category: Annotated[list[str] | None, Form()] = None,
) -> Response:
    settings = settings_of(request)
    _limit(request, email)
    try:
        made = subs.subscribe(store_of(request), settings, email, frequency, category or [])
    except subs.SubscriptionError as refused:
        return _form(
            request, 422, error=str(refused), email=email[:320], frequency=frequency,
            chosen=tuple(category or ()),
        )  # fmt: skip
    if made is not None:
        base = site_base(settings, str(request.base_url))
        background.add_task(send_quietly, confirmation_mail(settings, base, *made), settings)
    return _message(request, "Check your mail", CHECK_MAIL)


@router.get("/subscribe/confirm")
def confirm_page(request: Request, token: str = "") -> Response:
    context = {"title": "Confirm your subscription", "token": token[:2000]}
    return render(request, "confirm.html", {**context, "action": "/subscribe/confirm"})


@router.post("/subscribe/confirm", dependencies=[Depends(check_csrf)])
def confirm(request: Request, token: Annotated[str, Form(max_length=2000)]) -> Response:
    try:
        found = subs.confirm(store_of(request), settings_of(request), token)
    except (LinkError, subs.SubscriptionError) as refused:
        return _message(request, "Not confirmed", str(refused), 400)
    what = "every weekday" if found.frequency == "daily" else "every week"
    return _message(
        request, "Subscribed", f"Thank you: the digest will come {what}. Each one has a link "
        "to unsubscribe.",
    )  # fmt: skip


@router.get("/unsubscribe")
def unsubscribe_page(request: Request, token: str = "") -> Response:
    try:
        found = subs.by_unsubscribe_token(store_of(request), settings_of(request), token)
    except LinkError as refused:
        return _message(request, "Not unsubscribed", str(refused), 400)
    if found is None:
        return _message(request, "Unsubscribed", "This address gets no digest.")
    context = {"title": "Unsubscribe", "token": token[:2000], "subscription": found}
    return render(request, "unsubscribe.html", context)


@router.post("/unsubscribe")
def unsubscribe(request: Request, token: str = "") -> Response:
    """RFC 8058 one-click (body ``List-Unsubscribe=One-Click``) and the page's button."""
    try:
        subs.unsubscribe(store_of(request), settings_of(request), token)
    except LinkError as refused:
        return _message(request, "Not unsubscribed", str(refused), 400)
    return _message(
        request, "Unsubscribed", "You are unsubscribed, and what was stored about this "
        "address (its frequency, categories and dates) is deleted.",
    )  # fmt: skip


DIGEST_DONE = {
    "saved": "Your digest subscription is saved.",
    "removed": "You are unsubscribed from the digest; what was stored about it is deleted.",
}


def digest_settings(request: Request, user: User) -> dict[str, object]:
    """What the settings page's digest section shows: the subscription of the account's
    confirmed address (None if it has none), the site's categories, a note after a change."""
    found = None
    if user.email and user.confirmed:
        found = subs.of_address(store_of(request), user.email)
    return {
        "address": user.email if user.confirmed else None,
        "subscription": found,
        "all_categories": settings_of(request).categories,
        "done": DIGEST_DONE.get(request.query_params.get("digest", "")),
    }


def _confirmed_address(request: Request, user: User) -> str | Response:
    if user.email and user.confirmed:
        return user.email
    return _message(
        request, "Not saved", "Confirm your account's email address first: the digest goes "
        "to it.", 400,
    )  # fmt: skip


def _back(done: str) -> Response:
    return RedirectResponse(f"/settings?digest={done}#digest-head", status_code=303)


@router.post("/settings/digest")
def save_digest(
    request: Request,
    user: Annotated[User, Depends(require_writer)],
    frequency: Annotated[str, Form(max_length=16)] = "daily",
    category: Annotated[list[str] | None, Form()] = None,
) -> Response:
    address = _confirmed_address(request, user)
    if isinstance(address, Response):
        return address
    settings = settings_of(request)
    try:
        subs.set_for_account(store_of(request), settings, address, frequency, category or [])
    except subs.SubscriptionError as refused:
        return _message(request, "Not saved", f"{str(refused).capitalize()}.", 422)
    return _back("saved")


@router.post("/settings/digest/unsubscribe")
def remove_digest(request: Request, user: Annotated[User, Depends(require_writer)]) -> Response:
    address = _confirmed_address(request, user)
    if isinstance(address, Response):
        return address
    subs.remove_subscriber(store_of(request), address)
    return _back("removed")
