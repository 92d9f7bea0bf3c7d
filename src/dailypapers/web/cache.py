"""A shared cache of whole responses: pages, API answers and feeds, for anonymous GETs.

What a page shows depends only on its URL and on what the store holds (and, for trending,
on the time), so a response can be served again until the store changes or it grows older
than its lifetime: between 0.75 and 1 x ``ttl`` seconds, fixed per URL, so that pages
rendered together do not all expire, and all render again, together (``LASTING`` x that for
the pages whose counts votes correct and that show nothing else votes or the time change:
papers and search results). The store's
:func:`~dailypapers.feed.reader.change_stamp` is read at most every ``check_every``
seconds (in a worker thread, off the event loop); when it moves, everything cached is
dropped. Entries are kept least-recently-used within ``max_bytes``. An entry past its
lifetime (by less than ``STALE_GRACE`` of it) is still served while the first request to
find it so renders it again in the background (:meth:`ResponseCache.lookup`): pages expire
without their readers waiting for the rendering. (A day's, week's or month's list that
votes corrected is first read again instead, its papers in order, and kept on when they
are unchanged: :meth:`ResponseCache.still_right`, ``web/list_order.py``.) A page missing
from the cache is rendered by the first request for it; the others for it meanwhile wait
for that rendering and are served what it cached (:meth:`ResponseCache.follow`), rather
than each rendering it too.

Only 200 answers to GET requests without a session cookie or Authorization header are
cached, and never one that sets a cookie or says ``Cache-Control: private`` or ``no-store``
(what :mod:`dailypapers.web.auth` marks personal answers with), so personal pages never leak
between people. Responses say ``X-Cache: hit`` or ``miss``.
It is plain ASGI middleware: a hit costs no routing, no database and no template.

A GET with a session cookie for a page members read alike (the daily lists, a paper, search)
goes to the ``members`` server (:class:`~dailypapers.web.member_pages.MemberPages`): it keeps
one shared rendering of the page per URL in this cache and merges the member in. Entries note
the papers a page shows (``paper_ids``), so that a vote corrects the count in the pages
showing its paper (:meth:`ResponseCache.forget_papers`) instead of dropping everything;
the correction is made when such a page is next read (a vote copies no page by itself).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, Protocol, runtime_checkable
from urllib.parse import parse_qsl

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dailypapers.feed.periods import BadPeriod, parse_day, parse_month, parse_week
from dailypapers.web.list_order import ListOrder, page_order, reordered
from dailypapers.web.personal import PAPER_IDS_KEY, CountBoxes, Edit, apply_edits

logger = logging.getLogger(__name__)
# Paths whose answers are never cached: health checks must reach the app, static files have
# their own validators, the API docs are cheap and rarely read.
UNCACHED_PREFIXES = ("/healthz", "/static/", "/docs", "/openapi.json")
SESSION_COOKIE = "dailypapers_session"
# (scheme, host, path, query): parts kept apart, so no Host value can spell another URL's key
# (a Host of "example.org/api" joined to "/papers/1" once read as "/api/papers/1").
CacheKey = tuple[str, bytes, str, bytes]


class Fix(Protocol):
    """A correction of cached bodies: the edits (sorted, apart) that bring a body up to
    date, ``boxes`` where its count boxes are (``personal.count_edits``)."""

    def __call__(self, body: bytes, *, boxes: CountBoxes) -> Sequence[Edit]: ...


# The shortest life of an entry, as a share of the cache's ttl (see ResponseCache.lifetime).
EXPIRY_SPREAD = 0.75
# How long past its lifetime (as a share of it) an entry may still be served while it is
# rendered again in the background (ResponseCache.lookup), and how long such a rendering
# may take before another request starts one (it can fail, or be refused by a vote).
STALE_GRACE = 0.5
RENEW_WAIT = 5.0
# How long a request waits for another's rendering of the page it wants before its own.
FOLLOW_SECONDS = 5.0
# Pages that show nothing depending on the time or ordered by votes: a paper's page (its
# similar papers by likeness) and search results (by relevance or date). A vote corrects
# their counts in place, any other change drops them (the store's stamp), so they are kept
# LASTING x longer: members voting made them expire, and be rendered again, every ttl,
# most of a busy server's time. (New vectors alone keep cached answers: similar papers and
# search results may lag behind a backlog being embedded by that much longer.) Lists ordered
# by votes (the days, weeks, months, trending) keep the ttl: a paper a vote moves up finds
# its place when they are rendered again.
LASTING_PREFIXES = ("/papers/",)
LASTING_PATHS = frozenset({"/search"})
LASTING = 5.0
# Feed days a cache remembers votes on (see ResponseCache._unchanged); beyond, it starts
# afresh, and the lists rendered before are rendered again when they expire.
MAX_VOTED_DAYS = 100_000


@runtime_checkable
class Shifts(Protocol):
    """What a reader made of a cached body and can follow to an edited body (a member
    template's cut, ``personal.Plan``); None: make it again."""

    def shifted(self, body: bytes, edits: Sequence[Edit]) -> object | None: ...


@dataclass(frozen=True, slots=True)
class CachedResponse:
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    created: float
    # The papers the answer shows, whose votes it shows; None: unknown (any vote drops it).
    paper_ids: frozenset[str] | None = None
    # What readers made of this body once, kept as long as it is (a member template's cut,
    # personal.Plan); a vote's correction of the body moves it along (edited).
    derived: dict[str, object] = field(default_factory=dict, compare=False, repr=False)
    # The cache's count of forgets when its rendering began (ResponseCache.forgets; -1: not
    # known), and when it was rendered if it has been kept on past its lifetime since
    # (-1: it was not; see ResponseCache.lookup).
    mark: int = field(default=-1, compare=False)
    rendered: float = field(default=-1.0, compare=False)
    # The list it shows and its order, read again when it expires (list_order); None: none.
    order: ListOrder | None = field(default=None, compare=False, repr=False)

    def with_body(self, body: bytes, derived: dict[str, object] | None = None) -> CachedResponse:
        """The same answer with another body (its Content-Length follows), and what was
        made of it (``derived``; none given: nothing)."""
        headers = self.headers  # never changed in place: shared while the length stays
        if len(body) != len(self.body):  # (a count of the same width: most votes)
            headers = [
                (k, str(len(body)).encode() if k.lower() == b"content-length" else v)
                for k, v in self.headers
            ]
        # Made directly: dataclasses.replace cost 2.5 us, as much as the rest of a correction.
        return CachedResponse(self.status, headers, body, self.created, self.paper_ids,
                              derived or {}, self.mark, self.rendered, self.order)  # fmt: skip

    def edited(self, edits: Sequence[Edit]) -> CachedResponse:
        """The same answer with ``edits`` made to its body (sorted, apart), what was made of
        the body moved with them where it can be (:class:`Shifts`) and dropped otherwise."""
        body = apply_edits(self.body, edits)
        derived = {}
        for name, made in self.derived.items():
            # Not isinstance(made, Shifts): a runtime protocol check cost more than the move.
            shift = getattr(made, "shifted", None)
            moved = shift(body, edits) if shift is not None else None
            if moved is not None:
                derived[name] = moved
        return self.with_body(body, derived)

    @property
    def size(self) -> int:
        return len(self.body) + sum(len(k) + len(v) for k, v in self.headers) + 200


def _in_order(
    entry: CachedResponse, order: ListOrder, ids: tuple[str, ...]
) -> CachedResponse | None:
    """``entry``, showing the list ``order``, with its cards in the order of ``ids`` (the
    same papers: ``list_order.reordered``), the same length (each place keeps its rank);
    what was made of its body dropped. None when its cards were not found."""
    body = reordered(entry.body, order, ids)
    if body is None or len(body) != len(entry.body):
        return None
    return replace(entry, body=body, derived={}, order=replace(order, ids=ids))


def _count_boxes(entry: CachedResponse) -> CountBoxes:
    """Where ``entry``'s body shows the counts of the papers corrected in it, each found
    once and kept with it (moved along with its corrections: ``CachedResponse.edited``)."""
    boxes = entry.derived.get("boxes")
    if not isinstance(boxes, CountBoxes):
        boxes = entry.derived["boxes"] = CountBoxes()
    return boxes


class ResponseCache:
    """The entries and their invalidation; thread-safe, used by :class:`CacheMiddleware`."""

    def __init__(
        self,
        stamp: Callable[[], object],
        *,
        max_bytes: int,
        ttl: float,
        check_every: float = 2.0,
        recheck: Callable[[ListOrder], tuple[str, ...] | None] | None = None,
    ) -> None:
        self.stamp = stamp
        # Whether a list an expired entry shows is still in its order (list_order); None:
        # such an entry is rendered again.
        self.recheck = recheck
        self.max_bytes = max_bytes
        self.ttl = ttl
        self.check_every = check_every
        self._entries: OrderedDict[CacheKey, CachedResponse] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self._seen_stamp: object = None
        self._checked = float("-inf")
        self._look = Alone(self.refresh)  # the look at the store in a worker thread
        self._forgets = 0  # how many times papers were forgotten (votes)
        self._forgotten: dict[str, int] = {}  # paper id -> the count when it last was
        # Feed day -> the count when a vote last moved one of its papers (None: a vote on a
        # paper of a day not known), and the count when that record last started afresh.
        self._voted_days: dict[date | None, int] = {}
        self._days_since = 0
        # Which entries show a paper, and which show papers not known: a vote finds the
        # answers to fix in these instead of looking at every entry.
        self._showing: dict[str, set[CacheKey]] = {}
        self._unknown: set[CacheKey] = set()
        # Corrections of an entry's body waiting for its next read (see forget_papers).
        self._fixes: dict[CacheKey, dict[frozenset[str], Fix]] = {}
        self._renewing: dict[CacheKey, float] = {}  # expired entries being rendered again
        # Misses being rendered: requests for the same key wait for that one rendering.
        self._rendering: dict[CacheKey, asyncio.Future[None]] = {}

    def due(self) -> bool:
        """Whether it is time to look at the store again."""
        return time.monotonic() - self._checked >= self.check_every

    async def look(self) -> None:
        """:meth:`refresh` when it is due, in a worker thread (the store must not be read on
        the loop), by one request at a time (:class:`Alone`): the members' pages. (An
        anonymous request awaits its own look: :class:`CacheMiddleware`.)"""
        if self.due():
            await self._look()

    def refresh(self) -> None:
        """Drop everything if the store changed since the last look (at most every few s)."""
        if not self.due():
            return
        self._checked = time.monotonic()
        stamp = self.stamp()
        with self._lock:
            if stamp != self._seen_stamp:
                self._seen_stamp = stamp
                self._entries.clear()
                self._showing.clear()
                self._unknown.clear()
                self._fixes.clear()
                self._renewing.clear()
                self._bytes = 0

    async def follow(self, key: CacheKey) -> CachedResponse | None:
        """What a rendering of ``key`` under way caches, once it is done (waited for at most
        ``FOLLOW_SECONDS``); None when none is under way or it kept nothing.

        After a write drops a page (a comment, a vote elsewhere), the next requests for it
        all missed at once, and each rendered the same page in a worker thread: the threads'
        fight for the GIL is what kept the event loop, and with it every other answer,
        waiting. Called on the event loop, as :meth:`leading` is.
        """
        under_way = self._rendering.get(key)
        if under_way is None:
            return None
        with suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(under_way), FOLLOW_SECONDS)
        return self.get(key)

    @contextmanager
    def leading(self, key: CacheKey) -> Iterator[None]:
        """Mark a miss of ``key`` as being rendered, for :meth:`follow`, until it is done."""
        if key in self._rendering:  # one already leads (its followers gave up waiting)
            yield
            return
        done = asyncio.get_running_loop().create_future()
        self._rendering[key] = done
        try:
            yield
        finally:
            del self._rendering[key]
            done.set_result(None)

    def get(self, key: CacheKey) -> CachedResponse | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if time.monotonic() - entry.created > self.lifetime(key):
                self._drop(key)
                return None
            return self._read(key, entry)

    def fresh(self, key: CacheKey) -> CachedResponse | None:
        """:meth:`get` of an entry within its lifetime alone, and nothing else (None for one
        past it, which stays for :meth:`lookup` to keep on, renew or drop): what a caller
        that cannot render may serve (``member_pages.MemberFront``)."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or time.monotonic() - entry.created > self.lifetime(key):
                return None
            return self._read(key, entry)

    def lookup(self, key: CacheKey) -> tuple[CachedResponse | None, bool]:
        """:meth:`get`, but an entry past its lifetime by less than ``STALE_GRACE`` of it is
        still served while one request renders it again (stale while revalidating: the
        pages a warm-up made together are not all rendered again in the requests' way).
        Returns the entry and whether this caller is the one to render it again."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None, False
            now = time.monotonic()
            lifetime = self.lifetime(key)
            age = now - entry.created
            renew = False
            if age > lifetime and self._unchanged(key, entry, now, lifetime):
                entry = self._keep_on(key, entry, now, self._forgets)
            elif age > lifetime:
                if age > lifetime * (1.0 + STALE_GRACE):
                    self._drop(key)
                    return None, False
                renew = now - self._renewing.get(key, float("-inf")) > RENEW_WAIT
                if renew:
                    self._renewing[key] = now
            return self._read(key, entry), renew

    def _unchanged(self, key: CacheKey, entry: CachedResponse, now: float, lifetime: float) -> bool:
        """Whether ``entry``, past its lifetime, is still what rendering it again would give,
        so it is kept on as it is: a day's, week's or month's list by upvotes or recency (no
        clock in it, ``vote_days``) that no vote of this process changed since its
        rendering began (none on a paper it shows, none on a paper of its days, which could
        climb into it), and any other change drops everything (the stamp). At most
        ``LASTING`` x its lifetime from its rendering (a vote of another process that a
        local vote took for its own on PostgreSQL, see ``vote_watch``, is then seen as late
        as a paper's page sees it)."""
        if entry.mark < 0 or entry.paper_ids is None:
            return False
        rendered = entry.created if entry.rendered < 0 else entry.rendered
        if now - rendered > LASTING * lifetime:
            return False
        days = vote_days(key[2], key[3])
        if days is None:
            return False
        if entry.mark == self._forgets:
            return True
        if self._reordered_since(entry.mark, days):
            return False
        return not self._forgotten_since(entry, entry.mark)

    def _reordered_since(self, mark: int, days: list[date]) -> bool:
        """Whether a vote since ``mark`` may have changed a list of ``days``."""
        voted = self._voted_days
        if self._days_since > mark or voted.get(None, -1) > mark:
            return True
        return any(voted.get(day, -1) > mark for day in days)

    def _keep_on(
        self, key: CacheKey, entry: CachedResponse, now: float, mark: int
    ) -> CachedResponse:
        """``entry``, past its lifetime and found still right as of ``mark``, kept on from
        ``now`` (when it was rendered stays noted)."""
        entry = replace(
            entry, created=now, mark=mark,
            rendered=entry.created if entry.rendered < 0 else entry.rendered,
        )  # fmt: skip
        self._entries[key] = entry  # its size and its papers are the same
        self._renewing.pop(key, None)
        return entry

    async def still_right(self, key: CacheKey, entry: CachedResponse) -> bool:
        """Whether ``entry`` (under ``key``), past its lifetime and due to be rendered
        again (:meth:`lookup`), was found still what rendering it again would give, and
        kept on: a day's, week's or month's list that votes corrected, whose papers, read
        again (:attr:`recheck`, in a worker thread), are the ones it shows (``list_order``):
        in the same order, it is kept on as it is; in another, with its cards put in that
        order (``list_order.reordered``). False: render it again (other papers; a vote on
        its days while it was read may have moved it; one rendered ``LASTING`` x its
        lifetime ago is rendered again, as :meth:`_unchanged` has it)."""
        order = entry.order
        if self.recheck is None or order is None or vote_days(key[2], key[3]) is None:
            return False
        mark = self.forgets()  # taken before the read: a vote after it refuses the answer
        try:
            ids = await anyio.to_thread.run_sync(self.recheck, order)
        except Exception as error:  # rendered again, as before
            logger.warning("reading %s's list again failed: %r", key[2], error)
            return False
        return ids is not None and self._kept_on(key, entry, mark, ids)

    def _kept_on(
        self, key: CacheKey, entry: CachedResponse, mark: int, ids: tuple[str, ...]
    ) -> bool:
        """Keep ``entry`` on after its list was found to be the papers ``ids`` in this
        order as of ``mark`` (its cards put in that order when it is another), unless it
        was dropped or replaced meanwhile, a vote since ``mark`` may have moved its list,
        it was rendered too long ago, or its cards were not found."""
        with self._lock:
            current = self._entries.get(key)
            days = vote_days(key[2], key[3])
            if current is None or current.created != entry.created or days is None:
                return False
            now = time.monotonic()
            rendered = current.created if current.rendered < 0 else current.rendered
            if now - rendered > LASTING * self.lifetime(key):
                return False
            if self._reordered_since(mark, days) or self._forgotten_since(current, mark):
                return False
            if current.order is not None and current.order.ids != ids:
                current = _in_order(current, current.order, ids)
                if current is None:
                    return False
            self._keep_on(key, current, now, mark)
            return True

    def _read(self, key: CacheKey, entry: CachedResponse) -> CachedResponse:
        """``entry`` (under ``key``) as read now: its waiting count corrections applied."""
        self._entries.move_to_end(key)
        fixes = self._fixes.pop(key, None)
        if fixes:
            fixed = entry
            # The fixes' edits together, made in one copy of the body when they are apart
            # (each its own paper's counts), else one fix after the other.
            boxes = _count_boxes(entry)
            edits = sorted(edit for fix in fixes.values() for edit in fix(entry.body, boxes=boxes))
            if all(a[1] <= b[0] for a, b in zip(edits, edits[1:], strict=False)):
                fixed = fixed.edited(edits) if edits else fixed
            else:
                for fix in fixes.values():
                    if one := fix(fixed.body, boxes=_count_boxes(fixed)):
                        fixed = fixed.edited(one)
            self._entries[key] = fixed  # the same papers: its place in _showing stays
            self._bytes += fixed.size - entry.size
            entry = fixed
        return entry

    def lifetime(self, key: CacheKey) -> float:
        """How long the entry under ``key`` is kept: between ``EXPIRY_SPREAD`` x ``ttl`` and
        ``ttl``, fixed per key (its hash). Pages rendered together (a warm-up, a store change)
        then expire over a stretch of time instead of all being rendered again at once."""
        share = (hash(key) % 1024) / 1024
        life = self.ttl * (1.0 - (1.0 - EXPIRY_SPREAD) * share)
        return life * LASTING if lasting(key[2]) else life

    def forgets(self) -> int:
        """A mark to pass to :meth:`put`: taken before rendering what will be put."""
        return self._forgets

    def forget_papers(
        self,
        paper_ids: frozenset[str],
        fix: Fix | None = None,
        days: Iterable[date | None] = (None,),
    ) -> None:
        """After votes on ``paper_ids``: the answers showing them get the edits ``fix``
        finds in their body made (their new counts), or are dropped without one; answers
        whose papers are unknown are dropped. A fix is applied when the answer is next
        read, the last one of each set of papers only (fixes set counts, they do not add to
        them): votes on a paper cost no copy of the pages showing it until one is read.
        ``days``: the papers' feed days, whose lists their votes may reorder (None: a day
        not known; none: the change orders no list)."""
        with self._lock:
            self._forgets += 1
            for paper_id in paper_ids:
                self._forgotten[paper_id] = self._forgets
            if len(self._voted_days) > MAX_VOTED_DAYS:
                self._voted_days.clear()
                self._days_since = self._forgets
            for day in days:
                self._voted_days[day] = self._forgets
            stale = set(self._unknown)
            for paper_id in paper_ids:
                stale.update(self._showing.get(paper_id, ()))
            for key in stale:
                if fix is not None and self._entries[key].paper_ids is not None:
                    self._fixes.setdefault(key, {})[paper_ids] = fix
                else:
                    self._drop(key)

    def _forgotten_since(self, entry: CachedResponse, mark: int) -> bool:
        if mark == self._forgets:
            return False
        if entry.paper_ids is None:
            return True
        return any(self._forgotten.get(paper, 0) > mark for paper in entry.paper_ids)

    def put(self, key: CacheKey, entry: CachedResponse, mark: int | None = None) -> None:
        """Keep ``entry``; not if papers it shows were forgotten since ``mark`` (then it was
        rendered before a vote that its copy would outlive)."""
        if entry.size > self.max_bytes // 8:
            return  # one huge answer must not flush everything else
        with self._lock:
            if mark is not None:
                if self._forgotten_since(entry, mark):
                    return
                entry = replace(entry, mark=mark)
            if key in self._entries:
                self._drop(key)
            self._add(key, entry)
            while self._bytes > self.max_bytes:
                self._drop(next(iter(self._entries)))

    def _add(self, key: CacheKey, entry: CachedResponse) -> None:
        self._entries[key] = entry
        self._bytes += entry.size
        if entry.paper_ids is None:
            self._unknown.add(key)
            return
        for paper_id in entry.paper_ids:
            self._showing.setdefault(paper_id, set()).add(key)

    def _drop(self, key: CacheKey) -> None:
        entry = self._entries.pop(key)
        self._fixes.pop(key, None)
        self._renewing.pop(key, None)
        self._bytes -= entry.size
        if entry.paper_ids is None:
            self._unknown.discard(key)
            return
        for paper_id in entry.paper_ids:
            keys = self._showing.get(paper_id)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._showing[paper_id]

    def __len__(self) -> int:
        return len(self._entries)


def vote_days(path: str, query: bytes) -> list[date] | None:
    """The feed days whose votes may change the page at ``path`` (with ``query``): a day's,
    week's or month's list by upvotes or recency; None for any other page (by trending, on
    the clock, or not known)."""
    for key, value in parse_qsl(query.decode("latin-1")):
        if key == "sort" and value not in ("upvotes", "recent"):
            return None
    try:
        if path.startswith("/date/"):
            start = end = parse_day(path.removeprefix("/date/"))
        elif path.startswith("/week/"):
            start, end = parse_week(path.removeprefix("/week/"))
        elif path.startswith("/month/"):
            start, end = parse_month(path.removeprefix("/month/"))
        else:
            return None
    except BadPeriod:
        return None
    return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def lasting(path: str) -> bool:
    """Whether the page at ``path`` is kept ``LASTING`` x the ttl (see there)."""
    return path in LASTING_PATHS or path.startswith(LASTING_PREFIXES)


# Answers that are the same for everyone, signed in or not (like Hugging Face's API, ours
# carries no per-caller vote state): a session cookie does not keep them from a cached copy.
SAME_FOR_ALL_PREFIXES = ("/api/daily_papers", "/api/papers/", "/feeds/")


def _cacheable(scope: Scope) -> bool:
    if scope["type"] != "http" or scope["method"] != "GET":
        return False
    path: str = scope["path"]
    if path.startswith(UNCACHED_PREFIXES):
        return False
    same_for_all = path.startswith(SAME_FOR_ALL_PREFIXES)
    for name, value in scope["headers"]:
        if name == b"authorization":
            return False
        if name == b"cookie" and not same_for_all and SESSION_COOKIE.encode() in value:
            return False
    return True


class MemberServer(Protocol):
    """Serves signed-in GETs from the cache (:class:`~dailypapers.web.member_pages.MemberPages`)."""

    def takes(self, scope: Scope) -> bool: ...

    async def __call__(
        self, scope: Scope, receive: Receive, send: Send, app: ASGIApp, cache: ResponseCache
    ) -> None: ...


def _key(scope: Scope) -> CacheKey:
    # The host is part of the key: feeds and OpenGraph tags hold absolute URLs built from it.
    host = next((value for name, value in scope["headers"] if name == b"host"), b"")
    return (scope.get("scheme", "http"), host, scope["path"], scope.get("query_string", b""))


class CacheMiddleware:
    def __init__(
        self, app: ASGIApp, cache: ResponseCache, members: MemberServer | None = None
    ) -> None:
        self.app = app
        self.cache = cache
        self.members = members

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _cacheable(scope):
            if self.members is not None and self.members.takes(scope):
                await self.members(scope, receive, send, self.app, self.cache)
            else:
                await self.app(scope, receive, send)
            return
        if self.cache.due():  # the store is read in a thread: it must not block the loop
            await anyio.to_thread.run_sync(self.cache.refresh)
        key = _key(scope)
        hit, renew = self.cache.lookup(key)
        if hit is not None:
            if renew:  # past its lifetime: served while checked or rendered again
                again = {**scope, "state": dict(scope.get("state", {}))}
                in_background(self._again(key, hit, again))
            await _replay(hit, send)
            return
        followed = await self.cache.follow(key)
        if followed is not None:
            await _replay(followed, send)
            return
        with self.cache.leading(key):
            await self._miss(key, scope, receive, send)

    async def _again(self, key: CacheKey, entry: CachedResponse, scope: Scope) -> None:
        """``entry``, past its lifetime, kept on if still right, else rendered again."""
        if not await self.cache.still_right(key, entry):
            await self._miss(key, scope, no_body, _dropped)

    async def _miss(self, key: CacheKey, scope: Scope, receive: Receive, send: Send) -> None:
        start: Message = {}
        chunks: list[bytes] = []
        mark = self.cache.forgets()

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
                message = {**message, "headers": [*message["headers"], (b"x-cache", b"miss")]}
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if (
                    not message.get("more_body", False)
                    and start.get("status") == 200
                    and _shareable(start["headers"])
                ):
                    headers = list(start["headers"])
                    body = b"".join(chunks)
                    shown = page_papers(scope)
                    entry = CachedResponse(200, headers, body, time.monotonic(), shown,
                                           order=page_order(scope.get("state", {})))  # fmt: skip
                    self.cache.put(key, entry, mark)
            await send(message)

        await self.app(scope, receive, capture)


def page_papers(scope: Scope) -> frozenset[str] | None:
    """The papers a page recorded while rendering (``personal.record_papers``), or None."""
    shown = scope.get("state", {}).get(PAPER_IDS_KEY)
    return None if shown is None else frozenset(shown)


def _shareable(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether an answer may be served to others: it sets no cookie and is not private."""
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"set-cookie":
            return False
        if lowered == b"cache-control" and (b"private" in value or b"no-store" in value):
            return False
    return True


_BACKGROUND: set[asyncio.Task[None]] = set()  # renderings under way (kept from the GC)


class Alone:
    """A look at the store that one request at a time awaits in a worker thread; the
    requests that find one under way go on with what is kept, as they would have a moment
    before it. (Each awaited its own: under load, every request in the few milliseconds
    before the thread ran took a thread hop, and waited for the thread pool's limiter,
    about 4 % of the voting phase's loop time in a py-spy profile.)"""

    def __init__(self, job: Callable[[], None]) -> None:
        self.job = job
        self._under_way = False

    async def __call__(self) -> None:
        if self._under_way:
            return
        self._under_way = True
        try:
            await anyio.to_thread.run_sync(self.job)
        finally:
            self._under_way = False


def in_background(render: Coroutine[Any, Any, None]) -> None:
    """Run ``render`` (a page rendered again for the cache) beside the requests."""
    task = asyncio.get_running_loop().create_task(render)
    _BACKGROUND.add(task)
    task.add_done_callback(_rendered)


def _rendered(task: asyncio.Task[None]) -> None:
    _BACKGROUND.discard(task)
    if not task.cancelled() and task.exception() is not None:
        logger.warning("rendering a cached page again failed: %r", task.exception())


async def no_body() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _dropped(message: Message) -> None:
    """Where a rendering for the cache alone sends its answer: nowhere."""


async def _replay(entry: CachedResponse, send: Send) -> None:
    headers = [*entry.headers, (b"x-cache", b"hit")]
    await send({"type": "http.response.start", "status": entry.status, "headers": headers})
    await send({"type": "http.response.body", "body": entry.body})
