"""Benchmark of the dense half of search on the 74,728 real papers of the shared listing file.

Measures, in one process: the embedding job's throughput against the raw model call on the
same texts (the job's overhead: reading, batching, committing), query embedding latency,
and, over the vectors in the store, the ANN build (time, size), load, query latency and
recall@10 against exact search, and the memory of a process that has the index loaded.
With ``--full`` it first embeds all papers (about half an hour; resumable, so it can be
stopped and run again); without, the ANN figures are for whatever the store has.

    .venv/bin/python -m benchmarks.embed [--work DIR] [--full] [--sample N] [--no-write]
    .venv/bin/python -m benchmarks.embed --report   # rewrite the section from the last run
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import LISTING, machine, percentile, timed, write_section
from dailypapers.index.dense.ann import (
    HNSW_OPTIONS,
    SEARCH_EXPANSION,
    DenseIndex,
    build_dense_index,
    index_root,
    load_dense_index,
)
from dailypapers.index.dense.embedder import OnnxEmbedder, load_builtin
from dailypapers.index.dense.vectors import document_text, embed_papers
from dailypapers.ingest.files import JsonLinesSource
from dailypapers.ingest.run import ingest
from dailypapers.search.query import Filters
from dailypapers.settings import Settings
from dailypapers.store import Store, open_store
from dailypapers.store.documents import iter_documents
from dailypapers.store.papers import count_papers
from dailypapers.store.vectors import vector_stats

HEADING = "## Dense search (embeddings and ANN)"


def time_each(function: Callable[[Any], object], items: list[Any]) -> list[float]:
    """Seconds of ``function(item)`` for each item."""
    times = []
    for item in items:
        started = time.perf_counter()
        function(item)
        times.append(time.perf_counter() - started)
    return times


def latency_ms(values: list[float]) -> dict[str, float]:
    ms = [v * 1000 for v in values]
    return {"p50": percentile(ms, 0.5), "p99": percentile(ms, 0.99), "max": max(ms)}


def settings_for(work: Path) -> Settings:
    return Settings(mode="development", data_dir=work / "data", models_dir=work / "models")


def loaded_store(path: Path, limit: int | None = None) -> Store:
    """A SQLite store with the listing file (or its first ``limit`` papers) ingested."""
    store = open_store(f"sqlite:///{path}")
    with store.read() as connection:
        have = count_papers(connection).papers
    if have == 0:
        source = JsonLinesSource(LISTING)
        items = source if limit is None else _first(source, limit)
        ingest(store, "file", "listing", items)
    return store


def _first(items: Any, count: int) -> Any:
    for n, item in enumerate(items):
        if n >= count:
            return
        yield item


def overhead(work: Path, embedder: OnnxEmbedder, sample: int) -> dict[str, Any]:
    """The job against the raw model call on the same ``sample`` papers, warm, same batches."""
    path = work / "sample.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    store = loaded_store(path, sample)
    with store.read() as connection:
        texts = [document_text(d.title, d.abstract) for d in iter_documents(connection)]
    batch = settings_for(work).embedding_batch_size
    embedder.embed_documents(texts[:64])  # warm-up

    def raw() -> None:
        for start in range(0, len(texts), batch):
            embedder.embed_documents(texts[start : start + batch])

    raw_first, _ = timed(raw)
    job_seconds, summary = timed(lambda: embed_papers(store, embedder, batch_size=batch))
    raw_second, _ = timed(raw)
    store.dispose()
    raw_seconds = (raw_first + raw_second) / 2
    return {
        "papers": len(texts),
        "embedded": summary.embedded,
        "raw_per_s": len(texts) / raw_seconds,
        "job_per_s": len(texts) / job_seconds,
        "overhead": job_seconds / raw_seconds - 1,
        "mean_tokens": statistics.mean(
            len(e.ids) for e in embedder._tokenizer.encode_batch(texts[:500])
        ),
    }


def query_texts(store: Store, count: int) -> list[str]:
    with store.read() as connection:
        titles = [d.title for d in iter_documents(connection)]
    chosen = random.Random(7).sample(titles, count)
    # Half whole titles, half the first few words of one: search boxes get both.
    return [t if n % 2 else " ".join(t.split()[:4]) for n, t in enumerate(chosen)]


def query_latency(embedder: OnnxEmbedder, queries: list[str]) -> dict[str, float]:
    for query in queries[:20]:
        embedder.embed_query(query)
    return latency_ms(time_each(embedder.embed_query, queries))


def full_embedding(store: Store, embedder: OnnxEmbedder, results: dict[str, Any]) -> None:
    """Embed every paper, adding to the totals of earlier (killed) runs in ``results``."""
    done = results.setdefault("full", {"embedded": 0, "seconds": 0.0})

    def progress(count: int, total: int) -> None:
        print(f"  embedded {count:,} of {total:,}", file=sys.stderr, flush=True)

    summary = embed_papers(store, embedder, progress=progress)
    done["embedded"] += summary.embedded
    done["seconds"] += summary.seconds
    done["remaining"] = summary.remaining


@dataclass(frozen=True)
class _Row:
    """A paper as the dense index's filters see it (only ``has_code`` varies here)."""

    has_code: bool
    day: date | None = None
    categories: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()


def ann(store: Store, embedder: OnnxEmbedder, work: Path, queries: list[str]) -> dict[str, Any]:
    settings = settings_for(work)
    root = index_root(settings, embedder.name)
    model, dims = embedder.name, embedder.dimensions
    build_s, index = timed(
        lambda: build_dense_index(
            store, model, root, exact_below=settings.dense_exact_below, dimensions=dims
        )
    )
    build_dir = next(p for p in root.glob("build-*") if p.is_dir())
    size = sum(f.stat().st_size for f in build_dir.iterdir())
    load_s, loaded = timed(lambda: load_dense_index(root, model=model, dimensions=dims))
    vectors = [embedder.embed_query(q) for q in queries]
    exact = DenseIndex(model, loaded.ids, np.asarray(loaded.vectors))
    for v in vectors[:20]:
        loaded.search(v, 10)
    ann_times, recalls = [], []
    for v in vectors:
        started = time.perf_counter()
        hits = loaded.search(v, 10)
        ann_times.append(time.perf_counter() - started)
        truth = {i for i, _ in exact.search(v, 10)}
        recalls.append(len(truth & {i for i, _ in hits}) / 10)
    exact_times = time_each(lambda v: exact.search(v, 10), vectors[:200])
    rng = random.Random(3)
    filters = {}
    for share in (0.05, 0.5):
        # A share of the papers "has code": the filter then keeps that share of the rows.
        chosen = set(rng.sample(loaded.ids, int(len(loaded.ids) * share)))
        loaded.with_rows({i: _Row(i in chosen) for i in loaded.ids})
        search = functools.partial(loaded.search, k=10, filters=Filters(has_code=True))
        filters[f"{int(share * 100)}%"] = latency_ms(time_each(search, vectors[:200]))
    papers = rng.sample(loaded.ids, 200)
    similar = time_each(lambda p: loaded.similar(p, 10), papers)
    return {
        "count": len(index),
        "kind": "hnsw" if loaded.graph is not None else "exact",
        "build_s": build_s,
        "size_mb": size / 1e6,
        "load_s": load_s,
        "search": latency_ms(ann_times),
        "exact": latency_ms(exact_times),
        "recall10": statistics.mean(recalls),
        "filtered": filters,
        "similar": latency_ms(similar),
        "rss": rss_with_index(work, model, dims),
    }


RSS_PROBE = """
import json, sys, resource
from pathlib import Path
def rss():
    fields = dict(l.split(':', 1) for l in open('/proc/self/status'))
    return int(fields['VmRSS'].split()[0]) / 1024
base = rss()
from dailypapers.index.dense.ann import load_dense_index
from dailypapers.index.dense.embedder import load_builtin
from dailypapers.settings import Settings
s = Settings(mode='development', data_dir=Path(sys.argv[1]) / 'data',
             models_dir=Path(sys.argv[1]) / 'models')
index = load_dense_index(Path(sys.argv[2]), model=sys.argv[3], dimensions=int(sys.argv[4]))
index.search(index.vectors[0], 10)
with_index = rss()
embedder = load_builtin('all-MiniLM-L6-v2', s)
index.search(embedder.embed_query('graph neural networks for molecules'), 10)
print(json.dumps({'python': base, 'index': with_index, 'index_and_model': rss()}))
"""


def rss_with_index(work: Path, model: str, dims: int) -> dict[str, float]:
    """RSS in MB of a fresh process: bare, with the index loaded, and with the model too."""
    root = index_root(settings_for(work), model)
    command = [sys.executable, "-c", RSS_PROBE, str(work), str(root), model, str(dims)]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    measured: dict[str, float] = json.loads(output)
    return measured


def machine_line() -> str:
    return machine(f"onnxruntime {version('onnxruntime')}, usearch {version('usearch')}")


def section(results: dict[str, Any]) -> str:
    o, q, full, a = results["overhead"], results["query"], results.get("full"), results["ann"]
    lines = [
        HEADING,
        "",
        "`python -m benchmarks.embed`"
        + (" (all papers embedded by its `--full` run)" if full else "")
        + f", {results['date']}, on "
        f"{results['machine']}; load average {results['load']:.1f} when it started (other "
        "work shared the 2 cores). Model: built-in all-MiniLM-L6-v2, int8 ONNX, "
        f"{results['threads']} threads; texts are title + abstract, "
        f"{o['mean_tokens']:.0f} tokens on average, cut at 256.",
        "",
        f"- Embedding {o['papers']:,} papers, warm: raw model call {o['raw_per_s']:.1f} "
        f"papers/s, the indexing job (read, embed, commit per 256) {o['job_per_s']:.1f} "
        f"papers/s: overhead {o['overhead'] * 100:+.1f}% (target at most +10%).",
    ]
    if full:
        lines.append(
            f"- All papers: {full['embedded']:,} embedded in {full['seconds'] / 60:.1f} min "
            f"({full['embedded'] / full['seconds']:.1f} papers/s; the `--full` run, during "
            "which other jobs often had one of the two cores)."
        )
    lines += [
        f"- Query embedding ({q['n']} queries, warm, one at a time): p50 {q['p50']:.2f} ms, "
        f"p99 {q['p99']:.2f} ms. Loading the model (already built): {results['load_s']:.2f} s; "
        f"first build of the int8 ONNX file from the packaged weights: {results['build_s']:.1f} s.",
        f"- ANN over {a['count']:,} vectors ({a['kind']}; HNSW over int8 copies, M="
        f"{HNSW_OPTIONS['connectivity']}, expansion {HNSW_OPTIONS['expansion_add']} on add, "
        f"{HNSW_OPTIONS['expansion_search']} on search, the beam's {SEARCH_EXPANSION} "
        f"candidates (at least k) re-scored in float32): build from the store "
        f"{a['build_s']:.1f} s, "
        f"{a['size_mb']:.0f} MB on disk, load with checksums {a['load_s']:.2f} s.",
        f"- Search top 10 for {results['n_search']:,} queries (titles and first four words of "
        f"titles of random papers, embedded as queries): p50 {a['search']['p50']:.2f} ms, p99 "
        f"{a['search']['p99']:.2f} ms, recall@10 against exact {a['recall10']:.3f}; exact "
        f"numpy search p50 {a['exact']['p50']:.2f} ms. Filtered to 5% of papers: p50 "
        f"{a['filtered']['5%']['p50']:.2f} ms; to 50%: p50 {a['filtered']['50%']['p50']:.2f} "
        f"ms. `similar` p50 {a['similar']['p50']:.2f} ms.",
        f"- Memory (RSS) of a fresh process: {a['rss']['python']:.0f} MB bare, "
        f"{a['rss']['index']:.0f} MB with the index loaded, {a['rss']['index_and_model']:.0f} "
        "MB with the model too.",
    ]
    if not full:
        lines.append(
            "- Not all papers had vectors: the ANN figures are for the subset in the store."
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/dailypapers-bench-embed"))
    parser.add_argument("--full", action="store_true", help="embed all papers first")
    parser.add_argument("--sample", type=int, default=1000, help="papers for the overhead")
    parser.add_argument("--no-write", action="store_true", help="print, leave BENCHMARKS.md")
    parser.add_argument("--report", action="store_true", help="only rewrite the section")
    args = parser.parse_args()
    work: Path = args.work
    work.mkdir(parents=True, exist_ok=True)
    results_path = work / "results.json"
    results: dict[str, Any] = json.loads(results_path.read_text()) if results_path.exists() else {}
    if args.report:  # from the figures of the last run, in WORK/results.json
        write_section(HEADING, section(results))
        return
    results.update(load=os.getloadavg()[0], machine=machine_line())
    results["date"] = datetime.now(UTC).date().isoformat()
    settings = settings_for(work)
    first_build = not list((work / "models").glob("*/model.onnx"))
    seconds, embedder = timed(lambda: load_builtin("all-MiniLM-L6-v2", settings))
    if first_build:
        results["build_s"] = seconds
    results["load_s"], _ = timed(lambda: load_builtin("all-MiniLM-L6-v2", settings))
    results["threads"] = settings.embedding_threads or os.cpu_count()
    store = loaded_store(work / "papers.sqlite3")
    queries = query_texts(store, 1000)
    results["query"] = query_latency(embedder, queries[:500]) | {"n": 500}
    results["overhead"] = overhead(work, embedder, args.sample)
    print(json.dumps(results, indent=2), flush=True)
    if args.full:
        full_embedding(store, embedder, results)
        results_path.write_text(json.dumps(results, indent=2))
    with store.read() as connection:
        if vector_stats(connection, embedder.name).count == 0:
            embed_papers(store, embedder, limit=args.sample)
    results["ann"] = ann(store, embedder, work, queries)
    results["n_search"] = len(queries)
    results_path.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    if not args.no_write:
        write_section(HEADING, section(results))


if __name__ == "__main__":
    main()
