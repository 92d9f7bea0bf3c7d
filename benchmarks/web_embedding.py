"""Web load while the backlog embeds: cached pages at 32 connections while a fresh site's
worker embeds its papers in the background.

Run::

    .venv/bin/python -m benchmarks.web_embedding [--work DIR] [--duration 20]
        [--connections 32] [--attach PORT] [--no-write]

Without ``--attach`` it makes a fresh site as ``make run`` does on a machine that cannot reach
arXiv: ``dailypapers init`` and ``dailypapers ingest file`` of the listing file into an empty
``--work`` directory (papers and the keyword index; no vectors), then ``dailypapers serve
--workers 1`` with the default settings, so its worker embeds the backlog (newest first, on
one thread) while the site serves. With ``--attach PORT`` it measures a site already running
on 127.0.0.1:PORT instead, e.g. the one ``make run PORT=PORT`` started (its processes are
found by their command line, for the CPU columns).

It waits until the semantic index has started to grow (the search API's ``X-Semantic-Index``
header above 0%), then measures each endpoint of :mod:`benchmarks.web` in turn with the same
load generator (a warm-up pass over its targets, then ``--duration`` seconds), and reads the
header again after each one, so the table shows the backlog being embedded during every
measurement. Target: p99 at most 100 ms for every page and API answer, with the cache on, as
in :mod:`benchmarks.web` (but no ratio to ``/healthz``: the embedding takes a core). Writes
the "Web load while the backlog embeds" section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from benchmarks import web
from benchmarks.common import LISTING, ROOT, machine, write_section
from benchmarks.loadgen import Result
from dailypapers.search.service import DENSE_REOPEN_EVERY
from dailypapers.settings import Settings
from dailypapers.store import open_store

HEADING = "## Web load while the backlog embeds"
CACHED = web.CONFIGS[0]
PROGRESS_PATH = "/api/papers/search?q=transformer"
GROWTH_TIMEOUT = 600.0  # seconds for the first vectors to arrive


@dataclass(frozen=True)
class Step:
    """One endpoint's measurement and the semantic index before and after it."""

    name: str
    result: Result
    semantic: tuple[str, str]


def dailypapers(work: Path, *args: str) -> None:
    """Run the CLI over ``work`` as ``make run`` would (development mode, default settings)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAILYPAPERS_")}
    env.update(DAILYPAPERS_MODE="development", DAILYPAPERS_DATA_DIR=str(work))
    command = [str(ROOT / ".venv" / "bin" / "dailypapers"), *args]
    subprocess.run(command, env=env, cwd=work, check=True, stdout=subprocess.DEVNULL)


def fresh_site(work: Path) -> None:
    """An empty data dir with the listing ingested: papers and keyword index, no vectors."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    dailypapers(work, "init")
    print(f"ingesting {LISTING.name} into {work} ...", flush=True)
    dailypapers(work, "ingest", "file", str(LISTING))


def pick_targets(settings: Settings) -> tuple[web.Targets, int]:
    """The same targets as benchmarks.web, from a store that is not embedded first."""
    return web.targets_of(open_store(settings.resolved_database_url))


def semantic_index(port: int) -> str:
    """The site's ``X-Semantic-Index`` header, e.g. ``41%``: a query string never asked
    before, so that the answer is not one the cache kept (with an older header)."""
    fresh = f"{PROGRESS_PATH}&fresh={time.monotonic_ns()}"
    answer = httpx.get(f"http://127.0.0.1:{port}{fresh}", timeout=web.REQUEST_TIMEOUT)
    percent: str = answer.headers.get("X-Semantic-Index", "?")
    return percent


def wait_for_growth(port: int) -> str:
    start = time.monotonic()
    while (percent := semantic_index(port)) in ("0%", "?"):
        if time.monotonic() - start > GROWTH_TIMEOUT:
            raise RuntimeError(f"no vectors after {GROWTH_TIMEOUT:g} s: is the worker running?")
        time.sleep(5)
    return percent


def attached_pids(port: int) -> list[int]:
    """The processes serving ``port`` (found by command line) and all their descendants."""
    parents: dict[int, int] = {}
    roots = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            stat = (proc / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        parents[int(proc.name)] = int(stat[1])
        if "serve" in cmdline and f"--port {port}" in cmdline:
            roots.append(int(proc.name))
    found = set(roots)
    while grown := {p for p, parent in parents.items() if parent in found} - found:
        found |= grown
    return sorted(found)


def measure_all(
    options: web.Options, targets: web.Targets, port: int, pids: list[int]
) -> list[Step]:
    steps = []
    with tempfile.TemporaryDirectory(prefix="dailypapers-web-embedding-") as tmp:
        for endpoint in web.ENDPOINTS:
            before = semantic_index(port)
            result = web.measure(endpoint, targets, options, port, pids, Path(tmp))
            steps.append(Step(endpoint.name, result, (before, semantic_index(port))))
            print(
                f"{endpoint.name}: {result.per_second:,.0f}/s, p50 {result.p50_ms:.1f} ms, "
                f"p99 {result.p99_ms:.1f} ms, semantic index {before} -> {steps[-1].semantic[1]}",
                flush=True,
            )
    return steps


def row(step: Step) -> str:
    result = step.result
    window = result.window or 1.0
    misses = [
        name
        for name, missed in (
            ("errors", result.errors > 0 or result.requests == 0),
            ("p99", result.p99_ms > web.TARGET_P99_MS),
        )
        if missed
    ]
    cells = [
        step.name, f"{result.requests:,}", web.errors_cell(result), web.cache_cell(result),
        f"{result.per_second:,.0f}", f"{result.p50_ms:.1f}", f"{result.p99_ms:.1f}",
        f"{step.semantic[0]} → {step.semantic[1]}", f"{result.server_cpu / window:.2f}",
        f"{result.cpu / window:.2f}",
        "yes" if not misses else f"no ({', '.join(misses)})",
    ]  # fmt: skip
    return f"| {' | '.join(cells)} |"


def section(steps: list[Step], how: str, papers: int, options: web.Options, loads: str) -> str:
    return "\n".join(
        [
            HEADING,
            "",
            f"`python -m benchmarks.web_embedding`, {datetime.now(UTC):%Y-%m-%d}, on "
            f"{machine()}; load average {loads}.",
            "",
            f"{how} over {papers:,} papers whose vectors the site's worker was making while "
            f"it served (default settings: the worker embeds newest first on one thread and "
            "brings the dense index files up to date every minute; the site reopens its "
            "engine's dense part at once for the first vectors, then at most every "
            f"{DENSE_REOPEN_EVERY / 60:g} minutes, keeping cached answers). A load generator in a "
            f"separate process ({options.connections} keep-alive connections, closed loop) "
            "requests each endpoint in turn: a warm-up pass over its targets (the cache then "
            f"holds them), then {options.duration:g} s; the semantic index column is the "
            "search API's `X-Semantic-Index` header before and after each measurement. The "
            "server CPU column counts all the site's processes, its worker's embedding too "
            "(in cores).",
            "",
            "| endpoint | requests | errors | cache hits | req/s | p50 ms | p99 ms "
            "| semantic index | server CPU | generator CPU | p99 ≤ 100 ms |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
            *(row(step) for step in steps),
        ]
    )


def parse_options() -> tuple[web.Options, Settings, int | None, bool]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/dailypapers-bench-embedding"))
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per endpoint")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--max-requests", type=int, default=100_000, help="per endpoint")
    parser.add_argument("--attach", type=int, metavar="PORT", help="measure a running site")
    parser.add_argument("--no-write", action="store_true", help="print, do not edit BENCHMARKS.md")
    args = parser.parse_args()
    if not LISTING.is_file():
        raise SystemExit(f"skipped: {LISTING} not found")
    work = args.work.resolve()
    settings = Settings(mode="development", data_dir=work)
    options = web.Options(
        work, settings.resolved_database_url, args.duration, args.connections, 1,
        args.max_requests, (CACHED,),
    )  # fmt: skip
    return options, settings, args.attach, args.no_write


def run_attached(options: web.Options, settings: Settings, port: int) -> tuple[list[Step], int]:
    targets, papers = pick_targets(settings)
    print(f"waiting for vectors on port {port} ...", flush=True)
    wait_for_growth(port)
    return measure_all(options, targets, port, attached_pids(port)), papers


def run_fresh(options: web.Options, settings: Settings) -> tuple[list[Step], int]:
    fresh_site(options.work)
    targets, papers = pick_targets(settings)
    port = web.free_port()
    log = options.work / "server.log"
    with web.running_server(options, CACHED, port, log) as server:
        web.wait_ready(server, port, log, options.workers)
        print(f"server on port {port}; waiting for vectors ...", flush=True)
        wait_for_growth(port)
        return measure_all(options, targets, port, web.server_pids(server)), papers


def main() -> None:
    options, settings, attach, no_write = parse_options()
    signal.signal(signal.SIGTERM, web._terminate)
    load_before = os.getloadavg()[0]
    if attach is None:
        steps, papers = run_fresh(options, settings)
        how = "A fresh site (`dailypapers init`, `ingest file` of the listing, `serve`)"
    else:
        steps, papers = run_attached(options, settings, attach)
        how = f"The site `make run` started (attached on port {attach})"
    loads = f"{load_before:.1f} when it started, {os.getloadavg()[0]:.1f} at the end"
    text = section(steps, how, papers, options, loads)
    print(text)
    if not no_write:
        write_section(HEADING, text)


if __name__ == "__main__":
    main()
