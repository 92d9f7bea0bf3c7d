"""Where a new-query search page's CPU goes, part by part, round by round.

The app in process as ``benchmarks.web_cpu`` runs it (response cache off, driven through
ASGI, the search's kept rankings and query vectors forgotten before each request), with each
part of the page wrapped in :func:`time.thread_time` of the thread that runs it (the query
embedding runs in the engine's own thread, so its time is its thread's)::

    .venv/bin/python -m benchmarks.search_parts --work DIR [--requests 200] [--rounds 6]
        [--pause 0]

Each round prints one line: the whole page (``time.process_time`` of every thread, per
request; its system time, minor page faults and voluntary context switches), the parts (ms a page; a
part inside another is also in that one's figure), and a probe of the host's memory at that
moment: the ms to sum a 64 MB array (read from memory, as a contended shared L3 slows it).
A page that moves from 6.5 to 10.5 ms between rounds shows which parts moved with it. Prints only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import web_cpu

# Milliseconds of thread CPU spent in each part during the current round.
SPENT: dict[str, float] = defaultdict(float)
CALLS: dict[str, int] = defaultdict(int)


def timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """``function`` with its thread CPU added to ``SPENT[name]`` at each call."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.thread_time()
        try:
            return function(*args, **kwargs)
        finally:
            SPENT[name] += time.thread_time() - start
            CALLS[name] += 1

    wrapper.__wrapped__ = function  # type: ignore[attr-defined]
    return wrapper


def patch(owner: Any, attribute: str, name: str) -> None:
    setattr(owner, attribute, timed(name, getattr(owner, attribute)))


@contextmanager
def timed_context(name: str, manager: Any) -> Iterator[Any]:
    """A context manager whose entering and leaving count as ``name``."""
    start = time.thread_time()
    value = manager.__enter__()
    SPENT[name] += time.thread_time() - start
    try:
        yield value
    finally:
        start = time.thread_time()
        manager.__exit__(None, None, None)
        SPENT[name] += time.thread_time() - start


def instrument() -> list[str]:
    """Wrap the parts of a search page; their names in the order printed."""
    import usearch.index

    from dailypapers.feed import reader as feed_reader
    from dailypapers.index.dense import ann, embedder
    from dailypapers.index.lexical import index as lexical_index
    from dailypapers.index.lexical import snippet
    from dailypapers.search import engine
    from dailypapers.web.pages import search as page

    patch(embedder.OnnxEmbedder, "embed_query", "embed")
    patch(engine.SearchEngine, "_lexical", "keyword")
    patch(lexical_index, "build_query", "kw.build")
    patch(lexical_index, "_merged", "kw.tantivy")
    patch(lexical_index, "_ids", "kw.ids")
    patch(engine.SearchEngine, "_dense", "dense")
    patch(usearch.index.Index, "search", "graph")
    patch(ann.DenseIndex, "_beam", "ann")
    patch(engine.SearchEngine, "_rank", "rank")
    patch(engine.SearchEngine, "search", "engine")
    patch(page, "_results", "results")
    patch(feed_reader.Reader, "found", "entries")
    patch(snippet.Marker, "snippets", "snippets")
    patch(page, "render", "template")
    patch(page, "semantic_progress_of", "progress")
    original_reader = getattr(page, "reader")  # noqa: B009 - not exported by the module
    setattr(page, "reader", lambda request: timed_context("txn", original_reader(request)))  # noqa: B010
    return [
        "embed", "keyword", "kw.build", "kw.tantivy", "kw.ids", "dense", "ann", "graph",
        "rank", "engine", "txn", "entries", "snippets", "results", "template",
    ]  # fmt: skip


def memory_probe(buffer: np.ndarray[Any, Any]) -> float:
    """Milliseconds to read ``buffer`` once (its sum), the best of three."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        buffer.sum()
        best = min(best, time.perf_counter() - start)
    return best * 1000


async def rounds(
    app: Any, targets: list[str], options: argparse.Namespace, names: list[str]
) -> None:
    endpoint = next(e for e in web_cpu.ENDPOINTS if e.new_query)
    for target in targets[: options.requests]:  # warm-up
        await web_cpu.request(app, target)
    buffer = np.ones(8 * 1024 * 1024, dtype=np.float64)  # 64 MB
    header = ["time", "load", "probe", "page", "sys", "faults", "switches"] + names
    print(" ".join(f"{h:>9}" for h in header), flush=True)
    rows: list[list[float]] = []
    done = 0
    for _ in range(options.rounds):
        probe = memory_probe(buffer)
        SPENT.clear()
        reset = web_cpu.resetter(app, endpoint)
        with web_cpu.aside(app, endpoint):
            start, usage = time.process_time(), resource.getrusage(resource.RUSAGE_SELF)
            for _ in range(options.requests):
                assert reset is not None
                reset()
                status = await web_cpu.request(app, targets[done % len(targets)])
                if status != 200:
                    raise RuntimeError(f"{targets[done % len(targets)]}: {status}")
                done += 1
            page = (time.process_time() - start) * 1000 / options.requests
            after = resource.getrusage(resource.RUSAGE_SELF)
        per = 1 / options.requests
        system = (after.ru_stime - usage.ru_stime) * 1000 * per
        faults = (after.ru_minflt - usage.ru_minflt) * per
        switches = (after.ru_nvcsw - usage.ru_nvcsw) * per  # voluntary: waits
        parts = [SPENT[n] * 1000 * per for n in names]
        row = [os.getloadavg()[0], probe, page, system, faults, switches, *parts]
        rows.append(row)
        stamp = time.strftime("%H:%M:%S", time.gmtime())
        print(f"{stamp:>9} " + " ".join(f"{v:9.3f}" for v in row), flush=True)
        if options.pause:
            await asyncio.sleep(options.pause)
    medians = [statistics.median(column) for column in zip(*rows, strict=True)]
    print(f"{'median':>9} " + " ".join(f"{v:9.3f}" for v in medians), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--pause", type=float, default=0.0, help="seconds between rounds")
    options = parser.parse_args()
    from dailypapers.settings import Settings
    from dailypapers.web.app import create_app
    from dailypapers.web.heap import tune

    settings = Settings(
        mode="development", data_dir=options.work, page_cache_mb=0, index_after_ingest=False
    )
    targets, _papers = web_cpu.pick_targets(settings)
    names = instrument()
    tune()
    app = create_app(settings=settings)
    paths = [f"/search?q={q}" for q in targets["queries"]]
    asyncio.run(rounds(app, paths, options, names))


if __name__ == "__main__":
    main()
