"""What an attack on the site found, kept fixed: each test replays one hostile request.

Host headers that spell another URL (cache poisoning), a connection after a 500, numbers
and dates beyond what the store or Python can hold, and links that are not http(s).
"""

from __future__ import annotations

import http.client
import logging
from collections.abc import Iterator
from datetime import date

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from dailypapers.paper import make_record
from dailypapers.settings import get_settings
from dailypapers.store import Store
from dailypapers.store.papers import upsert_papers
from dailypapers.store.schema import paper_links, papers
from dailypapers.web.app import create_app
from dailypapers.web.hosts import HostCheck, KnownHosts, allowed_names, split_host
from tests.support.server import serving

PAPER = "2606.13681"


def _get(
    host: str, port: int, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], str]:
    connection = http.client.HTTPConnection(host, port, timeout=30)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        connection.close()


@pytest.fixture
def app(filled: Store) -> FastAPI:
    return create_app(filled, get_settings())


@pytest.fixture
def server(app: FastAPI) -> Iterator[tuple[str, int]]:
    with serving(app) as address:
        yield address


def test_a_host_with_a_path_cannot_poison_the_cache(server: tuple[str, int]) -> None:
    host, port = server
    # The attack: the paper page requested with a Host that ends in "/api".
    status, _, _ = _get(host, port, f"/papers/{PAPER}", {"Host": f"{host}:{port}/api"})
    assert status == 400
    status, headers, body = _get(host, port, f"/api/papers/{PAPER}")
    assert status == 200 and headers["content-type"] == "application/json"
    assert body.startswith("{")


@pytest.mark.parametrize(
    "value",
    ["127.0.0.1:8101/api", "a b", "example.org:99999", "example.org:", "exa_mple.org",
     "-bad.org", "[::1", "x" * 300, "é.org", "host?x=1", "host#f", "user@host"],
)  # fmt: skip
def test_a_malformed_host_is_refused(server: tuple[str, int], value: str) -> None:
    host, port = server
    status, headers, body = _get(host, port, "/", {"Host": value})
    assert status == 400 and "Host" in body


@pytest.mark.parametrize(
    "value", ["example.org", "EXAMPLE.org:8000", "127.0.0.1:8101", "[::1]:80", "localhost."]
)
def test_a_well_formed_host_is_served(value: str) -> None:
    assert split_host(value) is not None


def test_the_cache_keeps_hosts_apart(client: TestClient) -> None:
    first = client.get(f"/papers/{PAPER}", headers={"Host": "a.example"})
    second = client.get(f"/papers/{PAPER}", headers={"Host": "b.example"})
    assert first.headers["x-cache"] == second.headers["x-cache"] == "miss"
    assert client.get(f"/papers/{PAPER}", headers={"Host": "a.example"}).headers["x-cache"] == "hit"


def test_allowed_hosts_narrow_the_names_served(
    filled: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAILYPAPERS_ALLOWED_HOSTS", ".example.org, localhost")
    monkeypatch.setenv("DAILYPAPERS_SITE_URL", "https://papers.example.net")
    get_settings.cache_clear()
    settings = get_settings()
    assert allowed_names(settings.allowed_hosts, settings.site_url) == (
        ".example.org", "localhost", "papers.example.net",
    )  # fmt: skip
    with TestClient(create_app(filled, settings)) as client:
        for host, status in [
            ("example.org", 200), ("www.example.org:8000", 200), ("localhost", 200),
            ("papers.example.net", 200), ("evil.example", 400), ("example.org.evil", 400),
        ]:  # fmt: skip
            assert client.get("/healthz", headers={"Host": host}).status_code == status, host


def test_a_bad_site_url_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAILYPAPERS_SITE_URL", "javascript:alert(1)")
    get_settings.cache_clear()
    with pytest.raises(ValueError, match="SITE_URL|site_url"):
        get_settings()


def test_the_connection_stays_usable_after_a_500(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    def broken() -> None:
        raise RuntimeError("a fault injected by the test")

    app.add_api_route("/api/broken", broken)
    app.add_api_route("/broken", broken)
    with serving(app) as (host, port):
        connection = http.client.HTTPConnection(host, port, timeout=30)
        try:
            for path in ("/api/broken", "/healthz", "/broken", "/healthz", "/api/broken"):
                with caplog.at_level(logging.CRITICAL, logger="dailypapers.web.errors"):
                    connection.request("GET", path)
                    response = connection.getresponse()
                    body = response.read().decode()
                closes = (response.getheader("connection") or "").lower() == "close"
                assert not closes, path  # a 500 no longer ends the keep-alive connection
                if path == "/healthz":
                    assert (response.status, body) == (200, "ok")
                else:
                    assert response.status == 500
                    assert ("internal error" if "api" in path else "Something went wrong") in body
                    assert response.getheader("x-content-type-options") == "nosniff"
        finally:
            connection.close()


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/api/daily_papers?p=1000000000000000000", 422),
        ("/api/daily_papers?p=100000&limit=100", 200),
        ("/api/daily_papers?week=9999-W52", 404),
        ("/api/daily_papers?date=2026-02-30", 404),
        ("/api/daily_papers?month=0000-01", 404),
        ("/week/9999-W52", 404),
        ("/week/0000-W01", 404),
        ("/month/9999-12", 200),
        ("/date/9999-12-31", 200),
        ("/date/0001-01-01", 200),
        ("/?p=1000000000000000000", 422),
    ],
)
def test_numbers_and_dates_out_of_range_are_4xx(client: TestClient, path: str, status: int) -> None:
    assert client.get(path).status_code == status


def test_an_empty_parameter_counts_as_not_given(client: TestClient) -> None:
    latest = client.get("/api/daily_papers")
    empty = client.get("/api/daily_papers?date=&week=&month=")
    assert empty.status_code == 200 and empty.json() == latest.json() != []
    both = client.get("/api/daily_papers?date=2026-06-12&month=2026-06")
    assert both.status_code == 422 and "at most one" in both.json()["message"]


def test_feed_errors_are_documented_as_json(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    responses = spec["paths"]["/feeds/categories/{category}.atom"]["get"]["responses"]
    assert list(responses["404"]["content"]) == ["application/json"]
    assert client.get("/feeds/categories/NOT!.atom").headers["content-type"] == "application/json"


HOSTILE_LINKS = [
    "javascript:alert(1)",
    "data:text/html,<script>x</script>",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "vbscript:x",
]


@pytest.mark.parametrize("url", HOSTILE_LINKS)
def test_only_http_links_are_rendered(sqlite_store: Store, url: str) -> None:
    # Even a record written past the checks (an older version, a direct write) renders none.
    record = make_record(PAPER, "A title", first_listed_on=date(2026, 6, 12))
    with sqlite_store.write() as connection:
        upsert_papers(connection, [record])
        where = papers.c.arxiv_id == PAPER
        connection.execute(papers.update().where(where).values(project_page=url, github_repo=url))
        link = {"paper_id": PAPER, "position": 99, "kind": "code", "url": url}
        connection.execute(paper_links.insert().values(**link))
    with TestClient(create_app(sqlite_store, get_settings())) as client:
        page = client.get(f"/papers/{PAPER}").text
        api = client.get(f"/api/papers/{PAPER}").json()
        day = client.get("/date/2026-06-12").text
    scheme = url.strip().split(":")[0].lower() + ":"
    assert scheme not in page.lower() and scheme not in day.lower()
    assert api["projectPage"] is None and api["githubRepo"] is None


def test_numbers_no_column_holds_are_bad_input(app: FastAPI) -> None:
    """Ids beyond 64 bits in a path are refused by the route (422); a number that reaches
    the database driver anyway (its OverflowError) is a 400 with a message, never a 500."""

    def overflowing() -> None:
        raise OverflowError("Python int too large to convert to SQLite INTEGER")

    app.add_api_route("/api/overflowing", overflowing)
    with TestClient(app, raise_server_exceptions=False) as client:
        for path in ("/api/collections/99999999999999999999", "/api/collections/-1"):
            assert client.get(path).status_code == 422
        answer = client.get("/api/overflowing")
    assert answer.status_code == 400
    assert answer.json()["message"] == "a number in the request is out of range"


def test_the_fronts_known_hosts_pass_what_the_host_check_passes() -> None:
    """``KnownHosts`` (the vote front's Host check) passes what ``HostCheck`` passes, and
    remembers only single, allowed values."""
    known = KnownHosts(HostCheck(FastAPI(), allowed_names(["papers.example.org"], None)))
    assert known.passes([b"papers.example.org"]) and known.passes([b"papers.example.org"])
    assert known.passes([])  # HTTP/1.0: nothing is built from it
    assert not known.passes([b"other.example.org"])
    assert not known.passes([b"papers.example.org", b"papers.example.org"])
    assert not known.passes([b"papers.example.org/api"])
