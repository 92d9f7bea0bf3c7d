"""``dailypapers index``: bring every part of the search index up to date with the store.

The one writer of the index files: ``dailypapers index``, the background worker and
``dailypapers search`` (before it searches) all come through :func:`update_indexes`, which
holds the writer lock (:mod:`dailypapers.index.lock`) and calls the configured search
backend's ``update`` (:mod:`dailypapers.index.backends`); web servers only open the files.

Three steps, each incremental and safe to interrupt: the lexical index takes the papers
changed since its watermark (or is rebuilt when missing or unusable); papers without a
current vector are embedded in committed batches; the dense index grows by the new vectors
(or is rebuilt when unusable). Also run after every ingest, where a large backlog of
embeddings is left to an explicit ``dailypapers index`` (papers without a vector are still
found lexically).
"""

from __future__ import annotations

from dataclasses import dataclass

from dailypapers.index.backends import get_backend
from dailypapers.index.backends.base import Model, StepProgress, Updated
from dailypapers.index.dense.embedder import Embedder, load_embedder
from dailypapers.index.dense.vectors import embed_papers
from dailypapers.index.lexical import index as lexical
from dailypapers.index.lock import IndexBusy, writer_lock
from dailypapers.settings import Settings
from dailypapers.store import Store
from dailypapers.store.vectors import count_papers_needing_vectors

__all__ = [
    "IndexBusy", "IndexSummary", "StepProgress", "repair_lexical", "run_index", "update_indexes",
]  # fmt: skip


def _quiet(_step: str, _done: int, _total: int | None) -> None:
    pass


@dataclass(frozen=True)
class IndexSummary:
    lexical_papers: int
    lexical_rebuilt: bool
    embedded: int
    awaiting_vectors: int
    dense_papers: int

    def line(self) -> str:
        how = "rebuilt" if self.lexical_rebuilt else "updated"
        text = (
            f"lexical index {how}: {self.lexical_papers} papers; {self.embedded} papers "
            f"embedded; dense index: {self.dense_papers} papers"
        )
        if self.awaiting_vectors:
            text += f"; {self.awaiting_vectors} papers await vectors (run `dailypapers index`)"
        return text


def update_indexes(
    store: Store,
    settings: Settings,
    model: Model | None,
    progress: StepProgress = _quiet,
    *,
    wait: bool = True,
    lexical: bool = True,
) -> Updated:
    """The search backend's update, under the writer lock (``IndexBusy`` if busy and not
    ``wait``). Without a model only the keyword index is updated; with ``lexical`` False only
    the dense one (the worker, between batches of a backlog: embedding changes no paper)."""
    backend = get_backend(settings.search_backend)
    with writer_lock(settings.data_dir, wait=wait):
        return backend.update(store, settings, model, progress, lexical=lexical)


def repair_lexical(store: Store, settings: Settings) -> None:
    """Rebuild the keyword index from the store, under the writer lock: what a server asks for
    when a search found the index damaged. Skipped (``IndexBusy``) while another writer is at
    work; the server asks again."""
    with writer_lock(settings.data_dir, wait=False):
        path = lexical.index_path(settings.data_dir)
        path.mkdir(parents=True, exist_ok=True)
        lexical.build_from_store(store, path)


def run_index(
    store: Store,
    settings: Settings,
    *,
    embed_at_most: int | None = None,
    embedder: Embedder | None = None,
    progress: StepProgress = _quiet,
    wait: bool = True,
) -> IndexSummary:
    """Run the three steps; embed only when at most ``embed_at_most`` papers need it.

    The index files are written under the writer lock; the embedding between the two
    updates is not (it writes the store, in committed batches), so a long embedding run does
    not hold back another process's keyword update.
    """
    first = update_indexes(store, settings, None, progress, wait=wait)
    model = embedder or load_embedder(settings)
    with store.read() as connection:
        waiting = count_papers_needing_vectors(connection, model.name)
    embedded = 0
    if waiting and (embed_at_most is None or waiting <= embed_at_most):
        summary = embed_papers(
            store, model, batch_size=settings.embedding_batch_size,
            progress=lambda done, total: progress("embedding", done, total),
        )  # fmt: skip
        embedded, waiting = summary.embedded, summary.remaining
    updated = update_indexes(store, settings, model, progress, wait=wait)
    rebuilt = first.lexical_rebuilt or updated.lexical_rebuilt
    return IndexSummary(updated.lexical_papers, rebuilt, embedded, waiting, updated.dense_papers)
