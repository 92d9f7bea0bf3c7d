"""The dense index's HNSW graph in other forms: size, recall of the top 100, CPU per search.

Run over a data dir whose papers are embedded and indexed (HNSW: 20,000 papers or more)::

    .venv/bin/python -m benchmarks.dense_graph --work DIR --graphs SCRATCH
        [--queries 1000] [--timed 300] [--rounds 5] [--pollute 64] [--variant NAME ...]

The queries are the lexical benchmark's 1,000 generated ones, embedded once (kept in
``SCRATCH/queries-N.npy``). Each variant of :data:`VARIANTS` is a graph built from the
index's vectors (kept in ``SCRATCH``: built once, about a minute each on 2 cores) and searched
as ``DenseIndex.search`` searches without filters: the whole beam and the graph's
unreachable rows (found as a build finds them) re-scored exactly in float32, top 100.
``today`` is the data dir's own graph and search. For each variant it prints the graph's
bytes, the recall of its top 100 against exact search's and against today's, the share of
queries whose top 10 and top 100 equal today's in order, and the median over rounds of the
thread CPU per search (``time.thread_time``; the variants take turns in a shuffled order each
round, and ``--pollute`` MB are read between two searches, as a search page's other work
evicts the graph from the caches). Prints Markdown; writes only in ``SCRATCH``.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from usearch.index import Index

from benchmarks.lexical import make_queries
from dailypapers.index.dense import ann
from dailypapers.search.engine import DEPTH
from dailypapers.search.service import open_engine
from dailypapers.settings import Settings
from dailypapers.store import open_store
from dailypapers.store.documents import iter_documents

Rows = list[int]
Quantise = Callable[[ann.Matrix], npt.NDArray[np.generic]]


@dataclass(frozen=True)
class Variant:
    """A graph (scalar kind, connectivity, how its int8 copies are made) and the beam it is
    searched with (usearch's: the larger of it and the ``DEPTH`` asked)."""

    name: str
    dtype: str = "i8"
    connectivity: int = 16
    expansion_add: int = 128
    beam: int = ann.SEARCH_EXPANSION
    scaled: bool = False  # int8 copies scaled per vector (see ``row_copies``)
    float_query: bool = False  # with ``scaled``: the query cast by usearch, not scaled
    clustered: bool = False  # rows added grouped by their nearest of 256 sampled rows

    @property
    def graph_key(self) -> str:
        scaled = "-scaled" if self.scaled else ""
        order = "-clustered" if self.clustered else ""
        return f"{self.dtype}{scaled}-m{self.connectivity}-add{self.expansion_add}{order}"


VARIANTS = (
    Variant("i8 (today's options, rebuilt)"),
    Variant("f16", dtype="f16"),
    Variant("bf16", dtype="bf16"),
    Variant("i8 scaled", scaled=True),
    Variant("i8 scaled, query cast by usearch", scaled=True, float_query=True),
    Variant("i8, m 12", connectivity=12),
    Variant("i8, m 8", connectivity=8),
    Variant("i8 scaled, m 12", scaled=True, connectivity=12),
    Variant("i8 scaled, m 8", scaled=True, connectivity=8),
    Variant("i8 scaled, m 8, beam 128", scaled=True, connectivity=8, beam=128),
    Variant("i8, rows added by cluster", clustered=True),
    Variant("i8 scaled, m 12, add 256", scaled=True, connectivity=12, expansion_add=256),
    Variant("i8 scaled, m 8, add 256", scaled=True, connectivity=8, expansion_add=256),
)


def row_copies(vectors: ann.Matrix) -> npt.NDArray[np.int8]:
    """Each row times 127 over its largest magnitude, rounded. usearch's own cast of a float
    vector for an int8 cosine graph is 127 times the unit vector, truncated: most values of
    a 384-dimension unit vector are below 0.1, so it keeps 3 or 4 bits of each; these keep
    about 7, and cosine does not see the scale (branch ``ann18-scaled-copies`` serves them)."""
    peaks = np.maximum(np.abs(vectors).max(axis=1, keepdims=True), np.float32(1e-12))
    copies: npt.NDArray[np.int8] = np.rint(vectors * (np.float32(127) / peaks)).astype(np.int8)
    return copies


def query_copy(vector: ann.Matrix) -> npt.NDArray[np.int8]:
    """:func:`row_copies` of one vector, in fewer numpy calls (timed with the search)."""
    peak = max(float(np.abs(vector).max()), 1e-12)
    copy: npt.NDArray[np.int8] = np.rint(vector * np.float32(127 / peak)).astype(np.int8)
    return copy


def quantiser(variant: Variant, *, query: bool = False) -> Quantise:
    """What the variant's graph is given for rows (or, with ``query``, one unit query)."""
    if not variant.scaled or (query and variant.float_query):
        return _as_given
    return query_copy if query else row_copies


def _as_given(vectors: ann.Matrix) -> ann.Matrix:
    return vectors


def clustered_order(vectors: ann.Matrix) -> npt.NDArray[np.intp]:
    """The rows grouped by their nearest of 256 sampled rows (usearch gives rows slots in
    the order they are added: neighbours then lie near each other in memory)."""
    centres = vectors[np.random.default_rng(0).choice(len(vectors), 256, replace=False)]
    nearest = np.concatenate(
        [(vectors[i : i + 8192] @ centres.T).argmax(axis=1) for i in range(0, len(vectors), 8192)]
    )
    return np.argsort(nearest, kind="stable")


def build(variant: Variant, vectors: ann.Matrix, scratch: Path) -> Path:
    """The variant's graph file in ``scratch`` (built and saved the first time)."""
    path = scratch / f"{variant.graph_key}.usearch"
    if not path.exists():
        started = time.perf_counter()
        options = {**ann.HNSW_OPTIONS, "dtype": variant.dtype}
        options["connectivity"] = variant.connectivity
        options["expansion_add"] = variant.expansion_add
        graph = Index(ndim=vectors.shape[1], **options)
        keys = clustered_order(vectors) if variant.clustered else np.arange(len(vectors))
        graph.add(keys.astype(np.uint64), quantiser(variant)(vectors[keys]), threads=0)
        graph.save(str(path))
        print(f"built {path.name} in {time.perf_counter() - started:.1f} s", flush=True)
    return path


def orphans(variant: Variant, vectors: ann.Matrix, scratch: Path) -> frozenset[int]:
    """The rows a search from their own vector misses, as a build finds them (depth
    ``SIMILAR_EXPANSION``, ``(SIMILAR_KEPT + 1) * OVERSAMPLE`` candidates); kept in ``scratch``."""
    path = scratch / f"{variant.graph_key}.orphans.npy"
    if not path.exists():
        file = str(scratch / f"{variant.graph_key}.usearch")
        graph = Index.restore(file, view=True, expansion_search=ann.SIMILAR_EXPANSION)
        assert graph is not None
        wanted = (ann.SIMILAR_KEPT + 1) * ann.OVERSAMPLE
        missed: list[int] = []
        quantise = quantiser(variant)
        for start in range(0, len(vectors), ann.NEIGHBOURS_BATCH):
            batch = vectors[start : start + ann.NEIGHBOURS_BATCH]
            found = graph.search(quantise(batch), count=wanted, threads=0)
            keys = np.asarray(found.keys).reshape(len(batch), -1)
            rows = np.arange(start, start + len(batch))
            missed += rows[~(keys == rows[:, None]).any(axis=1)].tolist()
        np.save(path, np.array(missed, dtype=np.int64))
    return frozenset(np.load(path).tolist())


def searcher(
    graph: Index, vectors: ann.Matrix, unreachable: frozenset[int], quantise: Quantise
) -> Callable[[ann.Matrix], Rows]:
    """``DenseIndex._beam`` over another graph: the top ``DEPTH`` rows of a unit query."""

    def search(query: ann.Matrix) -> Rows:
        found = graph.search(quantise(query), count=max(DEPTH, graph.expansion_search))
        rows = sorted(unreachable.union(found.keys.tolist()))
        scores = vectors[rows] @ query
        best = ann._top(scores, DEPTH)
        return [rows[i] for i in best.tolist()]

    return search


def query_vectors(work: Path, scratch: Path, count: int) -> ann.Matrix:
    """The unit vectors of the first ``count`` generated queries (embedded once, kept)."""
    path = scratch / f"queries-{count}.npy"
    if not path.exists():
        settings = Settings(mode="development", data_dir=work, index_after_ingest=False)
        store = open_store(settings.resolved_database_url)
        with store.read() as connection:
            documents = list(iter_documents(connection))
        texts = [text for _kind, text, _paper in make_queries(documents)[:count]]
        engine = open_engine(store, settings)
        assert engine.embedder is not None
        matrix = np.stack([engine.embedder.embed_query(text) for text in texts])
        np.save(path, ann._normalised(matrix))
        engine.close()
        store.dispose()
    loaded: ann.Matrix = np.load(path)
    return loaded


def recall(found: list[Rows], truth: list[Rows]) -> float:
    return statistics.fmean(
        len(set(a) & set(b)) / len(b) for a, b in zip(found, truth, strict=True)
    )


def same(found: list[Rows], truth: list[Rows], depth: int) -> float:
    return statistics.fmean(a[:depth] == b[:depth] for a, b in zip(found, truth, strict=True))


def timed_rounds(
    searches: dict[str, Callable[[ann.Matrix], Rows]],
    queries: ann.Matrix,
    rounds: int,
    pollute_mb: int,
) -> dict[str, list[float]]:
    """Median ms of thread CPU per search of each variant, one figure per round."""
    junk = np.ones(pollute_mb * 2**20 // 8) if pollute_mb else None
    spent: dict[str, list[float]] = {name: [] for name in searches}
    order = list(searches)
    for _ in range(rounds):
        random.shuffle(order)
        for name in order:
            search, times = searches[name], []
            for query in queries:
                if junk is not None:
                    junk.sum()
                started = time.thread_time()
                search(query)
                times.append(time.thread_time() - started)
            spent[name].append(statistics.median(times) * 1000)
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", type=Path, required=True, help="data dir, embedded")
    parser.add_argument("--graphs", type=Path, required=True, help="scratch dir for graphs")
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--timed", type=int, default=300, help="queries timed per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pollute", type=int, default=64, help="MB read between searches")
    parser.add_argument("--variant", action="append", help="only these (names), and today's")
    parser.add_argument(
        "--vectors",
        type=Path,
        help="unit vectors (.npy) to index instead of the data dir's dense index (which it "
        "then need not have); today's is then the first variant (today's options, rebuilt)",
    )
    options = parser.parse_args()
    options.graphs.mkdir(parents=True, exist_ok=True)
    queries = query_vectors(options.work, options.graphs, options.queries)
    settings = Settings(mode="development", data_dir=options.work, index_after_ingest=False)
    searches: dict[str, Callable[[ann.Matrix], Rows]] = {}
    sizes: dict[str, tuple[int, int]] = {}
    wanted = [v for v in VARIANTS if not options.variant or v.name in options.variant]
    if options.vectors is None:
        index = load_today(settings)
        assert index.graph is not None and index.params is not None
        vectors = np.ascontiguousarray(index.vectors)
        searches["today"] = lambda query: [index.position[i] for i, _ in index.search(query, DEPTH)]
        sizes["today"] = (index.params["files"][ann.HNSW]["bytes"], len(index.orphans))
    else:
        vectors = np.load(options.vectors)
        wanted = [VARIANTS[0], *(v for v in wanted if v != VARIANTS[0])]
    exact = [ann._top(vectors @ query, DEPTH).tolist() for query in queries]
    for variant in wanted:
        path = build(variant, vectors, options.graphs)
        graph = Index.restore(str(path), view=True, expansion_search=variant.beam)
        assert graph is not None
        unreachable = orphans(variant, vectors, options.graphs)
        quantise = quantiser(variant, query=True)
        searches[variant.name] = searcher(graph, vectors, unreachable, quantise)
        sizes[variant.name] = (path.stat().st_size, len(unreachable))
    found = {name: [search(query) for query in queries] for name, search in searches.items()}
    spent = timed_rounds(searches, queries[: options.timed], options.rounds, options.pollute)
    print(
        f"\n{len(queries)} queries; CPU: {options.timed} of them, {options.rounds} rounds, "
        f"{options.pollute} MB read between searches\n"
    )
    print(
        "| graph | MB | unreachable | recall@100 vs exact | vs today | top 10 as today "
        "| top 100 as today | ms a search (median of rounds) | rounds |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    today = next(iter(found.values()))
    for name in searches:
        rows = found[name]
        size, lost = sizes[name]
        figures = ", ".join(f"{ms:.3f}" for ms in spent[name])
        print(
            f"| {name} | {size / 2**20:.1f} | {lost} | {recall(rows, exact):.4f} "
            f"| {recall(rows, today):.4f} | {same(rows, today, 10):.3f} "
            f"| {same(rows, today, 100):.3f} | {statistics.median(spent[name]):.3f} | {figures} |"
        )


def load_today(settings: Settings) -> ann.DenseIndex:
    """The data dir's dense index as the site serves it."""
    root = next((settings.data_dir / "index").glob("dense-*"))
    _build, params = ann.read_params(root)
    return ann.load_dense_index(root, model=params["model"], dimensions=params["dimensions"])


if __name__ == "__main__":
    main()
