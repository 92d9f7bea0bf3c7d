"""Requests/s under load of two source trees, taking turns: ``benchmarks.web``'s uncached
server and load generator, a before/after that holds while the host's speed drifts.

Two ``benchmarks.web`` runs minutes apart differ by more than many changes (``/healthz``
moved between 2,954 and 3,525 requests/s within an hour on one host). Here each round starts
the before tree's server (``DAILYPAPERS_PAGE_CACHE_MB=0``, one worker, search warm), measures
``/healthz`` and each endpoint named with ``--only`` at 32 connections, stops it, then does
the same with the after tree; the rounds alternate the two. Prints each run's requests/s,
p99 and ratio to its own ``/healthz``, then per endpoint the median of the paired ratios
(after's requests/s over before's, round by round)::

    .venv/bin/python -m benchmarks.web_pair --before /tmp/base/src --before-work DIR \\
        --work DIR [--after src] [--rounds 3] [--duration 20] [--only "date/<day>" ...]

Each tree runs over its own data dir (the same papers), since a server migrates the store it
opens to its own schema: a copy of the data dir for each. The targets are picked by this
tree from the after tree's data dir. Prints only; nothing is written.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks import web
from benchmarks.loadgen import Result
from dailypapers.store import open_store

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ONLY = ("daily page `/date/<day>`",)


@dataclass(frozen=True)
class Tree:
    name: str  # "before" or "after"
    src: Path  # the folder ``dailypapers`` is imported from
    work: Path  # its data dir


def _options(tree: Tree, duration: float) -> web.Options:
    return web.Options(
        work=tree.work, database_url=f"sqlite:///{tree.work / 'dailypapers.sqlite3'}",
        duration=duration, connections=32, workers=1, max_requests=100_000,
        configs=(), as_is=True,
    )  # fmt: skip


def _config(tree: Tree) -> web.Config:
    """The uncached configuration, the server importing ``dailypapers`` from ``tree``."""
    env = {"DAILYPAPERS_PAGE_CACHE_MB": "0", "PYTHONPATH": str(tree.src)}
    return web.Config("uncached", "Uncached", env, 0.25)


def measure_tree(
    tree: Tree, endpoints: list[web.Endpoint], targets: web.Targets, duration: float
) -> dict[str, Result]:
    """``/healthz`` then ``endpoints`` with a server of ``tree``'s, started afresh."""
    options, results = _options(tree, duration), {}
    with tempfile.TemporaryDirectory(prefix="dailypapers-web-pair-") as tmp_dir:
        tmp, port = Path(tmp_dir), web.free_port()
        log = tmp / "server.log"
        with web.running_server(options, _config(tree), port, log) as server:
            web.wait_ready(server, port, log, options.workers)
            for endpoint in [web.ENDPOINTS[0], *endpoints]:
                pids = web.server_pids(server)
                results[endpoint.name] = web.measure(endpoint, targets, options, port, pids, tmp)
    return results


def _line(round_: int, tree: Tree, results: dict[str, Result]) -> str:
    baseline = results[web.ENDPOINTS[0].name].per_second
    cells = [f"{name}: {r.per_second:,.0f}/s ({r.per_second / baseline:.3f} of /healthz, "
             f"p99 {r.p99_ms:.1f} ms, {r.errors} errors)"
             for name, r in list(results.items())[1:]]  # fmt: skip
    return f"round {round_} {tree.name}: /healthz {baseline:,.0f}/s; " + "; ".join(cells)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="the base tree's src")
    parser.add_argument("--before-work", type=Path, required=True, help="its data dir")
    parser.add_argument("--after", type=Path, default=ROOT / "src")
    parser.add_argument("--work", type=Path, required=True, help="the after tree's data dir")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per endpoint")
    parser.add_argument("--only", action="append", help="endpoints whose name holds this")
    args = parser.parse_args()
    wanted = args.only or list(DEFAULT_ONLY)
    endpoints = [e for e in web.ENDPOINTS[1:] if any(part in e.name for part in wanted)]
    if not endpoints:
        raise SystemExit(f"no endpoint of benchmarks.web matches {wanted}")
    trees = [
        Tree("before", args.before.resolve(), args.before_work.resolve()),
        Tree("after", args.after.resolve(), args.work.resolve()),
    ]
    targets, _papers = web.targets_of(open_store(_options(trees[1], 0).database_url))
    runs: dict[str, list[dict[str, Result]]] = {"before": [], "after": []}
    for round_ in range(1, args.rounds + 1):
        for tree in trees:
            results = measure_tree(tree, endpoints, targets, args.duration)
            runs[tree.name].append(results)
            print(_line(round_, tree, results), flush=True)
    for endpoint in endpoints:
        paired = [
            after[endpoint.name].per_second / before[endpoint.name].per_second
            for before, after in zip(runs["before"], runs["after"], strict=True)
        ]
        print(
            f"{endpoint.name}: after's requests/s over before's, median of {len(paired)} "
            f"rounds {statistics.median(paired):.3f} (range {min(paired):.3f} to "
            f"{max(paired):.3f})"
        )


if __name__ == "__main__":
    main()
