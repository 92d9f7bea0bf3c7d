"""Web load benchmark: the real server over the 74,728 listed papers, at 32 connections.

Run (after the papers are ingested and embedded in WORK, which ``benchmarks.search`` does
itself if needed; embedding every paper takes about 50 minutes and resumes where it stopped)::

    .venv/bin/python -m benchmarks.web [--work DIR] [--database-url URL] [--duration SECONDS]
        [--connections 32] [--workers N] [--configs cached,uncached] [--no-write] [--as-is]

Each configuration of ``CONFIGS`` is measured with its own server: "cached" with the default
settings (whole responses of anonymous GETs are served again until the store changes), and
"uncached" with ``DAILYPAPERS_PAGE_CACHE_MB=0``, the cost of the code path itself. For each,
it starts ``dailypapers serve --workers N`` on a free port of 127.0.0.1 as a child process
(in its own process group, stopped at the end, on errors and on Ctrl-C too), waits for
``/healthz`` and then for search to be warm (each worker opens its search engine in the
background at start). Then, for each endpoint of ``ENDPOINTS`` in turn, a load generator in
a separate process (``benchmarks.loadgen``: asyncio, keep-alive connections, closed loop)
requests it for a warm-up (at least 3 s, and until each of its request targets has been
requested once, so that the cache has seen them all) and then for ``--duration`` seconds or
``--max-requests`` requests, cycling through request targets picked from the store with a
fixed seed: paper ids, days with papers, the search benchmark's generated queries; it counts
the answers' ``X-Cache`` header (hit, miss, absent). The trivial ``/healthz`` (never cached) is the
baseline: every endpoint's requests/s is also given as a ratio to it, measured with the same
server. Targets: p99 at most 100 ms, no errors, and at least half the requests/s of
``/healthz`` with the cache (a quarter without: every answer then runs the whole code path).

The generator shares the machine's cores with the server; its CPU time and the server's
(all its processes) over each measured window are in the report. Writes the "Web load"
section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from types import FrameType
from typing import NoReturn
from urllib.parse import quote_plus, urlsplit

import httpx

from benchmarks.common import LISTING, ROOT, machine, write_section
from benchmarks.lexical import make_queries
from benchmarks.loadgen import Result
from benchmarks.search import prepared_store
from dailypapers.settings import Settings
from dailypapers.store import Store, open_store
from dailypapers.store.documents import iter_documents

HEADING = "## Web load"
THREADS = Settings.model_fields["web_threads"].default  # the server runs with its defaults
TARGET_P99_MS = 100.0
SEED = 20261128
SAMPLE_IDS = 500
WARMUP = 3.0  # seconds of load before each endpoint's measurement, at least
WARMUP_MAX = 120.0  # seconds of warm-up at most, however many targets are left unrequested
REQUEST_TIMEOUT = 30.0  # a request slower than this counts as failed
START_TIMEOUT = 120.0  # seconds for the server to answer /healthz
WARM_TIMEOUT = 300.0  # seconds for every worker's search engine to be open
WARM_FAST = 0.5  # a search answered within this many seconds means the engine is open
WARM_PATH = "/api/papers/search?q=" + quote_plus("graph neural networks")
SERVER_STOP_TIMEOUT = 15.0


@dataclass(frozen=True)
class Config:
    """A server configuration measured with its own server and its own baseline."""

    name: str
    title: str  # the report's heading for its table
    env: dict[str, str]  # added to the server's environment
    target_ratio: float  # of the requests/s of /healthz, at least


CONFIGS: tuple[Config, ...] = (
    Config("cached", "Cached (default settings)", {}, 0.5),
    Config(
        "uncached",
        "Uncached (`DAILYPAPERS_PAGE_CACHE_MB=0`)",
        {"DAILYPAPERS_PAGE_CACHE_MB": "0"},
        0.25,
    ),
)


@dataclass(frozen=True)
class Targets:
    """What the request targets are made of, picked from the store with a fixed seed."""

    ids: list[str]
    days: list[str]
    queries: list[str]


@dataclass(frozen=True)
class Endpoint:
    name: str  # as the report shows it
    targets: Callable[[Targets], list[str]]  # the request targets (paths), cycled


def _search(prefix: str, t: Targets) -> list[str]:
    return [prefix + quote_plus(query) for query in t.queries]


# The endpoints measured, in order; the first is the baseline. The last two are the JSON
# counterparts of the paper and search pages, for comparison.
ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("`/healthz` (baseline)", lambda t: ["/healthz"]),
    Endpoint("daily page `/`", lambda t: ["/"]),
    Endpoint("daily page `/date/<day>`", lambda t: [f"/date/{day}" for day in t.days]),
    Endpoint("paper page `/papers/<id>`", lambda t: [f"/papers/{id_}" for id_ in t.ids]),
    Endpoint("search page `/search?q=`", lambda t: _search("/search?q=", t)),
    Endpoint(
        "`/api/daily_papers?date=<day>`", lambda t: [f"/api/daily_papers?date={d}" for d in t.days]
    ),
    Endpoint("`/api/papers/<id>`", lambda t: [f"/api/papers/{id_}" for id_ in t.ids]),
    Endpoint("`/api/papers/search?q=`", lambda t: _search("/api/papers/search?q=", t)),
)


@dataclass(frozen=True)
class Options:
    work: Path
    database_url: str
    duration: float
    connections: int
    workers: int
    max_requests: int
    configs: tuple[Config, ...]
    # The data dir as it is (no ingest, no embedding), served without the background worker,
    # so a store whose papers lack vectors is measured without embedding them meanwhile.
    as_is: bool = False


@dataclass(frozen=True)
class Measured:
    """One configuration's results, per endpoint name, and how its server started."""

    config: Config
    results: dict[str, Result]
    ready: float  # seconds until the server answered and search was warm
    loads: tuple[float, float]  # 1-minute load average before and after


def pick_targets(settings: Settings) -> tuple[Targets, int]:
    """Request targets picked with a fixed seed, and the number of papers.

    Prepares the store first if needed (ingest, search index, embeddings).
    """
    return targets_of(prepared_store(settings))


def targets_of(store: Store) -> tuple[Targets, int]:
    """Request targets picked from ``store`` with a fixed seed, and the number of papers."""
    with store.read() as connection:
        documents = list(iter_documents(connection))
    store.dispose()
    rng = random.Random(SEED)
    ids = rng.sample([d.id for d in documents], min(SAMPLE_IDS, len(documents)))
    days = sorted({d.day.isoformat() for d in documents if d.day is not None})
    queries = [text for _kind, text, _paper in make_queries(documents)]
    rng.shuffle(days)
    rng.shuffle(queries)
    return Targets(ids, days, queries), len(documents)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def server_env(options: Options, config: Config) -> dict[str, str]:
    """This environment without any DAILYPAPERS_ setting, plus the benchmark's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
    env.update(
        DAILYPAPERS_MODE="development",
        DAILYPAPERS_DATA_DIR=str(options.work),
        DAILYPAPERS_DATABASE_URL=options.database_url,
        DAILYPAPERS_MODELS_DIR=str(options.work / "models"),
    )
    if options.as_is:
        env["DAILYPAPERS_SERVE_WORKER"] = "false"
    env.update(config.env)
    return env


@contextlib.contextmanager
def running_server(
    options: Options, config: Config, port: int, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """``dailypapers serve`` on 127.0.0.1:``port`` in its own process group, until the end."""
    command = [str(ROOT / ".venv" / "bin" / "dailypapers"), "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(options.workers)]
    with log.open("wb") as out:
        server = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=server_env(options, config),
            cwd=options.work, start_new_session=True,
        )  # fmt: skip
    try:
        yield server
    finally:
        stop_server(server)


def stop_server(server: subprocess.Popen[bytes]) -> None:
    """Terminate the server's process group (its workers too); kill it if it lingers."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, sig)
        try:
            server.wait(SERVER_STOP_TIMEOUT)
            break
        except subprocess.TimeoutExpired:
            continue
    with contextlib.suppress(ProcessLookupError):  # workers that outlived their parent
        os.killpg(server.pid, signal.SIGKILL)


def server_pids(server: subprocess.Popen[bytes]) -> list[int]:
    """The processes of the server's process group (the server and its workers)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == server.pid:  # the process group id
            pids.append(int(stat.parent.name))
    return pids


def _fail(server: subprocess.Popen[bytes], log: Path, what: str) -> NoReturn:
    tail = log.read_text(errors="replace")[-3000:]
    raise RuntimeError(f"{what} (server exit code {server.poll()}); its output ends:\n{tail}")


def _get(port: int, path: str) -> tuple[int, float]:
    """Status and seconds of one GET on a new connection (-1 if it failed)."""
    start = time.perf_counter()
    try:
        status = httpx.get(f"http://127.0.0.1:{port}{path}", timeout=REQUEST_TIMEOUT).status_code
    except httpx.HTTPError:
        status = -1
    return status, time.perf_counter() - start


def wait_ready(server: subprocess.Popen[bytes], port: int, log: Path, workers: int) -> float:
    """Wait for /healthz, then for search to be fast; the seconds it took.

    Each search is on a new connection, so that the searches reach every worker, and has a
    query parameter of its own that the app ignores, so that the response cache misses.
    """
    start = time.perf_counter()
    while _get(port, "/healthz")[0] != 200:
        if server.poll() is not None or time.perf_counter() - start > START_TIMEOUT:
            _fail(server, log, "the server did not answer /healthz")
        time.sleep(0.2)
    fast_in_a_row = tries = 0
    while fast_in_a_row < 4 * workers:
        tries += 1
        status, seconds = _get(port, f"{WARM_PATH}&warm={tries}")
        fast_in_a_row = fast_in_a_row + 1 if status == 200 and seconds < WARM_FAST else 0
        if server.poll() is not None or time.perf_counter() - start > WARM_TIMEOUT:
            _fail(server, log, f"search did not get fast ({WARM_PATH} answered {status})")
        time.sleep(0.05)
    return time.perf_counter() - start


def measure(
    endpoint: Endpoint, targets: Targets, options: Options, port: int, pids: list[int], tmp: Path
) -> Result:
    """One endpoint under load from a separate generator process."""
    paths_file = tmp / "targets.txt"
    paths_file.write_text("\n".join(endpoint.targets(targets)) + "\n")
    command = [sys.executable, "-m", "benchmarks.loadgen", str(paths_file), "--port", str(port)]
    command += ["--connections", str(options.connections), "--warmup", str(WARMUP)]
    command += ["--warmup-pass", "--warmup-max", str(WARMUP_MAX)]
    command += ["--duration", str(options.duration), "--max-requests", str(options.max_requests)]
    command += ["--timeout", str(REQUEST_TIMEOUT), "--watch-pids", ",".join(map(str, pids))]
    bound = WARMUP_MAX + options.duration + REQUEST_TIMEOUT + 60
    done = subprocess.run(command, capture_output=True, text=True, timeout=bound, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"the load generator failed:\n{done.stderr[-3000:]}")
    return Result(**json.loads(done.stdout))


def errors_cell(result: Result) -> str:
    """The error count, and what they were: ``12 (404: 10, timeout: 2)``."""
    kinds = {s: n for s, n in result.statuses.items() if not s.startswith("2")}
    kinds.update(result.failures)
    if not kinds:
        return "0"
    return f"{result.errors:,} ({', '.join(f'{k}: {n:,}' for k, n in sorted(kinds.items()))})"


def cache_cell(result: Result) -> str:
    """The share of ``X-Cache: hit`` answers, and the others: ``99.5 % (120 miss)``."""
    total = sum(result.cache.values())
    if total == 0:
        return "–"
    if set(result.cache) == {"absent"}:
        return "no header"
    others = {value: n for value, n in result.cache.items() if value != "hit"}
    share = f"{100 * result.cache.get('hit', 0) / total:.1f} %"
    if not others:
        return share
    return f"{share} ({', '.join(f'{n:,} {value}' for value, n in sorted(others.items()))})"


def verdict(result: Result, ratio: float, target_ratio: float) -> str:
    misses = [
        name
        for name, missed in (
            ("errors", result.errors > 0 or result.requests == 0),
            ("p99", result.p99_ms > TARGET_P99_MS),
            ("req/s", ratio < target_ratio),
        )
        if missed
    ]
    return "yes" if not misses else f"no ({', '.join(misses)})"


def row(name: str, result: Result, baseline: Result, target_ratio: float) -> str:
    ratio = result.per_second / baseline.per_second if baseline.per_second else 0.0
    window = result.window or 1.0
    cells = [
        name, f"{result.requests:,}", errors_cell(result), cache_cell(result),
        f"{result.per_second:,.0f}",
        f"{result.p50_ms:.1f}", f"{result.p99_ms:.1f}", f"{ratio:.2f}",
        f"{result.server_cpu / window:.2f}", f"{result.cpu / window:.2f}",
        f"{max(0.0, result.machine_cpu - result.server_cpu - result.cpu) / window:.2f}",
        verdict(result, ratio, target_ratio),
    ]  # fmt: skip
    return f"| {' | '.join(cells)} |"


def database_kind(url: str) -> str:
    return "PostgreSQL" if urlsplit(url).scheme.startswith("postgres") else "SQLite"


def hit_share(results: dict[str, Result]) -> float | None:
    """The share of hits among the answers with an ``X-Cache`` header, all endpoints."""
    hits = sum(r.cache.get("hit", 0) for r in results.values())
    seen = hits + sum(r.cache.get("miss", 0) for r in results.values())
    return hits / seen if seen else None


def table(measured: Measured) -> list[str]:
    results = measured.results
    baseline = results[ENDPOINTS[0].name]
    before, after = measured.loads
    return [
        f"### {measured.config.title}",
        "",
        f"Server ready and search warm in {measured.ready:.0f} s; load average {before:.1f} "
        f"when its measurements started, {after:.1f} at the end.",
        "",
        "| endpoint | requests | errors | cache hits | req/s | p50 ms | p99 ms "
        "| req/s vs /healthz | server CPU | generator CPU | other CPU | meets targets |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        *(
            row(name, result, baseline, measured.config.target_ratio)
            for name, result in results.items()
        ),
        "",
    ]


def cache_text(runs: list[Measured], targets: Targets) -> str:
    """What the two tables mean, with the hit share actually measured."""
    cached = next((m for m in runs if m.config.name == "cached"), None)
    share = hit_share(cached.results) if cached is not None else None
    measured = (
        f" (here {100 * share:.1f} % of the answers in the measured windows)"
        if share is not None
        else ""
    )
    return (
        "The server keeps whole responses of anonymous GETs (pages, API, feeds; not "
        "`/healthz`) until the store changes (checked every 2 s) or "
        "`DAILYPAPERS_PAGE_CACHE_SECONDS` (60 s) pass, and says `X-Cache: hit` or `miss`; "
        "the cache hits column counts those answers in the measured window. With the cache "
        f"on, after the first pass over the {len(targets.ids)} ids, {len(targets.days)} days "
        f"or {len(targets.queries):,} queries, which the warm-up makes, nearly every request "
        f"is a hit{measured}: that "
        "is what a site serving many readers sees between ingests (the cache is dropped when "
        "the store changes), and a hit skips routing, the database and the templates. A page "
        "nobody asked for in the last minute, the first reader after an ingest and a search "
        "for new words are misses: the uncached table (`DAILYPAPERS_PAGE_CACHE_MB=0`, every "
        "request a miss) is the cost of the code path itself."
    )


AS_IS = (
    " The data dir was measured as it was (`--as-is`: not embedded first; where no paper has "
    "a vector, search is keywords only and embeds no query) and the server ran without its "
    "background worker."
)


def section(
    runs: list[Measured], options: Options, papers: int, targets: Targets, loads: str
) -> str:
    extra = f"uvicorn {version('uvicorn')}, FastAPI {version('fastapi')}"
    configs = " and ".join(f"{m.config.name}" for m in runs)
    lines = [
        HEADING,
        "",
        f"`python -m benchmarks.web`, {datetime.now(UTC):%Y-%m-%d}, on {machine(extra)}; "
        f"load average {loads}.",
        "",
        f"The real server (`dailypapers serve --workers {options.workers}`, {THREADS} request "
        f"threads each) over {papers:,} "
        f"papers in {database_kind(options.database_url)}, search warm, and a load generator in "
        f"a separate process (`benchmarks/loadgen.py`: asyncio, {options.connections} "
        "keep-alive connections to 127.0.0.1, closed loop) on the same machine. Each endpoint: "
        f"a warm-up of at least {WARMUP:g} s that also requests each of its targets once (at "
        f"most {WARMUP_MAX:g} s), then {options.duration:g} s (at most "
        f"{options.max_requests:,} requests), cycling through {len(targets.ids)} paper ids, "
        f"the {len(targets.days)} days with papers or {len(targets.queries):,} generated "
        "search queries (the lexical benchmark's), shuffled with a fixed seed. Latency is from "
        "sending a request to reading the whole answer, in milliseconds; errors are non-2xx "
        "answers and requests without an answer. Measured in two configurations ("
        f"{configs}), each with its own server started afresh and its own `/healthz` "
        "baseline." + (AS_IS if options.as_is else ""),
        "",
        cache_text(runs, targets),
        "",
        *(line for measured in runs for line in table(measured)),
        f"Targets: p99 ≤ {TARGET_P99_MS:g} ms, at least "
        + ", ".join(f"{c.target_ratio:g} × ({c.name})" for c in CONFIGS)
        + " the requests/s of `/healthz` measured with the same server, and no errors. "
        "CPU is in cores (CPU seconds "
        "per second of the measured window): all the server's processes, the generator, and "
        "everything else (other processes, the kernel, time the hypervisor took). The "
        f"generator shares the machine's {os.cpu_count()} cores with the server, so what it "
        "uses is not available to the server; with one worker the server's Python runs on "
        "about one core (search's model threads aside) and the generator mostly on the other. "
        "A row with much other CPU was measured on a busy machine; the load average counts "
        "the server's own busy threads too (its thread pool under "
        f"{options.connections} connections), so it rises during a run even on a quiet "
        "machine.",
    ]
    return "\n".join(lines)


def _terminate(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # runs the finally blocks that stop the server


def run(options: Options, config: Config, targets: Targets) -> Measured:
    """Every endpoint, with a server of its own in ``config``."""
    results: dict[str, Result] = {}
    with tempfile.TemporaryDirectory(prefix="dailypapers-web-") as tmp_dir:
        tmp, port = Path(tmp_dir), free_port()
        log = tmp / "server.log"
        with running_server(options, config, port, log) as server:
            ready = wait_ready(server, port, log, options.workers)
            print(f"{config.name}: server on port {port} ready and warm in {ready:.1f} s")
            load_before = os.getloadavg()[0]
            for endpoint in ENDPOINTS:
                if server.poll() is not None:
                    _fail(server, log, "the server stopped")
                result = measure(endpoint, targets, options, port, server_pids(server), tmp)
                results[endpoint.name] = result
                print(
                    f"{config.name} {endpoint.name}: {result.warmup_requests:,} warm-up and "
                    f"{result.requests:,} requests, "
                    f"{errors_cell(result)} errors, cache {cache_cell(result)}, "
                    f"{result.per_second:,.0f}/s, p50 {result.p50_ms:.1f} ms, "
                    f"p99 {result.p99_ms:.1f} ms",
                    flush=True,
                )
    if config.name == "uncached" and hit_share(results) is not None:
        print("warning: the uncached server answered with X-Cache headers", flush=True)
    return Measured(config, results, ready, (load_before, os.getloadavg()[0]))


def _configs(text: str) -> tuple[Config, ...]:
    by_name = {config.name: config for config in CONFIGS}
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in by_name]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"configurations are among {', '.join(by_name)}")
    return tuple(by_name[name] for name in dict.fromkeys(names))


def parse_options() -> tuple[Options, Settings, bool]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/dailypapers-bench-search"))
    parser.add_argument("--database-url", help="use papers already stored (and embedded) there")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per endpoint")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    parser.add_argument("--max-requests", type=int, default=100_000, help="per endpoint")
    parser.add_argument(
        "--configs", type=_configs, default=CONFIGS,
        help="server configurations measured, in order (default: cached,uncached)",
    )  # fmt: skip
    parser.add_argument("--no-write", action="store_true", help="print, do not edit BENCHMARKS.md")
    parser.add_argument(
        "--as-is", action="store_true",
        help="measure the data dir as it is (no ingest or embedding; the server's worker off)",
    )  # fmt: skip
    args = parser.parse_args()
    if not LISTING.is_file() and args.database_url is None:
        raise SystemExit(f"skipped: {LISTING} not found")
    work = args.work.resolve()
    settings = Settings(
        mode="development", data_dir=work, database_url=args.database_url,
        models_dir=work / "models",
    )  # fmt: skip
    options = Options(
        work, settings.resolved_database_url, args.duration, args.connections, args.workers,
        args.max_requests, args.configs, args.as_is,
    )  # fmt: skip
    return options, settings, args.no_write


def main() -> None:
    options, settings, no_write = parse_options()
    signal.signal(signal.SIGTERM, _terminate)
    if options.as_is:
        targets, papers = targets_of(open_store(settings.resolved_database_url))
    else:
        targets, papers = pick_targets(settings)
    load_before = os.getloadavg()[0]
    runs = [run(options, config, targets) for config in options.configs]
    loads = f"{load_before:.1f} when it started, {os.getloadavg()[0]:.1f} at the end"
    text = section(runs, options, papers, targets, loads)
    print(text)
    if not no_write:
        write_section(HEADING, text)


if __name__ == "__main__":
    main()
