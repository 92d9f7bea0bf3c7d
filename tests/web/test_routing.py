"""Dispatch by the path's first segment picks the route the full router would pick.

For every route of the real app, a path made from its template (each parameter an ``x``),
with and without a trailing slash, and a few paths no route takes: the group's first full
or partial match is the full router's, and a request through the app answers as it did.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re

import httpx2
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Mount, Route

from dailypapers.index.job import run_index
from dailypapers.settings import get_settings
from dailypapers.store import Store
from dailypapers.web.app import create_app
from dailypapers.web.auth import CSRF_COOKIE, SESSION_COOKIE
from dailypapers.web.routing import Direct, PrefixDispatch, first_segment


def _chosen(routes: list[BaseRoute], path: str, method: str) -> BaseRoute | None:
    scope = {"type": "http", "path": path, "root_path": "", "method": method}
    partial = None
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return route
        if match is Match.PARTIAL and partial is None:
            partial = route
    return partial


def _sample_paths(routes: list[BaseRoute]) -> list[str]:
    paths = ["/", "/nowhere", "/api/nowhere", "/static/nowhere.css", "/papers/", "/x/y/z"]
    for route in routes:
        if isinstance(route, Route | Mount):
            path = re.sub(r"\{[^}]*\}", "x", route.path) or "/"
            paths += [path, path.rstrip("/") + "/"]
    return paths


def test_each_path_gets_the_route_the_full_router_picks(sqlite_store: Store) -> None:
    app = create_app(sqlite_store, get_settings())
    dispatch = app.router.middleware_stack
    assert isinstance(dispatch, PrefixDispatch)
    groups, fallback = dispatch._build()
    routes = list(app.router.routes)
    for path in _sample_paths(routes):
        group = groups.get(first_segment(path), fallback)
        assert len(group.routes) < len(routes)
        for method in ("GET", "POST", "DELETE"):
            assert _chosen(group.routes, path, method) is _chosen(routes, path, method), path


def test_answers_through_the_dispatch(sqlite_store: Store) -> None:
    with TestClient(create_app(sqlite_store, get_settings())) as client:
        assert client.get("/healthz").text == "ok"
        assert client.get("/nowhere").status_code == 404
        assert client.get("/static/style.css").status_code == 200
        assert client.put("/healthz").status_code == 405


# The common cases the pages answer directly (web/routing.py, Direct), and requests of the
# same routes they leave to the router: another parameter, a value to check, an error.
DIRECT = [
    "/", "/date/2026-06-12", "/date/2026-06-13", "/date/2026-02-30", "/date/soon",
    "/papers/2606.13681", "/papers/9999.99999", "/papers/2606.13681?utm=x",
    "/api/daily_papers", "/api/daily_papers?date=2026-06-12", "/api/daily_papers?date=2026-02-30",
    "/?utm=x", "/api/papers/2606.13681", "/api/papers/9999.99999", "/api/papers/2606.13681?utm=x",
]  # fmt: skip
ROUTED = [
    "/?sort=recent", "/?p=1", "/?category=cs.CL", "/?sort=nonsense", "/date/2026-06-12?p=9",
    "/date/2026-06-12/", "/papers/2606.13681v2", "/papers/2606.13681.bib",
    "/api/daily_papers?date=", "/api/daily_papers?date=12-06-2026",
    "/api/daily_papers?date=2026-06-12&date=2026-06-13", "/api/daily_papers?date=2026-06-12&p=1",
    "/api/daily_papers?limit=0", "/api/daily_papers?date=2026-06-%DB%B1%DB%B2",
    "/api/papers/2606.13681v2", "/api/papers/hep-th/9901001", "/api/papers/2606.136810",
    "/api/papers/arxiv.org/abs/2606.13681", "/api/papers/2606.13681/similar",
]  # fmt: skip


def _direct_answers_are_routed(
    app: FastAPI, direct: list[str], routed: list[str]
) -> dict[str, httpx2.Response]:
    """Check that exactly the ``direct`` URLs have a direct entry, each for the handler the
    router picks (with no dependency it would skip), and that every URL answers the same
    with the entries as through the router alone. Returns the direct dispatch's answers."""
    dispatch = app.router.middleware_stack
    assert isinstance(dispatch, PrefixDispatch)
    routes = list(app.router.routes)
    assert {url for url in direct + routed if _direct_for(dispatch, url) is not None} == set(direct)
    for url in direct:
        entry = _direct_for(dispatch, url)
        assert entry is not None
        handler, dependencies = _endpoint(routes, url.partition("?")[0])
        # A route's or router's dependency (a CSRF check, say) would be skipped: none.
        assert handler is entry.handler and dependencies == [], url
    with TestClient(app) as client:
        answers = {url: client.get(url, follow_redirects=False) for url in direct + routed}
    dispatch.direct = {}  # now every request goes through the router
    with TestClient(app) as client:
        for url, direct_answer in answers.items():
            through_router = client.get(url, follow_redirects=False)
            assert through_router.status_code == direct_answer.status_code, url
            assert through_router.content == direct_answer.content, url
            assert through_router.headers == direct_answer.headers, url
    return answers


def test_direct_answers_are_the_routes_own(filled: Store) -> None:
    app = create_app(filled, get_settings().model_copy(update={"page_cache_mb": 0}))
    answers = _direct_answers_are_routed(app, DIRECT, ROUTED)
    assert answers["/date/2026-06-12"].status_code == 200
    assert answers["/api/daily_papers?date=2026-02-30"].status_code == 404
    assert answers["/api/papers/2606.13681"].json()["id"] == "2606.13681"
    assert answers["/api/papers/9999.99999"].status_code == 404


# Searches by their words alone (and a page, a limit) are answered directly too.
SEARCH_DIRECT = [
    "/search", "/search?q=", "/search?q=consistency+self-rewarding", "/search?q=model&p=1",
    "/search?p=0&q=model", "/search?q=model&p=49", "/search?q=qzxv+wkrt",
    "/api/papers/search?q=model", "/api/papers/search?q=model&limit=07",
    "/api/papers/search?q=", "/api/papers/search?limit=120&q=diffusion",
]  # fmt: skip
SEARCH_ROUTED = [
    "/search?q=model&sort=newest", "/search?q=model&category=cs.CL", "/search?q=model&p=51",
    "/search?q=model&p=", "/search?q=model&p=-1", "/search?q=a&q=b", "/search?q=model&code=1",
    "/search?q=model&from=2026-06-01", "/search?q=model&utm=x", "/search/",
    "/search?q=" + "x" * 2001, "/api/papers/search", "/api/papers/search?q=model&limit=0",
    "/api/papers/search?q=model&limit=121", "/api/papers/search?q=a&q=b",
    "/api/papers/search?q=model&limit=", "/api/papers/search?q=model&limit=1e2",
]  # fmt: skip


def test_direct_searches_are_the_routes_own(filled: Store) -> None:
    settings = get_settings().model_copy(update={"page_cache_mb": 0})
    run_index(filled, settings)  # both indexes built: the answers hold hits and snippets
    app = create_app(filled, settings)
    answers = _direct_answers_are_routed(app, SEARCH_DIRECT, SEARCH_ROUTED)
    page = answers["/search?q=consistency+self-rewarding"]
    assert page.status_code == 200 and "<mark>" in page.text
    assert answers["/search?q=model&p=49"].status_code == 404  # past the last page
    assert len(answers["/api/papers/search?q=model&limit=07"].json()) == 7
    assert answers["/search?q=model&p=51"].status_code == 422
    assert answers["/api/papers/search"].status_code == 422


def _direct_for(dispatch: PrefixDispatch, url: str) -> Direct | None:
    path, _, query = url.partition("?")
    for direct in dispatch.direct.get(first_segment(path), ()):
        if direct.arguments(path, query.encode()) is not None:
            return direct
    return None


def _endpoint(routes: list[BaseRoute], path: str) -> tuple[object, object]:
    """The handler the full router runs for a GET of ``path``, through included routers,
    and the dependencies the route and its routers add."""
    route, context = _chosen(routes, path, "GET"), None
    while route is not None and hasattr(route, "_match"):  # FastAPI's included router
        scope = {"type": "http", "path": path, "root_path": "", "method": "GET"}
        _, _, route, context = route._match(scope)
    dependencies = getattr(context or route, "dependencies", None)
    return getattr(route, "endpoint", None), dependencies


def _recorded_app(store: Store) -> tuple[FastAPI, list[str]]:
    """The app over ``store`` without the response cache, and a list where every direct
    entry notes whether its handler ran on the event loop ("loop") or in a thread ("pool")."""
    app = create_app(store, get_settings().model_copy(update={"page_cache_mb": 0}))
    dispatch = app.router.middleware_stack
    assert isinstance(dispatch, PrefixDispatch)
    threads: list[str] = []

    def recorded(direct: Direct) -> Direct:
        def handler(*args: object, **kwargs: object) -> Response:
            try:
                asyncio.get_running_loop()
                threads.append("loop")
            except RuntimeError:
                threads.append("pool")
            return direct.handler(*args, **kwargs)

        return dataclasses.replace(direct, handler=handler)

    dispatch.direct = {k: tuple(map(recorded, v)) for k, v in dispatch.direct.items()}
    return app, threads


def test_anonymous_visitors_are_answered_on_the_loop_members_in_the_pool(filled: Store) -> None:
    app, threads = _recorded_app(filled)
    anonymous = ["/", "/date/2026-06-12", "/api/daily_papers?date=2026-06-12"]
    anonymous.append("/api/papers/2606.13681")
    with TestClient(app) as client:
        for url in anonymous:
            assert client.get(url).status_code == 200
        # Another cookie is still an anonymous visitor.
        client.get("/date/2026-06-12", headers={"cookie": f"{CSRF_COOKIE}=x"})
        assert threads == ["loop"] * 5
        threads.clear()
        # A session cookie or a token may be a member's (their answers can write): the pool,
        # whether or not the session is valid.
        client.get("/date/2026-06-12", headers={"cookie": f"{SESSION_COOKIE}=nobody"})
        client.get("/api/daily_papers", headers={"authorization": "Bearer nothing"})
        assert threads == ["pool", "pool"]
        threads.clear()
        # The paper page waits for the search engine (its similar papers) in the pool until
        # the engine is open, then it too is answered on the loop.
        engine = app.state.engine
        assert not engine.ready
        assert client.get("/papers/2606.13681").status_code == 200
        assert engine.ready
        assert client.get("/papers/2606.13681").status_code == 200
        assert threads == ["pool", "loop"]
        threads.clear()
        # Searches too, once the engine is open; a member's in the pool.
        assert client.get("/search?q=model").status_code == 200
        assert client.get("/api/papers/search?q=model").status_code == 200
        client.get("/search?q=model", headers={"cookie": f"{SESSION_COOKIE}=nobody"})
        assert threads == ["loop", "loop", "pool"]


def test_a_search_before_the_engine_is_open_waits_in_the_pool(filled: Store) -> None:
    app, threads = _recorded_app(filled)
    with TestClient(app) as client:
        assert not app.state.engine.ready
        assert client.get("/api/papers/search?q=model").status_code == 200
        assert client.get("/search?q=model").status_code == 200
    assert threads == ["pool", "loop"]


def test_a_store_over_the_network_keeps_the_pool(store: Store) -> None:
    app, threads = _recorded_app(store)
    with TestClient(app) as client:
        assert client.get("/").status_code == 200  # no papers yet: the empty site's page
    assert threads == ["loop" if store.is_sqlite else "pool"]
