"""Log in with GitHub or ORCID, and link or unlink them from the settings page.

``GET /auth/{provider}/login`` sends the browser to the provider; ``POST
/auth/{provider}/link`` does the same for the signed-in user (CSRF-checked);
``GET /auth/{provider}/callback`` is the address registered at the provider; ``POST
/settings/identities/{provider}/unlink`` removes one. Between the redirect and the callback
the flow (state, nonce, PKCE verifier) waits in a signed cookie scoped to ``/auth/`` that
lives :data:`FLOW_MAX_AGE` seconds. Every failure is a page with a 4xx status and a message.
Starts, links and callbacks count against ``DAILYPAPERS_LIMIT_OAUTH`` per client IP (a 429
with ``Retry-After`` past it), before anything is asked of the provider.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from dailypapers.accounts import oauth
from dailypapers.accounts import service as accounts
from dailypapers.accounts.models import User
from dailypapers.accounts.oauth_flow import FLOW_MAX_AGE, OAuthFailure
from dailypapers.settings import Settings
from dailypapers.web.auth import current_user, require_writer, set_session_cookie
from dailypapers.web.deps import store_of
from dailypapers.web.identity import oauth_clients
from dailypapers.web.limits import client_ip, limiter_of

router = APIRouter()
FLOW_COOKIE = "dailypapers_oauth"


def _callback_url(request: Request, provider: str) -> str:
    settings: Settings = request.app.state.settings
    if settings.site_url:
        return f"{settings.site_url.rstrip('/')}/auth/{provider}/callback"
    return str(request.url_for("oauth_callback", provider=provider))


def _to_provider(request: Request, url: str, flow: str, status: int) -> Response:
    settings: Settings = request.app.state.settings
    response = RedirectResponse(url, status_code=status)
    response.set_cookie(
        FLOW_COOKIE,
        flow,
        max_age=FLOW_MAX_AGE,
        path="/auth/",
        httponly=True,
        samesite="lax",  # sent on the provider's top-level redirect back to us
        secure=bool(settings.site_url and settings.site_url.startswith("https:")),
    )
    return response


async def _count_step(request: Request) -> None:
    """One step of an OAuth log-in for this client IP; ``RateLimited`` (429) past the limit.
    In a thread: the count is a database (or Redis) round trip."""
    limiter, ip = limiter_of(request), client_ip(request)
    await run_in_threadpool(limiter.check_rule, "oauth", ip=ip)


@router.get("/auth/{provider}/login")
async def start_login(request: Request, provider: str) -> Response:
    await _count_step(request)
    try:
        url, flow = await oauth_clients(request).begin(
            provider, _callback_url(request, provider), "login"
        )
    except OAuthFailure as failure:
        raise HTTPException(failure.status, failure.message) from None
    return _to_provider(request, url, flow, 302)


@router.post("/auth/{provider}/link")
async def start_link(
    request: Request, provider: str, user: Annotated[User, Depends(require_writer)]
) -> Response:
    await _count_step(request)
    try:
        url, flow = await oauth_clients(request).begin(
            provider, _callback_url(request, provider), "link", user.id
        )
    except OAuthFailure as failure:
        raise HTTPException(failure.status, failure.message) from None
    return _to_provider(request, url, flow, 303)


@router.get("/auth/{provider}/callback", name="oauth_callback")
async def callback(request: Request, provider: str) -> Response:
    await _count_step(request)
    signed = request.cookies.get(FLOW_COOKIE)
    try:
        identity, flow = await oauth_clients(request).finish(
            provider, dict(request.query_params), signed
        )
        target = _complete(request, identity, flow.intent, flow.user_id)
    except OAuthFailure as failure:
        raise HTTPException(failure.status, failure.message) from None
    response = RedirectResponse(target, status_code=303)
    response.delete_cookie(FLOW_COOKIE, path="/auth/")
    return response


def _complete(
    request: Request, identity: oauth.VerifiedIdentity, intent: str, user_id: int | None
) -> str:
    store = store_of(request)
    if intent == "link":
        user = current_user(request)
        if user is None or user.id != user_id:
            raise OAuthFailure("Log in to the account you started linking from, then retry.", 403)
        oauth.link(store, user, identity)
        return "/settings?done=linked"
    user = oauth.log_in_with(store, request.app.state.settings, identity)
    set_session_cookie(
        request,
        accounts.start_session(
            store, request.app.state.settings, user, user_agent=request.headers.get("user-agent")
        ),
    )
    return "/"


@router.post("/settings/identities/{provider}/unlink")
async def unlink(
    request: Request, provider: str, user: Annotated[User, Depends(require_writer)]
) -> Response:
    try:
        oauth.unlink(store_of(request), user, provider)
    except OAuthFailure as failure:
        raise HTTPException(failure.status, failure.message) from None
    return RedirectResponse("/settings?done=unlinked", status_code=303)
