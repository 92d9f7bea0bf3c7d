"""The member pages' front (web/member_pages.py ``MemberFront``): a member's cached page
answered from memory outside the other layers is the answer those layers give, headers and
all; what it cannot answer (a bad Host, a page past its lifetime, a member not kept) goes
through them as before."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.types import Receive, Scope, Send

from dailypapers.community.votes import set_upvote
from dailypapers.discussion import collections
from dailypapers.settings import get_settings
from dailypapers.store import Store
from dailypapers.web import member_pages, personal
from dailypapers.web.app import create_app
from dailypapers.web.cache import ResponseCache
from dailypapers.web.outer import Site
from tests.support.layers import passing_fastapis_layers
from tests.support.members import add_members, sign_in

DAY = "/date/2026-06-12"
PAGES = (DAY, f"{DAY}?sort=recent", "/", "/about", "/search?q=language")


def _cache(client: TestClient) -> ResponseCache:
    cache: ResponseCache = client.app.state.vote_watch.cache  # type: ignore[attr-defined]
    return cache


def _still(client: TestClient) -> None:
    """No look at the store from now on (one now): the cache and the unread counts stay as
    they are, so the front answers every page kept however long the test takes."""
    cache, members = _cache(client), client.app.state.member_pages  # type: ignore[attr-defined]
    for kept in (cache, members.unread):
        kept.check_every = 0.0
        kept.refresh()
        kept.check_every = 3600.0


def _papers(client: TestClient) -> list[str]:
    return re.findall(r'href="/papers/([^"]+)">', client.get(DAY, params={"sort": "recent"}).text)


@pytest.fixture
def answered(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The paths the front answered (the others went through the layers inside)."""
    paths: list[str] = []
    kept = member_pages.MemberPages.kept

    def counted(
        self: member_pages.MemberPages, scope: Scope, cache: ResponseCache, token: str, host: bytes
    ) -> member_pages.Answer | None:
        answer = kept(self, scope, cache, token, host)
        if answer is not None:
            paths.append(scope["path"])
        return answer

    monkeypatch.setattr(member_pages.MemberPages, "kept", counted)
    yield paths


def test_the_fronts_answer_is_the_answer_of_the_layers_inside(
    client: TestClient, filled: Store, answered: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (ada,) = add_members(filled, 1)
    papers = _papers(client)
    set_upvote(filled, ada, papers[0], True)
    collections.add_paper(filled, ada, papers[1])
    collections.mark_not_interested(filled, ada, papers[2])
    sign_in(client, filled, ada)
    _still(client)
    paths = (*PAGES, f"/papers/{papers[0]}", f"/papers/{papers[3]}")
    for path in paths:
        client.get(path)  # rendered and kept, the member's state read
    fronts = {path: client.get(path) for path in paths}
    assert len(answered) == len(paths)
    monkeypatch.setattr(member_pages.MemberPages, "kept", lambda *args: None)
    for path, front in fronts.items():
        inside = client.get(path)
        assert inside.headers["x-cache"] == "hit", path
        assert front.headers.raw == inside.headers.raw, path
        assert front.content == inside.content, path
    assert len(answered) == len(paths)  # the second time, none through the front


def test_with_telemetry_on_every_request_goes_through_fastapis_layers(
    client: TestClient, filled: Store, answered: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """web/outer.py: while telemetry is off, a member's cached page is answered before
    FastAPI's own layers; with it on, every request goes through them (the fronts skipped,
    so it is observed), with the same answer."""
    (ada,) = add_members(filled, 1)
    sign_in(client, filled, ada)
    _still(client)
    client.get(DAY)  # rendered and kept
    through: list[str] = []
    layers = FastAPI.__call__

    async def counted(self: FastAPI, scope: Scope, receive: Receive, send: Send) -> None:
        through.append(scope["path"])
        await layers(self, scope, receive, send)

    monkeypatch.setattr(FastAPI, "__call__", counted)
    outside = client.get(DAY)
    assert answered == [DAY] and through == []
    site = client.app
    assert isinstance(site, Site)
    monkeypatch.setattr(site._native_telemetry, "enabled", lambda: True)
    site._telemetry_seen = float("-inf")  # looked at again now
    inside = client.get(DAY)
    assert answered == [DAY] and through == [DAY]
    assert (outside.headers.raw, outside.content) == (inside.headers.raw, inside.content)


def test_a_bad_or_foreign_host_never_gets_a_member_page_from_memory(
    filled: Store, answered: list[str]
) -> None:
    settings = get_settings().model_copy(update={"allowed_hosts": ["testserver"]})
    with TestClient(create_app(filled, settings)) as client:
        (ada,) = add_members(filled, 1)
        sign_in(client, filled, ada)
        client.get(DAY)
        assert client.get(DAY).headers["x-cache"] == "hit" and answered == [DAY]
        cache = _cache(client)
        (key,) = [key for key in cache._entries if "member" in key[0]]
        for host in (b"evil.example", b"testserver/api"):
            # Kept under that Host as if it had ever got past the check: still refused.
            cache.put((key[0], host, key[2], key[3]), cache._entries[key])
            page = client.get(DAY, headers={"host": host.decode()})
            assert page.status_code == 400, host
        assert answered == [DAY]


def test_a_page_past_its_lifetime_goes_through_the_cache_to_be_renewed(
    client: TestClient, filled: Store, answered: list[str]
) -> None:
    (ada,) = add_members(filled, 1)
    sign_in(client, filled, ada)
    client.get("/about")
    assert client.get("/about").headers["x-cache"] == "hit" and answered == ["/about"]
    cache = _cache(client)
    (key,) = [key for key in cache._entries if key[2] == "/about" and "member" in key[0]]
    cache._entries[key] = old = cache._entries[key].with_body(cache._entries[key].body)
    object.__setattr__(old, "created", old.created - cache.lifetime(key) - 0.01)
    assert cache.fresh(key) is None and key in cache._entries  # left for lookup
    page = client.get("/about")
    assert page.headers["x-cache"] == "hit" and answered == ["/about"]  # served as before
    waited = time.monotonic() + 10.0  # rendered again for the next ones, in the background
    while cache._entries[key] is old and time.monotonic() < waited:
        time.sleep(0.01)
    assert cache._entries[key].created > old.created
    assert client.get("/about").headers["x-cache"] == "hit" and answered[-1] == "/about"


def test_a_shared_pages_header_is_the_one_of_any_other_shared_page() -> None:
    paths = [*member_pages.SHARED_PATHS, *(f"{p}x" for p in member_pages.SHARED_PREFIXES)]
    for unread in (0, 3):
        headers = {personal.member_nav("ada", "t", path, unread) for path in paths}
        assert len(headers) == 1
        assert headers != {personal.member_nav("ada", "t", "/notifications", unread)}


def test_several_cookie_headers_go_to_the_layers(
    client: TestClient, filled: Store, answered: list[str]
) -> None:
    """Starlette merges every Cookie header (the last value of a name wins); the front reads
    one header, so a request with several is the layers' to answer, as they read it."""
    (ada,) = add_members(filled, 1)
    sign_in(client, filled, ada)
    _still(client)
    client.get(DAY)
    token = client.cookies["dailypapers_session"]
    client.cookies.clear()
    single = [("cookie", f"dailypapers_session={token}")]
    assert client.get(DAY, headers=single).status_code == 200 and answered == [DAY]
    page = client.get(DAY, headers=[("cookie", "theme=dark"), *single])
    assert page.status_code == 200 and answered == [DAY]  # not answered in front
    assert "member0" in page.text  # the layers found the member all the same
    cookies = [(b"cookie", b"theme=dark"), (b"cookie", f"dailypapers_session={token}".encode())]
    scope = {"type": "http", "method": "GET", "path": DAY, "headers": cookies}
    assert member_pages.session_of(scope) is None


def test_the_front_answers_outside_fastapis_layers(
    client: TestClient, filled: Store, answered: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A member's cached page is answered before FastAPI's own layers (web/outer.py: its
    telemetry check, error page and body limit); a page the front cannot answer passes
    them."""
    passed = passing_fastapis_layers(monkeypatch)
    (ada,) = add_members(filled, 1)
    sign_in(client, filled, ada)
    _still(client)
    client.get(DAY)  # rendered and kept, the member's state read
    passed.clear()
    assert client.get(DAY).status_code == 200
    assert answered == [DAY] and passed == []
    assert client.get("/about", headers={"Host": "a/b"}).status_code == 400
    assert passed == ["/about"]
