"""Hybrid search benchmark: latency on the 74,728 listed papers, quality on BEIR SciFact.

Run (after the papers are ingested and embedded in WORK, which it does itself if needed;
embedding every paper takes about half an hour and resumes where it stopped)::

    .venv/bin/python -m benchmarks.search [--work DIR] [--database-url URL] [--no-write]

Latency: 1,000 generated queries (titles, keywords, phrases, questions, typo'd titles; the
lexical benchmark's generator), warm (one pass first), in one process. Each query is timed
through the whole engine in hybrid, lexical and dense mode, and its parts alone in the same
run: the query embedding, the lexical search, the ANN search; the report gives the ratio of
hybrid to the sum of its parts (below 1 when the embedding overlaps the keyword search).
Quality: ``dailypapers eval beir`` on SciFact's train split, every fusion function. Writes
the "Hybrid search" section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import resource
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.common import LISTING, SCIFACT, machine, percentile, timed, write_section
from benchmarks.lexical import make_queries
from dailypapers.index.dense.embedder import load_embedder
from dailypapers.index.job import run_index
from dailypapers.ingest.files import JsonLinesSource
from dailypapers.ingest.run import ingest
from dailypapers.search.beir import load_beir
from dailypapers.search.engine import DEPTH, SearchEngine
from dailypapers.search.evaluate import evaluate
from dailypapers.search.fusion import FUSIONS
from dailypapers.search.query import Filters, Mode, SearchRequest
from dailypapers.search.service import open_engine, search_config
from dailypapers.settings import Settings
from dailypapers.store import Store, open_store
from dailypapers.store.documents import iter_documents
from dailypapers.store.papers import count_papers

HEADING = "## Hybrid search"
MODES: tuple[Mode, ...] = ("hybrid", "lexical", "dense")
TARGET_P50_MS, TARGET_P99_MS = 10.0, 40.0


def prepared_store(settings: Settings) -> Store:
    """The listing file ingested and fully indexed (resumes a half-done embedding run)."""
    store = open_store(settings.resolved_database_url)
    with store.read() as connection:
        papers = count_papers(connection).papers
    if papers == 0:
        ingest(store, "file", str(LISTING), JsonLinesSource(LISTING))
    summary = run_index(store, settings, progress=_progress)
    print(summary.line(), flush=True)
    return store


def _progress(step: str, done: int, total: int | None) -> None:
    if done % 5000 < 300:
        print(f"{step}: {done}/{total or '?'}", flush=True)


def _ms(values: list[float]) -> dict[str, float]:
    return {"p50": percentile(values, 0.5) * 1000, "p99": percentile(values, 0.99) * 1000}


def _time_all(engine: SearchEngine, text: str, vector: Any) -> dict[str, float]:
    """Seconds of each mode through the engine, and of each part alone, for one query."""
    embedder, lexical, dense = engine.embedder, engine.lexical, engine.dense
    assert embedder is not None and lexical is not None and dense is not None
    seconds: dict[str, float] = {
        mode: timed(lambda: engine.search(SearchRequest(text=text, mode=mode)))[0]  # noqa: B023
        for mode in MODES
    }
    with_snippets = SearchRequest(text=text, limit=10, snippets=True)
    seconds["snippets"] = timed(lambda: engine.search(with_snippets))[0]
    seconds["embed"] = timed(lambda: embedder.embed_query(text))[0]
    seconds["bm25"] = timed(lambda: lexical.search(text, DEPTH, Filters()))[0]
    seconds["ann"] = timed(lambda: dense.search(vector, DEPTH))[0]
    return seconds


def latency(engine: SearchEngine, texts: list[str]) -> dict[str, dict[str, float]]:
    assert engine.embedder is not None
    vectors = [engine.embedder.embed_query(text) for text in texts]
    for text in texts:  # the warm-up pass
        engine.search(SearchRequest(text=text))
    runs = [_time_all(engine, text, vector) for text, vector in zip(texts, vectors, strict=True)]
    parts = [run["embed"] + run["bm25"] + run["ann"] for run in runs]
    result = {name: _ms([run[name] for run in runs]) for name in runs[0]}
    result["parts"] = _ms(parts)
    result["ratio"] = {"mean": sum(run["hybrid"] for run in runs) / sum(parts)}
    return result


def quality(settings: Settings) -> dict[str, Any]:
    dataset = load_beir(SCIFACT, "train")
    embedder = load_embedder(settings)
    reports = {}
    for fusion in FUSIONS:
        config = search_config(settings)
        config.fusion = fusion
        reports[fusion] = evaluate(dataset, embedder, settings, config)["modes"]
    return reports


def section(figures: dict[str, Any], q: dict[str, Any], papers: int, rss_mb: float) -> str:
    h = figures["hybrid"]
    ok = h["p50"] <= TARGET_P50_MS and h["p99"] <= TARGET_P99_MS
    lines = [
        HEADING,
        "",
        f"`python -m benchmarks.search`, {datetime.now(UTC):%Y-%m-%d}, on {machine()}; "
        f"load average {os.getloadavg()[0]:.1f} at the end.",
        "",
        f"Latency over {papers:,} papers, 1,000 generated queries, top {DEPTH} per list, warm, "
        "one process, in milliseconds (query embedding included in hybrid and dense):",
        "",
        "| what | p50 | p99 |",
        "| --- | --- | --- |",
    ]
    names = {
        "hybrid": "hybrid search (whole engine)",
        "snippets": "hybrid search, 10 hits with highlighted snippets (a results page)",
        "lexical": "lexical search (engine)",
        "dense": "dense search (engine)", "embed": "query embedding alone",
        "bm25": "BM25 index alone", "ann": "ANN index alone",
        "parts": "embedding + BM25 + ANN, summed per query",
    }  # fmt: skip
    lines += [
        f"| {label} | {figures[k]['p50']:.2f} | {figures[k]['p99']:.2f} |"
        for k, label in names.items()
    ]
    lines += [
        "",
        f"- Hybrid over the sum of its parts (total time): {figures['ratio']['mean']:.2f} "
        "(the query embedding runs in its thread while the keyword search runs, so a hybrid "
        "query can cost less than its parts summed).",
        f"- Target hybrid p50 ≤ {TARGET_P50_MS:g} ms and p99 ≤ {TARGET_P99_MS:g} ms: "
        f"{'met' if ok else 'NOT met'}.",
        f"- Peak RSS of this process with the catalog, both indexes and the model loaded: "
        f"{rss_mb:.0f} MB.",
        "",
        "Quality on BEIR SciFact, train split (809 claims; the published figures are for the "
        "300-claim test split, which is not on hand), nDCG@10 / Recall@100:",
        "",
        "| fusion | lexical | dense | hybrid |",
        "| --- | --- | --- | --- |",
    ]
    for fusion, modes in q.items():
        cells = [
            f"{modes[m]['ndcg@10']:.4f} / {modes[m]['recall@100']:.4f}"
            for m in ("lexical", "dense", "hybrid")
        ]
        lines.append(f"| {fusion} | {' | '.join(cells)} |")
    lines += [
        "",
        "Published SciFact test figures for reference: BM25 0.665 to 0.679, all-MiniLM-L6-v2 "
        "about 0.645, bge-small-en-v1.5 0.713, BGE-base 0.741 (nDCG@10).",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/dailypapers-bench-search"))
    parser.add_argument("--database-url", help="use papers already stored (and embedded) there")
    parser.add_argument("--no-write", action="store_true", help="print, do not edit BENCHMARKS.md")
    args = parser.parse_args()
    if not LISTING.is_file():
        raise SystemExit(f"skipped: {LISTING} not found")
    settings = Settings(mode="development", data_dir=args.work, database_url=args.database_url)
    store = prepared_store(settings)
    engine = open_engine(store, settings)
    with store.read() as connection:
        documents = list(iter_documents(connection))
    texts = [text for _kind, text, _id in make_queries(documents)]
    del documents
    figures = latency(engine, texts)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    text = section(figures, quality(settings), len(engine.catalog), rss_mb)
    print(text)
    if not args.no_write:
        write_section(HEADING, text)


if __name__ == "__main__":
    main()
