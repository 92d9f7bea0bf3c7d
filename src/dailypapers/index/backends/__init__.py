"""Search backends, chosen by name (``DAILYPAPERS_SEARCH_BACKEND``): where the indexes live.

A backend has a writing side and a reading side:

- ``update(store, settings, model, progress)`` brings its indexes up to date with the store
  (papers for the keyword index, the stored vectors of ``model`` for the semantic one). Only
  the index job (:mod:`dailypapers.index.job`) calls it, under the writer lock.
- ``open(settings, model, papers)`` opens what exists for reading and never builds: an index
  that is missing gives ``None`` (the engine then serves without it and says so), one that
  is behind the store is served as it is until the job catches up. ``papers`` (id -> day,
  categories, has_code, authors) lets dense search take the same filters as lexical search.
- ``open_dense(settings, model, papers)`` opens the dense index alone, for a server whose
  stamp says only new vectors landed.
- ``stamp(settings)`` is cheap and changes when a build or update lands, so a server knows
  when to reopen: an :class:`~.base.IndexStamp` with a value per part (lexical, dense).

The opened searchers answer ``search(text, k, filters)`` (lexical) and
``search(vector, k, filters)`` / ``similar(paper_id, k)`` (dense), best first as
``(paper id, score)``: the shapes :class:`dailypapers.search.engine.SearchEngine` needs.

Backends: ``local`` (:mod:`.local`: tantivy BM25 files and a usearch HNSW index under
``DATA_DIR/index``). Adding one (say PostgreSQL full-text search + pgvector) is one module
with a class of this shape, one entry in :data:`BACKENDS` and its name in the
``search_backend`` setting's choices.
"""

from __future__ import annotations

from collections.abc import Callable

from dailypapers.index.backends.base import SearchBackend
from dailypapers.index.backends.local import LocalBackend

BACKENDS: dict[str, Callable[[], SearchBackend]] = {
    "local": LocalBackend,
}


def get_backend(name: str) -> SearchBackend:
    """The backend called ``name``; an unknown name lists the valid ones."""
    try:
        factory = BACKENDS[name]
    except KeyError:
        raise ValueError(
            f"unknown search backend {name!r}; choose one of {', '.join(BACKENDS)}"
        ) from None
    return factory()
