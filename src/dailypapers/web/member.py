"""Who is asking, as the community's routes need it: the signed-in member of a page, the
member of a state-changing request (a form with its CSRF token, or a bearer token with write
scope), and the CSRF token of forms, all from :mod:`dailypapers.web.auth`.

It turns the accounts' user into a :class:`Member` with just what voting and submitting
need, so :mod:`dailypapers.web.votes` and :mod:`dailypapers.web.submissions` depend on
this one small shape.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from fastapi import HTTPException, Request

from dailypapers.accounts import User
from dailypapers.accounts.limits import RateLimiter, Settle, Transaction
from dailypapers.web import auth
from dailypapers.web.limits import client_ip, limiter_of


@dataclass(frozen=True, slots=True)
class Member:
    """A signed-in member: what votes and submissions need to know of them."""

    id: int
    username: str
    fullname: str | None
    role: str
    confirmed: bool
    suspended: bool

    @property
    def moderator(self) -> bool:
        return self.role in ("moderator", "admin")


def member_of(user: User) -> Member:
    return Member(user.id, user.username, user.fullname, user.role, user.confirmed, user.suspended)


def signed_in(request: Request) -> Member | None:
    """The member signed in on this browser, or None."""
    user = auth.current_user(request)
    return None if user is None else member_of(user)


def csrf_token(request: Request) -> str:
    """The token the signed-in member's forms carry."""
    return auth.csrf_token(request)


async def form_writer(request: Request) -> Member:
    """The member of a form POST: signed in, with this session's CSRF token (else 403)."""
    return member_of(await auth.require_writer(request))


def check_limit(
    request: Request,
    rule: Literal["vote", "submission"],
    member: Member,
    connection: Transaction | None = None,
) -> None:
    """Count one ``rule`` ("vote", "submission") for the member and their address; raises
    ``RateLimited`` (a 429 with ``Retry-After``) past the configured limits. With
    ``connection`` (a write transaction of the site's store) it is counted there, committed
    or rolled back with the caller's write."""
    limiter_of(request).check_rule(
        rule, ip=client_ip(request), account=str(member.id), connection=connection
    )


def check_vote_limit(
    limiter: RateLimiter, ip: str, member_id: int, connection: Transaction
) -> Settle:
    """:func:`check_limit` of a member's vote from address ``ip`` in its write transaction,
    from this process's leases of hits (``accounts.limits.Leases``); returns what to call
    once the transaction ended, with whether it committed."""
    return limiter.check_leased("vote", ip=ip, account=str(member_id), connection=connection)


async def api_writer(request: Request) -> Member:
    """The member of an API write: 401 with no credentials at all, 403 for a read-scope
    token; a signed-in browser's script sends the CSRF token as ``X-CSRF-Token``."""
    if auth.current_user(request) is None and "authorization" not in request.headers:
        raise HTTPException(
            401,
            "send a personal API token with write scope: Authorization: Bearer TOKEN",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return member_of(await auth.require_writer(request))
