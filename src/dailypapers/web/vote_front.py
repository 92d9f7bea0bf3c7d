"""The vote form as ``static/upvote.js`` sends it, answered in front of the site's layers.

A member's vote (``POST /papers/{id}/upvote``, urlencoded, ``Accept: application/json``)
passed, before :func:`dailypapers.web.votes.upvote_form_direct` reached it, through HEAD as
GET, the security headers, the last-resort error page, the Host check, the response cache,
the cookies' layer, Starlette's exception handlers and the router (6 % of a vote's
instructions), then made a ``Request`` and asked ``web.auth`` for the session, its member and
the CSRF check (about as much again; BENCHMARKS.md, "Votes, session 17"). :class:`VoteFront`,
outside all of them and outside FastAPI's own layers too (:class:`~dailypapers.web.outer.
Site`: its telemetry check, error page and body limit, a tenth of a vote; "Votes, session
18"), makes the vote itself when everything around it is plain, and answers as those layers
would (the JSON state with ``Cache-Control: private, no-store`` and the security headers; a
test compares the two answers byte for byte):

- before the vote, whatever is not plain goes on to the layers as it came (the body, read
  already, given again): another form or ``Accept``, an API token, a CSRF header, a Host
  the Host check refuses, a body the direct form would not take, a CSRF token that
  is not the session's, a session not kept by the member pages' :class:`~dailypapers.web.
  personal.SessionCache` (the layers read it and keep it), a suspended member. Nothing is
  written or counted before then, so the layers' answer is the one they would have given;
- a vote that fails (an unknown paper, the rate limit, an error of the store) goes on to
  the layers too, with its failure: :func:`~dailypapers.web.votes.upvote_form_direct`
  raises it where it would have voted (:data:`FAILED_VOTE`), so that its answer (an error
  page, a 429 with ``Retry-After``, the 500 page) is theirs and the vote is not made twice.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable

from starlette.types import ASGIApp, Receive, Scope, Send

from dailypapers.accounts import User
from dailypapers.settings import Settings
from dailypapers.web import auth, personal, security, votes
from dailypapers.web.hosts import HostCheck, KnownHosts
from dailypapers.web.limits import client_of
from dailypapers.web.member import Member, member_of
from dailypapers.web.routing import read_body, replayed

# What the layers add to the JSON answer: the cookies' layer marks a signed-in answer
# private (the vote's own answer has no Cache-Control to replace, and no cookie is set:
# the session is one kept as it is, the CSRF token the session's).
_PRIVATE = (b"cache-control", b"private, no-store")


class VoteFront:
    """ASGI middleware: a member's vote as ``upvote.js`` sends it (see the module's doc)."""

    def __init__(
        self, app: ASGIApp, sessions: personal.SessionCache, allowed: tuple[str, ...] = ()
    ) -> None:
        self.app = app
        self.sessions = sessions
        self._hosts = KnownHosts(HostCheck(app, allowed))
        self._members: dict[int, tuple[User, Member]] = {}  # user id -> their user, member
        self._app: tuple[Settings, votes.Voting] | None = None  # read on the first vote

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not a coroutine function: every other request costs no coroutine of this layer.
        if scope["type"] == "http" and scope["method"] == "POST" and not scope.get("root_path"):
            match = votes.VOTE_PATH.fullmatch(scope["path"])
            if match is not None:
                return self._vote(match["paper_id"], scope, receive, send)
        return self.app(scope, receive, send)

    async def _vote(self, paper_id: str, scope: Scope, receive: Receive, send: Send) -> None:
        accept = votes.plain_vote_form(scope)
        hosts, cookie = [], None
        for name, value in scope["headers"]:
            if name == b"host":
                hosts.append(value)
            elif name == b"cookie":  # several, merged by Starlette: the layers read them
                cookie = value if cookie is None else b""
        if accept is None or not votes.wants_json(accept) or not self._hosts.passes(hosts):
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        if body is None:  # the client left before sending it all: nobody to answer
            return
        fields = votes.form_fields(body)
        member = None if fields is None else self._member(scope, cookie, fields[auth.CSRF_FIELD])
        if fields is None or member is None or member.suspended:  # a suspension: their 403
            await self.app(scope, replayed(body, receive), send)
            return
        voting, ip = self._voting(scope), client_of(scope)
        try:
            state = await votes.vote_soon(voting, ip, member, paper_id, fields["upvoted"] == "1")
        except Exception as failure:
            scope[votes.FAILED_VOTE] = failure
            await self.app(scope, replayed(body, receive), send)
            return
        answer = votes.json_state(state)
        headers = [
            (b"content-length", str(len(answer)).encode()),
            votes.JSON_TYPE,
            _PRIVATE,
            *security.headers_for(scope["path"]),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer})

    def _member(self, scope: Scope, cookie: bytes | None, csrf: str) -> Member | None:
        """The member of the session in the Cookie header ``cookie`` when the session is
        kept and ``csrf`` is its token: whom the layers would find, without the store, and
        whose form they would take (:func:`~dailypapers.web.auth.require_writer`); else
        None (another token, such as the anonymous one, is theirs to check)."""
        if not cookie:
            return None
        token = auth.session_in_cookies(cookie)
        user = self.sessions.get(token) if token else None
        if user is None or not token:
            return None
        settings = self._settings(scope)
        # compare_digest raises on text that is not ASCII: no token of ours is.
        if not csrf.isascii() or not hmac.compare_digest(csrf, auth.session_csrf(settings, token)):
            return None
        known = self._members.get(user.id)
        if known is None or known[0] is not user:  # a member made once per user read
            if len(self._members) >= personal.SESSION_CACHE_SIZE:
                self._members.clear()
            known = self._members[user.id] = (user, member_of(user))
        return known[1]

    def _settings(self, scope: Scope) -> Settings:
        return self._read_app(scope)[0]

    def _voting(self, scope: Scope) -> votes.Voting:
        return self._read_app(scope)[1]

    def _read_app(self, scope: Scope) -> tuple[Settings, votes.Voting]:
        """The app's settings and what its votes need, read once (made in ``create_app``,
        never replaced)."""
        if self._app is None:
            app = scope["app"]
            self._app = app.state.settings, votes.voting_of(app)
        return self._app
