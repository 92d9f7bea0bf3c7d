"""CPU per uncached request of two source trees, side by side: a before/after that holds on a
busy machine.

Two ``benchmarks.web_cpu`` runs minutes apart on a shared machine differ by more than most
changes (``/healthz`` alone moved from 0.49 to 0.28 ms between two such runs). Here the two
trees run at once, each in a worker process over the same data dir, and take turns: each
round, every endpoint is asked ``--requests`` times of each worker, in a shuffled order, so
both meet the same load within a second of each other. Prints, per endpoint, the median ms of
CPU per request over the rounds for each tree and the median of the paired ratios::

    .venv/bin/python -m benchmarks.web_cpu_pair --work DIR --before /tmp/base/src \\
        [--after src] [--after-work DIR] [--rounds 12] [--requests 100] [--only NAME ...]
        [--kind KIND ...]

Give the trees as absolute paths or relative to the current directory (they are made
absolute: the workers import ``dailypapers`` from them). The workers import this
``benchmarks`` package, time requests as ``benchmarks.web_cpu`` does (cold endpoints with
every memo emptied before each request, new-query ones with the search's kept rankings and
query vectors) and leave the search endpoints out unless
``--only`` names them. The targets are picked once, by this tree over the after tree's data
dir, and given to both workers, so a tree older than this package's imports can be measured
too: the one issue 8 was filed against (``779d4e5``, which keeps no memo: each of its
requests is cold), over the copy of a data dir that ``benchmarks.then_tree`` makes for it
(BENCHMARKS.md, "The search page against the code the issue was filed on"). Prints only;
nothing is written.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO

from benchmarks import web_cpu

ROOT = Path(__file__).resolve().parent.parent
SEED = 20261201


def serve(work: Path, picked: Path) -> None:
    """The worker: the app over ``work``, then ``NAME COUNT`` lines answered with the ms of
    CPU per request of the next COUNT targets of endpoint NAME (``picked``: the targets, as
    JSON)."""
    from dailypapers.settings import Settings
    from dailypapers.web.app import create_app

    settings = Settings(
        mode="development", data_dir=work, page_cache_mb=0, index_after_ingest=False
    )
    targets = json.loads(picked.read_text())
    try:  # the collector's thresholds of a serving process, in a tree that sets them
        from dailypapers.web.heap import tune
    except ImportError:
        pass
    else:
        tune()
    app = create_app(settings=settings)
    endpoints = {endpoint.name: endpoint for endpoint in web_cpu.ENDPOINTS}
    done: dict[str, int] = {}

    async def run() -> None:
        print("ready", flush=True)
        for line in sys.stdin:
            name, count = line.rstrip("\n").rsplit(" ", 1)
            endpoint, paths = endpoints[name], endpoints[name].targets(targets)
            if name not in done:  # warm-up, untimed: templates, statements, engine
                for target in paths[: web_cpu.SAMPLE]:
                    await web_cpu.request(app, target)
            first = done.get(name, 0)
            done[name] = first + int(count)
            reset = web_cpu.resetter(app, endpoint)
            with web_cpu.aside(app, endpoint):
                start = time.process_time()
                for index in range(first, first + int(count)):
                    if reset is not None:
                        reset()
                    await web_cpu.request(app, paths[index % len(paths)])
                spent = time.process_time() - start
            print(f"{spent * 1000 / int(count):.4f}", flush=True)

    asyncio.run(run())


class Worker:
    """A worker process running one source tree."""

    def __init__(self, source: Path, work: Path, picked: Path) -> None:
        env = dict(os.environ, PYTHONPATH=f"{source}{os.pathsep}{ROOT}")
        command = [
            sys.executable, "-m", "benchmarks.web_cpu_pair", "--serve", "--work", str(work),
            "--targets", str(picked),
        ]  # fmt: skip
        self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT
        )
        if self._read() != "ready":
            raise RuntimeError(f"the worker over {source} did not start")

    def _read(self) -> str:
        out: IO[str] | None = self.process.stdout
        assert out is not None
        return out.readline().strip()

    def measure(self, name: str, count: int) -> float:
        given: IO[str] | None = self.process.stdin
        assert given is not None
        given.write(f"{name} {count}\n")
        given.flush()
        return float(self._read())

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=60)


def pick_targets(work: Path, picked: Path, kinds: list[str] | None) -> None:
    """The targets both workers ask, picked once by this tree over ``work`` and written to
    ``picked`` as JSON: the same for both by construction, and a tree older than
    ``benchmarks.web_cpu``'s imports can be measured."""
    from dailypapers.settings import Settings

    settings = Settings(
        mode="development", data_dir=work, page_cache_mb=0, index_after_ingest=False
    )
    picked.write_text(json.dumps(web_cpu.pick_targets(settings, kinds)[0]))


def compare(options: argparse.Namespace, picked: Path) -> str:
    names = [e.name for e in web_cpu.chosen(options.only) if options.only or "search" not in e.name]
    after_work = options.after_work or options.work
    pick_targets(after_work, picked, options.kind)
    sides = {
        "before": Worker(options.before.resolve(), options.work, picked),
        "after": Worker(options.after.resolve(), after_work, picked),
    }
    times: dict[tuple[str, str], list[float]] = {(n, s): [] for n in names for s in sides}
    rng = random.Random(SEED)
    try:
        for _ in range(options.rounds):
            for name in names:
                order = list(sides)
                rng.shuffle(order)
                for side in order:
                    times[(name, side)].append(sides[side].measure(name, options.requests))
    finally:
        for worker in sides.values():
            worker.close()
    lines = [
        f"{options.rounds} rounds of {options.requests} requests per endpoint and tree, "
        f"load average {os.getloadavg()[0]:.1f} at the end.",
        "",
        "| endpoint | before ms | after ms | change (median of paired ratios) |",
        "| --- | --- | --- | --- |",
    ]
    for name in names:
        before, after = times[(name, "before")], times[(name, "after")]
        change = statistics.median(a / b for b, a in zip(before, after, strict=True)) - 1
        cells = f"{statistics.median(before):.2f} | {statistics.median(after):.2f}"
        lines.append(f"| {name} | {cells} | {change * 100:+.1f} % |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, required=True, help="data dir with the papers")
    parser.add_argument("--before", type=Path, help="the base tree's src folder")
    parser.add_argument("--after", type=Path, default=ROOT / "src", help="default: this one")
    parser.add_argument(
        "--after-work",
        type=Path,
        help="the after tree's data dir, when it differs (the same papers, an index it rebuilt)",
    )
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--only", action="append", help="endpoints whose name holds this")
    parser.add_argument(
        "--kind",
        action="append",
        help="search queries of this kind only (benchmarks.lexical: title, keywords, phrase, "
        "question, typo title)",
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--targets", type=Path, help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.serve:
        serve(options.work, options.targets)
        return
    if options.before is None:
        parser.error("--before is required")
    with tempfile.TemporaryDirectory() as scratch:
        print(compare(options, Path(scratch) / "targets.json"))


if __name__ == "__main__":
    main()
