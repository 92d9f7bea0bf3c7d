"""Dispatch by the path's first segment picks the route the full router would pick.

For every route of the real app, a path made from its template (each parameter an ``x``),
with and without a trailing slash, and a few paths no route takes: the group's first full
or partial match is the full router's, and a request through the app answers as it did.
"""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from starlette.routing import BaseRoute, Match, Mount, Route

from dailypapers.settings import get_settings
from dailypapers.store import Store
from dailypapers.web.app import create_app
from dailypapers.web.routing import PrefixDispatch, first_segment


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
