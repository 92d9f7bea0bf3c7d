"""The similarity threshold of saved-search alerts, measured on SciFact (train split).

Each judged claim of ``../shared/data/beir-scifact`` (train) is a saved search; "the day's new
papers" are its relevant abstracts mixed among 500 others drawn at random (seeded) from the
rest of the corpus. The alert's matcher (:func:`dailypapers.alerts.matching.match_all`, the
code the worker runs) decides what it would send: keyword alone, semantic alone at each
threshold, and both (the union, what alerts send). Precision and recall of a set are counted
directly (pooled over all claims: sent-and-relevant / sent, sent-and-relevant / relevant) and,
per claim then averaged over every claim, with ir_measures' ``SetP`` / ``SetR`` (a claim
that sent nothing counts 0 in both, as ir_measures scores it). Corpus
embeddings (int8 MiniLM, the site's model) are cached in ``data/bench/cache``. Writes the
"Saved-search alerts: similarity threshold" section of BENCHMARKS.md. Run::

    .venv/bin/python -m benchmarks.alerts_quality [--others 500] [--no-write]
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import ir_measures
import numpy as np
from ir_measures import SetP, SetR

from benchmarks.common import ROOT, SCIFACT, machine, write_section
from dailypapers.alerts.matching import NewPapers, SavedSearch, match_all
from dailypapers.index.dense.embedder import load_embedder
from dailypapers.search.beir import BeirDataset, load_beir
from dailypapers.search.evaluate import beir_documents, corpus_vectors
from dailypapers.search.query import Filters
from dailypapers.settings import get_settings

THRESHOLDS = [round(0.30 + 0.05 * step, 2) for step in range(11)]  # 0.30 .. 0.80
BEFORE = datetime(2000, 1, 1)
NOW = datetime(2026, 12, 1)


@dataclass
class Tally:
    """Pooled counts, and the per-claim run for ir_measures."""

    sent: int = 0
    hits: int = 0
    relevant: int = 0
    run: dict[str, dict[str, float]] | None = None


def _alert_runs(
    dataset: BeirDataset, vectors: np.ndarray, others: int, seed: int, chosen: float
) -> list[tuple[str, set[str], dict[str, float]]]:
    """For each claim: what the keyword matcher sends, and each new paper's similarity.

    Checks on the way that the worker's :func:`match_all` at ``chosen`` sends exactly the
    union of the two (the table's union rows are what alerts send)."""
    model = load_embedder(get_settings())
    documents = beir_documents(dataset)
    row_of = {doc.id: row for row, doc in enumerate(documents)}
    rng = random.Random(seed)
    everyone = [doc.id for doc in documents]
    runs = []
    for number, (qid, text) in enumerate(sorted(dataset.queries.items())):
        relevant = [pid for pid, grade in dataset.qrels[qid].items() if grade > 0]
        pool = [pid for pid in rng.sample(everyone, others + len(relevant)) if pid not in relevant]
        day = relevant + pool[:others]
        papers = NewPapers(
            [documents[row_of[pid]] for pid in day],
            dict.fromkeys(day, NOW),
            {pid: vectors[row_of[pid]] for pid in day},
        )
        search = SavedSearch(number, 0, text, Filters(), model.embed_query(text), BEFORE)
        keyword = {paper_id for paper_id, _words in papers.keyword(search)[0]}
        assert search.vector is not None
        sims = papers.similarities(search.vector[None, :])[0]
        similarity = {pid: float(sims[col]) for col, pid in enumerate(papers.embedded)}
        sent = {m.paper_id for m in match_all(papers, [search], chosen, {})}
        assert sent == keyword | {p for p, value in similarity.items() if value >= chosen}
        runs.append((qid, keyword, similarity))
    return runs


def _tally(dataset: BeirDataset, sent: Iterable[tuple[str, set[str]]]) -> Tally:
    tally = Tally(run={})
    assert tally.run is not None
    for qid, papers in sent:
        relevant = {pid for pid, grade in dataset.qrels[qid].items() if grade > 0}
        tally.sent += len(papers)
        tally.hits += len(papers & relevant)
        tally.relevant += len(relevant)
        if papers:
            tally.run[qid] = dict.fromkeys(papers, 1.0)
    return tally


def _macro(dataset: BeirDataset, tally: Tally) -> tuple[float, float]:
    """Mean SetP and SetR of ir_measures over the claims it scores (every judged one: a claim
    that sent nothing scores 0)."""
    qrels = [
        ir_measures.Qrel(qid, pid, grade)
        for qid, judged in dataset.qrels.items()
        for pid, grade in judged.items()
    ]
    assert tally.run is not None
    scored = [
        ir_measures.ScoredDoc(qid, pid, score)
        for qid, docs in tally.run.items()
        for pid, score in docs.items()
    ]
    precision: list[float] = []
    recall = dict.fromkeys(dataset.qrels, 0.0)
    for metric in ir_measures.iter_calc([SetP, SetR], qrels, scored):
        if metric.measure == SetP:
            precision.append(metric.value)
        else:
            recall[metric.query_id] = metric.value
    return (
        sum(precision) / len(precision) if precision else 0.0,
        sum(recall.values()) / len(recall),
    )


def _row(dataset: BeirDataset, label: str, sent: list[tuple[str, set[str]]]) -> str:
    tally = _tally(dataset, sent)
    precision = tally.hits / tally.sent if tally.sent else 0.0
    recall = tally.hits / tally.relevant
    mean_p, mean_r = _macro(dataset, tally)
    per_alert = tally.sent / len(sent)
    return (
        f"| {label} | {precision:.3f} | {recall:.3f} | {mean_p:.3f} | {mean_r:.3f} | "
        f"{per_alert:.2f} |"
    )


def measure(others: int, seed: int, chosen: float) -> str:
    dataset = load_beir(SCIFACT, "train")
    settings = get_settings()
    model = load_embedder(settings)
    vectors = corpus_vectors(dataset, model, settings, lambda *_args: None)
    runs = _alert_runs(dataset, vectors, others, seed, chosen)
    keyword = [(qid, words) for qid, words, _sims in runs]
    lines = [
        "| what the alert sends | precision (pooled) | recall (pooled) | mean SetP | mean SetR | "
        "papers sent per alert |",
        "|---|---:|---:|---:|---:|---:|",
        _row(dataset, "keyword alone (every word)", keyword),
    ]
    for threshold in THRESHOLDS:
        semantic = [
            (qid, {pid for pid, value in sims.items() if value >= threshold})
            for qid, _words, sims in runs
        ]
        union = [
            (qid, keys | sem) for (qid, keys), (_q, sem) in zip(keyword, semantic, strict=True)
        ]
        mark = " **(chosen)**" if abs(threshold - chosen) < 1e-9 else ""
        lines.append(_row(dataset, f"semantic >= {threshold:.2f}{mark}", semantic))
        lines.append(_row(dataset, f"keyword or semantic >= {threshold:.2f}{mark}", union))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--others", type=int, default=500)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--chosen", type=float, default=get_settings().alert_similarity)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    table = measure(args.others, args.seed, args.chosen)
    dataset = load_beir(SCIFACT, "train")
    text = (
        f"SciFact train: {len(dataset.queries)} claims as saved searches, each against its "
        f"relevant abstracts plus {args.others} others (seed {args.seed}) as the day's new "
        "papers; int8 MiniLM embeddings. Pooled: counts summed over every claim, counted "
        "directly. Mean SetP/SetR: ir_measures, per claim, averaged over every claim (one "
        f"that sent nothing counts 0 in both). Machine: {machine()}.\n\n{table}\n"
    )
    print(text)
    if not args.no_write:
        write_section("## Saved-search alerts: similarity threshold", text)


if __name__ == "__main__":
    Path(ROOT / "data" / "bench").mkdir(parents=True, exist_ok=True)
    main()
