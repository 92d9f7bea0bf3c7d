"""Speed of a saved-search alert run: 10,000 saved searches against a day's 500 new papers.

The day's papers are the newest 500 of the listing file (``../shared/data/arxiv-daily-
listings``), ingested into a fresh SQLite store and embedded (int8 MiniLM, not timed). The
saved searches are made from the titles of 10,000 older papers of the same file, as people
write them: one to three content words (seeded), a tenth with a category filter, a
twentieth with an excluded word; 1,000 members own ten each, and each query's vector is
made by the model as saving does (batched here, cached in ``data/bench/cache``).

Timed: :func:`dailypapers.alerts.service.run_alerts`, what the worker runs: reading the
alerts and the new papers, matching (keyword: tantivy in memory; semantic: one matrix
product) and writing every match, once. The baseline, in the same run over the same data,
is the plain way: every (alert, paper) pair checked in Python (are the query's stemmed words
a subset of the paper's, is the dot product above the threshold), without writing. Writes
the "Saved-search alerts: run time" section of BENCHMARKS.md. Run::

    .venv/bin/python -m benchmarks.alerts [--alerts 10000] [--papers 500] [--no-write]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import random
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from benchmarks.common import LISTING, ROOT, machine, write_section
from benchmarks.query_sets import content_words
from dailypapers.alerts import service
from dailypapers.alerts.matching import NewPapers, SavedSearch, match_all
from dailypapers.index.dense.embedder import load_embedder
from dailypapers.index.dense.vectors import embed_papers
from dailypapers.index.lexical.query import parse_query, terms
from dailypapers.index.lexical.schema import STEMMED
from dailypapers.ingest.files import JsonLinesSource
from dailypapers.ingest.run import ingest
from dailypapers.settings import Settings
from dailypapers.store import Store, open_store
from dailypapers.store import alerts as sql
from dailypapers.store.batches import utc_now
from dailypapers.store.schema import users

CACHE = ROOT / "data" / "bench" / "cache"
CATEGORIES = ("cs.CL", "cs.LG", "cs.CV", "cs.AI")


def _records(papers: int, alerts: int) -> tuple[list[str], list[dict[str, object]]]:
    """The newest ``papers`` raw lines, and ``alerts`` older records (for the queries)."""
    rows = []
    with gzip.open(LISTING, "rt", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            if record.get("title") and record.get("summary"):
                rows.append((min(record.get("listing_dates") or ["0"]), record["id"], line))
    rows.sort(reverse=True)
    new = [line for _day, _id, line in rows[:papers]]
    older = [json.loads(line) for _day, _id, line in rows[papers : papers + alerts]]
    return new, older


def _queries(older: list[dict[str, object]], seed: int) -> list[tuple[str, dict[str, object]]]:
    rng = random.Random(seed)
    made = []
    for record in older:
        words = list(dict.fromkeys(w.lower() for w in content_words(str(record["title"]))))
        if not words:
            words = ["learning"]
        start = rng.randrange(len(words))
        text = " ".join(words[start : start + rng.randint(1, 3)])
        params: dict[str, object] = {"category": [], "code": False, "sort": "relevance"}
        if rng.random() < 0.1:
            params["category"] = [rng.choice(CATEGORIES)]
        if rng.random() < 0.05:
            text += " -survey"
        made.append((text, params))
    return made


def _query_vectors(settings: Settings, texts: list[str]) -> np.ndarray:
    key = hashlib.blake2b("\n".join(texts).encode(), digest_size=12).hexdigest()
    path = CACHE / f"alert-queries-{key}.npy"
    if path.is_file():
        return np.asarray(np.load(path), dtype=np.float32)
    model = load_embedder(settings)
    vectors = np.concatenate(
        [model.embed_documents(texts[at : at + 256]) for at in range(0, len(texts), 256)]
    ).astype(np.float32)
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors


def _site(work: Path, papers: int, alerts: int, seed: int) -> tuple[Store, Settings, int]:
    settings = Settings(
        _env_file=None, mode="development", data_dir=work,
        database_url=f"sqlite:///{work / 'site.sqlite3'}",
        models_dir=ROOT / "data" / "bench" / "models",
    )  # fmt: skip
    store = open_store(settings.resolved_database_url)
    new, older = _records(papers, alerts)
    queries = _queries(older, seed)
    vectors = _query_vectors(settings, [text for text, _params in queries])
    before = utc_now(precise=True) - timedelta(hours=1)
    model = service.model_name(settings)
    with store.write() as connection:
        connection.execute(
            users.insert(),
            [{"username": f"m{n}", "username_key": f"m{n}", "email": f"m{n}@example.org",
              "email_key": f"m{n}@example.org", "role": "user", "upvotes_public": False,
              "created_at": before, "email_confirmed_at": before}
             for n in range(alerts // 10 + 1)],
        )  # fmt: skip
        ids = [row[0] for row in connection.execute(users.select().with_only_columns(users.c.id))]
        for number, ((text, params), vector) in enumerate(zip(queries, vectors, strict=True)):
            sql.insert_alert(connection, {
                "user_id": ids[number // 10], "name": text, "query": text,
                "filters": json.dumps(params), "channel": "feed", "model": model,
                "vector": vector.tobytes(), "feed_key": "k", "checked_until": before,
                "created_at": before,
            })  # fmt: skip
    listing = work / "new.jsonl"
    listing.write_text("".join(new))
    ingest(store, "file", "the day", JsonLinesSource(listing))
    embed_papers(store, load_embedder(settings))
    return store, settings, len(queries)


def _baseline(papers: NewPapers, searches: list[SavedSearch], threshold: float) -> int:
    """Every pair in Python: the query's stems within the paper's, or the dot product."""
    stems = {
        d.id: {t for _p, t in terms(f"{d.title} {d.abstract}", STEMMED)} for d in papers.documents
    }
    found = 0
    for search in searches:
        wanted = {t for _p, t in terms(" ".join(parse_query(search.query).words), STEMMED)}
        for column, paper_id in enumerate(papers.embedded):
            if wanted and wanted <= stems[paper_id]:
                found += 1
            elif search.vector is not None:
                found += float(search.vector @ papers.matrix[column]) >= threshold
    return found


def measure(papers: int, alerts: int, seed: int) -> str:
    with tempfile.TemporaryDirectory() as temp:
        store, settings, count = _site(Path(temp), papers, alerts, seed)
        try:
            started = time.perf_counter()
            report = service.run_alerts(store, settings, now=utc_now() + timedelta(seconds=5))
            total = time.perf_counter() - started
            with store.read() as connection:
                rows = sql.runnable_alerts(connection)
                documents = sql.new_papers(connection, utc_now() - timedelta(days=1), utc_now())
                ids = [d.id for d in documents]
                built = time.perf_counter()
                day = NewPapers(
                    documents, sql.created_times(connection, ids),
                    sql.vectors_of(connection, service.model_name(settings), ids),
                )  # fmt: skip
            index_time = time.perf_counter() - built
            # As before the run (which moved the watermarks past the papers).
            searches = [
                replace(service.saved_search(row, service.model_name(settings)),
                        checked_until=datetime(2000, 1, 1))
                for row in rows
            ]  # fmt: skip
            started = time.perf_counter()
            matched = match_all(day, searches, settings.alert_similarity, {})
            match_time = time.perf_counter() - started
            started = time.perf_counter()
            naive = _baseline(day, searches, settings.alert_similarity)
            base_time = time.perf_counter() - started
        finally:
            store.dispose()
    return (
        f"{count:,} saved searches ({count // 10 + 1:,} members) against {report.papers} new "
        "papers, "
        f"threshold {settings.alert_similarity}; one process, one thread. Machine: {machine()}; "
        f"load average {os.getloadavg()[0]:.1f} at the end (on a shared machine absolute "
        "times are noisy: read the ratio).\n\n"
        "| step | seconds |\n|---|---:|\n"
        f"| **whole run** (read alerts and papers, match, write {report.new:,} matches) | "
        f"**{total:.2f}** |\n"
        f"| of which: index the {report.papers} papers in memory | {index_time:.2f} |\n"
        f"| of which: match (keyword + semantic), {len(matched):,} matches | {match_time:.2f} |\n"
        f"| baseline: every pair in Python, no writing ({naive:,} matches) | {base_time:.2f} |\n\n"
        f"Target: at most 60 s. The run took {total / base_time:.2f}x the baseline's time "
        f"(the pairwise baseline counts slightly different matches: no phrases, authors or "
        "filters).\n"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--papers", type=int, default=500)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    text = measure(args.papers, args.alerts, args.seed)
    print(text)
    if not args.no_write:
        write_section("## Saved-search alerts: run time", text)


if __name__ == "__main__":
    main()
