"""Who is asking, and may they change anything: the session cookie, bearer tokens, CSRF.

Dependencies for routes:

- :func:`current_user` -- the signed-in :class:`~dailypapers.accounts.User` of the request
  (``dailypapers_session`` cookie, or ``Authorization: Bearer`` API token), or None.
- :func:`require_user` -- that user, or: a 303 to ``/login?next=...`` for pages, a 401 JSON
  answer under ``/api``.
- :func:`require_role` -- ``Depends(require_role("moderator"))``: a user with that role or
  a higher one, else 403.
- :func:`require_writer` -- the user of a state-changing request: a bearer token with the
  ``write`` scope, or a session whose request carries the CSRF token (form field
  ``csrf_token`` or header ``X-CSRF-Token``). Use it on every POST/PUT/DELETE that acts
  for a user; :func:`check_csrf` alone guards anonymous forms (sign-up, log-in).

CSRF tokens are an HMAC of the session token (signed in) or of a random ``dailypapers_csrf``
cookie (anonymous forms), so a page on another site can neither read nor forge one. Templates
put one into a form with ``{{ csrf_field() }}`` (``csrf_token()`` for the bare value).

:class:`AuthCookies` (ASGI middleware inside the response cache) writes what a request
decided: a new or rotated session cookie, the anonymous CSRF cookie, and
``Cache-Control: private, no-store`` on every answer to a signed-in request or one that sets
a cookie, so no personal page is ever cached (the response cache skips those too).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from http.cookies import SimpleCookie
from typing import Any, cast
from urllib.parse import quote

from fastapi import HTTPException, Request
from jinja2 import pass_context
from markupsafe import Markup
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dailypapers.accounts import User
from dailypapers.accounts.service import BearerUser, resolve_bearer, resolve_session
from dailypapers.discussion import notifications
from dailypapers.settings import Settings
from dailypapers.web import personal

SESSION_COOKIE = "dailypapers_session"
CSRF_COOKIE = "dailypapers_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
_UNSET = object()
_AUTH = b"authorization"


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def secure_cookies(settings: Settings) -> bool:
    return bool(settings.site_url and settings.site_url.startswith("https://"))


def _cookie_header(
    name: str, value: str, settings: Settings, *, max_age: int | None, http_only: bool = True
) -> str:
    cookie: SimpleCookie = SimpleCookie()
    cookie[name] = value
    morsel = cookie[name]
    morsel["path"] = "/"
    morsel["samesite"] = "Lax"
    morsel["httponly"] = http_only
    morsel["secure"] = secure_cookies(settings)
    if max_age is not None:
        morsel["max-age"] = max_age
    return morsel.OutputString()


def _pending_cookies(request: Request) -> dict[str, str]:
    pending: dict[str, str] = request.scope.setdefault("state", {}).setdefault("auth_cookies", {})
    return pending


def _forget_cached_session(request: Request) -> None:
    """A log-in or log-out: the member pages' cache of sessions forgets this browser's."""
    sessions: personal.SessionCache | None = getattr(request.app.state, "sessions", None)
    if sessions is not None:
        resolved = getattr(request.state, "auth_resolved", None)
        user = resolved[0] if resolved else None
        sessions.forget(session_token(request), user.id if user else None)


def session_cookie(settings: Settings, token: str) -> str:
    """The ``Set-Cookie`` value of the session cookie for ``token``."""
    return _cookie_header(SESSION_COOKIE, token, settings, max_age=settings.session_days * 86400)


_SESSION_NAME = f"{SESSION_COOKIE}=".encode()


def session_in_cookies(cookies: bytes) -> str | None:
    """The session cookie's value in one Cookie header, as Starlette reads it (the last one
    of that name wins), without parsing every cookie of the header: for the fronts that
    answer before a ``Request`` is made (``member_pages``, ``vote_front``)."""
    at = cookies.rfind(_SESSION_NAME)
    while at > 0 and not cookies[:at].rstrip(b" ").endswith(b";"):  # inside another cookie
        at = cookies.rfind(_SESSION_NAME, 0, at)
    if at < 0:
        return None
    end = cookies.find(b";", at)
    value = cookies[at + len(_SESSION_NAME) : end if end >= 0 else len(cookies)].strip()
    if b'"' in value or b"\\" in value:  # quoted: as the full parser reads it
        return cookie_parser(cookies.decode("latin-1")).get(SESSION_COOKIE) or None
    return value.decode("latin-1") or None


def set_session_cookie(request: Request, token: str) -> None:
    """Send the session cookie for ``token`` with this request's answer."""
    _forget_cached_session(request)
    _pending_cookies(request)[SESSION_COOKIE] = session_cookie(_settings(request), token)
    request.state.auth_session_token = token


def clear_session_cookie(request: Request) -> None:
    _forget_cached_session(request)
    header = _cookie_header(SESSION_COOKIE, "", _settings(request), max_age=0)
    _pending_cookies(request)[SESSION_COOKIE] = header
    request.state.auth_session_token = None


def _state_of(request: Request) -> dict[str, Any]:
    """What ``request.state`` holds, as the dict it wraps (the scope's ``state``): a name
    not set there costs no ``AttributeError`` made and formatted (several a vote)."""
    state: dict[str, Any] = request.scope.setdefault("state", {})
    return state


def session_token(request: Request) -> str | None:
    """The session token this request carries (or was given during it)."""
    given: str | None | object = _state_of(request).get("auth_session_token", _UNSET)
    if given is not _UNSET:
        return cast(str | None, given)
    return request.cookies.get(SESSION_COOKIE) or None


def _authorization(request: Request) -> str:
    """The first Authorization header ("" if none), as ``request.headers.get`` reads it,
    without making the headers (and the AttributeError Starlette's first look for them
    raises): every signed-in request asks, each vote among them."""
    for name, value in request.scope["headers"]:
        if name == _AUTH:
            return str(value.decode("latin-1"))
    return ""


def _bearer(request: Request) -> str | None:
    header = _authorization(request)
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _resolve(request: Request) -> tuple[User | None, BearerUser | None]:
    state = _state_of(request)
    cached = state.get("auth_resolved")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    resolved: tuple[User | None, BearerUser | None] = (None, None)
    bearer = _bearer(request)
    if bearer is not None:
        found = resolve_bearer(request.app.state.store, bearer)
        resolved = (found.user, found) if found else (None, None)
    elif token := session_token(request):  # nobody signed in (most requests) stops here
        resolved = (_session_user(request, token), None)
    if resolved[0] is not None:
        state["auth_personal"] = True
    state["auth_resolved"] = resolved
    return resolved


def _session_user(request: Request, token: str) -> User | None:
    """The member of the session ``token`` (None if it is not a live session); the store is
    read only when the session cache does not know it (``app.state``'s every attribute is a
    call of its ``__getattr__``)."""
    sessions: personal.SessionCache | None = None
    # Votes (the busiest writes) may trust the member pages' session cache; every other
    # route reads the account afresh (settings compare passwords, show the address).
    if request.scope["path"].endswith("/upvote"):
        sessions = getattr(request.app.state, "sessions", None)
    known = sessions.get(token) if sessions is not None else None
    if known is not None:
        return known
    signed_in = resolve_session(request.app.state.store, token)
    if signed_in is None:
        return None
    if signed_in.rotated_token:
        set_session_cookie(request, signed_in.rotated_token)
    elif sessions is not None:
        sessions.put(token, signed_in.user)
    return signed_in.user


def current_user(request: Request) -> User | None:
    """The signed-in user of the request (session cookie or bearer token), or None."""
    return _resolve(request)[0]


def bearer_scope(request: Request) -> str | None:
    """The scope of the request's API token ("read" or "write"); None for a session."""
    bearer = _resolve(request)[1]
    return bearer.scope if bearer else None


def forget_user(request: Request) -> None:
    """Drop what this request resolved (after a log-in or log-out changed it)."""
    request.state.auth_resolved = None


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api")


def login_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"/login?next={quote(target, safe='')}"


def require_user(request: Request) -> User:
    """The signed-in user; else a 401 (API) or a 303 to the log-in page (pages)."""
    user = current_user(request)
    if user is not None:
        return user
    if _wants_json(request):
        raise HTTPException(
            401,
            "sign in first: send Authorization: Bearer TOKEN",
            headers={"WWW-Authenticate": "Bearer"},
        )
    raise HTTPException(303, "sign in to see this page", headers={"Location": login_url(request)})


def require_role(role: str) -> Callable[[Request], User]:
    """A dependency: a signed-in user with ``role`` or a higher one, else 403."""

    def dependency(request: Request) -> User:
        user = require_user(request)
        if not user.has_role(role):
            raise HTTPException(403, f"this needs the {role} role")
        return user

    return dependency


# CSRF


_MACS: dict[tuple[str, str, str], str] = {}  # (key, purpose, value) -> its MAC (_mac)
MAC_MEMO_SIZE = 20_000  # MACs kept at most; the memo starts afresh beyond


def _mac(settings: Settings, purpose: str, value: str) -> str:
    """The HMAC of ``value`` for ``purpose`` (a CSRF token), computed once per value: every
    vote checks its token, and the HMAC was about 6 % of a vote's CPU in process."""
    memo = (settings.secret_key, purpose, value)
    known = _MACS.get(memo)
    if known is None:
        if len(_MACS) >= MAC_MEMO_SIZE:
            _MACS.clear()
        key = settings.secret_key.encode()
        made = hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()[:40]
        known = _MACS[memo] = made
    return known


def session_csrf(settings: Settings, session: str) -> str:
    """The CSRF token of the forms of the browser holding the session token ``session``."""
    return _mac(settings, "session", session)


def csrf_token(request: Request) -> str:
    """The CSRF token for forms of this request (sets the anonymous cookie when needed);
    a member template (:mod:`dailypapers.web.personal`) gets the slot each member's fills."""
    settings = _settings(request)
    if personal.in_template(request.scope.setdefault("state", {})):
        return personal.CSRF_SLOT
    # A page with a form carries this browser's token: it must never be cached for others.
    request.scope.setdefault("state", {})["auth_personal"] = True
    token = session_token(request)
    if token and current_user(request) is not None:
        return session_csrf(settings, token)
    anonymous = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "auth_csrf", None)
    if not anonymous:
        anonymous = secrets.token_urlsafe(24)
        request.state.auth_csrf = anonymous
        _pending_cookies(request)[CSRF_COOKIE] = _cookie_header(
            CSRF_COOKIE, anonymous, settings, max_age=None
        )
    return _mac(settings, "anonymous", anonymous)


def _valid_csrf(request: Request, given: str) -> bool:
    settings = _settings(request)
    expected = []
    token = session_token(request)
    if token:
        expected.append(_mac(settings, "session", token))
    if anonymous := request.cookies.get(CSRF_COOKIE):
        expected.append(_mac(settings, "anonymous", anonymous))
    # compare_digest raises on text that is not ASCII (a 500): no token of ours is.
    ok = bool(given) and given.isascii()
    return ok and any(hmac.compare_digest(given, value) for value in expected)


async def check_csrf(request: Request) -> None:
    """A dependency: 403 unless the request carries this browser's CSRF token."""
    given = request.headers.get(CSRF_HEADER, "")
    if not given and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()  # Starlette keeps it: the route's Form() fields read it too
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else ""
    require_csrf(request, given)


def require_csrf(request: Request, given: str) -> None:
    """403 unless ``given`` is this browser's CSRF token (the form's, read by the caller)."""
    if not _valid_csrf(request, given):
        raise HTTPException(
            403, "this form has expired or came from another site; reload the page and try again"
        )


async def require_writer(request: Request) -> User:
    """The user of a state-changing request: a write-scoped bearer token, or a session with
    its CSRF token; else 401 (nobody signed in), or 403 (read-only token, no CSRF token)."""
    if _bearer(request) is not None:
        user, bearer = _resolve(request)
        if bearer is None or user is None:
            raise HTTPException(
                401, "unknown or revoked API token", headers={"WWW-Authenticate": "Bearer"}
            )
        if not bearer.can_write:
            raise HTTPException(403, "this API token has the read scope; this needs write")
        return user
    await check_csrf(request)
    return require_user(request)


@pass_context
def csrf_field(context: Any) -> Markup:
    """``{{ csrf_field() }}``: the hidden form field with this request's CSRF token."""
    token = csrf_token(context["request"])
    return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, token)


@pass_context
def csrf_value(context: Any) -> str:
    return csrf_token(context["request"])


@pass_context
def signed_in_user(context: Any) -> User | None:
    """``{{ signed_in_user() }}``: for the header (None when nobody is signed in)."""
    return current_user(context["request"])


@pass_context
def account_nav(context: Any) -> Markup:
    """``{{ account_nav() }}``: the header's account links (log in, or the member's name and
    log-out form; in a member template, the slot :func:`personal.merge` fills)."""
    request: Request = context["request"]
    if personal.in_template(request.scope.setdefault("state", {})):
        return Markup(personal.HEADER_SLOT)
    user = current_user(request)
    path = request.url.path
    if user is None:
        return Markup(personal.anonymous_nav(path))
    unread = notifications.unread_count(request.app.state.store, user.id)
    return Markup(personal.member_nav(user.username, csrf_token(request), path, unread))


@pass_context
def yours_among(context: Any, voter: Any, paper_id: str) -> Markup:
    """``{{ yours_among(voter, id) }}``: ", yours among them" after a paper's count when the
    member (``voter``, a :class:`~dailypapers.web.cards.Voter`) upvoted it."""
    if voter is None:
        return Markup("")
    if personal.in_template(context["request"].scope.setdefault("state", {})):
        return Markup(personal.yours_slot(paper_id))
    return Markup(personal.YOURS_TEXT if paper_id in voter.upvoted else "")


TEMPLATE_GLOBALS = {
    "account_nav": account_nav,
    "yours_among": yours_among,
    "csrf_field": csrf_field,
    "csrf_token": csrf_value,
    "signed_in_user": signed_in_user,
}


class AuthCookies:
    """ASGI middleware: the cookies a request decided on, and no caching of personal answers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})

        async def with_cookies(message: Message) -> None:
            if message["type"] == "http.response.start":
                cookies = state.get("auth_cookies") or {}
                personal = state.get("auth_personal") or cookies or _has_session(scope)
                headers = list(message["headers"])
                headers += [(b"set-cookie", value.encode()) for value in cookies.values()]
                if personal:
                    headers = [(k, v) for k, v in headers if k.lower() != b"cache-control"]
                    headers.append((b"cache-control", b"private, no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_cookies)


def _has_session(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"authorization" or (name == b"cookie" and SESSION_COOKIE.encode() in value):
            return True
    return False
