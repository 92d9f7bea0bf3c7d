"""What a cheaper dense search would do to the search page: order kept, CPU saved.

Run over a data dir whose papers are embedded and indexed (HNSW: 20,000 papers or more)::

    .venv/bin/python -m benchmarks.dense_depth --work DIR [--queries 1000]

For the lexical benchmark's generated queries it fuses, as the engine does, the keyword list
(top ``DEPTH``) with dense lists searched in other ways: fewer results, fewer graph
candidates, a shallower beam (usearch's ``expansion_search``). For each it prints the share
of queries whose fused top 10 and top 20 (a search page) are the same as with today's dense
search and as with exact dense search, the fused list's nDCG@10 and Recall@100 for the paper
each query was made from (its one relevant answer: the quality benchmark's corpora are too
small to search a graph), and the CPU of the dense search alone (``time.process_time``).
Prints Markdown; writes nothing.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from usearch.index import Index

from benchmarks.lexical import make_queries
from dailypapers.index.dense import ann
from dailypapers.search.engine import DEPTH, SearchEngine
from dailypapers.search.query import Filters
from dailypapers.search.service import open_engine
from dailypapers.settings import Settings
from dailypapers.store import open_store
from dailypapers.store.documents import iter_documents

Hits = list[tuple[str, float]]
# (results kept, graph candidates, beam). The first is the search before session 8 (400 at a
# beam of 256); "the same" compares with the engine's search as it is configured (ann.py).
VARIANTS: tuple[tuple[int, int, int], ...] = (
    (DEPTH, DEPTH * ann.OVERSAMPLE, 256),
    (DEPTH, 200, 128),
    (DEPTH, 128, 128),
    (DEPTH, 100, 100),
    (80, 80, 80),
    (64, 64, 64),
    (60, 120, 128),
    (50, 100, 100),
    (40, 80, 80),
    (30, 64, 64),
)


def quality(orders: list[list[str]], wanted: list[str]) -> str:
    """nDCG@10 and Recall@100 of fused orders whose one relevant paper is the query's source
    (``benchmarks.lexical``'s queries are made from one paper each), as two table cells."""
    ndcg = recall = 0.0
    for order, paper in zip(orders, wanted, strict=True):
        rank = order.index(paper) if paper in order[:100] else None
        recall += rank is not None
        ndcg += 1 / math.log2(rank + 2) if rank is not None and rank < 10 else 0.0
    return f"{ndcg / len(orders):.4f} | {recall / len(orders):.4f}"


def unit(vector: ann.Matrix) -> ann.Matrix:
    return (vector / max(float(np.linalg.norm(vector)), 1e-12)).astype(np.float32)


def dense_search(
    index: ann.DenseIndex, graph: Index, keep: int, candidates: int
) -> Callable[[ann.Matrix], Hits]:
    """``DenseIndex.search`` without filters, with its depths as parameters."""

    def search(vector: ann.Matrix) -> Hits:
        query = unit(vector)
        found = index._graph(query, candidates, graph)
        return index._exact(query, keep, np.sort(found))

    return search


def fused(engine: SearchEngine, text: str, lexical: Hits, dense: Hits) -> list[str]:
    weights = (engine.config.lexical_weight, engine.config.dense_weight)
    return [pid for pid, _ in engine.fuse([lexical, dense], weights, words=len(text.split()))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, required=True, help="data dir, embedded")
    parser.add_argument("--queries", type=int, default=1000)
    options = parser.parse_args()
    settings = Settings(mode="development", data_dir=options.work, index_after_ingest=False)
    store = open_store(settings.resolved_database_url)
    with store.read() as connection:
        documents = list(iter_documents(connection))
    queries = make_queries(documents)[: options.queries]
    texts = [text for _kind, text, _paper in queries]
    wanted = [paper for _kind, _text, paper in queries]
    engine = open_engine(store, settings)
    index, embedder, lexical_index = engine.dense, engine.embedder, engine.lexical
    if not isinstance(index, ann.DenseIndex) or index.graph is None or embedder is None:
        raise SystemExit("needs an embedded data dir with an HNSW dense index")
    assert lexical_index is not None and index.params is not None
    path = ann.index_root(settings, index.model) / index.params["build"] / ann.HNSW
    vectors = [embedder.embed_query(text) for text in texts]
    lexical = [lexical_index.search(text, DEPTH, Filters()) for text in texts]
    exact = [
        fused(engine, text, lists, index._exact(unit(vector), DEPTH, None))
        for text, lists, vector in zip(texts, lexical, vectors, strict=True)
    ]
    today = [
        fused(engine, text, lists, index.search(vector, DEPTH))
        for text, lists, vector in zip(texts, lexical, vectors, strict=True)
    ]
    print(
        "| dense list | graph candidates | beam | top 10 the same | top 20 the same "
        "| top 10 as exact | top 20 as exact | nDCG@10 | Recall@100 | CPU ms |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    print(f"| exact | all | - | | | 1.000 | 1.000 | {quality(exact, wanted)} | |")
    for keep, candidates, beam in VARIANTS:
        graph = Index.restore(str(path), view=True, expansion_search=beam)
        assert graph is not None
        search = dense_search(index, graph, keep, candidates)
        same10 = same20 = exact10 = exact20 = 0
        seconds = 0.0
        orders = []
        for text, lists, vector, before, truth in zip(
            texts, lexical, vectors, today, exact, strict=True
        ):
            started = time.process_time()
            dense = search(vector)
            seconds += time.process_time() - started
            after = fused(engine, text, lists, dense)
            orders.append(after)
            same10 += after[:10] == before[:10]
            same20 += after[:20] == before[:20]
            exact10 += after[:10] == truth[:10]
            exact20 += after[:20] == truth[:20]
        n = len(texts)
        print(
            f"| top {keep} | {candidates} | {beam} | {same10 / n:.3f} | {same20 / n:.3f} "
            f"| {exact10 / n:.3f} | {exact20 / n:.3f} | {quality(orders, wanted)} "
            f"| {seconds * 1000 / n:.2f} |",
            flush=True,
        )
    engine.close()
    store.dispose()


if __name__ == "__main__":
    main()
