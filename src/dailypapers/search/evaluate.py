"""``dailypapers eval beir``: nDCG@10 and Recall@100 of each search mode on a BEIR dataset.

The corpus is indexed in a temporary directory of its own (never the site's data); its
embeddings are cached under ``DATA_DIR/cache/beir`` by model and corpus hash, so a second run
skips the slow part. Metrics come from ``ir_measures`` (pytrec_eval underneath).
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ir_measures
import numpy as np
import numpy.typing as npt
from ir_measures import R, nDCG

from dailypapers.index.dense.ann import DenseIndex
from dailypapers.index.dense.embedder import Embedder
from dailypapers.index.dense.vectors import document_text
from dailypapers.index.job import StepProgress
from dailypapers.index.lexical import index as lexical
from dailypapers.search.beir import BeirDataset
from dailypapers.search.catalog import Catalog
from dailypapers.search.engine import DEPTH, SearchConfig, SearchEngine
from dailypapers.search.query import Mode, SearchRequest
from dailypapers.settings import Settings
from dailypapers.store.documents import Document

MODES: tuple[Mode, ...] = ("lexical", "dense", "hybrid")
MEASURES = {"ndcg@10": nDCG @ 10, "recall@100": R @ 100}
EMBED_BATCH = 64


def beir_documents(dataset: BeirDataset) -> list[Document]:
    """The corpus as index documents (no authors, categories or dates)."""
    now = datetime.now(UTC).replace(tzinfo=None)
    return [
        Document(doc.id, doc.title, doc.text, (), (), None, False, "", now)
        for doc in dataset.corpus
    ]


def _cache_path(settings: Settings, model: str, corpus_hash: str) -> Path:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", model).strip("-")
    return settings.data_dir / "cache" / "beir" / f"{slug}-{corpus_hash}.npy"


def corpus_vectors(
    dataset: BeirDataset, embedder: Embedder, settings: Settings, progress: StepProgress
) -> npt.NDArray[np.float32]:
    """The corpus embeddings, from the cache when this model has embedded this corpus."""
    path = _cache_path(settings, embedder.name, dataset.corpus_hash)
    if path.is_file():
        cached = np.load(path)
        if cached.shape == (len(dataset.corpus), embedder.dimensions):
            return np.asarray(cached, dtype=np.float32)
    texts = [document_text(doc.title, doc.text) for doc in dataset.corpus]
    parts = []
    for start in range(0, len(texts), EMBED_BATCH):
        parts.append(embedder.embed_documents(texts[start : start + EMBED_BATCH]))
        progress("embedding corpus", min(start + EMBED_BATCH, len(texts)), len(texts))
    vectors = np.concatenate(parts).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written beside and renamed, so an interrupted run never leaves a truncated cache.
    handle, temp = tempfile.mkstemp(dir=path.parent, suffix=".npy")
    with os.fdopen(handle, "wb") as out:
        np.save(out, vectors)
    os.replace(temp, path)
    return vectors


def _run(engine: SearchEngine, dataset: BeirDataset, mode: Mode, progress: StepProgress) -> Any:
    run: dict[str, dict[str, float]] = {}
    for done, (qid, text) in enumerate(dataset.queries.items(), start=1):
        response = engine.search(SearchRequest(text=text, mode=mode, limit=DEPTH))
        # Scores by rank, so the metric sees exactly the order the engine returned.
        run[qid] = {hit.id: float(DEPTH - rank) for rank, hit in enumerate(response.hits)}
        if done % 50 == 0 or done == len(dataset.queries):
            progress(f"{mode} queries", done, len(dataset.queries))
    return run


@contextmanager
def beir_engine(
    dataset: BeirDataset,
    embedder: Embedder,
    settings: Settings,
    config: SearchConfig,
    progress: StepProgress = lambda _step, _done, _total: None,
) -> Iterator[SearchEngine]:
    """A search engine over the corpus alone, its lexical index in a temp dir removed after."""
    documents = beir_documents(dataset)
    vectors = corpus_vectors(dataset, embedder, settings, progress)
    dense = DenseIndex.from_arrays(
        embedder.name, [d.id for d in documents], vectors, exact_below=settings.dense_exact_below
    )
    with tempfile.TemporaryDirectory(prefix="dailypapers-beir-") as temp:
        lexical_index = lexical.build(Path(temp), documents)
        engine = SearchEngine(Catalog(documents), lexical_index, dense, embedder, config)
        try:
            yield engine
        finally:
            engine.close()


def measure(
    engine: SearchEngine,
    dataset: BeirDataset,
    mode: Mode,
    progress: StepProgress = lambda _step, _done, _total: None,
) -> dict[str, float]:
    """nDCG@10 and Recall@100 of ``engine`` in ``mode`` over the dataset's queries."""
    run = _run(engine, dataset, mode, progress)
    scores = ir_measures.calc_aggregate(MEASURES.values(), dataset.qrels, run)
    return {name: round(scores[m], 4) for name, m in MEASURES.items()}


def evaluate(
    dataset: BeirDataset,
    embedder: Embedder,
    settings: Settings,
    config: SearchConfig,
    progress: StepProgress = lambda _step, _done, _total: None,
) -> dict[str, Any]:
    """Index the corpus in a temp dir, run every query in each mode, compute the metrics."""
    started = time.perf_counter()
    with beir_engine(dataset, embedder, settings, config, progress) as engine:
        modes = {mode: measure(engine, dataset, mode, progress) for mode in MODES}
    return {
        "dataset": dataset.name,
        "split": dataset.split,
        "queries": len(dataset.queries),
        "documents": len(dataset.corpus),
        "model": embedder.name,
        "fusion": config.fusion,
        "modes": modes,
        "seconds": round(time.perf_counter() - started, 1),
    }
