"""CPU of the search page's retrieval: BM25, the ANN search and the fusion, per query.

Run over a data dir whose papers are embedded and indexed (HNSW: 20,000 papers or more)::

    .venv/bin/python -m benchmarks.search_cpu --work DIR [--rounds 5]

For ``benchmarks.web_cpu``'s 200 search queries (its fixed seed), the engine's retrieval step
(``SearchEngine._retrieve`` in hybrid mode: the keyword search, the dense search and the
fusion, as a search page runs them) with the query embeddings made beforehand, so that the
model's CPU is not counted here (``benchmarks.web_cpu`` counts the whole page). Each part is
timed inside the same calls by wrapping the engine's lexical index, dense index and fusion
function. CPU is ``time.process_time`` (every thread of the process), median of the rounds,
in milliseconds per query. Works on older checkouts too (it uses nothing newer than the
engine's ``_retrieve``), so a base clone can be measured back to back with the same file::

    PYTHONPATH=BASE/src:. .venv/bin/python -m benchmarks.search_cpu --work DIR

Prints Markdown; writes nothing.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import numpy as np
import numpy.typing as npt

from benchmarks.web_cpu import pick_targets
from dailypapers.search.catalog import title_key
from dailypapers.search.query import Filters
from dailypapers.search.service import open_engine
from dailypapers.settings import Settings
from dailypapers.store import open_store

PARTS = ("bm25", "ann", "fusion", "retrieval")


class Clock:
    """CPU seconds spent in each wrapped part since the last :meth:`reset`."""

    def __init__(self) -> None:
        self.seconds = dict.fromkeys(PARTS, 0.0)

    def reset(self) -> None:
        self.seconds = dict.fromkeys(PARTS, 0.0)

    def wrap(self, part: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[part] += time.process_time() - started

        return timed


class Wrapped:
    """An index whose ``search`` (and the lexical index's ``search_with_typos``, which the
    engine calls when the index has it) is timed as ``part``; everything else passes
    through."""

    def __init__(self, inner: Any, clock: Clock, part: str) -> None:
        self._inner = inner
        self.search = clock.wrap(part, inner.search)
        if hasattr(inner, "search_with_typos"):
            self.search_with_typos = clock.wrap(part, inner.search_with_typos)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class Prepared:
    """Query vectors made beforehand: the embedding is not what is measured here."""

    def __init__(self, vectors: dict[str, npt.NDArray[np.float32]]) -> None:
        self.vectors = vectors

    def embed_query(self, text: str) -> npt.NDArray[np.float32]:
        return self.vectors[text]


def measure(work: Path, rounds: int) -> dict[str, float]:
    settings = Settings(mode="development", data_dir=work, index_after_ingest=False)
    targets, _papers = pick_targets(settings)
    texts = [unquote_plus(text) for text in targets["queries"]]
    store = open_store(settings.resolved_database_url)
    engine = open_engine(store, settings)
    if engine.embedder is None or engine.dense is None or engine.lexical is None:
        raise SystemExit("needs an embedded and indexed data dir")
    embedder = engine.embedder
    engine.embedder = Prepared({text: embedder.embed_query(text) for text in texts})
    clock = Clock()
    engine.lexical = Wrapped(engine.lexical, clock, "bm25")
    engine.dense = Wrapped(engine.dense, clock, "ann")
    engine.fuse = clock.wrap("fusion", engine.fuse)
    for text in texts:  # warm: the lexical index reads its words at the first typo
        engine._retrieve(text, title_key(text), "hybrid", Filters(), [])
    per_round: dict[str, list[float]] = {part: [] for part in PARTS}
    for _round in range(rounds):
        clock.reset()
        started = time.process_time()
        for text in texts:
            engine._retrieve(text, title_key(text), "hybrid", Filters(), [])
        clock.seconds["retrieval"] = time.process_time() - started
        for part in PARTS:
            per_round[part].append(clock.seconds[part] * 1000 / len(texts))
    engine.close()
    store.dispose()
    return {part: statistics.median(values) for part, values in per_round.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, required=True, help="data dir, embedded")
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    figures = measure(options.work, options.rounds)
    print("| " + " | ".join(PARTS) + " |")
    print("| " + " | ".join(f"{figures[part]:.2f}" for part in PARTS) + " |")


if __name__ == "__main__":
    main()
