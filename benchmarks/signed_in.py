"""Signed-in load benchmark: 1,000 members reading daily, paper and search pages and voting,
against anonymous readers of the same pages, on one server, in one run.

Run::

    .venv/bin/python -m benchmarks.signed_in [--work DIR] [--duration 30] [--connections 32]
        [--users 1000] [--vote-every 10] [--per-kind 200] [--pairs 3] [--no-write]

The site: the 74,728-paper listing in SQLite under ``--work``. An empty ``--work`` is made as
``benchmarks.web_embedding`` makes a fresh site (``dailypapers init`` and ``ingest file``:
papers and keyword index); a site :mod:`benchmarks.web` prepared (embedded too) works as
well. The members are made straight in the store with their sessions (no password, so no
argon2 hash on the way: what is measured is reading and voting, not logging in), each
with the CSRF token its pages carry (the HMAC of its session, checked against a page).

One ``dailypapers serve --workers 1`` with the default settings but no background worker
(``DAILYPAPERS_SERVE_WORKER=false``: nothing else takes a core) and the vote limit per
account only (``DAILYPAPERS_LIMIT_VOTE=account:120/1m``: every request comes from
127.0.0.1). Request targets: the paper ids, days and search queries of
:func:`benchmarks.web.targets_of` (fixed seed), ``--per-kind`` of each, interleaved day,
paper, search. Three phases,
each a warm-up pass over every target and then ``--duration`` seconds of a closed loop on
``--connections`` keep-alive connections:

1. *anonymous*: GETs without a cookie (the cached pages everybody shares);
2. *reading*: the same GETs, each from the next of ``--users`` members (its session cookie);
3. *voting*: each request from the next of ``--users`` members in turn (its session
   cookie), and every ``--vote-every``-th a vote instead: the upvote form sent as
   ``static/upvote.js`` sends it (``Accept: application/json``) for a paper among the
   paper ids, upvoting it or taking the member's upvote back.

Then ``--pairs`` − 1 more pairs of windows, anonymous then voting, ``--duration`` each and
without a warm-up: the host's speed moves by a third within minutes on a shared machine,
and a ratio of two windows minutes apart measured that more than the code. The ratio the
target is checked on is the median of the pairs' (the first pair is the phases' own).

Targets (voting phase): pages p99 at most 100 ms and, pages and votes together, at least
half the anonymous requests/s (the pairs' median); votes p99 at most 50 ms (the pairs'
worst p99s); no errors. Writes the "Signed-in load" section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from urllib.parse import quote_plus, urlencode

import httpx

from benchmarks import web
from benchmarks.common import LISTING, machine, percentile, write_section
from benchmarks.loadgen import FAILURES, HEAD_LIMIT, HOST, cpu_now, read_head
from benchmarks.web_embedding import fresh_site
from dailypapers.accounts.service import start_session, user_by_id
from dailypapers.settings import Settings
from dailypapers.store import Store, open_store
from dailypapers.store.users import insert_user, user_by_name
from dailypapers.web.auth import SESSION_COOKIE, session_csrf

HEADING = "## Signed-in load"
SECRET = "benchmark-secret-key-not-for-production"
TARGET_P99_MS = 100.0
TARGET_VOTE_P99_MS = 50.0
TARGET_RATIO = 0.5
SEED = 20261201
SERVER_ENV = {
    "DAILYPAPERS_SERVE_WORKER": "false",
    "DAILYPAPERS_LIMIT_VOTE": "account:120/1m",
    "DAILYPAPERS_SECRET_KEY": SECRET,
}
CREATED = datetime(2026, 1, 1)


@dataclass(frozen=True)
class Member:
    cookie: str  # the Cookie header
    csrf: str


def members(store: Store, settings: Settings, count: int) -> list[Member]:
    """``count`` confirmed members (made once, reused), each with a fresh session."""
    made = []
    for index in range(count):
        name = f"bench{index}"
        with store.write() as connection:
            row = user_by_name(connection, name)
            user_id = row["id"] if row else insert_user(
                connection, username=name, email=f"{name}@example.org", password_hash=None,
                role="user", created_at=CREATED, email_confirmed_at=CREATED,
            )  # fmt: skip
        user = user_by_id(store, user_id)
        assert user is not None
        token = start_session(store, settings, user, user_agent="benchmarks.signed_in")
        made.append(Member(f"{SESSION_COOKIE}={token}", session_csrf(settings, token)))
    return made


@dataclass
class Phase:
    """One phase's requests and what came back."""

    pages: list[str]
    votes: list[str]  # paper ids votes are cast on
    users: list[Member]  # empty: anonymous
    vote_every: int
    latencies: dict[str, list[float]] = field(default_factory=lambda: {"page": [], "vote": []})
    statuses: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    cache: Counter[str] = field(default_factory=Counter)
    issued: int = 0
    recording: bool = False
    upvoted: set[tuple[int, str]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._pages = itertools.cycle(self.pages)
        self._votes = random.Random(SEED)

    def again(self) -> None:
        """Forget what came back, for another measured window of the same requests (the
        members' votes and the next targets go on where they were)."""
        self.latencies = {"page": [], "vote": []}
        for counter in (self.statuses, self.failures, self.cache):
            counter.clear()
        self.recording = False

    def next_request(self) -> tuple[str, bytes]:
        """The next request's kind ("page" or "vote") and its bytes."""
        self.issued += 1
        headers = f"Host: {HOST}\r\n"
        if not self.users:
            return "page", f"GET {next(self._pages)} HTTP/1.1\r\n{headers}\r\n".encode()
        voting = bool(self.vote_every) and self.issued % self.vote_every == 0
        # Votes take the members in turn among themselves: by the request's number alone,
        # only every tenth member would vote, and on a fast machine they met the vote limit.
        turn = self.issued // self.vote_every if voting else self.issued
        user = turn % len(self.users)
        member = self.users[user]
        headers += f"Cookie: {member.cookie}\r\n"
        if voting:
            paper = self._votes.choice(self.votes)
            wanted = (user, paper) not in self.upvoted
            self.upvoted.symmetric_difference_update({(user, paper)})
            body = urlencode({"csrf_token": member.csrf, "upvoted": "1" if wanted else "0",
                              "next": f"/papers/{paper}"}).encode()  # fmt: skip
            return "vote", (
                f"POST /papers/{paper}/upvote HTTP/1.1\r\n{headers}"
                "Accept: application/json\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode() + body
        return "page", f"GET {next(self._pages)} HTTP/1.1\r\n{headers}\r\n".encode()


Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def _exchange(stream: Stream, data: bytes) -> tuple[int, bytes]:
    reader, writer = stream
    writer.write(data)
    status, headers = await read_head(reader)
    await reader.readexactly(int(headers.get(b"content-length", b"0")))
    return status, headers.get(b"x-cache", b"").lower()


async def _connection(phase: Phase, port: int, until: list[float], timeout: float) -> None:
    stream = None
    while time.perf_counter() < until[0]:
        kind, data = phase.next_request()
        start = time.perf_counter()
        try:
            if stream is None:
                stream = await asyncio.open_connection(HOST, port, limit=HEAD_LIMIT)
            status, cache = await asyncio.wait_for(_exchange(stream, data), timeout)
        except FAILURES as error:
            if phase.recording:
                phase.failures["timeout" if isinstance(error, TimeoutError) else "connection"] += 1
            if stream is not None:
                stream[1].close()
            stream = None
            continue
        if phase.recording:
            phase.latencies[kind].append(time.perf_counter() - start)
            phase.statuses[f"{kind} {status}"] += 1
            if kind == "page":
                phase.cache[cache.decode() or "absent"] += 1
    if stream is not None:
        stream[1].close()


@dataclass(frozen=True)
class Measured:
    name: str
    requests: dict[str, int]
    per_second: dict[str, float]
    p50_ms: dict[str, float]
    p99_ms: dict[str, float]
    errors: dict[str, int]
    cache: dict[str, int]
    statuses: dict[str, int]
    window: float
    server_cpu: float
    generator_cpu: float
    machine_cpu: float


async def run_phase(
    name: str, phase: Phase, port: int, connections: int, duration: float, pids: list[int]
) -> Measured:
    """A warm-up pass over every page target, then ``duration`` seconds recorded."""
    await _warm_up(phase, port, connections)
    return await _measure(name, phase, port, connections, duration, pids)


async def _warm_up(phase: Phase, port: int, connections: int) -> None:
    warm_until = [float("inf")]
    warm = [asyncio.create_task(_connection(phase, port, warm_until, 30.0))
            for _ in range(connections)]  # fmt: skip
    while phase.issued < len(phase.pages) * (1 + (phase.vote_every > 0)):
        await asyncio.sleep(0.1)
    warm_until[0] = 0.0
    await asyncio.gather(*warm)


async def _measure(
    name: str, phase: Phase, port: int, connections: int, duration: float, pids: list[int]
) -> Measured:
    own0, server0, machine0 = cpu_now(pids)
    phase.recording, start = True, time.perf_counter()
    until = [start + duration]
    await asyncio.gather(*(_connection(phase, port, until, 30.0) for _ in range(connections)))
    window = time.perf_counter() - start
    own1, server1, machine1 = cpu_now(pids)
    kinds = [kind for kind in ("page", "vote") if phase.latencies[kind]]
    return Measured(
        name=name,
        requests={k: len(phase.latencies[k]) for k in kinds},
        per_second={k: len(phase.latencies[k]) / window for k in kinds},
        p50_ms={k: percentile(phase.latencies[k], 0.5) * 1000 for k in kinds},
        p99_ms={k: percentile(phase.latencies[k], 0.99) * 1000 for k in kinds},
        errors={
            k: sum(n for s, n in phase.statuses.items() if s.startswith(k) and s[-3] != "2")
            for k in kinds
        }
        | {"failed": sum(phase.failures.values())},
        cache=dict(phase.cache),
        statuses=dict(phase.statuses),
        window=window,
        server_cpu=server1 - server0,
        generator_cpu=own1 - own0,
        machine_cpu=machine1 - machine0,
    )


def _pages(targets: web.Targets, per_kind: int) -> list[str]:
    days = [f"/date/{day}" for day in targets.days[:per_kind]]
    papers = [f"/papers/{paper}" for paper in targets.ids[:per_kind]]
    searches = [f"/search?q={quote_plus(query)}" for query in targets.queries[:per_kind]]
    mixed = []
    for index in range(max(len(days), len(papers), len(searches))):
        for group in (days, papers, searches):
            mixed.append(group[index % len(group)])
    return mixed


def check_csrf(port: int, member: Member, path: str) -> None:
    """The token the benchmark computed is the one the member's page carries."""
    page = httpx.get(f"http://{HOST}:{port}{path}", headers={"Cookie": member.cookie}).text
    assert f'name="csrf_token" value="{member.csrf}"' in page, "CSRF token not on the page"


def _hits(cache: dict[str, int]) -> str:
    total = sum(cache.values())
    return f"{100 * cache.get('hit', 0) / total:.1f} %" if total else "–"


def cpu_per_request(measured: Measured) -> float:
    """Milliseconds of server CPU per request of the phase (pages and votes): what a request
    costs, whatever share of the machine the server had (it is shared)."""
    return measured.server_cpu * 1000 / max(1, sum(measured.requests.values()))


def _row(name: str, measured: Measured, kind: str) -> str:
    window = measured.window or 1.0
    return (
        f"| {name} | {measured.requests[kind]:,} | {measured.errors[kind]} | "
        f"{_hits(measured.cache) if kind == 'page' else '–'} | "
        f"{measured.per_second[kind]:,.0f} | {measured.p50_ms[kind]:.1f} | "
        f"{measured.p99_ms[kind]:.1f} | {measured.server_cpu / window:.2f} | "
        f"{cpu_per_request(measured):.2f} | {measured.generator_cpu / window:.2f} |"
    )


def _pairs_line(pairs: list[tuple[Measured, Measured]]) -> str:
    ratios = ", ".join(f"{_ratio(*pair):.2f}" for pair in pairs)
    cpu = ", ".join(f"{cpu_per_request(a) / cpu_per_request(v):.2f}" for a, v in pairs)
    p99 = {k: ", ".join(f"{v.p99_ms[k]:.1f}" for _, v in pairs) for k in ("page", "vote")}
    return (
        f"Anonymous and voting windows measured in turn, {len(pairs)} pairs (the first is "
        f"the table's): voting over anonymous requests/s {ratios} (median "
        f"{statistics.median(_ratio(*pair) for pair in pairs):.2f}, the figure the target "
        f"is checked on); server CPU a request, anonymous over voting, {cpu}; pages p99 "
        f"{p99['page']} ms, votes p99 {p99['vote']} ms."
    )


def report(runs: dict[str, Measured], pairs: list[tuple[Measured, Measured]],
           options: argparse.Namespace, papers: int, pages: int) -> str:  # fmt: skip
    anonymous, reading, signed = runs["anonymous"], runs["reading"], runs["voting"]
    ratio = statistics.median(_ratio(*pair) for pair in pairs)
    reading_ratio = reading.per_second["page"] / anonymous.per_second["page"]
    worst = {kind: max(v.p99_ms[kind] for _, v in pairs) for kind in ("page", "vote")}
    page_ok = worst["page"] <= TARGET_P99_MS and ratio >= TARGET_RATIO
    vote_ok = worst["vote"] <= TARGET_VOTE_P99_MS
    measured = list(runs.values()) + [m for pair in pairs[1:] for m in pair]
    errors = sum(sum(m.errors.values()) for m in measured)
    extra = f"uvicorn {version('uvicorn')}, FastAPI {version('fastapi')}"
    return "\n".join([
        HEADING,
        "",
        f"`python -m benchmarks.signed_in`, {datetime.now(UTC):%Y-%m-%d}, on {machine(extra)}; "
        f"load average {options.load_before:.1f} at the start, {os.getloadavg()[0]:.1f} at "
        "the end.",
        "",
        "One server (`dailypapers serve --workers 1`, default settings, no background "
        f"worker) over {papers:,} papers in SQLite; {options.connections} keep-alive "
        "connections from the benchmark's own asyncio generator on the same machine. The same "
        f"{pages:,} request targets (days, paper ids and search queries of "
        f"`benchmarks.web.targets_of`, {options.per_kind} of each, interleaved) in three "
        f"phases, each after a warm-up pass over all of them, {options.duration:g} s each: "
        f"anonymous GETs; {options.users:,} signed-in members in turn (session cookies) "
        "reading only; the same members with every "
        f"{options.vote_every}th request a vote (the upvote form as `upvote.js` sends it, "
        "upvoting a paper among the paper ids or taking the member's upvote back). A vote "
        "corrects its paper's count in the cached pages showing it, so pages stay hits.",
        "",
        "| phase and requests | count | errors | cache hits | req/s | p50 ms | p99 ms "
        "| server CPU | server CPU ms per request | generator CPU |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        _row("anonymous pages", anonymous, "page"),
        _row("signed in, reading: pages", reading, "page"),
        _row("signed in, voting: pages", signed, "page"),
        _row("signed in, voting: votes", signed, "vote"),
        "",
        _pairs_line(pairs),
        "",
        f"Signed in and voting: {ratio:.2f} × the anonymous requests/s (pages and votes; the "
        f"pairs' median), pages p99 {worst['page']:.1f} ms, votes p99 {worst['vote']:.1f} ms "
        "(the pairs' worst); "
        f"reading only: {reading_ratio:.2f} × the anonymous requests/s, p99 "
        f"{reading.p99_ms['page']:.1f} ms. Targets (with votes): pages p99 ≤ "
        f"{TARGET_P99_MS:g} ms and ≥ {TARGET_RATIO:g} × the anonymous requests/s "
        f"({'met' if page_ok else 'not met'}); votes p99 ≤ {TARGET_VOTE_P99_MS:g} ms "
        f"({'met' if vote_ok else 'not met'}); errors: {errors}. CPU in cores over the "
        "measured window; per request, the phase's server CPU over its requests (pages and "
        "votes): anonymous over signed-in, "
        f"{cpu_per_request(anonymous) / cpu_per_request(reading):.2f} reading and "
        f"{cpu_per_request(anonymous) / cpu_per_request(signed):.2f} voting (the requests/s "
        "ratios a server with the same CPU in every phase would give).",
        "",
        "Where the time goes: a signed-in page from the cache costs its session (kept 60 s, "
        "read again for all members together in the background after 30 s), "
        "the member's upvotes, marks (saved, not interested) and unread count, all kept in "
        "memory and read on the event loop, and the merge: one join of the template's pieces "
        "(cut once per template at its CSRF, header and \"yours\" slots) with the member's "
        "CSRF token and header (made once per session), plus one pass over the page for the "
        "boxes of papers the member marked. A vote (the form answered without FastAPI's "
        "router, `votes.FORMS`) is one write transaction on a connection the event loop "
        "keeps open: the per-account rate limit counted in it (one statement), the vote row "
        "added or deleted, the paper's count moved and the votes' clock ticked, its paper's "
        "feed day and the clock read back by the same statements, on the driver's cursor. It "
        "runs on the event loop while SQLite's write lock is free, so with a closed loop a "
        "vote waits about as long as a page, behind the requests ahead of it; the cached "
        "pages showing its paper get their new count when next read (edits of the count's "
        "text, which a member template's cut follows). Cached days expire after 0.75 to 1 x "
        "`DAILYPAPERS_PAGE_CACHE_SECONDS` (60 s; fixed per URL), papers and search results "
        "after 5 x that; a day no vote changed since its rendering (none on a paper it "
        "shows, none on a paper of that day) is then kept on as it is (up to 5 x), any other "
        "is served while the first request to find it expired renders it again in the "
        "background. The voting phase comes that long after the warm-up of the reading "
        "phase: the days its votes changed are rendered again in it.",
    ])  # fmt: skip


def parse_options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/dailypapers-bench-signed-in"))
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--vote-every", type=int, default=10)
    parser.add_argument("--per-kind", type=int, default=200, help="days, papers and queries")
    parser.add_argument(
        "--pairs",
        type=int,
        default=3,
        help="anonymous and voting windows measured in turn, the ratio the "
        "median of the pairs' (the host's speed moves between windows)",
    )
    parser.add_argument("--no-write", action="store_true", help="print, do not edit BENCHMARKS.md")
    return parser.parse_args()


async def _phases(
    options: argparse.Namespace, port: int, pids: list[int], pages: list[str],
    ids: list[str], users: list[Member],
) -> tuple[dict[str, Measured], list[tuple[Measured, Measured]]]:  # fmt: skip
    phases = {
        "anonymous": Phase(pages, ids, [], 0),
        "reading": Phase(pages, ids, users, 0),
        "voting": Phase(pages, ids, users, options.vote_every),
    }
    runs = {}
    for name, phase in phases.items():
        runs[name] = await run_phase(name, phase, port, options.connections, options.duration, pids)
        print(f"{name}:", json.dumps(runs[name].__dict__), flush=True)
    pairs = [(runs["anonymous"], runs["voting"])]
    for _ in range(options.pairs - 1):  # warm already: anonymous, voting, without a pause
        pair = []
        for name in ("anonymous", "voting"):
            phases[name].again()
            pair.append(await _measure(name, phases[name], port, options.connections,
                                       options.duration, pids))  # fmt: skip
        pairs.append((pair[0], pair[1]))
        print("pair:", f"{_ratio(*pairs[-1]):.2f}", flush=True)
    return runs, pairs


def _ratio(anonymous: Measured, voting: Measured) -> float:
    """The voting phase's requests/s (pages and votes) over the anonymous pages'."""
    return sum(voting.per_second.values()) / anonymous.per_second["page"]


def main() -> None:
    options = parse_options()
    options.load_before = os.getloadavg()[0]
    work = options.work.resolve()
    if not (work / "dailypapers.sqlite3").exists():
        if not LISTING.is_file():
            raise SystemExit(f"skipped: {LISTING} not found")
        fresh_site(work)
    settings = Settings(mode="development", data_dir=work, secret_key=SECRET)
    store = open_store(settings.resolved_database_url)
    started = time.perf_counter()
    users = members(store, settings, options.users)
    print(f"{len(users)} members signed in in {time.perf_counter() - started:.1f} s", flush=True)
    targets, papers = web.targets_of(store)
    pages = _pages(targets, options.per_kind)
    web_options = web.Options(
        work, settings.resolved_database_url, options.duration, options.connections, 1,
        100_000_000, (),
    )  # fmt: skip
    config = web.Config("signed-in", "", SERVER_ENV, TARGET_RATIO)
    with tempfile.TemporaryDirectory(prefix="dailypapers-signed-in-") as tmp:
        port, log = web.free_port(), Path(tmp) / "server.log"
        with web.running_server(web_options, config, port, log) as server:
            web.wait_ready(server, port, log, 1)
            check_csrf(port, users[0], pages[0])
            pids = web.server_pids(server)
            runs, pairs = asyncio.run(_phases(options, port, pids, pages, targets.ids, users))
    text = report(runs, pairs, options, papers, len(pages))
    print(text)
    if not options.no_write:
        write_section(HEADING, text)


if __name__ == "__main__":
    main()
