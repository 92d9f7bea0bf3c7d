"""Benchmark of the lexical index on the 74,728 real papers of the shared listing file.

Loads the file into a temporary SQLite store with the real ingest (or reuses ``--db``),
builds the index from the store, and times 1,000 queries made deterministically from the
papers (titles, keyword sets, quoted bigrams, questions, titles with a typo), warm, in one
process; then nDCG@10 of lexical search alone on BEIR SciFact. Writes its own "Lexical
search" section of BENCHMARKS.md.

    .venv/bin/python -m benchmarks.lexical [--db PATH] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import statistics
import tempfile
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

import ir_measures

from benchmarks.common import LISTING, SCIFACT, machine, percentile, timed, write_section
from dailypapers.index.lexical.index import LexicalIndex, build, build_from_store
from dailypapers.ingest.files import JsonLinesSource
from dailypapers.ingest.run import ingest
from dailypapers.search.beir import load_beir
from dailypapers.search.evaluate import MEASURES, beir_documents
from dailypapers.store import Store, open_store
from dailypapers.store.documents import Document, iter_documents

HEADING = "## Lexical search"
K = 100
STOP = set(
    "a an and are as at be but by for from how if in into is it its no not of on or our such "
    "that the their then there these they this to via was we what when which why will with"
    .split()
)  # fmt: skip

Query = tuple[str, str, str]  # kind, text, the paper it came from


def content_words(text: str) -> list[str]:
    return [w for w in re.findall(r"[A-Za-z][A-Za-z-]{3,}", text) if w.lower() not in STOP]


def with_typo(title: str) -> str:
    words = title.split()
    n = max(range(len(words)), key=lambda i: len(words[i]))
    word = words[n]
    if len(word) >= 5:
        words[n] = word[:2] + word[3] + word[2] + word[4:]
    return " ".join(words)


def make_queries(documents: list[Document]) -> list[Query]:
    """1,000 queries of five kinds, the same on every run."""
    rng = random.Random(20250101)
    queries: list[Query] = []
    for d in documents[::75][:250]:
        queries.append(("title", d.title, d.id))
    for d in documents[37::75][:250]:
        words = content_words(d.title) or d.title.split()
        picked = rng.sample(words, min(len(words), rng.randint(2, 4)))
        queries.append(("keywords", " ".join(picked).lower(), d.id))
    for d in documents[11::75][:200]:
        words = content_words(d.abstract) or ["model", "training"]
        at = rng.randrange(max(1, len(words) - 1))
        extra = f" {rng.choice(content_words(d.title) or ['learning'])}" if at % 2 else ""
        queries.append(("phrase", f'"{" ".join(words[at : at + 2])}"{extra}'.lower(), d.id))
    templates = ("how do {} work", "what is {}", "why does {} fail", "{} for beginners")
    for d in documents[53::75][:150]:
        words = content_words(d.title) or ["attention"]
        topic = " ".join(words[: rng.randint(1, 3)]).lower()
        queries.append(("question", rng.choice(templates).format(topic), d.id))
    for d in documents[29::75][:150]:
        queries.append(("typo title", with_typo(d.title), d.id))
    return queries


def scifact(work: Path) -> tuple[float, float, int]:
    """nDCG@10 and recall@100 of lexical search alone on SciFact's train claims."""
    dataset = load_beir(SCIFACT, "train")
    index = build(work / "scifact", beir_documents(dataset))
    run = {
        query: {paper: score for paper, score in index.search(text, K)}
        for query, text in dataset.queries.items()
    }
    scores = ir_measures.calc_aggregate(MEASURES.values(), dataset.qrels, run)
    return scores[MEASURES["ndcg@10"]], scores[MEASURES["recall@100"]], len(dataset.queries)


def load_store(db: Path | None, work: Path) -> tuple[Store, float | None]:
    if db is not None:
        return open_store(f"sqlite:///{db}"), None
    store = open_store(f"sqlite:///{work / 'bench.sqlite3'}")
    seconds, _ = timed(lambda: ingest(store, "file", "listing", JsonLinesSource(LISTING)))
    return store, seconds


def machine_line() -> str:
    return machine(f"tantivy {version('tantivy')}")


def run(db: Path | None) -> str:
    load = os.getloadavg()[0]  # other work on the machine skews the tail latencies
    with tempfile.TemporaryDirectory() as work_dir:
        work = Path(work_dir)
        store, ingest_seconds = load_store(db, work)
        with store.read() as connection:
            read_seconds, documents = timed(lambda: list(iter_documents(connection)))
        path = work / "lexical"
        build_seconds, _ = timed(lambda: build_from_store(store, path))
        size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
        open_seconds, index = timed(lambda: LexicalIndex.open(path))
        queries = make_queries(documents)
        for _kind, text, _paper in queries:  # warm the page cache and the term dictionaries
            index.search(text, K)
        latencies: dict[str, list[float]] = {}
        firsts: dict[str, int] = {}
        for kind, text, paper in queries:
            start = time.perf_counter()
            hits = index.search(text, K)
            latencies.setdefault(kind, []).append((time.perf_counter() - start) * 1000)
            firsts[kind] = firsts.get(kind, 0) + (bool(hits) and hits[0][0] == paper)
        update_seconds, _ = timed(lambda: index.update(documents[:1000]))
        store.dispose()
        ndcg, recall, claims = scifact(work)
    latencies["all"] = [ms for values in latencies.values() for ms in values]
    rows = [
        f"| {kind} | {len(values)} | {statistics.median(values):.2f} | "
        f"{percentile(values, 0.99):.2f} | {max(values):.2f} | "
        + (f"{firsts[kind] / len(values):.0%} |" if kind in firsts else "– |")
        for kind, values in latencies.items()
    ]
    ingest_line = (
        f"ingest of the file into SQLite {ingest_seconds:.1f} s; " if ingest_seconds else ""
    )
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return "\n".join(
        [
            HEADING,
            "",
            f"`python -m benchmarks.lexical`, {datetime.now(UTC):%Y-%m-%d}, on {machine_line()}; "
            f"load average {load:.1f} when it started.",
            "",
            f"- Papers: {len(documents):,} ({LISTING.name}); {ingest_line}"
            f"reading them from the store {read_seconds:.1f} s.",
            f"- Full build from the store (read + index + commit): {build_seconds:.1f} s; "
            f"index size {size / 1024**2:.0f} MB; open (with integrity probe) "
            f"{open_seconds * 1000:.0f} ms.",
            f"- Incremental update of 1,000 papers (delete + add, one commit): "
            f"{update_seconds:.2f} s.",
            f"- Peak memory of the whole run (RSS): {peak_mb:.0f} MB.",
            f"- Quality, lexical search alone, BEIR SciFact train ({claims} claims): "
            f"nDCG@10 {ndcg:.4f}, recall@{K} {recall:.4f} (published BM25 on the test split: "
            "0.665 to 0.679 nDCG@10, see its PROVENANCE.md).",
            "",
            f"Search latency, top {K}, warm (one pass first), one process, one thread, "
            'in milliseconds; "first" is the share of queries whose own paper came first:',
            "",
            "| queries | n | p50 | p99 | max | first |",
            "| --- | --- | --- | --- | --- | --- |",
            *rows,
            "",
            "Queries are made from the papers: every 75th title (title), 2 to 4 words of a "
            "title (keywords), a quoted bigram of an abstract, sometimes with a title word "
            '(phrase), "how do ... work"-style questions (question), and titles with two '
            "letters of their longest word swapped (typo title). A keyword, phrase or "
            "question query is not meant to find its source paper first.",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="an SQLite store that already holds the papers")
    parser.add_argument("--no-write", action="store_true", help="print, do not edit the report")
    args = parser.parse_args()
    section = run(args.db)
    print(section)
    if not args.no_write:
        write_section(HEADING, section)


if __name__ == "__main__":
    main()
