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
"""

from __future__ import annotations

from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Mount, Route, Router, WebSocketRoute
from starlette.types import Receive, Scope, Send

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


class PrefixDispatch:
    """The router's own dispatch (its ``middleware_stack``), over the request's group only."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self.groups: dict[str, Router] | None = None
        self.fallback: Router | None = None

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
        segment = first_segment(get_route_path(scope))
        await self.groups.get(segment, self.fallback).app(scope, receive, send)


def dispatch_by_prefix(router: Router) -> None:
    """Make ``router`` match each request against its path's group of routes only."""
    router.middleware_stack = PrefixDispatch(router)
