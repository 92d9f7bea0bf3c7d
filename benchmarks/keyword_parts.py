"""The keyword search of a search page taken apart, by kind of query, in one process.

Run over a data dir with a keyword index (and, for ``--embedding``, the query model)::

    .venv/bin/python -m benchmarks.keyword_parts --work DIR [--rounds 5] [--embedding]

For ``benchmarks.web_cpu``'s 200 search queries (its fixed seed), what
``LexicalIndex.search_with_typos`` (k = 100, as the engine asks) does, part by part: building
the tantivy query, each tantivy search (the term clauses alone and "the rest", or the whole
query in one) and reading the hits' ids, each the best of ``--rounds`` warm runs (thread
CPU), with the papers each search matches. tantivy-py collects every search through a
``MultiCollector``, so no search is pruned (block-max WAND): its cost follows the papers
matching any clause, which the table shows beside the time. Kinds: "terms" (plain words,
no title phrase nor typo: one search), "title phrase" and "typo" (plain words searched in
two parts, the second with a typo clause for "typo"), "one search" (a quoted phrase or an
exclusion: the whole query).

``--embedding`` then runs the 200 keyword searches with the query's embedding started first
in another thread, as the engine does, and prints the wall and thread time of the index calls
that release the GIL (``Index.searcher``, ``Searcher.doc_freq``, ``Searcher.search``) and of
``Searcher.fast_field_values`` (which keeps it), with a 16 MB read between two queries (a
page's other work). Prints Markdown; writes nothing.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

import numpy as np

from benchmarks.web_cpu import pick_targets
from dailypapers.index.lexical.index import LexicalIndex, _ids, index_path
from dailypapers.index.lexical.query import BuiltQuery, build_query, parse_query
from dailypapers.search.embedding import QueryThread
from dailypapers.search.service import _embedder
from dailypapers.settings import Settings

K = 100
KINDS = ("terms", "title phrase", "typo", "one search")
COLUMNS = ("build", "first", "rest", "ids")


def best_ms(function: Callable[[], object], rounds: int) -> float:
    """The least thread CPU of ``rounds`` calls, in milliseconds."""
    least = float("inf")
    for _ in range(rounds):
        started = time.thread_time()
        function()
        least = min(least, time.thread_time() - started)
    return least * 1000


def kind_of(built: BuiltQuery) -> str:
    if built.terms is None:
        return "one search"
    if built.rest is None:
        return "terms"
    return "typo" if built.typos else "title phrase"


def measure(index: LexicalIndex, text: str, rounds: int) -> tuple[str, dict[str, float]]:
    """One query's kind, its parts' ms and the papers each search matched."""
    searcher = index._index.searcher()
    parsed = parse_query(text)
    vocabulary = partial(index.vocabulary, searcher)

    def build() -> BuiltQuery:
        return build_query(parsed, index._schema, searcher, vocabulary)

    built = build()
    first = built.query if built.terms is None else built.terms
    found: dict[str, float] = {"build": best_ms(build, rounds)}
    for name, query in (("first", first), ("rest", built.rest)):
        if query is not None:
            found[name] = best_ms(partial(searcher.search, query, K, count=False), rounds)
            counted: Any = searcher.search(query, K, count=True)  # the stub lacks count
            found[f"{name} matched"] = counted.count or 0
    if first is not None:
        addresses = [address for _score, address in searcher.search(first, K).hits]
        found["ids"] = best_ms(lambda: _ids(searcher, addresses), rounds)
    return kind_of(built), found


def kinds_table(index: LexicalIndex, queries: list[str], rounds: int) -> None:
    by_kind: dict[str, list[dict[str, float]]] = defaultdict(list)
    for text in queries:
        kind, found = measure(index, text, rounds)
        by_kind[kind].append(found)
    print(f"Best of {rounds} warm runs, ms a query (means over the kind's queries):\n")
    print("| kind | queries | build | first search | rest | ids | papers matched: first, rest |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    every = [found for rows in by_kind.values() for found in rows]
    for kind, rows in [*((k, by_kind[k]) for k in KINDS if by_kind[k]), ("all", every)]:
        mean = {c: sum(r.get(c, 0.0) for r in rows) / len(rows) for c in COLUMNS}
        first = sum(r.get("first matched", 0) for r in rows) / len(rows)
        rest = sum(r.get("rest matched", 0) for r in rows) / len(rows)
        cells = " | ".join(f"{mean[c]:.3f}" for c in COLUMNS)
        print(f"| {kind} | {len(rows)} | {cells} | {first:,.0f}, {rest:,.0f} |")


class Timed:
    """``inner`` with the named methods' wall and thread time added to ``spent``."""

    def __init__(self, inner: Any, names: tuple[str, ...], spent: dict[str, list[float]]):
        self._inner = inner
        for name in names:
            setattr(self, name, self._wrap(name, getattr(inner, name), spent))

    @staticmethod
    def _wrap(name: str, method: Any, spent: dict[str, list[float]]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            wall, cpu = time.perf_counter(), time.thread_time()
            try:
                return method(*args, **kwargs)
            finally:
                row = spent[name]
                row[0] += 1
                row[1] += time.perf_counter() - wall
                row[2] += time.thread_time() - cpu

        return timed

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def gil_table(index: LexicalIndex, queries: list[str], settings: Settings) -> None:
    memo = _embedder(settings)
    if memo is None:
        raise SystemExit("--embedding needs the query model")
    model: Any = getattr(memo, "embedder", memo)  # not the query memo: every query is new
    spent: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
    calls = ("doc_freq", "search", "fast_field_values")
    opened = index._index
    timed_index: Any = Timed(opened, ("searcher",), spent)
    timed_searcher = timed_index.searcher
    timed_index.searcher = lambda: Timed(timed_searcher(), calls, spent)
    index._index = timed_index
    embedding_thread = QueryThread()  # the engine's hand-over
    other_work = np.ones(2 << 20)  # 16 MB
    print("\nWith the query's embedding in another thread (wall and thread µs a call):\n")
    print("| embedding | call | calls a query | wall µs | thread µs |")
    print("| --- | --- | --- | --- | --- |")
    try:
        for embedding in (False, True, False, True):
            spent.clear()
            for text in queries:
                other_work.sum()
                pending = embedding_thread.start(model.embed_query, text) if embedding else None
                index.search_with_typos(text, K)
                if pending is not None:
                    pending.result()
            for name, (count, wall, cpu) in spent.items():
                per = 1e6 / count
                print(
                    f"| {'on' if embedding else 'off'} | {name} | {count / len(queries):.1f} "
                    f"| {wall * per:.1f} | {cpu * per:.1f} |"
                )
    finally:
        index._index = opened
        embedding_thread.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--embedding", action="store_true", help="also the GIL table")
    options = parser.parse_args()
    settings = Settings(
        mode="development", data_dir=options.work, page_cache_mb=0, index_after_ingest=False
    )
    targets, _papers = pick_targets(settings)
    queries = [unquote_plus(query) for query in targets["queries"]]
    index = LexicalIndex.open(index_path(options.work))
    index.vocabulary()  # read once, as a server does at opening
    for text in queries:  # warm
        index.search_with_typos(text, K)
    kinds_table(index, queries, options.rounds)
    if options.embedding:
        gil_table(index, queries, settings)


if __name__ == "__main__":
    main()
