"""CPU per uncached request: the app in process, each endpoint against ``/healthz`` in one run.

Run over a data dir that already holds the papers (``benchmarks.web`` or ``make run`` fill
one; embeddings are optional, without them search is keywords only but still embeds the
query)::

    .venv/bin/python -m benchmarks.web_cpu --work DIR [--requests 400] [--profile ENDPOINT]
        [--no-write]

The load benchmark (``benchmarks.web``) needs a quiet machine; this one does not. It builds
the app with the response cache off (``DAILYPAPERS_PAGE_CACHE_MB=0``, so every request runs
the whole code path) and drives it through ASGI directly, one request at a time, the way
uvicorn calls it (sync handlers in the thread pool, the direct pages of anonymous visitors on
the event loop: ``web/routing.py``), but without sockets or HTTP parsing. For
each endpoint it times ``--requests`` requests cycling through its targets (picked with a
fixed seed) with :func:`time.process_time` (CPU of every thread of this process, so time
other processes take on a shared machine is not counted), after one warm-up pass, and
reports milliseconds of CPU per request, the same minus ``/healthz`` (the cost of the
request's own work), and the median of ``--repeat`` rounds. A "cold" row empties every memo
before each request; the search page's "new query" row only what the search keeps by query
(its rankings and query vectors), as a visitor's first search meets a running site.

Every round also times a host probe: fixed work that is no request and that no change to the
site can move (interpreter work, and a read of 64 MB from memory). On a shared host the same
work costs up to half as much again from one hour to the next; the probe says how fast the
host was during this run, so that two runs' figures can be read side by side.

``--profile NAME`` runs the endpoint under cProfile instead (handlers run inline, since
cProfile sees one thread) and prints the top functions by own time. Otherwise the table
replaces the "Web CPU per request" section of BENCHMARKS.md (unless ``--no-write``).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import os
import pstats
import random
import statistics
import time
from collections.abc import Awaitable, Callable, Collection, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import numpy as np
import numpy.typing as npt

from benchmarks.common import machine, write_section
from dailypapers.settings import Settings
from dailypapers.web.app import create_app

HEADING = "## Web CPU per request"
SEED = 20261128
SAMPLE = 200
# Milliseconds of CPU an uncached answer may take (the search page's includes the query
# embedding when the papers have vectors); endpoints without one are shown for comparison.
TARGET_MS = {
    "daily page `/`": 3.0,
    "daily page `/date/<day>`": 3.0,
    "daily page `/`, cold": 3.0,
    "daily page `/date/<day>`, cold": 3.0,
    "paper page `/papers/<id>`, cold": 3.0,
    "`/api/daily_papers?date=<day>`, cold": 3.0,
    "paper page `/papers/<id>`": 3.0,
    "search page `/search?q=`": 8.0,
    "search page `/search?q=`, new query": 8.0,
    "search page `/search?q=`, cold": 8.0,
    "`/api/daily_papers?date=<day>`": 3.0,
}

ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]

PROBE_PYTHON = "host probe: interpreter"
PROBE_MEMORY = "host probe: 64 MB read"
PROBE_LOOPS = 20_000  # 4 to 6 ms a pass on the machine of BENCHMARKS.md
PROBE_PASSES = 5
PROBE_BYTES = 64 * 2**20  # past any cache of the machines here (32 MB of L3)


def probe_python() -> int:
    """Interpreter work of the kind a page is made of: string formatting, dict updates and a
    sort. Its result is returned so that nothing is left out."""
    counts: dict[str, int] = {}
    for i in range(PROBE_LOOPS):
        key = f"w{i % 997}"
        counts[key] = counts.get(key, 0) + i
    return sorted(counts.values())[-1]


def host_probe(buffer: npt.NDArray[np.int64]) -> dict[str, float]:
    """Milliseconds of CPU of one probe pass of each kind (the mean of
    :data:`PROBE_PASSES`): the interpreter's work, and one read of ``buffer`` (its sum)."""
    start = time.process_time()
    for _ in range(PROBE_PASSES):
        probe_python()
    middle = time.process_time()
    for _ in range(PROBE_PASSES):
        buffer.sum()
    end = time.process_time()
    return {
        PROBE_PYTHON: (middle - start) * 1000 / PROBE_PASSES,
        PROBE_MEMORY: (end - middle) * 1000 / PROBE_PASSES,
    }


@dataclass(frozen=True)
class Endpoint:
    name: str
    targets: Callable[[dict[str, list[str]]], list[str]]
    # Cold: every memo empty before each request (entries, cards and API items are kept,
    # see dailypapers.memo), what an answer costs when none of its papers was shown
    # before; the kept ones are set aside meanwhile.
    cold: bool = False
    # New query: what the search keeps by query (the engine's rankings, the query vectors)
    # forgotten before each request, what it keeps by paper (entries, cards) kept as a
    # running site has it: a visitor's first search for words nobody searched before.
    new_query: bool = False


ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("`/healthz` (baseline)", lambda t: ["/healthz"]),
    Endpoint("daily page `/`", lambda t: ["/"]),
    Endpoint("daily page `/date/<day>`", lambda t: [f"/date/{d}" for d in t["days"]]),
    Endpoint("daily page `/`, cold", lambda t: ["/"], cold=True),
    Endpoint(
        "daily page `/date/<day>`, cold",
        lambda t: [f"/date/{d}" for d in t["days"]],
        cold=True,
    ),
    Endpoint("paper page `/papers/<id>`", lambda t: [f"/papers/{i}" for i in t["ids"]]),
    Endpoint(
        "paper page `/papers/<id>`, cold", lambda t: [f"/papers/{i}" for i in t["ids"]], cold=True
    ),
    Endpoint("search page `/search?q=`", lambda t: [f"/search?q={q}" for q in t["queries"]]),
    Endpoint(
        "search page `/search?q=`, new query",
        lambda t: [f"/search?q={q}" for q in t["queries"]],
        new_query=True,
    ),
    # Every query new (no query vector kept) and no card kept: what a first search costs.
    Endpoint(
        "search page `/search?q=`, cold",
        lambda t: [f"/search?q={q}" for q in t["queries"]],
        cold=True,
    ),
    Endpoint(
        "`/api/daily_papers?date=<day>`",
        lambda t: [f"/api/daily_papers?date={d}" for d in t["days"]],
    ),
    Endpoint(
        "`/api/daily_papers?date=<day>`, cold",
        lambda t: [f"/api/daily_papers?date={d}" for d in t["days"]],
        cold=True,
    ),
    Endpoint("`/api/papers/<id>`", lambda t: [f"/api/papers/{i}" for i in t["ids"]]),
    Endpoint(
        "`/api/papers/search?q=`", lambda t: [f"/api/papers/search?q={q}" for q in t["queries"]]
    ),
    Endpoint("feed `/feeds/daily.atom`", lambda t: ["/feeds/daily.atom"]),
)


def pick_targets(
    settings: Settings, kinds: Collection[str] | None = None
) -> tuple[dict[str, list[str]], int]:
    """Paper ids, days with papers and search queries (of ``kinds`` only, when given: those
    of ``benchmarks.lexical.make_queries``), picked with a fixed seed; and the number of
    papers."""
    # Imported here: ``benchmarks.web_cpu_pair`` runs trees older than these modules, and
    # their workers take the targets it picked with this tree.
    from benchmarks.lexical import make_queries
    from dailypapers.store import open_store
    from dailypapers.store.documents import iter_documents

    store = open_store(settings.resolved_database_url)
    with store.read() as connection:
        documents = list(iter_documents(connection))
    store.dispose()
    rng = random.Random(SEED)
    ids = rng.sample([d.id for d in documents], min(SAMPLE, len(documents)))
    days = sorted({d.day.isoformat() for d in documents if d.day is not None})
    queries = [
        quote_plus(text)
        for kind, text, _paper in make_queries(documents)
        if kinds is None or kind in kinds
    ]
    rng.shuffle(days)
    rng.shuffle(queries)
    return {"ids": ids, "days": days[:SAMPLE], "queries": queries[:SAMPLE]}, len(documents)


async def request(
    app: ASGIApp,
    target: str,
    *,
    method: str = "GET",
    headers: list[tuple[bytes, bytes]] | None = None,
    body: bytes = b"",
) -> int:
    """One request through the app (a GET by default); its status (the answer is read and
    dropped)."""
    path, _, query = target.partition("?")
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "root_path": "",
        "query_string": query.encode(), "headers": headers or [(b"host", b"127.0.0.1:8000")],
        "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8000), "state": {},
    }  # fmt: skip
    status = 0
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:  # nothing more comes: wait as a client that stays would
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


def query_memos(app: Any) -> list[Any]:
    """What the app's search keeps by query: the engine's kept rankings and the query
    vectors. Found by name, so that ``benchmarks.web_cpu_pair`` can run against an older
    tree too (both exist since session 9; a tree before keeps neither: every search is new)."""
    from dailypapers.search import engine as search_engine

    kept = [
        getattr(search_engine, "_rankings", None),
        getattr(app.state.engine.get().embedder, "_kept", None),
    ]
    return [memo for memo in kept if memo is not None]


@contextmanager
def queries_set_aside(app: Any) -> Iterator[None]:
    """Within the block the query memos (:func:`query_memos`) start empty; what they kept
    before is back after (the other rows' searches stay seen before)."""
    memos = query_memos(app)
    kept = [m.kept for m in memos]
    try:
        yield
    finally:
        for m, values in zip(memos, kept, strict=True):
            m.kept = values


def memo_module() -> Any:
    """``dailypapers.memo``, or None in a tree older than it (``web_cpu_pair`` measures
    those too), which keeps no answer's parts: every request of it is cold."""
    try:
        from dailypapers import memo
    except ImportError:
        return None
    return memo


def resetter(app: Any, endpoint: Endpoint) -> Callable[[], None] | None:
    """What empties the memos before each request of ``endpoint`` (None: nothing)."""
    if endpoint.cold:
        memo = memo_module()
        return None if memo is None else memo.clear_all
    if endpoint.new_query:
        memos = query_memos(app)

        def forget_queries() -> None:
            for kept in memos:
                kept.clear()

        return forget_queries
    return None


def aside(app: Any, endpoint: Endpoint) -> AbstractContextManager[None]:
    """What ``endpoint``'s requests may empty, set aside for the time of its block."""
    if endpoint.cold:
        memo = memo_module()
        return nullcontext() if memo is None else memo.set_aside()
    return queries_set_aside(app) if endpoint.new_query else nullcontext()


async def cpu_per_request(
    app: ASGIApp, targets: list[str], count: int, reset: Callable[[], None] | None = None
) -> float:
    """Milliseconds of process CPU per request over ``count`` requests cycling ``targets``
    (``reset`` called before each: :func:`resetter`)."""
    start = time.process_time()
    for index in range(count):
        if reset is not None:
            reset()
        status = await request(app, targets[index % len(targets)])
        if status != 200:
            raise RuntimeError(f"{targets[index % len(targets)]} answered {status}")
    return (time.process_time() - start) * 1000 / count


async def measure(
    app: ASGIApp,
    targets: dict[str, list[str]],
    count: int,
    repeat: int,
    endpoints: tuple[Endpoint, ...] = ENDPOINTS,
) -> dict[str, float]:
    """Median ms of CPU per request of each endpoint over ``repeat`` rounds, and the host
    probe's (:func:`host_probe`), timed before each endpoint's requests in every round."""
    results: dict[str, list[float]] = {e.name: [] for e in endpoints}
    results.update({PROBE_PYTHON: [], PROBE_MEMORY: []})
    buffer = np.ones(PROBE_BYTES // 8, dtype=np.int64)
    for endpoint in endpoints:  # warm-up: every target once (templates, statements, engine)
        for target in endpoint.targets(targets)[:count]:
            await request(app, target)
    for _ in range(repeat):  # rounds interleave endpoints, so a busy spell hits all of them
        for endpoint in endpoints:
            for name, ms in host_probe(buffer).items():  # beside each endpoint's requests
                results[name].append(ms)
            with aside(app, endpoint):
                reset = resetter(app, endpoint)
                ms = await cpu_per_request(app, endpoint.targets(targets), count, reset)
            results[endpoint.name].append(ms)
    return {name: statistics.median(values) for name, values in results.items()}


def inline_threadpool() -> None:
    """Run sync handlers in the calling thread, so cProfile (one thread) sees them."""
    import fastapi.dependencies.utils
    import fastapi.routing

    import dailypapers.web.routing

    async def inline(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    fastapi.routing.run_in_threadpool = inline  # type: ignore[attr-defined]
    dailypapers.web.routing.run_in_threadpool = inline  # type: ignore[attr-defined]
    fastapi.dependencies.utils.run_in_threadpool = inline  # type: ignore[attr-defined]


# Where a profile's own time goes, by the file a function lives in (first match wins).
AREAS = (
    ("SQLite (C)", ("sqlite3.Cursor", "sqlite3.Connection")),
    ("SQLAlchemy", ("sqlalchemy",)),
    ("Jinja2 and MarkupSafe", ("jinja2", "markupsafe", ".html")),
    ("pydantic", ("pydantic",)),
    ("FastAPI, Starlette, anyio", ("fastapi", "starlette", "anyio")),
    ("search engine and index", ("dailypapers/search", "dailypapers/index", "tantivy", "onnx")),
    # The dense index's HNSW graph and its exact re-scoring (the query's embedding runs in
    # the engine's thread, which cProfile does not see: only the wait for it shows, as other).
    ("usearch and numpy", ("usearch", "numpy")),
    ("dailypapers store, feed", ("dailypapers/store", "dailypapers/feed")),
    ("dailypapers web", ("dailypapers/web",)),
)


def by_area(stats: pstats.Stats, count: int) -> dict[str, float]:
    """Milliseconds of own time per request in each of ``AREAS`` (and "other")."""
    areas: dict[str, float] = {}
    for (path, _line, name), row in stats.stats.items():  # type: ignore[attr-defined]
        where = f"{path}:{name}"
        area = next((a for a, keys in AREAS if any(k in where for k in keys)), "other")
        areas[area] = areas.get(area, 0.0) + row[2] * 1000 / count
    return dict(sorted(areas.items(), key=lambda item: -item[1]))


async def profile(
    app: ASGIApp, endpoint: Endpoint, targets: dict[str, list[str]], count: int
) -> str:
    paths = endpoint.targets(targets)
    for target in paths[:count]:
        await request(app, target)
    profiler = cProfile.Profile()
    reset = resetter(app, endpoint)
    with aside(app, endpoint):
        for index in range(count):
            if reset is not None:  # cleared outside the profile, as cpu_per_request's time
                profiler.disable()
                reset()
            profiler.enable()
            await request(app, paths[index % len(paths)])
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(25)
    areas = "\n".join(f"| {area} | {ms:.2f} |" for area, ms in by_area(stats, count).items())
    return f"{out.getvalue()}\n| area | own ms per request (profiled) |\n| --- | --- |\n{areas}"


def report(results: dict[str, float], count: int, repeat: int, papers: str) -> str:
    baseline = results[ENDPOINTS[0].name]
    load = os.getloadavg()[0]
    lines = [
        HEADING,
        "",
        f"`python -m benchmarks.web_cpu`, {datetime.now(UTC):%Y-%m-%d}, on {machine()}; "
        f"load average {load:.1f} at the end.",
        "",
        f"The app in process over {papers}, response cache off, driven through ASGI one "
        f"request at a time (sync handlers in the thread pool, the direct pages on the loop, "
        f"as under uvicorn; no sockets, "
        f"no HTTP parsing). CPU is `time.process_time` over {count} requests per endpoint "
        f"cycling through its targets, after a warm-up pass; the median of {repeat} rounds. "
        "Other processes on a shared machine do not count in it, though sharing the cores and "
        "caches with them still makes every figure higher than on a quiet machine.",
        "",
        "| endpoint | CPU ms per request | minus /healthz | target | meets |",
        "| --- | --- | --- | --- | --- |",
    ]
    for endpoint in ENDPOINTS:
        if endpoint.name not in results:
            continue
        ms = results[endpoint.name]
        if endpoint is ENDPOINTS[0]:
            lines.append(f"| {endpoint.name} | {ms:.2f} | – | – | – |")
            continue
        target = TARGET_MS.get(endpoint.name)
        limit = "–" if target is None else f"≤ {target:g}"
        meets = "–" if target is None else "yes" if ms <= target else "no"
        cells = [endpoint.name, f"{ms:.2f}", f"{ms - baseline:.2f}", limit, meets]
        lines.append(f"| {' | '.join(cells)} |")
    lines += [
        "",
        "Host probe (fixed work, no request, timed before each endpoint in every round; "
        f"medians): interpreter {results[PROBE_PYTHON]:.2f} ms, "
        f"a read of 64 MB {results[PROBE_MEMORY]:.2f} ms. "
        "No change to the site moves these: they say how fast the host was during this run.",
    ]
    return "\n".join(lines)


def chosen(only: list[str] | None) -> tuple[Endpoint, ...]:
    """The baseline and the endpoints ``--only`` names (all of them without it)."""
    if not only:
        return ENDPOINTS
    return tuple(e for e in ENDPOINTS if e is ENDPOINTS[0] or any(o in e.name for o in only))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, required=True, help="data dir with the papers")
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", help="an endpoint name (or part of one) to profile")
    parser.add_argument("--no-write", action="store_true", help="leave BENCHMARKS.md alone")
    parser.add_argument(
        "--only", action="append", help="measure only endpoints whose name holds this (repeat)"
    )
    options = parser.parse_args()
    settings = Settings(
        mode="development", data_dir=options.work, page_cache_mb=0, index_after_ingest=False
    )
    targets, papers = pick_targets(settings)
    # The collector's thresholds of a serving process (serve_app). Imported here: the paired
    # benchmark's workers import this module over a base tree that may not have it.
    from dailypapers.web.heap import tune

    tune()
    app = create_app(settings=settings)
    if options.profile:
        inline_threadpool()
        endpoint = next(e for e in ENDPOINTS if options.profile in e.name)
        print(asyncio.run(profile(app, endpoint, targets, options.requests)))
        return
    endpoints = chosen(options.only)
    results = asyncio.run(measure(app, targets, options.requests, options.repeat, endpoints))
    text = report(results, options.requests, options.repeat, f"{papers:,} papers in SQLite")
    print(text)
    if not options.no_write and not options.only:  # a part of the table replaces no section
        write_section(HEADING, text)


if __name__ == "__main__":
    main()
