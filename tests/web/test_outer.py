"""The site's app with a layer outside FastAPI's own (web/outer.py)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from dailypapers.web.outer import Site
from tests.support.layers import passing_fastapis_layers


def _site() -> Site:
    site = Site()
    site.add_api_route("/hello", lambda: PlainTextResponse("inside"))
    return site


def test_without_an_outside_layer_the_site_is_fastapi() -> None:
    with TestClient(_site()) as client:
        assert client.get("/hello").text == "inside"


class _Outside:
    """Answers /outside itself; hands everything else on; notes what it saw."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.seen: list[tuple[str, object, str]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.seen.append((scope["type"], scope.get("app"), scope.get("path", "")))
        if scope.get("path") == "/outside":
            await PlainTextResponse("outside")(scope, receive, send)
            return
        await self.app(scope, receive, send)


def test_the_outside_layer_sees_requests_before_fastapis_layers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """It answers what it takes without FastAPI's layers (its error page among them), with
    ``scope["app"]`` set as Starlette sets it; the rest, lifespan included, goes inside."""
    passed = passing_fastapis_layers(monkeypatch)
    site = _site()
    site.outside = outside = _Outside(site.inside())
    with TestClient(site) as client:
        assert client.get("/outside").text == "outside"
        assert client.get("/hello").text == "inside"
    assert [path for _kind, _app, path in outside.seen] == ["", "/outside", "/hello"]
    assert all(app is site for _kind, app, path in outside.seen if path)
    assert "/outside" not in passed and "/hello" in passed
