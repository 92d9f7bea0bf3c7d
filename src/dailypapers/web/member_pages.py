"""Signed-in pages from the response cache: one rendering per URL for every member, each
member merged in (:mod:`dailypapers.web.personal`).

:class:`MemberPages` takes the GETs :class:`~dailypapers.web.cache.CacheMiddleware` does not
cache (they carry the session cookie) for the pages members read alike (:data:`SHARED_PATHS`,
:data:`SHARED_PREFIXES`); personal pages (settings, profiles, moderation, log-in) and API
calls go on to the app as before. For one of those pages:

1. the session token's member, from :class:`~dailypapers.web.personal.SessionCache` (the
   sessions kept for a while read again together in the background) or one indexed lookup
   (an unknown, expired or suspended session, or one whose token must be rotated, goes on
   to the app, which clears or rotates the cookie);
2. the member template of the URL from the cache (key: the URL and whether the member is a
   moderator, who see a form more), or rendered once by the app with the template flag set
   and kept when it is a plain 200 without cookies; it notes the papers the page shows;
3. which of those papers the member upvoted, from :class:`~dailypapers.web.personal.
   MemberVotes` (every vote of the member, read once with one query and kept up to date by
   this process's votes, dropped when votes changed elsewhere), which are in the member's
   collections or marked "not interested" (:class:`~dailypapers.web.personal.MemberMarks`,
   read with one query, kept likewise, read again in the background when older than its
   seconds, for other processes' changes), and their count of unread notifications
   (:class:`~dailypapers.discussion.notifications.UnreadCounts`: kept in memory, exact for
   this process's changes, within seconds for other processes'); then the merge, sent with
   ``Cache-Control: private, no-store`` and ``X-Cache: hit`` or ``miss``. The merge is one
   join of the template's pieces (:class:`~dailypapers.web.personal.Plan`, cut once per
   template body) with the member's CSRF token and header (both made once per session), the
   boxes of papers the member marked flipped in the same join (where they are is found once
   per template body).

Everything a cached page needs is in memory and is read on the event loop: a request goes
to a worker thread only for a real store read (a member seen for the first time, the
cache's look at the store every few seconds), each hop costing a thread handoff and GIL
contention under load. When all of it is kept (most requests), :class:`MemberFront`, the
outermost layer, answers with :meth:`MemberPages.kept` before the other layers (HEAD as GET,
security headers, errors, the Host check, the cache), adding what they would add; the rest
goes through them to :class:`MemberPages` as above. While telemetry is off, the front is
also asked ahead of FastAPI's own layers (``web/site.py``).

Nothing member-specific is ever stored: the template has slots where the member goes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dailypapers.accounts import User
from dailypapers.accounts.service import resolve_session, still_signed_in
from dailypapers.discussion import notifications
from dailypapers.discussion.collections import member_marks, members_marks
from dailypapers.feed.reader import Store, read
from dailypapers.settings import Settings
from dailypapers.web import auth, list_order, personal, security
from dailypapers.web.cache import (
    Alone,
    CachedResponse,
    CacheKey,
    ResponseCache,
    in_background,
    no_body,
    page_papers,
)
from dailypapers.web.hosts import HostCheck, KnownHosts

# Pages every member sees alike but for the header, the CSRF token and their votes.
SHARED_PATHS = frozenset({"/", "/trending", "/search", "/about", "/about/ranking"})
SHARED_PREFIXES = ("/date/", "/week/", "/month/", "/papers/", "/authors/")
logger = logging.getLogger(__name__)
# How often the marks members were served with are checked for age (personal.MemberMarks):
# those older than its seconds are read again together, in one read transaction.
MARKS_CHECK_EVERY = 2.0
SESSIONS_CHECK_EVERY = 2.0  # likewise for the sessions kept (personal.SessionCache.stale)
_DROPPED_HEADERS = (b"content-length", b"cache-control", b"x-cache")
_TOKEN_KEY = "dailypapers.member_session"  # the scope's session token, as takes() read it
# Set in a request's scope when the front was asked ahead of FastAPI's layers (web/site.py)
# and could not answer: the front among the layers does not ask again.
TRIED = "dailypapers.member_front_tried"


def session_of(scope: Scope) -> str | None:
    """The session token of a GET for a shared page, without an API token; else None."""
    if scope["type"] != "http" or scope["method"] != "GET":
        return None
    path = scope["path"]
    if path not in SHARED_PATHS and not path.startswith(SHARED_PREFIXES):
        return None
    cookies = None
    for name, value in scope["headers"]:
        if name == b"authorization":
            return None
        if name == b"cookie":
            if cookies is not None:  # Starlette merges several: the layers read those
                return None
            cookies = value
    return None if cookies is None else auth.session_in_cookies(cookies)


_MODERATOR, _MEMBER = "moderator", "member"
Answer = tuple[int, list[tuple[bytes, bytes]], bytes]  # status, headers, body


def _host(scope: Scope) -> bytes:
    return next((value for name, value in scope["headers"] if name == b"host"), b"")


def _member_key(scope: Scope, host: bytes, kind: str) -> CacheKey:
    return (f"{scope.get('scheme', 'http')} {kind}", host, scope["path"], scope["query_string"])


class _Seen:
    """What a member's pages carry of their session: its member and the kind of template
    they get (moderators see a form more), its CSRF token (an HMAC), and their header (made
    again when their unread count changed). On shared pages alone: none of them is a place
    the header marks current (``personal.member_nav``), so one header fits them all."""

    __slots__ = ("user", "kind", "csrf", "_unread", "_header")

    def __init__(self, user: User, csrf: str) -> None:
        self.user = user
        self.kind = _MODERATOR if user.has_role("moderator") else _MEMBER
        self.csrf = csrf
        self._unread = -1
        self._header = b""

    def header_of(self, unread: int) -> bytes:
        if unread != self._unread:
            self._header = personal.member_nav(self.user.username, self.csrf, "/", unread).encode()
            self._unread = unread
        return self._header


class MemberFront:
    """ASGI middleware, the site's outermost: a member's GET of a shared page that
    :meth:`MemberPages.kept` can answer from memory is answered here, as the layers inside
    would answer it (the security headers added, the Host checked: a value is checked once
    with :class:`~dailypapers.web.hosts.HostCheck`'s rules and remembered), without going
    through them (HEAD as GET, security headers, the last-resort error page, the Host check,
    the cache's own checks: about a quarter of a member's cached page). Anything else goes
    on to them: a request that is not such a GET, a Host not seen before, a page not cached
    or past its lifetime, a member or their state not kept, an error while merging.
    """

    def __init__(
        self,
        app: ASGIApp,
        members: MemberPages,
        cache: ResponseCache,
        allowed: tuple[str, ...] = (),
    ) -> None:
        self.app = app
        self.members = members
        self.cache = cache
        self._hosts = KnownHosts(HostCheck(app, allowed))

    def __call__(self, scope: Scope, receive: Receive, send: Send) -> Awaitable[None]:
        # Not a coroutine function: what it returns is awaited by the layer outside, so
        # every request that goes on costs no coroutine of this layer's own.
        answer = None if TRIED in scope else self.answering(scope, send)
        return self.app(scope, receive, send) if answer is None else answer

    def answering(self, scope: Scope, send: Send) -> Coroutine[Any, Any, None] | None:
        """The sending of the answer to ``scope`` from memory, when it can be answered so
        (a member's GET of a shared page: see the class's doc); else None (the layers
        answer it). ``web/site.py`` asks it ahead of FastAPI's own layers."""
        answer = None
        if scope["type"] == "http" and scope["method"] == "GET":
            try:
                answer = self._answer(scope)
            except Exception:  # the layers inside answer it (or say what went wrong)
                logger.exception("answering %s from memory failed", scope["path"])
        if answer is None:
            return None
        return _send_answer(send, answer, security.headers_for(scope["path"]))

    def _answer(self, scope: Scope) -> Answer | None:
        path = scope["path"]
        if path not in SHARED_PATHS and not path.startswith(SHARED_PREFIXES):
            return None
        cookies = host = None
        hosts = 0
        for name, value in scope["headers"]:
            if name == b"host":
                host, hosts = value, hosts + 1
            elif name == b"cookie":
                if cookies is not None:  # several: Starlette merges them, the layers read them
                    return None
                cookies = value
            elif name == b"authorization":
                return None
        if cookies is None or host is None or hosts > 1 or not self._hosts.passes([host]):
            return None
        token = auth.session_in_cookies(cookies)
        return None if token is None else self.members.kept(scope, self.cache, token, host)


async def _send_answer(send: Send, answer: Answer, extra: list[tuple[bytes, bytes]]) -> None:
    """``answer`` sent with the headers ``extra`` that SecurityHeaders, a layer the front
    answers outside of, would have added (a test checks the two answers are the same)."""
    status, headers, body = answer
    headers += extra
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class Background:
    """A job run in a worker thread at most every ``every`` seconds and one at a time, for
    the event loop to start and not wait for; a failure is logged, and what it would have
    read again is kept (sessions still expire) until a later turn succeeds."""

    def __init__(self, job: Callable[[], None], every: float, what: str) -> None:
        self.job, self.every, self.what = job, every, what
        self._started = float("-inf")
        self._running: asyncio.Future[None] | None = None

    def start(self) -> None:
        """Run the job now unless it is running or ran less than ``every`` seconds ago."""
        if self._running is not None or time.monotonic() - self._started < self.every:
            return
        self._started = time.monotonic()
        self._running = asyncio.get_running_loop().run_in_executor(None, self.job)
        self._running.add_done_callback(self._done)

    def _done(self, done: asyncio.Future[None]) -> None:
        self._running = None
        if not done.cancelled() and done.exception() is not None:
            logger.warning("reading %s again failed: %r", self.what, done.exception())


class MemberPages:
    """The signed-in side of the response cache (see the module's doc)."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        sessions: personal.SessionCache,
        votes: personal.MemberVotes,
        unread: notifications.UnreadCounts | None = None,
        marks: personal.MemberMarks | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.sessions = sessions
        self.votes = votes
        self.unread = unread or notifications.UnreadCounts(store)
        self.marks = marks or personal.MemberMarks()
        self._seen: dict[str, _Seen] = {}  # session token -> what its pages carry
        # The members' marks and the sessions kept for a while, read again in the background.
        self._marks_again = Background(self._reread, MARKS_CHECK_EVERY, "members' marks")
        self._sessions_again = Background(self._reread_sessions, SESSIONS_CHECK_EVERY, "sessions")
        self._unread_again = Alone(self.unread.refresh)

    def takes(self, scope: Scope) -> bool:
        token = scope[_TOKEN_KEY] = session_of(scope)  # read once: __call__ follows
        return token is not None

    async def __call__(
        self, scope: Scope, receive: Receive, send: Send, app: ASGIApp, cache: ResponseCache
    ) -> None:
        token = scope[_TOKEN_KEY] if _TOKEN_KEY in scope else session_of(scope)
        # What is kept is read without awaiting (a coroutine each cost as much as the read).
        user = self._kept_member(token) if token else None
        if user is None and token:
            user = await self._stored_member(scope, token)
        if token is None or user is None:
            await app(scope, receive, send)  # the app clears or rotates the cookie
            return
        if cache.due():
            await cache.look()
        seen = self._seen_of(token, user)
        key = _member_key(scope, _host(scope), seen.kind)
        template, renew = cache.lookup(key)
        hit = template is not None
        if template is None:
            template = await cache.follow(key)  # another member's rendering under way
            hit = template is not None
        if template is None:
            with cache.leading(key):
                template = await self._render(scope, receive, app, cache, key, user)
        elif renew:  # past its lifetime: served while checked or rendered again
            in_background(self._renew(scope, app, cache, key, user, template))
        ids = template.paper_ids
        if ids:
            voted = self.votes.get(user.id)
            upvoted = (voted if voted is not None else await self._stored_votes(user.id)) & ids
        else:
            upvoted = frozenset()
        unread = self.unread.cached(user.id)
        if unread is None or self.unread.due():
            unread = await self._unread_of(user.id)
        shown = ids or frozenset()
        saved, hidden = self._kept_marks(user.id) if shown else (shown, shown)
        if saved is None or hidden is None:
            saved, hidden = await marks_of(self.store, self.marks, user.id)
        headers, body = self._merged(template, seen, upvoted, unread, saved & shown,
                                     hidden & shown, b"hit" if hit else b"miss")  # fmt: skip
        await send({"type": "http.response.start", "status": template.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def kept(self, scope: Scope, cache: ResponseCache, token: str, host: bytes) -> Answer | None:
        """The answer of :meth:`__call__` to a GET of a shared page with the session
        ``token`` (its Host ``host``) when all it needs is kept: the member, the page's
        template within its lifetime (:meth:`ResponseCache.fresh`), the member's votes,
        unread count and marks; else None, and nothing done that :meth:`__call__` would
        not do again (for :class:`MemberFront`, which cannot wait for the store or render).
        """
        user = self._kept_member(token)
        if user is None or cache.due():
            return None
        seen = self._seen_of(token, user)
        template = cache.fresh(_member_key(scope, host, seen.kind))
        unread = self.unread.cached(user.id)
        if template is None or unread is None or self.unread.due():
            return None
        ids = template.paper_ids
        upvoted: frozenset[str] = frozenset()
        saved = hidden = upvoted
        if ids:
            voted = self.votes.get(user.id)
            marked_saved, marked_hidden = self._kept_marks(user.id)
            if voted is None or marked_saved is None or marked_hidden is None:
                return None
            upvoted, saved, hidden = voted & ids, marked_saved & ids, marked_hidden & ids
        headers, body = self._merged(template, seen, upvoted, unread, saved, hidden, b"hit")
        return template.status, headers, body

    def _merged(
        self,
        template: CachedResponse,
        seen: _Seen,
        upvoted: frozenset[str],
        unread: int,
        saved: frozenset[str],
        hidden: frozenset[str],
        cached: bytes,
    ) -> tuple[list[tuple[bytes, bytes]], bytes]:
        """The headers and body of the member's page from ``template`` (``cached``: what
        X-Cache says)."""
        plan = self._plan(template)
        body = personal.merge_planned(
            plan,
            username=seen.user.username,
            header=seen.header_of(unread),
            csrf_token=seen.csrf,
            upvoted=upvoted,
            saved=saved,
            hidden=hidden,
        )
        length = (b"content-length", str(len(body)).encode())
        return [*plan.headers, length, (b"x-cache", cached)], body

    def _plan(self, template: CachedResponse) -> personal.Plan:
        """The template cut at its slots, once per cached body, kept with it (a vote's
        correction of its counts moves it along: personal.Plan.shifted)."""
        plan = template.derived.get("plan")
        if isinstance(plan, personal.Plan):
            return plan
        headers = [(k, v) for k, v in template.headers if k.lower() not in _DROPPED_HEADERS]
        headers.append((b"cache-control", b"private, no-store"))
        plan = template.derived["plan"] = personal.Plan(template.body, headers)
        return plan

    def _seen_of(self, token: str, user: User) -> _Seen:
        """What the pages of the session ``token`` carry of it, made once (again when
        the session's member was read again: their name or role may have changed)."""
        seen = self._seen.get(token)
        if seen is None or seen.user is not user:
            if len(self._seen) >= personal.SESSION_CACHE_SIZE:
                self._seen.clear()
            seen = self._seen[token] = _Seen(user, auth.session_csrf(self.settings, token))
        return seen

    def _kept_member(self, token: str) -> User | None:
        """The token's member if kept (:attr:`sessions`), else None (then
        :meth:`_stored_member`)."""
        user = self.sessions.get(token)
        if user is not None:
            self._sessions_again.start()  # the ones kept served meanwhile
        return user

    async def _stored_member(self, scope: Scope, token: str) -> User | None:
        """The token's member read from the store (one not kept: :meth:`_kept_member` first),
        then kept; None to let the app answer (no such session, or rotated)."""
        signed_in = await anyio.to_thread.run_sync(resolve_session, self.store, token)
        if signed_in is None:
            return None
        if signed_in.rotated_token:  # the old token is gone: the app must send the new one
            state = scope.setdefault("state", {})
            state["auth_resolved"] = (signed_in.user, None)
            state["auth_session_token"] = signed_in.rotated_token
            state.setdefault("auth_cookies", {})[auth.SESSION_COOKIE] = auth.session_cookie(
                self.settings, signed_in.rotated_token
            )
            return None
        self.sessions.put(token, signed_in.user)
        return signed_in.user

    def _reread_sessions(self) -> None:
        """The sessions kept for a while (``SessionCache.stale``), read again together."""
        stale = self.sessions.stale()
        if stale:
            read_at = time.monotonic()
            found = still_signed_in(self.store, list(stale))
            self.sessions.renew(stale, found, read_at)

    async def _renew(
        self,
        scope: Scope,
        app: ASGIApp,
        cache: ResponseCache,
        key: CacheKey,
        user: User,
        template: CachedResponse,
    ) -> None:
        """The member ``template``, past its lifetime, kept on if still right
        (``ResponseCache.still_right``), else rendered again for the cache alone."""
        if not await cache.still_right(key, template):
            await self._render(scope, no_body, app, cache, key, user)

    async def _render(
        self,
        scope: Scope,
        receive: Receive,
        app: ASGIApp,
        cache: ResponseCache,
        key: CacheKey,
        user: User,
    ) -> CachedResponse:
        """The member template of the page, rendered by the app; kept when shareable."""
        state = {personal.TEMPLATE_KEY: user.has_role("moderator"), "auth_resolved": (user, None)}
        template_scope = {**scope, "state": state}
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        mark = cache.forgets()
        await app(template_scope, receive, capture)
        headers = list(start.get("headers", []))
        entry = CachedResponse(
            start.get("status", 500),
            headers,
            b"".join(chunks),
            time.monotonic(),
            page_papers(template_scope),
            order=list_order.page_order(state),
        )
        if entry.status == 200 and not any(k.lower() == b"set-cookie" for k, _ in headers):
            cache.put(key, entry, mark)
        return entry

    async def _unread_of(self, user_id: int) -> int:
        """The member's unread notifications: kept in memory, read once from the store."""
        if self.unread.due():
            await self._unread_again()
        known = self.unread.cached(user_id)
        if known is not None:
            return known
        return await anyio.to_thread.run_sync(self.unread.count, user_id)

    async def _stored_votes(self, user_id: int) -> frozenset[str]:
        """Every paper the member upvoted, read from the store (when not kept in
        :attr:`votes`) and kept."""
        mark = self.votes.mark(user_id)
        voted = await anyio.to_thread.run_sync(self._load_votes, user_id)
        self.votes.put(user_id, voted, mark)
        return voted

    def _kept_marks(self, user_id: int) -> personal.Marks | tuple[None, None]:
        """The member's saved and "not interested" papers if kept, else Nones (then
        :func:`marks_of` reads them): kept in memory, exact for this process's changes;
        every member's older than ``MemberMarks.seconds`` (another process's changes) read
        again together in the background, the old ones served meanwhile: a page waits for
        the store only the first time a member is seen."""
        known = self.marks.peek(user_id)
        if known is None:
            return None, None
        self._marks_again.start()
        return known[0]

    def _reread(self) -> None:
        """Every member's marks older than ``MemberMarks.seconds``, read again together."""
        stale = self.marks.stale()
        if stale:
            for user_id, loaded in members_marks(self.store, list(stale)).items():
                self.marks.put(user_id, loaded, stale[user_id])

    def _load_votes(self, user_id: int) -> frozenset[str]:
        with read(self.store) as reader:
            return reader.upvoted_ids(user_id)


async def marks_of(store: Store, marks: personal.MemberMarks, user_id: int) -> personal.Marks:
    """The member's (saved, not interested) papers from ``marks``, read into it if missing."""
    known = marks.get(user_id)
    if known is not None:
        return known
    mark = marks.mark(user_id)
    loaded = await anyio.to_thread.run_sync(member_marks, store, user_id)
    marks.put(user_id, loaded, mark)
    return loaded


def marks_now(store: Store, marks: personal.MemberMarks, user_id: int) -> personal.Marks:
    """:func:`marks_of` for code already in a worker thread (a page's rendering)."""
    known = marks.get(user_id)
    if known is not None:
        return known
    mark = marks.mark(user_id)
    loaded = member_marks(store, user_id)
    marks.put(user_id, loaded, mark)
    return loaded
