"""Rate limits in the web layer: the app's limiter, the client's address, and the 429.

``install_limits(app, store, settings)`` (called by ``create_app``) opens the limiter every
process shares (``accounts.limits``) as ``app.state.limiter`` and makes ``RateLimited``
an answer: 429 with ``Retry-After`` and the message, as JSON under ``/api`` and a page
elsewhere (``errors.error_response``). A route then only says what it counts::

    limiter_of(request).check_rule("login", ip=client_ip(request), account=email)
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.responses import Response
from starlette.types import Scope

from dailypapers.accounts.limits import RateLimited, RateLimiter, open_limiter
from dailypapers.feed.reader import Store
from dailypapers.settings import Settings
from dailypapers.web.errors import error_response


def install_limits(app: FastAPI, store: Store, settings: Settings) -> None:
    app.state.limiter = open_limiter(store, settings)
    app.add_exception_handler(RateLimited, rate_limited)


def limiter_of(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.limiter
    return limiter


def client_ip(request: Request) -> str:
    """The client's address. Behind a reverse proxy uvicorn puts the forwarded client's here
    (it trusts ``X-Forwarded-For`` from 127.0.0.1, or from ``FORWARDED_ALLOW_IPS``)."""
    return client_of(request.scope)


def client_of(scope: Scope) -> str:
    """:func:`client_ip` of a request's ``scope`` (without making its ``Request``)."""
    client = scope.get("client")
    return str(client[0]) if client is not None else "unknown"


async def rate_limited(request: Request, error: Exception) -> Response:
    """``RateLimited`` as a 429 in the site's error shapes, with ``Retry-After``."""
    assert isinstance(error, RateLimited)
    response = error_response(request, 429, str(error))
    response.headers["Retry-After"] = str(error.retry_after)
    return response
