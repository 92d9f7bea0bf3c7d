"""Opening a search engine over the site's data: catalog, lexical and dense indexes, model.

``open_engine`` is what the CLI calls once per process. An index that is missing or unusable
is rebuilt from the store, never served. A model that cannot be loaded leaves the engine
lexical-only; each response then says so. ``LiveEngine`` is what the web server holds: the
engine, reopened in the background when the store has changed (papers ingested, vectors
embedded by ``dailypapers index``), so a running site finds new papers without a restart.
"""

from __future__ import annotations

import gc
import logging
import threading
import time

from dailypapers.index import lexical
from dailypapers.index.ann import ensure_dense_index
from dailypapers.index.embedder import Embedder, EmbedderError, load_embedder
from dailypapers.search.catalog import Catalog
from dailypapers.search.engine import SearchConfig, SearchEngine
from dailypapers.settings import Settings
from dailypapers.store import Store
from dailypapers.store.documents import abstracts, iter_documents
from dailypapers.store.papers import change_stamp

log = logging.getLogger(__name__)

REBUILD_EVERY = 1.0  # seconds between attempts to rebuild a damaged keyword index


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


def open_engine(store: Store, settings: Settings, *, rebuild_lexical: bool = False) -> SearchEngine:
    """A search engine over everything in ``store``, indexes checked (and rebuilt) first.

    ``rebuild_lexical`` rebuilds the keyword index even if it opens: a search found it
    damaged in a way opening does not see.
    """
    path = lexical.index_path(settings.data_dir)
    path.mkdir(parents=True, exist_ok=True)
    if rebuild_lexical:
        lexical_index = lexical.build_from_store(store, path)
    else:
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


def _settle_heap() -> None:
    """Move the engine's long-lived objects out of the garbage collector's way.

    The catalog and indexes are hundreds of thousands of objects that live as long as the
    engine; without this every full collection walks them all, which showed as 200 ms
    pauses in the load benchmark (p99 of a trivial endpoint 203 ms, 22 ms with it).
    """
    gc.collect()
    gc.freeze()


class LiveEngine:
    """A search engine that follows the store: checked at most every ``check_every`` seconds.

    The first ``get`` opens the engine (others wait for it). Later calls return the open
    engine at once; when the store's :func:`change_stamp` has moved, a new engine is opened in
    a background thread and swapped in when ready, so no request waits for a reload.
    """

    def __init__(self, store: Store, settings: Settings, check_every: float = 30.0) -> None:
        self.store = store
        self.settings = settings
        self.check_every = check_every
        self._engine: SearchEngine | None = None
        self._stamp: object = None
        self._checked = 0.0
        self._open_lock = threading.Lock()
        self._reloading = threading.Lock()

    @property
    def ready(self) -> bool:
        """Whether an engine is open (searches will not wait for one)."""
        return self._engine is not None

    def settle(self, timeout: float) -> None:
        """Wait (at most ``timeout`` s for each) for an opening or a reload under way."""
        for lock in (self._open_lock, self._reloading):
            if lock.acquire(timeout=timeout):
                lock.release()

    def _stamp_now(self) -> object:
        with self.store.read() as connection:
            return change_stamp(connection)

    def get(self) -> SearchEngine:
        engine = self._engine
        if engine is None:
            with self._open_lock:
                if self._engine is None:
                    stamp = self._stamp_now()
                    self._engine, self._stamp = open_engine(self.store, self.settings), stamp
                    self._checked = time.monotonic()
                    _settle_heap()
                engine = self._engine
        self._maybe_reload(rebuild=engine.damaged)
        return engine

    def _maybe_reload(self, *, rebuild: bool = False) -> None:
        """Reopen in the background when the store changed (looked at every ``check_every``
        s), or soon with the keyword index rebuilt when a search found it damaged (a rebuild
        that fails is tried again at most every ``REBUILD_EVERY`` s)."""
        wait = REBUILD_EVERY if rebuild else self.check_every
        if time.monotonic() - self._checked < wait:
            return
        if not self._reloading.acquire(blocking=False):
            return  # a reload is already under way
        self._checked = time.monotonic()
        stamp = self._stamp_now()
        if stamp == self._stamp and not rebuild:
            self._reloading.release()
            return
        worker = threading.Thread(
            target=self._reload, args=(stamp, rebuild), name="reload", daemon=True
        )
        worker.start()

    def _reload(self, stamp: object, rebuild: bool = False) -> None:
        # The engine replaced is not closed: a request may still be searching with it. Its
        # worker thread ends when it is garbage-collected.
        try:
            engine = open_engine(self.store, self.settings, rebuild_lexical=rebuild)
            self._engine, self._stamp = engine, stamp
            _settle_heap()
        except Exception:  # keep serving the engine we have; the next check tries again
            log.exception("reloading the search engine failed")
        finally:
            self._reloading.release()
