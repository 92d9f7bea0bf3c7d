"""Web load benchmark: the real server over the 74,728 listed papers, at 32 connections.

Run (after the papers are ingested and embedded in WORK, which ``benchmarks.search`` does
itself if needed; embedding every paper takes about 50 minutes and resumes where it stopped)::

    .venv/bin/python -m benchmarks.web [--work DIR] [--database-url URL] [--duration SECONDS]
        [--connections 32] [--workers N] [--no-write]

It starts ``dailypapers serve --workers N`` on a free port of 127.0.0.1 as a child process
(in its own process group, stopped at the end, on errors and on Ctrl-C too), waits for
``/healthz`` and then for search to be warm (each worker opens its search engine in the
background at start). Then, for each endpoint of ``ENDPOINTS`` in turn, a load generator in
a separate process (``benchmarks.loadgen``: asyncio, keep-alive connections, closed loop)
requests it for a warm-up and then for ``--duration`` seconds or ``--max-requests``
requests, cycling through request targets picked from the store with a fixed seed: paper
ids, days with papers, the search benchmark's generated queries. The trivial ``/healthz`` is
the baseline: every endpoint's requests/s is also given as a ratio to it, measured in the same
run. Targets: p99 at most 100 ms, at least half the requests/s of ``/healthz``, no errors.

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
from dailypapers.store.documents import iter_documents

HEADING = "## Web load"
TARGET_P99_MS = 100.0
TARGET_RATIO = 0.5  # of the requests/s of /healthz
SEED = 20261128
SAMPLE_IDS = 500
WARMUP = 3.0  # seconds of load before each endpoint's measurement
REQUEST_TIMEOUT = 30.0  # a request slower than this counts as failed
START_TIMEOUT = 120.0  # seconds for the server to answer /healthz
WARM_TIMEOUT = 300.0  # seconds for every worker's search engine to be open
WARM_FAST = 0.5  # a search answered within this many seconds means the engine is open
WARM_PATH = "/api/papers/search?q=" + quote_plus("graph neural networks")
SERVER_STOP_TIMEOUT = 15.0


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


def pick_targets(settings: Settings) -> tuple[Targets, int]:
    """Request targets picked with a fixed seed, and the number of papers.

    Prepares the store first if needed (ingest, search index, embeddings).
    """
    store = prepared_store(settings)
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


def server_env(options: Options) -> dict[str, str]:
    """This environment without any DAILYPAPERS_ setting, plus the benchmark's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
    env.update(
        DAILYPAPERS_MODE="development",
        DAILYPAPERS_DATA_DIR=str(options.work),
        DAILYPAPERS_DATABASE_URL=options.database_url,
        DAILYPAPERS_MODELS_DIR=str(options.work / "models"),
    )
    return env


@contextlib.contextmanager
def running_server(options: Options, port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``dailypapers serve`` on 127.0.0.1:``port`` in its own process group, until the end."""
    command = [str(ROOT / ".venv" / "bin" / "dailypapers"), "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--workers", str(options.workers)]
    with log.open("wb") as out:
        server = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=server_env(options),
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

    Each search is on a new connection, so that the searches reach every worker.
    """
    start = time.perf_counter()
    while _get(port, "/healthz")[0] != 200:
        if server.poll() is not None or time.perf_counter() - start > START_TIMEOUT:
            _fail(server, log, "the server did not answer /healthz")
        time.sleep(0.2)
    fast_in_a_row = 0
    while fast_in_a_row < 4 * workers:
        status, seconds = _get(port, WARM_PATH)
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
    command += ["--duration", str(options.duration), "--max-requests", str(options.max_requests)]
    command += ["--timeout", str(REQUEST_TIMEOUT), "--watch-pids", ",".join(map(str, pids))]
    bound = WARMUP + options.duration + REQUEST_TIMEOUT + 60
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


def verdict(result: Result, ratio: float) -> str:
    misses = [
        name
        for name, missed in (
            ("errors", result.errors > 0 or result.requests == 0),
            ("p99", result.p99_ms > TARGET_P99_MS),
            ("req/s", ratio < TARGET_RATIO),
        )
        if missed
    ]
    return "yes" if not misses else f"no ({', '.join(misses)})"


def row(name: str, result: Result, baseline: Result) -> str:
    ratio = result.per_second / baseline.per_second if baseline.per_second else 0.0
    window = result.window or 1.0
    cells = [
        name, f"{result.requests:,}", errors_cell(result), f"{result.per_second:,.0f}",
        f"{result.p50_ms:.1f}", f"{result.p99_ms:.1f}", f"{ratio:.2f}",
        f"{result.server_cpu / window:.2f}", f"{result.cpu / window:.2f}",
        f"{max(0.0, result.machine_cpu - result.server_cpu - result.cpu) / window:.2f}",
        verdict(result, ratio),
    ]  # fmt: skip
    return f"| {' | '.join(cells)} |"


def database_kind(url: str) -> str:
    return "PostgreSQL" if urlsplit(url).scheme.startswith("postgres") else "SQLite"


def section(
    results: dict[str, Result], options: Options, papers: int, targets: Targets, loads: str
) -> str:
    baseline = results[ENDPOINTS[0].name]
    extra = f"uvicorn {version('uvicorn')}, FastAPI {version('fastapi')}"
    lines = [
        HEADING,
        "",
        f"`python -m benchmarks.web`, {datetime.now(UTC):%Y-%m-%d}, on {machine(extra)}; "
        f"load average {loads}.",
        "",
        f"The real server (`dailypapers serve --workers {options.workers}`) over {papers:,} "
        f"papers in {database_kind(options.database_url)}, search warm, and a load generator in "
        f"a separate process (`benchmarks/loadgen.py`: asyncio, {options.connections} "
        "keep-alive connections to 127.0.0.1, closed loop) on the same machine. Each endpoint: "
        f"{WARMUP:g} s of warm-up, then {options.duration:g} s (at most "
        f"{options.max_requests:,} requests), cycling through {len(targets.ids)} paper ids, "
        f"the {len(targets.days)} days with papers or {len(targets.queries):,} generated "
        "search queries (the lexical benchmark's), shuffled with a fixed seed. Latency is from "
        "sending a request to reading the whole answer, in milliseconds; errors are non-2xx "
        "answers and requests without an answer.",
        "",
        "| endpoint | requests | errors | req/s | p50 ms | p99 ms | req/s vs /healthz "
        "| server CPU | generator CPU | other CPU | meets targets |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        *(row(name, result, baseline) for name, result in results.items()),
        "",
        f"Targets: p99 ≤ {TARGET_P99_MS:g} ms, at least {TARGET_RATIO:g} × the requests/s of "
        "`/healthz` in the same run, and no errors. CPU is in cores (CPU seconds per second "
        "of the measured window): all the server's processes, the generator, and everything "
        "else (other processes, the kernel, time the hypervisor took). The generator shares "
        f"the machine's {os.cpu_count()} cores with the server, so what it uses is not "
        "available to the server; with one worker the server's Python runs on about one core "
        "(search's model threads aside) and the generator mostly on the other. A row with "
        "much other CPU was measured on a busy machine.",
    ]
    return "\n".join(lines)


def _terminate(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)  # runs the finally blocks that stop the server


def run(options: Options, targets: Targets) -> dict[str, Result]:
    results: dict[str, Result] = {}
    with tempfile.TemporaryDirectory(prefix="dailypapers-web-") as tmp_dir:
        tmp, port = Path(tmp_dir), free_port()
        log = tmp / "server.log"
        with running_server(options, port, log) as server:
            ready = wait_ready(server, port, log, options.workers)
            print(f"server on port {port} ready and warm in {ready:.1f} s", flush=True)
            for endpoint in ENDPOINTS:
                if server.poll() is not None:
                    _fail(server, log, "the server stopped")
                result = measure(endpoint, targets, options, port, server_pids(server), tmp)
                results[endpoint.name] = result
                print(
                    f"{endpoint.name}: {result.requests:,} requests, {errors_cell(result)} "
                    f"errors, {result.per_second:,.0f}/s, p50 {result.p50_ms:.1f} ms, "
                    f"p99 {result.p99_ms:.1f} ms",
                    flush=True,
                )
    return results


def parse_options() -> tuple[Options, Settings, bool]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/dailypapers-bench-search"))
    parser.add_argument("--database-url", help="use papers already stored (and embedded) there")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per endpoint")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=1, help="server worker processes")
    parser.add_argument("--max-requests", type=int, default=100_000, help="per endpoint")
    parser.add_argument("--no-write", action="store_true", help="print, do not edit BENCHMARKS.md")
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
        args.max_requests,
    )  # fmt: skip
    return options, settings, args.no_write


def main() -> None:
    options, settings, no_write = parse_options()
    signal.signal(signal.SIGTERM, _terminate)
    targets, papers = pick_targets(settings)
    load_before = os.getloadavg()[0]
    results = run(options, targets)
    loads = f"{load_before:.1f} when it started, {os.getloadavg()[0]:.1f} at the end"
    text = section(results, options, papers, targets, loads)
    print(text)
    if not no_write:
        write_section(HEADING, text)


if __name__ == "__main__":
    main()
