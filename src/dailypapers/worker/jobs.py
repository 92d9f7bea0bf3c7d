"""The worker's jobs: harvest arXiv, and embed the papers that have no vector yet.

Each takes a :class:`~dailypapers.worker.context.JobContext` and returns counts for the run's
record (all zero: there was nothing to do). Both reuse what the commands run: the harvest is
``dailypapers ingest arxiv`` (OAI-PMH, resumable), the embedding is the job behind
``dailypapers index`` with the newest papers first and at most
``DAILYPAPERS_WORKER_EMBED_THREADS`` threads; both then bring the search index files up to
date, so a running site picks the new papers and vectors up.
"""

from __future__ import annotations

import logging
import time

from dailypapers.index.dense.embedder import Embedder, embedder_name, load_embedder
from dailypapers.index.dense.vectors import embed_papers
from dailypapers.index.job import update_indexes
from dailypapers.ingest import oaipmh
from dailypapers.ingest.http import make_fetcher
from dailypapers.ingest.run import ingest
from dailypapers.settings import Settings
from dailypapers.store import Store
from dailypapers.store.vectors import count_papers_needing_vectors
from dailypapers.worker.context import JobContext

log = logging.getLogger(__name__)

HARVEST = "harvest"
EMBED = "embed"

# An embedding run hands over after this long (a follow-up run is due at once), so a backlog
# of hours never keeps a harvest waiting behind it on a single worker.
EMBED_RUN_SECONDS = 300.0

# Papers per committed batch at most: on one thread a batch of 64 takes a few seconds, so the
# newest papers get vectors soon and SIGTERM waits little (the stop comes between batches).
WORKER_EMBED_BATCH = 64

# One model per worker process, loaded at its first embedding run (it takes seconds).
_models: dict[tuple[str, str, int], Embedder] = {}


def _embedder(settings: Settings) -> Embedder:
    key = (settings.embedding_model, settings.embedding_precision, settings.worker_embed_threads)
    if key not in _models:
        threads = {"embedding_threads": settings.worker_embed_threads}
        _models[key] = load_embedder(settings.model_copy(update=threads))
    return _models[key]


def _update_index(
    store: Store, settings: Settings, model: Embedder | None, *, lexical: bool = True
) -> None:
    """Bring the keyword index (unless not ``lexical``), and the dense index of ``model``, up
    to date with the store (under the index writer lock, waiting for another writer)."""
    update_indexes(store, settings, model, lexical=lexical)


def harvest_arxiv(context: JobContext) -> dict[str, int]:
    """Harvest the configured categories from arXiv's OAI-PMH endpoint, from where the last
    harvest stopped; then update the keyword index and ask for an embedding run."""
    settings, store = context.settings, context.store
    fetcher = make_fetcher(settings)
    try:
        url, categories = settings.arxiv_oai_url, list(settings.categories)
        harvest = oaipmh.arxiv_harvest(store, fetcher, base_url=url, categories=categories)
        summary = ingest(
            store, "arxiv", f"{url} arXiv {','.join(categories)}", harvest,
            batch_size=settings.ingest_batch_size, on_commit=lambda _summary: context.check(),
        )  # fmt: skip
    finally:
        fetcher.close()
    _update_index(store, settings, None)
    if summary.counts.new or summary.counts.updated:
        context.trigger(EMBED)
    return summary.as_dict()


def embed_backlog(context: JobContext) -> dict[str, int]:
    """Embed every paper without a current vector, newest first, in committed batches;
    update the dense index files every ``DAILYPAPERS_WORKER_INDEX_EVERY`` seconds and every
    search index file at the end (embedding changes no paper: between batches the keyword
    index is left alone, whose update re-reads the recent papers, all of a fresh site's for
    ten minutes after its ingest). Stops between batches when the worker stops, and hands
    over to a follow-up run after ``EMBED_RUN_SECONDS``; the next run resumes where the
    committed batches stop."""
    settings, store = context.settings, context.store
    with store.read() as connection:
        if count_papers_needing_vectors(connection, embedder_name(settings)) == 0:
            return {"embedded": 0}
    model = _embedder(settings)
    started = updated = time.monotonic()
    embedded = 0

    def after_batch(done: int, total: int) -> None:
        nonlocal updated, embedded
        embedded = done
        context.check()
        if time.monotonic() - updated >= settings.worker_index_every:
            _update_index(store, settings, model, lexical=False)
            updated = time.monotonic()
            log.info("embedded %d of %d papers; search index updated", done, total)
        if time.monotonic() - started >= EMBED_RUN_SECONDS:
            raise _TimeUp

    try:
        summary = embed_papers(
            store, model, batch_size=min(settings.embedding_batch_size, WORKER_EMBED_BATCH),
            newest_first=True,
            progress=after_batch,
        )  # fmt: skip
    except _TimeUp:
        _update_index(store, settings, model)
        context.follow_up()
        with store.read() as connection:
            remaining = count_papers_needing_vectors(connection, model.name)
        return {"embedded": embedded, "remaining": remaining}
    _update_index(store, settings, model)
    if summary.embedded:
        context.trigger("alerts")  # new papers have vectors: match them against the alerts
    return {"embedded": summary.embedded, "remaining": summary.remaining}


class _TimeUp(Exception):
    """The embedding run has had its time; the rest goes to a follow-up run."""
