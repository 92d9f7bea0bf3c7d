"""``dailypapers index``: bring every part of the search index up to date with the store.

Three steps, each incremental and safe to interrupt: the lexical index takes the papers
changed since its watermark (or is rebuilt when missing or unusable); papers without a
current vector are embedded in committed batches; the dense index is rebuilt or extended from
the stored vectors. Also run after every ingest, where a large backlog of embeddings is left
to an explicit ``dailypapers index`` (papers without a vector are still found lexically).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from dailypapers.index import lexical
from dailypapers.index.ann import ensure_dense_index
from dailypapers.index.embedder import Embedder, load_embedder
from dailypapers.index.vectors import embed_papers
from dailypapers.settings import Settings
from dailypapers.store import Store
from dailypapers.store.vectors import count_papers_needing_vectors

# Called with (step name, done, total or None).
# (step, done, total): what a long job reports as it goes; total None when unknown.
StepProgress = Callable[[str, int, int | None], None]


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


def update_lexical(store: Store, settings: Settings, progress: StepProgress) -> tuple[int, bool]:
    """Update the lexical index from the store, or rebuild it when it cannot be used."""
    path = lexical.index_path(settings.data_dir)
    path.mkdir(parents=True, exist_ok=True)
    try:
        index = lexical.LexicalIndex.open(path)
    except lexical.IndexUnusable:
        rebuilt = lexical.build_from_store(store, path, lambda n: progress("lexical", n, None))
        return len(rebuilt), True
    lexical.update_from_store(index, store, lambda n: progress("lexical", n, None))
    return len(lexical.LexicalIndex.open(path)), False


def run_index(
    store: Store,
    settings: Settings,
    *,
    embed_at_most: int | None = None,
    embedder: Embedder | None = None,
    progress: StepProgress = lambda _step, _done, _total: None,
) -> IndexSummary:
    """Run the three steps; embed only when at most ``embed_at_most`` papers need it."""
    papers, rebuilt = update_lexical(store, settings, progress)
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
    dense = ensure_dense_index(store, settings, model.name, model.dimensions)
    return IndexSummary(papers, rebuilt, embedded, waiting, len(dense))
