"""The web app: pages, the JSON API and feeds over one store, with one error type.

``create_app`` wires the routers (``pages``, ``api``, ``syndication``), the static files and the
error handlers; ``serve_app`` is what ``dailypapers serve`` runs (uvicorn calls it in each
worker), and it also opens the search engine in the background at start-up so the first
search does not pay for loading the indexes and the model.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial

import anyio
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import State
from starlette.exceptions import HTTPException

from dailypapers import memo
from dailypapers.feed.reader import Store, open_site_store
from dailypapers.search.service import LiveEngine
from dailypapers.settings import Settings, get_settings
from dailypapers.web import (
    account_api,
    api,
    collections,
    comments,
    notifications,
    pages,
    submissions,
    syndication,
    votes,
)
from dailypapers.web.auth import AuthCookies
from dailypapers.web.cache import CacheMiddleware, ResponseCache
from dailypapers.web.errors import CatchErrors, handle_error
from dailypapers.web.head import HeadAsGet
from dailypapers.web.heap import tune
from dailypapers.web.hosts import HostCheck, allowed_names
from dailypapers.web.limits import install_limits
from dailypapers.web.list_order import read_again
from dailypapers.web.member_pages import MemberFront, MemberPages
from dailypapers.web.outer import Site
from dailypapers.web.pages import alerts, daily, paper, search
from dailypapers.web.personal import MemberMarks, SessionCache
from dailypapers.web.routing import dispatch_by_prefix
from dailypapers.web.security import SecurityHeaders
from dailypapers.web.templating import STATIC
from dailypapers.web.vote_front import VoteFront
from dailypapers.web.vote_watch import VoteWatch

log = logging.getLogger(__name__)

SHUTDOWN_WAIT = 60.0  # seconds a shutdown waits for the search engine to finish opening


def _warm_up(engine: LiveEngine) -> None:
    try:
        engine.get()
    except Exception:  # the first search will try again and answer with an error page
        log.exception("opening the search engine failed")


def create_app(
    store: Store | None = None, settings: Settings | None = None, *, warm: bool = False
) -> FastAPI:
    """The app over ``store`` (by default the configured database).

    ``warm`` opens the search engine in a background thread at start-up; without it the
    first request that searches opens it.
    """
    settings = settings or get_settings()
    memo.size_all(settings.page_memo_papers)  # what a page makes of a paper, kept (memo.py)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Handlers are plain functions run in threads. They are CPU-bound under the GIL, so
        # the default 40 threads only fight: measured at 32 connections, 4 threads served
        # 1.4 to 1.9 times the pages per second of 40, with a third of the p99.
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = settings.web_threads
        engine: LiveEngine = app.state.engine
        warming = threading.Thread(target=_warm_up, args=(engine,), daemon=True)
        if warm:
            warming.start()
        yield
        # Native code (ONNX Runtime, tantivy) still loading in a thread when the interpreter
        # exits aborts the process ("terminate called without an active exception"), as a
        # Ctrl-C during start-up showed: let an opening or a reload finish first.
        if warm:
            await anyio.to_thread.run_sync(warming.join, SHUTDOWN_WAIT)
        await anyio.to_thread.run_sync(engine.settle, SHUTDOWN_WAIT)

    app = Site(title="dailypapers", docs_url="/docs", redoc_url=None, lifespan=lifespan)
    app.state.settings = settings
    app.state.store = store or open_site_store(settings)
    app.state.engine = LiveEngine(app.state.store, settings)
    app.state.member_marks = MemberMarks()  # members' saved and hidden papers (web/personal.py)
    # Routes are tried in order, each costing a little: the API's lists and the pages (the
    # most requested) first. No path and method is matched by two routers, so the order
    # changes nothing else.
    # Before the API's /api/papers/{id:path}, which would take .../comments as an id.
    app.include_router(comments.api)
    app.include_router(api.router)
    app.include_router(pages.router)
    app.include_router(comments.pages)
    app.include_router(account_api.router)
    app.include_router(notifications.router)
    # Upvotes, submissions and collections: forms and API.
    for community in (votes, submissions, collections):
        app.include_router(community.api)
        app.include_router(community.pages)
    app.include_router(syndication.router)
    app.include_router(alerts.api)  # saved-search alerts (the pages are in pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_api_route("/healthz", healthz, include_in_schema=False)
    # Each request tries only its path's group of routes; the hottest pages skip them.
    direct = (*daily.DIRECT, *paper.DIRECT, *api.DIRECT, *search.DIRECT, *api.SEARCH_DIRECT)
    dispatch_by_prefix(app.router, direct, votes.FORMS)
    app.add_exception_handler(RequestValidationError, handle_error)
    app.add_exception_handler(HTTPException, handle_error)
    app.add_exception_handler(OverflowError, handle_error)  # a number no column holds: 400
    app.add_exception_handler(Exception, handle_error)
    # Inside the cache: it sees the cookies and "no-store" of personal answers and skips them.
    app.add_middleware(AuthCookies)
    install_limits(app, app.state.store, settings)
    front: tuple[MemberPages, ResponseCache] | None = None  # the members' front, if cached
    if settings.page_cache_mb > 0:
        cache = _response_cache(app.state, settings)
        app.state.sessions = SessionCache()  # members of session tokens, for cached pages
        member_votes = app.state.vote_watch.member_votes
        app.state.member_pages = members = MemberPages(
            app.state.store,
            settings,
            app.state.sessions,
            member_votes,
            marks=app.state.member_marks,
        )
        app.add_middleware(CacheMiddleware, cache=cache, members=members)
        front = members, cache
    # Outside the cache: a bad Host never reaches a cache key or a URL built from it.
    hosts = allowed_names(settings.allowed_hosts, settings.site_url)
    app.add_middleware(HostCheck, allowed=hosts)
    # Inside the security headers, which a 500 gets too; outside the cache, whose look at the
    # store can fail as well. Only an error in the two outer layers reaches the last resort,
    # the handler for Exception below.
    app.add_middleware(CatchErrors)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(HeadAsGet)  # the outermost but one, so HEAD is a GET to all else
    if front is not None:
        # Outside them all, and outside FastAPI's own layers too (web/outer.py): a member's
        # cached page answered from memory (outermost: most requests are GETs) and a
        # member's vote from upvote.js made and answered, as they would.
        fronted = VoteFront(app.inside(), sessions=app.state.sessions, allowed=hosts)
        app.outside = MemberFront(fronted, members=front[0], cache=front[1], allowed=hosts)
    return app


def _response_cache(state: State, settings: Settings) -> ResponseCache:
    """Answers kept until the papers or votes change, or the search engine is reopened on
    other papers or keyword index (its answers, similar papers among them, may change). A
    reopening for new vectors alone keeps them: their semantic part may lag behind the newest
    vectors by at most the cache's time to live (see ``LiveEngine``)."""
    store: Store = state.store
    engine: LiveEngine = state.engine
    # Votes made here drop only the pages showing their paper (see web/vote_watch.py).
    state.vote_watch = watch = VoteWatch(store, lambda: engine.answers_generation)
    watch.cache = ResponseCache(
        watch.stamp,
        max_bytes=settings.page_cache_mb * 2**20,
        ttl=settings.page_cache_seconds,
        recheck=partial(read_again, store),
    )
    return watch.cache


def healthz() -> PlainTextResponse:
    """A trivial answer: for load balancers, and the baseline of the load benchmark."""
    return PlainTextResponse("ok")


def serve_app() -> FastAPI:
    """The app ``dailypapers serve`` runs: configured from the environment, warmed up, in a
    process whose garbage collector runs less often (``web/heap.py``)."""
    tune()
    return create_app(warm=True)
