"""The embedding job: give every paper a current vector of "title + abstract" in the store.

``embed_papers(store, embedder)`` reads a batch of papers that need a vector (none yet, or
the paper changed since), embeds it outside any transaction, and writes the batch in one
short write transaction; then the next. Killed at any point, it keeps every committed batch
and the next run carries on from there. Readers never wait on it: SQLite in WAL mode (and
PostgreSQL) let pages read while a batch commits, and no transaction is open while the model
runs. Restartable and cheap when there is nothing to do, so it can run from cron.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from dailypapers.index.dense.embedder import Embedder
from dailypapers.store import Store
from dailypapers.store.vectors import (
    count_papers_needing_vectors,
    papers_needing_vectors,
    save_vectors,
)

DEFAULT_BATCH = 256

# Called after each committed batch with (papers embedded so far, papers that needed it).
EmbedProgress = Callable[[int, int], None]  # (papers embedded, papers to embed)


@dataclass(frozen=True, slots=True)
class EmbedSummary:
    """What one run of the job did."""

    model: str
    embedded: int
    remaining: int
    seconds: float

    @property
    def per_second(self) -> float:
        return self.embedded / self.seconds if self.seconds > 0 else 0.0


def document_text(title: str, abstract: str) -> str:
    """The text embedded for a paper (and for a BEIR document: title, then text)."""
    title, abstract = title.strip(), abstract.strip()
    if not abstract:
        return title
    if not title:
        return abstract
    # A full stop tells the model where the title ends, unless the title has its own.
    separator = " " if title[-1] in ".?!:" else ". "
    return f"{title}{separator}{abstract}"


def embed_papers(
    store: Store,
    embedder: Embedder,
    *,
    batch_size: int = DEFAULT_BATCH,
    progress: EmbedProgress | None = None,
    limit: int | None = None,
    newest_first: bool = False,
) -> EmbedSummary:
    """Embed the papers that need it for ``embedder.name``, committing every ``batch_size``.

    ``limit`` stops after about that many papers (whole batches), for a bounded cron run.
    ``newest_first`` takes the newest papers first (the background worker does, so today's
    papers get vectors within a minute of a backlog starting); a ``progress`` callback that
    raises stops the job after a committed batch.
    """
    started = time.perf_counter()
    with store.read() as connection:
        total = count_papers_needing_vectors(connection, embedder.name)
    done, after = 0, ""
    while limit is None or done < limit:
        with store.read() as connection:
            batch = papers_needing_vectors(
                connection, embedder.name, after=after, limit=batch_size, newest_first=newest_first
            )
        if not batch:
            break
        vectors = embedder.embed_documents([document_text(p.title, p.abstract) for p in batch])
        with store.write() as connection:
            save_vectors(connection, embedder.name, batch, vectors)
        done += len(batch)
        # Keyset by id: a paper changed while its batch was embedded is left for the next run
        # (its stored hash is then stale) instead of being picked again and again in this one.
        # Newest first has no keyset: each batch takes the newest papers still stale, so a
        # paper changed meanwhile comes back once, with its new text.
        after = batch[-1].id
        if progress is not None:
            progress(done, total)
    seconds = time.perf_counter() - started
    with store.read() as connection:
        remaining = count_papers_needing_vectors(connection, embedder.name)
    return EmbedSummary(embedder.name, done, remaining, seconds)
