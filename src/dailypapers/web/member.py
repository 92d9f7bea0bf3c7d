"""Who is asking, as the community's routes need it: the signed-in member of a page request,
the member of an API request (bearer token), and the CSRF token of forms.

The accounts package owns sessions, tokens and CSRF; this module is the one place the
community's routes (:mod:`dailypapers.web.votes`, :mod:`dailypapers.web.submissions`) ask
it, and turns its answers into a :class:`Member` with just what voting and submitting need.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import HTTPException, Request


@dataclass(frozen=True, slots=True)
class Member:
    """A signed-in member: what votes and submissions need to know of them."""

    id: int
    username: str
    fullname: str | None
    role: str
    confirmed: bool
    suspended: bool


def signed_in(request: Request) -> Member | None:
    """The member signed in on this browser (its session cookie), or None."""
    from dailypapers.web import auth

    user = auth.current_user(request)
    return None if user is None else _member(user)


def csrf_token(request: Request) -> str:
    """The token the signed-in member's forms carry."""
    from dailypapers.web import auth

    return auth.csrf_token(request)


def check_csrf(request: Request, token: str) -> None:
    """Refuse (403) a form POST whose token is not this session's: a cross-site request."""
    from dailypapers.web import auth

    auth.check_csrf(request, token)


def api_member(request: Request, *, write: bool) -> Member:
    """The member whose bearer token this API request carries: 401 without a valid token,
    403 when ``write`` is needed and the token has only read scope."""
    from dailypapers.web import auth

    user = auth.api_user(request, scope="write" if write else "read")
    if user is None:
        raise HTTPException(401, "send a personal API token: Authorization: Bearer TOKEN")
    return _member(user)


def _member(user: object) -> Member:
    return Member(
        id=getattr(user, "id"),  # noqa: B009
        username=getattr(user, "username"),  # noqa: B009
        fullname=getattr(user, "fullname", None),
        role=getattr(user, "role", "user"),
        confirmed=getattr(user, "email_confirmed_at", None) is not None,
        suspended=getattr(user, "suspended_at", None) is not None,
    )
