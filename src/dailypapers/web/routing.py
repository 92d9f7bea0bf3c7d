"""Route dispatch by the path's first segment, in front of the app's router.

Starlette's router tries every route in order until one matches, about 5 µs a route under
FastAPI 0.165: with some eighty routes, `/healthz` spent two thirds of its CPU matching, and
every page paid for the routes before its own. :func:`dispatch_by_prefix` groups the routes
by the first segment of their path (``/api/...``, ``/papers/...``, ``/static``), keeping their
order, and hands each request to a router holding only its group and the routes whose first
segment is a parameter. A route outside the group cannot match the path, so matching, the
405 for a known path with another method, the slash redirect and the 404 are those of the
full router. Installed by ``web/app.py`` once every route is added; the groups are built on
the first request, so routes added before it count.

The most requested pages (a day's papers, a paper, the API's day) also have a :class:`Direct`
entry: a GET whose path and query that entry takes is handed straight to the handler (in
the thread pool, as FastAPI runs it), skipping FastAPI's matching of included routers and
its solving of parameters, about half a millisecond of a page's CPU (BENCHMARKS.md, "Web CPU:
uncached pages, session 7"). Anything else, another parameter or a value the entry does not
take as it is, goes through the router as before, whose checks and errors stay the only
ones; tests/web/test_routing.py checks that both pick the same handler and answer the same.

A POST can have a :class:`DirectForm` entry (the vote form, ``web/votes.py``): its
``answer`` reads the body itself and, for anything but its common case, hands the request
on to the router with the body as read (:func:`replayed`), so that the router's checks and
errors stay the only ones there too.

An entry whose ``inline`` says so for a request runs its handler on the event loop itself,
not in the thread pool: an anonymous visitor's page over SQLite only reads a local file, so
a thread adds nothing but the handoff (a queue, a wake-up, the answer sent back to the loop)
and a fight for the GIL with the loop, whose 5 ms switch interval makes the tail. Measured
under load (one worker, 32 connections, cache off): the server's CPU per daily page fell
from about 4.0-4.6 to 3.3-3.4 ms and per ``/api/daily_papers`` from 3.1 to 1.8-2.3 ms
(BENCHMARKS.md, "Web CPU: uncached pages, session 8"). Requests of a signed-in member (a
session cookie or an ``Authorization`` header: their answers may write, a session's renewal)
and stores over a network (PostgreSQL) keep the thread pool, as does anything not direct.
Handlers on the loop take turns, one per pass of the loop in the order they came
(``web/turns.py``): without that, one request in 32 under load waited a whole extra round.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette._utils import get_route_path
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route, Router, WebSocketRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dailypapers.web.auth import SESSION_COOKIE
from dailypapers.web.turns import LoopTurns

ANY = None  # the group key of routes whose first segment is a parameter


def first_segment(path: str) -> str:
    """``/api/papers/{id}`` -> ``api``; ``/`` -> ``""``."""
    return path.lstrip("/").split("/", 1)[0]


def route_keys(route: BaseRoute, prefix: str = "") -> frozenset[str] | None:
    """The literal first segments a route can match, or ``ANY`` when it could take any.

    FastAPI 0.165 keeps an included router as one route (``_IncludedRouter``) that tries its
    own routes under its prefix: its segments are those of its routes."""
    if isinstance(route, Route | WebSocketRoute | Mount):
        segment = first_segment(prefix + route.path)
        return ANY if "{" in segment else frozenset([segment])
    inner = getattr(route, "original_router", None)
    inner_prefix = getattr(getattr(route, "include_context", None), "prefix", None)
    if inner is not None and isinstance(inner_prefix, str):
        keys: set[str] = set()
        for child in inner.routes:
            child_keys = route_keys(child, prefix + inner_prefix)
            if child_keys is ANY:
                return ANY
            keys |= child_keys
        return frozenset(keys)
    return ANY  # a kind of route this module does not know: tried for every path


QueryPairs = Sequence[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class Direct:
    """A GET route's common case, answered without the router: ``path`` (matched against the
    whole path) and the query (its pairs, decoded) give the handler's keyword arguments
    through ``takes``, which answers None for a request it leaves to the router."""

    segment: str  # the path's first segment (its group)
    path: re.Pattern[str]
    takes: Callable[[re.Match[str], QueryPairs], dict[str, Any] | None]
    handler: Callable[..., Response]
    # Whether a request may run the handler on the event loop (see the module's docstring);
    # None: always in the thread pool.
    inline: Callable[[Scope], bool] | None = None

    def arguments(self, path: str, query: bytes) -> dict[str, Any] | None:
        match = self.path.fullmatch(path)
        if match is None:
            return None
        # As Starlette decodes it (QueryParams), blank values kept.
        pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True) if query else []
        return self.takes(match, pairs)


@dataclass(frozen=True, slots=True)
class DirectForm:
    """A POST route's common case, answered without the router: ``answer`` gets the path's
    match and the request, and ``routed`` (the router's app for the path) to hand on what it
    does not answer itself (with :func:`replayed` once it read the body)."""

    segment: str  # the path's first segment (its group)
    path: re.Pattern[str]
    answer: Callable[[re.Match[str], Scope, Receive, Send, ASGIApp], Awaitable[None]]


async def read_body(receive: Receive) -> bytes | None:
    """The request's whole body; None when the client went away before sending it."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def replayed(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that gives ``body`` (already read) first, then what ``receive`` gives."""
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


def anonymous_local(scope: Scope) -> bool:
    """Whether a request is an anonymous visitor's (no session cookie, no ``Authorization``)
    to an app over SQLite: what a direct page may answer on the event loop."""
    store = getattr(scope["app"].state, "store", None)
    if not getattr(store, "is_sqlite", False):
        return False
    session = SESSION_COOKIE.encode()
    for name, value in scope["headers"]:
        if name == b"authorization" or (name == b"cookie" and session in value):
            return False
    return True


def engine_ready_local(scope: Scope) -> bool:
    """:func:`anonymous_local`, once the app's search engine is open: what a page that
    searches may answer on the event loop (the first search would otherwise wait there for
    the engine's opening; a query's embedding runs in the engine's own thread)."""
    return bool(scope["app"].state.engine.ready) and anonymous_local(scope)


def plain_values(
    query: QueryPairs, checks: Mapping[str, Callable[[str], object]]
) -> dict[str, str] | None:
    """``query``'s values by name when each pair's name is one of ``checks``, comes once, and
    its value passes that name's check; else None (the router then decides)."""
    found: dict[str, str] = {}
    for key, value in query:
        check = checks.get(key)
        if check is None or key in found or not check(value):
            return None
        found[key] = value
    return found


def without(pairs: QueryPairs, names: frozenset[str]) -> bool:
    """Whether none of the query ``pairs`` is one of the parameters ``names``."""
    return not any(key in names for key, _ in pairs)


class PrefixDispatch:
    """The router's own dispatch (its ``middleware_stack``), over the request's group only."""

    def __init__(
        self, router: Router, direct: Sequence[Direct] = (), forms: Sequence[DirectForm] = ()
    ) -> None:
        self.router = router
        self.turns = LoopTurns()  # the inline handlers', first come first served
        self.groups: dict[str, Router] | None = None
        self.fallback: Router | None = None
        self.direct: Mapping[str, tuple[Direct, ...]] = {
            segment: tuple(d for d in direct if d.segment == segment)
            for segment in {d.segment for d in direct}
        }
        self.forms: Mapping[str, tuple[DirectForm, ...]] = {
            segment: tuple(f for f in forms if f.segment == segment)
            for segment in {f.segment for f in forms}
        }

    def _build(self) -> tuple[dict[str, Router], Router]:
        routes = list(self.router.routes)
        keys = [route_keys(route) for route in routes]
        literals = {segment for key in keys if key is not ANY for segment in key}

        def group(segment: str | None) -> Router:
            chosen = [r for r, k in zip(routes, keys, strict=True) if k is ANY or segment in k]
            return Router(
                routes=chosen,
                redirect_slashes=self.router.redirect_slashes,
                default=self.router.default,
            )

        groups = {segment: group(segment) for segment in literals}
        return groups, group(ANY)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.router.app(scope, receive, send)
            return
        if self.groups is None or self.fallback is None:
            self.groups, self.fallback = self._build()
        # url_for and the handlers see the whole router, not the group.
        scope.setdefault("router", self.router)
        path = get_route_path(scope)
        segment = first_segment(path)
        if scope["type"] == "http" and scope["method"] == "GET":
            for direct in self.direct.get(segment, ()):
                arguments = direct.arguments(path, scope["query_string"])
                if arguments is not None:
                    scope["endpoint"] = direct.handler
                    request = Request(scope, receive, send)
                    if direct.inline is not None and direct.inline(scope):
                        async with self.turns:
                            response = direct.handler(request, **arguments)
                    else:
                        response = await run_in_threadpool(direct.handler, request, **arguments)
                    await response(scope, receive, send)
                    return
        routed = self.groups.get(segment, self.fallback).app
        if scope["type"] == "http" and scope["method"] == "POST":
            for form in self.forms.get(segment, ()):
                match = form.path.fullmatch(path)
                if match is not None:
                    await form.answer(match, scope, receive, send, routed)
                    return
        await routed(scope, receive, send)


def dispatch_by_prefix(
    router: Router, direct: Sequence[Direct] = (), forms: Sequence[DirectForm] = ()
) -> None:
    """Make ``router`` match each request against its path's group of routes only, and
    answer the ``direct`` routes' (and ``forms``') common cases straight."""
    router.middleware_stack = PrefixDispatch(router, direct, forms)
