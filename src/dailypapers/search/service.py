"""Opening a search engine over the site's data: catalog, lexical and dense indexes, model.

``open_engine`` is what the CLI (and later the web server) calls once per process. An index
that is missing or unusable is rebuilt from the store, never served. A model that cannot be
loaded leaves the engine lexical-only; each response then says so.
"""

from __future__ import annotations

import logging

from dailypapers.index import lexical
from dailypapers.index.ann import ensure_dense_index
from dailypapers.index.embedder import Embedder, EmbedderError, load_embedder
from dailypapers.search.catalog import Catalog
from dailypapers.search.engine import SearchConfig, SearchEngine
from dailypapers.settings import Settings
from dailypapers.store import Store
from dailypapers.store.documents import abstracts, iter_documents

log = logging.getLogger(__name__)


def search_config(settings: Settings) -> SearchConfig:
    return SearchConfig(
        fusion=settings.search_fusion,
        lexical_weight=settings.search_lexical_weight,
        dense_weight=settings.search_dense_weight,
        embed_timeout=settings.search_embed_timeout,
        dense_min_similarity=settings.search_dense_min_similarity,
    )


def _embedder(settings: Settings) -> Embedder | None:
    try:
        return load_embedder(settings)
    except EmbedderError as error:
        log.warning("semantic search is off: %s", error)
        return None


def open_engine(store: Store, settings: Settings) -> SearchEngine:
    """A search engine over everything in ``store``, indexes checked (and rebuilt) first."""
    path = lexical.index_path(settings.data_dir)
    path.mkdir(parents=True, exist_ok=True)
    lexical_index = lexical.open_or_build(store, path)
    with store.read() as connection:
        catalog = Catalog(iter_documents(connection))
    embedder = _embedder(settings)
    dense = None
    if embedder is not None:
        dense = ensure_dense_index(store, settings, embedder.name, embedder.dimensions)
        if len(dense) == 0:
            dense = None

    def page_abstracts(ids: list[str]) -> dict[str, str]:
        with store.read() as connection:
            return abstracts(connection, ids)

    config = search_config(settings)
    return SearchEngine(catalog, lexical_index, dense, embedder, config, page_abstracts)
