"""A rate-limited request is a 429 with Retry-After, as JSON under /api and a page elsewhere,
counted in the store that every server process shares."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import Request
from fastapi.testclient import TestClient

from dailypapers.settings import get_settings
from dailypapers.store import Store
from dailypapers.web.app import create_app
from dailypapers.web.limits import client_ip, limiter_of


@pytest.fixture
def limited_client(sqlite_store: Store, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.setenv("DAILYPAPERS_LIMIT_LOGIN", "ip:2/1h")
    get_settings.cache_clear()
    app = create_app(sqlite_store, get_settings())

    def login(request: Request) -> dict[str, str]:
        limiter_of(request).check_rule("login", ip=client_ip(request))
        return {"ok": "yes"}

    # Ahead of the site's own routes, so no catch-all page route answers first.
    app.router.add_api_route("/api/limit-probe", login, methods=["POST"])
    app.router.add_api_route("/limit-probe", login, methods=["POST"])
    app.router.routes.insert(0, app.router.routes.pop())
    app.router.routes.insert(0, app.router.routes.pop())
    with TestClient(app) as client:
        yield client


def test_the_third_attempt_is_a_429_with_retry_after(limited_client: TestClient) -> None:
    assert limited_client.post("/api/limit-probe").status_code == 200
    assert limited_client.post("/limit-probe").status_code == 200  # one IP: both count
    answer = limited_client.post("/api/limit-probe")
    assert answer.status_code == 429
    wait = int(answer.headers["Retry-After"])
    # Sliding window over fixed hourly windows: both hits are in this window, so the next is
    # allowed once half of them have slid out, half an hour into the next window: the rest of
    # this window (0 to 1 h, by the clock) plus 30 minutes.
    assert 1800 <= wait <= 5400
    body = answer.json()
    assert body["status"] == 429
    assert body["message"].startswith("Too many log-in attempts; try again in")
    assert body["error"] == body["message"]
    page = limited_client.post("/limit-probe")
    assert page.status_code == 429 and page.headers["Retry-After"]
    assert page.headers["content-type"].startswith("text/html")
    assert "<h1>Too many requests</h1>" in page.text
    assert "Too many log-in attempts; try again in" in page.text
