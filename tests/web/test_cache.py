"""The response cache: hits, expiry, invalidation when the store changes, what is never kept."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from dailypapers.index.dense.embedder import load_embedder
from dailypapers.index.dense.vectors import embed_papers
from dailypapers.index.job import update_indexes
from dailypapers.ingest.files import JsonLinesSource
from dailypapers.ingest.run import ingest
from dailypapers.paper import make_record
from dailypapers.search.service import LiveEngine
from dailypapers.settings import get_settings
from dailypapers.store import Store
from dailypapers.store.papers import upsert_papers
from dailypapers.store.vectors import papers_needing_vectors, save_vectors
from dailypapers.web.app import create_app
from dailypapers.web.cache import (
    EXPIRY_SPREAD,
    LASTING,
    CachedResponse,
    CacheKey,
    CacheMiddleware,
    ResponseCache,
    no_body,
    vote_days,
)
from dailypapers.web.list_order import ListOrder
from dailypapers.web.personal import apply_edits, count_edits

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
MODEL = "test-model"


class Counter:
    """A tiny app whose answers count the calls that reached it."""

    def __init__(self) -> None:
        self.calls = 0
        self.stamp = 0

    def answer(self, request: Request) -> Response:
        self.calls += 1
        status = 404 if request.url.path == "/missing" else 200
        size = int(request.query_params.get("size", "10"))
        return PlainTextResponse(f"call {self.calls} ".ljust(size, "x"), status_code=status)


def _client(counter: Counter, **options: float) -> TestClient:
    routes = [
        Route(path, counter.answer, methods=["GET", "POST"])
        for path in ("/a", "/missing", "/healthz")
    ]
    cache = ResponseCache(lambda: counter.stamp, max_bytes=int(options.get("max_bytes", 10_000)),
                          ttl=options.get("ttl", 60.0), check_every=0)  # fmt: skip
    app = Starlette(routes=routes)
    app.add_middleware(CacheMiddleware, cache=cache)
    return TestClient(app)


def test_a_second_get_is_served_from_the_cache() -> None:
    counter = Counter()
    client = _client(counter)
    first, second = client.get("/a"), client.get("/a")
    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("miss", "hit")
    assert first.text == second.text == "call 1 xxx" and counter.calls == 1
    assert second.headers["content-type"] == first.headers["content-type"]
    assert client.get("/a?other=1").headers["x-cache"] == "miss"  # the query is in the key
    other_host = client.get("/a", headers={"Host": "papers.example.org"})
    assert other_host.headers["x-cache"] == "miss"  # and the host: pages hold absolute URLs
    assert counter.calls == 3


def test_a_store_change_or_age_drops_entries() -> None:
    counter = Counter()
    client = _client(counter, ttl=0.2)
    client.get("/a")
    counter.stamp += 1
    assert client.get("/a").text.startswith("call 2")
    assert client.get("/a").headers["x-cache"] == "hit"
    time.sleep(0.35)  # past 1.5 x its lifetime: no longer served while rendered again
    assert client.get("/a").text.startswith("call 3")


def test_an_expired_entry_is_served_while_one_request_renders_it_again() -> None:
    cache = ResponseCache(lambda: 0, max_bytes=10_000_000, ttl=60.0, check_every=0)
    key = ("http", b"localhost", "/papers", b"")
    life = cache.lifetime(key)
    old = CachedResponse(200, [], b"old", time.monotonic() - 1.2 * life, frozenset())
    cache.put(key, old)
    assert cache.lookup(key) == (old, True)  # this request renders it again
    assert cache.lookup(key) == (old, False)  # the others are served the old one meanwhile
    new = CachedResponse(200, [], b"new", time.monotonic(), frozenset())
    cache.put(key, new)
    assert cache.lookup(key) == (new, False)
    too_old = CachedResponse(200, [], b"old", time.monotonic() - 1.6 * life, frozenset())
    cache.put(key, too_old)
    assert cache.lookup(key) == (None, False)  # past the grace: rendered in the request


class Gated:
    """An ASGI app whose answers wait for a gate: renderings that are under way together."""

    def __init__(self, status: int) -> None:
        self.status = status
        self.calls = 0
        self.gate = asyncio.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.calls += 1
        await self.gate.wait()
        headers = [(b"content-type", b"text/plain")]
        await send({"type": "http.response.start", "status": self.status, "headers": headers})
        await send({"type": "http.response.body", "body": f"call {self.calls}".encode()})


async def _together(app: Gated, requests: int) -> list[tuple[bytes, bytes]]:
    """``requests`` GETs of one page at once; each answer's body and X-Cache."""
    # Looked at once here and not again: each request's look would be a worker thread, and
    # on a loaded machine the threads come back in any order (the first to lead is not the
    # first made); without them every request runs on the loop in turn until it waits.
    cache = ResponseCache(lambda: 0, max_bytes=10_000, ttl=60.0, check_every=3600)
    cache.refresh()
    middleware = CacheMiddleware(app, cache)

    async def get() -> tuple[bytes, bytes]:
        sent: list[Message] = []

        async def send(message: Message) -> None:
            sent.append(message)

        scope = {"type": "http", "method": "GET", "scheme": "http", "path": "/a",
                 "query_string": b"", "headers": [(b"host", b"localhost")]}  # fmt: skip
        await middleware(scope, no_body, send)
        return sent[1]["body"], dict(sent[0]["headers"])[b"x-cache"]

    answers = [asyncio.create_task(get()) for _ in range(requests)]
    await asyncio.sleep(0.01)  # every request has arrived while the first renders
    app.gate.set()
    return await asyncio.gather(*answers)


def test_a_page_missing_from_the_cache_is_rendered_once_for_requests_at_once() -> None:
    app = Gated(200)
    answers = asyncio.run(_together(app, 5))
    assert app.calls == 1
    assert answers == [(b"call 1", b"miss")] + [(b"call 1", b"hit")] * 4


def test_requests_waiting_for_an_answer_that_is_not_kept_render_their_own() -> None:
    app = Gated(404)
    answers = asyncio.run(_together(app, 3))
    assert app.calls == 3 and all(cache == b"miss" for _body, cache in answers)


def test_entries_made_together_expire_over_a_stretch_not_all_at_once() -> None:
    cache = ResponseCache(lambda: 0, max_bytes=10_000_000, ttl=60.0, check_every=0)
    keys = [("http", b"localhost", "/papers", f"n={n}".encode()) for n in range(400)]
    lives = [cache.lifetime(key) for key in keys]
    assert all(EXPIRY_SPREAD * 60.0 <= life <= 60.0 for life in lives)
    assert lives == [cache.lifetime(key) for key in keys]  # fixed per key
    assert max(lives) - min(lives) > 0.8 * (1 - EXPIRY_SPREAD) * 60.0  # spread, not one age
    made = time.monotonic() - EXPIRY_SPREAD * 60.0 - 7.5  # all made at once, half the stretch ago
    for key in keys:
        cache.put(key, CachedResponse(200, [], b"page", made, frozenset()))
    kept = [key for key in keys if cache.get(key) is not None]
    assert 0 < len(kept) < len(keys)  # some expired already, the others later
    assert all(cache.lifetime(key) > 60.0 * EXPIRY_SPREAD + 7.5 for key in kept)


def test_papers_and_search_results_last_longer_and_still_go_with_a_store_change() -> None:
    """Pages whose counts votes correct and that show nothing else votes or the time change
    are kept LASTING x longer; lists ordered by votes keep the ttl; a store change drops
    them all the same."""
    stamp = [0]
    cache = ResponseCache(lambda: stamp[0], max_bytes=10_000_000, ttl=60.0, check_every=0)
    lasting = [("http member", b"h", "/papers/2606.13681", b""), ("http", b"h", "/search", b"q=x")]
    ordered = [("http", b"h", path, b"") for path in ("/date/2026-06-12", "/", "/trending")]
    for key in lasting:
        assert LASTING * EXPIRY_SPREAD * 60.0 <= cache.lifetime(key) <= LASTING * 60.0
    assert all(cache.lifetime(key) <= 60.0 for key in ordered)
    cache.refresh()  # the stamp seen
    made = time.monotonic() - 2 * 60.0  # past any ttl, within the lasting pages' life
    for key in lasting + ordered:
        cache.put(key, CachedResponse(200, [], b"page", made, frozenset({"2606.13681"})))
    assert [cache.get(key) is not None for key in lasting + ordered] == [True] * 2 + [False] * 3
    stamp[0] += 1
    cache.refresh()
    assert all(cache.get(key) is None for key in lasting)


def test_least_recently_used_go_first_within_the_budget() -> None:
    counter = Counter()
    client = _client(counter, max_bytes=8_000)
    for n in range(8):
        client.get(f"/a?n={n}&size=700")  # under 1,000 bytes each with headers: 8 fit
    client.get("/a?n=0&size=700")  # used again: now the newest
    client.get("/a?n=8&size=700")  # pushes out the least recently used, n=1
    calls = counter.calls
    assert client.get("/a?n=0&size=700").headers["x-cache"] == "hit"
    assert client.get("/a?n=1&size=700").headers["x-cache"] == "miss"
    assert counter.calls == calls + 1
    client.get("/a?size=1100")  # more than an eighth of the budget: never kept
    assert client.get("/a?size=1100").headers["x-cache"] == "miss"


@pytest.mark.parametrize(
    ("method", "path", "headers"),
    [
        ("GET", "/missing", {}),
        ("POST", "/a", {}),
        ("GET", "/healthz", {}),
        ("GET", "/a", {"Cookie": "dailypapers_session=abc"}),
        ("GET", "/a", {"Authorization": "Bearer x"}),
    ],
)
def test_what_is_never_cached(method: str, path: str, headers: dict[str, str]) -> None:
    counter = Counter()
    client = _client(counter)
    for _ in range(2):
        client.request(method, path, headers=headers)
    assert counter.calls == 2


@pytest.fixture
def site(sqlite_store: Store) -> Iterator[TestClient]:
    ingest(sqlite_store, "file", "sample", JsonLinesSource(FIXTURES / "snapshot_sample.jsonl"))
    with TestClient(create_app(sqlite_store, get_settings())) as client:
        yield client


def test_the_site_shows_new_papers_within_seconds(site: TestClient, sqlite_store: Store) -> None:
    assert site.get("/date/2024-01-01").headers["x-cache"] == "miss"
    cached = site.get("/date/2024-01-01")
    assert cached.headers["x-cache"] == "hit"
    new = make_record("2401.09999", "A Paper Added Later", first_listed_on=date(2024, 1, 1))
    with sqlite_store.write() as connection:
        upsert_papers(connection, [new])
    time.sleep(2.1)  # the store is looked at every 2 s
    fresh = site.get("/date/2024-01-01")
    assert fresh.headers["x-cache"] == "miss" and "A Paper Added Later" in fresh.text
    assert "x-cache" not in site.get("/healthz").headers


def test_new_vectors_keep_answers_until_the_engine_is_reopened(
    site: TestClient, sqlite_store: Store
) -> None:
    """A backlog being embedded writes vectors every few seconds; what searches and similar
    papers show changes only when the server's engine reopens on new index files."""
    site.get("/papers/2401.00001")  # opens the engine: a new generation
    time.sleep(2.1)
    site.get("/papers/2401.00001")
    assert site.get("/papers/2401.00001").headers["x-cache"] == "hit"
    with sqlite_store.write() as connection:
        pending = papers_needing_vectors(connection, MODEL)
        rows = np.eye(len(pending), 8, dtype=np.float32)
        save_vectors(connection, MODEL, pending, rows)
    time.sleep(2.1)  # the store is looked at every 2 s
    assert site.get("/papers/2401.00001").headers["x-cache"] == "hit"
    engine: LiveEngine = site.app.state.engine  # type: ignore[attr-defined]
    engine.answers_generation += 1  # as an engine reopened on other papers does
    time.sleep(2.1)
    assert site.get("/papers/2401.00001").headers["x-cache"] == "miss"


def test_a_reopening_for_new_vectors_alone_keeps_cached_answers(
    site: TestClient, sqlite_store: Store
) -> None:
    """The worker's dense index update lands and the engine reopens its dense part: pages
    and searches answered before stay cached (within the cache's time to live), and the
    search API's answers are cached like any page's."""
    settings = get_settings()
    update_indexes(sqlite_store, settings, None)
    engine: LiveEngine = site.app.state.engine  # type: ignore[attr-defined]
    engine.check_every, engine.dense_every = 0, 0
    paths = ["/papers/2401.00001", "/api/papers/search?q=consistency", "/search?q=consistency"]
    _wait_for(lambda: engine.get().lexical is not None, "the keyword index was never opened")
    engine.settle(60)
    time.sleep(2.1)  # the cache sees the engine's generation from the opening above
    for path in paths:
        site.get(path)
    assert [site.get(path).headers["x-cache"] for path in paths] == ["hit"] * 3
    opened = engine.generation
    model = load_embedder(settings)
    embed_papers(sqlite_store, model)
    update_indexes(sqlite_store, settings, model, lexical=False)
    _wait_for(lambda: engine.get().dense is not None, "the new vectors were never opened")
    engine.settle(60)
    assert engine.generation > opened
    time.sleep(2.1)  # the store and the engine are looked at every 2 s
    assert [site.get(path).headers["x-cache"] for path in paths] == ["hit"] * 3


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def _expired(
    cache: ResponseCache, key: CacheKey, papers: frozenset[str], order: ListOrder | None = None
) -> CachedResponse:
    """An entry of ``key`` rendered (its mark taken) now, put as if past its lifetime."""
    made = time.monotonic() - 1.2 * cache.lifetime(key)
    entry = CachedResponse(200, [], b"page", made, papers, order=order)
    cache.put(key, entry, cache.forgets())
    return entry


def test_a_list_no_vote_changed_is_kept_on_past_its_lifetime_as_it_is() -> None:
    """A day's (week's, month's) list by upvotes that no vote changed since its rendering is
    what rendering it again would give: past its lifetime it is kept on, not rendered
    again. A vote on a paper it shows, or on any paper of its days (one could climb into
    it), a vote on a day not known, a list by trending or the latest day (the clock), an
    entry whose mark is not known, or one rendered LASTING x its lifetime ago are rendered
    again as before; a store change drops it like everything else."""
    stamp = [0]
    cache = ResponseCache(lambda: stamp[0], max_bytes=10_000_000, ttl=60.0, check_every=0)
    cache.refresh()
    day = ("http member", b"h", "/date/2026-06-12", b"")
    shown = frozenset({"2606.00001"})
    old = _expired(cache, day, shown)
    cache.forget_papers(frozenset({"2606.09999"}), days=(date(2026, 6, 11),))  # another day
    cache.forget_papers(frozenset({"2606.09998"}), days=())  # a comment: no list's order
    kept, renew = cache.lookup(day)
    assert kept is not None and not renew and kept.body == old.body
    assert kept.created > old.created and kept.rendered == old.created
    assert cache.lookup(day) == (kept, False)  # fresh again: nobody renders it
    for vote in (
        {"paper_ids": shown, "days": (date(2026, 6, 12),)},  # a paper it shows
        {"paper_ids": frozenset({"2606.09997"}), "days": (date(2026, 6, 12),)},  # of its day
        {"paper_ids": frozenset({"2606.09997"}), "days": (None,)},  # a day not known
    ):
        _expired(cache, day, shown)
        cache.forget_papers(fix=lambda body, boxes: [], **vote)
        assert cache.lookup(day)[1], vote  # rendered again
    week = ("http", b"h", "/week/2026-W24", b"")  # 8 to 14 June
    _expired(cache, week, shown)
    assert not cache.lookup(week)[1]
    _expired(cache, week, shown)
    cache.forget_papers(frozenset({"2606.09996"}), days=(date(2026, 6, 14),))
    assert cache.lookup(week)[1]
    for path, query in (("/date/2026-06-12", b"sort=trending"), ("/", b""), ("/trending", b"")):
        key = ("http", b"h", path, query)
        _expired(cache, key, shown)
        assert cache.lookup(key)[1], (path, query)  # the clock: rendered again
    unmarked = ("http", b"h", "/date/2026-06-13", b"")
    # Past its own lifetime: a key's lifetime is its hash's, which changes between processes.
    made = time.monotonic() - 1.2 * cache.lifetime(unmarked)
    cache.put(unmarked, CachedResponse(200, [], b"page", made, shown))
    assert cache.lookup(unmarked)[1]
    long_ago = ("http", b"h", "/date/2026-06-14", b"")
    entry = _expired(cache, long_ago, shown)
    cache.put(long_ago, replace(entry, rendered=time.monotonic() - 6 * 60.0), cache.forgets())
    assert cache.lookup(long_ago)[1]
    _expired(cache, day, shown)
    stamp[0] += 1  # papers changed (an ingest, a removed submission)
    cache.refresh()
    assert cache.lookup(day) == (None, False)


def test_an_expired_list_read_again_in_the_same_order_is_kept_on() -> None:
    """A day's list past its lifetime that a vote on its day corrected is read again
    (``recheck``, the list it noted): found in the same order, it is kept on from now (when
    it was rendered stays) instead of rendered again. It is rendered again when its list
    shows other papers, when it is in another order and its cards are not found (here: a
    body without cards; ``test_personal`` has one found), when a vote on its day lands while
    it is read, when it was replaced meanwhile, when reading fails, when it noted no list,
    for a list on the clock (trending), and when it was rendered LASTING x its lifetime ago."""
    same: list[str | None] = ["same"]
    during: list[Callable[[], None]] = []
    read: list[ListOrder] = []

    def recheck(order: ListOrder) -> tuple[str, ...] | None:
        read.append(order)
        if during:
            during.pop()()
        if same[0] is None:
            raise OSError("the store is gone")
        answers = {"other papers": None, "another order": order.ids[::-1]}
        return answers.get(same[0], order.ids)

    cache = ResponseCache(lambda: 0, max_bytes=10_000_000, ttl=60.0, check_every=0,
                          recheck=recheck)  # fmt: skip
    cache.refresh()
    june_12, shown = date(2026, 6, 12), frozenset({"2606.00001", "2606.00002"})
    order = ListOrder(june_12, june_12, "upvotes", 50, 0, None, tuple(sorted(shown)), 2)
    day = ("http member", b"h", "/date/2026-06-12", b"")

    def voted_and_expired(key: CacheKey = day, noted: ListOrder | None = order) -> CachedResponse:
        _expired(cache, key, shown, noted)
        cache.forget_papers(frozenset({"2606.00001"}), fix=lambda body, boxes: [], days=(june_12,))
        entry, renew = cache.lookup(key)
        assert entry is not None and renew  # due to be rendered again, as before
        return entry

    expired = voted_and_expired()
    assert asyncio.run(cache.still_right(day, expired)) and read == [order]
    kept = cache._entries[day]
    assert kept.created > expired.created and kept.rendered == expired.created
    assert cache.lookup(day) == (kept, False)  # fresh again: nobody renders it
    vote = partial(cache.forget_papers, frozenset({"2606.00003"}), days=(june_12,))
    for case in ("other papers", "another order", "a vote meanwhile", "replaced", "failed"):
        expired = voted_and_expired()
        same[0] = None if case == "failed" else case
        if case == "a vote meanwhile":
            during.append(vote)
        if case == "replaced":
            during.append(partial(cache.put, day, replace(expired, created=time.monotonic())))
        assert not asyncio.run(cache.still_right(day, expired)), case
        assert case == "replaced" or cache._entries[day].created == expired.created, case
    read.clear()
    same[0] = "same"
    for key, noted in ((day, None), (("http", b"h", "/date/2026-06-12", b"sort=trending"), order)):
        expired = voted_and_expired(key, noted)
        assert not asyncio.run(cache.still_right(key, expired)) and not read
    long_ago = _expired(cache, day, shown, order)
    cache.put(day, replace(long_ago, rendered=time.monotonic() - 6 * 60.0), cache.forgets())
    cache.forget_papers(frozenset({"2606.00001"}), fix=lambda body, boxes: [], days=(june_12,))
    assert not asyncio.run(cache.still_right(day, cache._entries[day]))


def test_the_lists_votes_may_change_are_days_weeks_and_months_by_upvotes_or_recency() -> None:
    june_12 = [date(2026, 6, 12)]
    assert vote_days("/date/2026-06-12", b"") == june_12
    assert vote_days("/date/2026-06-12", b"sort=recent&p=1&category=cs.CL") == june_12
    assert vote_days("/date/2026-06-12", b"sort=upvotes") == june_12
    assert vote_days("/date/2026-06-12", b"sort=trend%69ng") is None  # as the page reads it
    assert vote_days("/date/2026-06-12", b"sort=recent&sort=trending") is None
    assert vote_days("/week/2026-W24", b"") == [date(2026, 6, d) for d in range(8, 15)]
    assert len(vote_days("/month/2026-02", b"") or []) == 28
    for path in ("/", "/trending", "/papers/2606.00001", "/search", "/date/2026-13-01"):
        assert vote_days(path, b"") is None


def test_the_count_fixes_waiting_for_a_page_are_made_together_as_one_after_the_other() -> None:
    """Votes on several papers of a cached page: its next read makes all their count edits
    in one copy of the body, the same body as each fix made in turn; fixes whose edits
    overlap (one paper's counts twice) are made in turn."""

    def box(paper: str, upvotes: int) -> str:
        return (
            f'  <div class="votes" data-paper="{paper}" title="{upvotes} upvotes">\n'
            f'    <span aria-hidden="true">▲</span><span class="count">{upvotes}</span>\n'
            '    <span class="visually-hidden">upvotes</span>\n  </div>\n'
        )

    papers = ["2606.00001", "2606.00002", "2606.00003"]
    body = "".join(box(paper, 9) for paper in papers).encode()
    key: CacheKey = ("http", b"testserver", "/date/2026-06-01", b"")
    votes = {papers[0]: 10, papers[2]: 1234}
    for overlapping in (False, True):
        cache = ResponseCache(lambda: 1, max_bytes=1_000_000, ttl=60)
        cache.refresh()
        cache.put(key, CachedResponse(200, [], body, time.monotonic(), frozenset(papers)))
        fixes = [
            (paper, partial(count_edits, paper_id=paper, upvotes=n)) for paper, n in votes.items()
        ]
        if overlapping:  # the same paper's counts under two sets of papers
            other = partial(count_edits, paper_id=papers[0], upvotes=10)
            fixes.append((papers[0], other))
            cache.forget_papers(frozenset({papers[0], papers[1]}), other)
        for paper, fix in fixes[:2]:
            cache.forget_papers(frozenset({paper}), fix)
        expected = body
        for _, fix in fixes:
            expected = apply_edits(expected, fix(expected))
        read = cache.get(key)
        assert read is not None and read.body == expected
        assert b'class="count">1234<' in read.body and b'title="10 upvotes"' in read.body
        assert b'class="count">9<' in read.body  # the paper nobody voted on
