"""Opening a search engine over the site's data: catalog, lexical and dense indexes, model.

``open_engine`` opens the configured search backend's index files
(``DAILYPAPERS_SEARCH_BACKEND``, :mod:`dailypapers.index.backends`) and never builds them:
builds happen in the index job (``dailypapers index``, the worker, or ``dailypapers search``
just before it searches), under the index writer lock. An index that is missing or unusable
is left out and each response says so: no dense index means keyword search only, no lexical
index means only exact ids and titles until the job has run. A model that cannot be loaded
also leaves the engine lexical-only. ``LiveEngine`` is what the web server holds: the
engine, reopened in the background when the store has changed (papers ingested, vectors
embedded) or an index build has landed, so a running site finds new papers without a restart.
When a search finds the keyword index damaged (a check at opening missed it), the engine
answers semantically meanwhile and ``LiveEngine`` has the index job rebuild it
(:func:`dailypapers.index.job.repair_lexical`, under the writer lock), then reopens.
"""

from __future__ import annotations

import gc
import logging
import threading
import time

from dailypapers.index.backends import get_backend
from dailypapers.index.dense.embedder import Embedder, EmbedderError, load_embedder
from dailypapers.index.job import repair_lexical
from dailypapers.search.catalog import Catalog
from dailypapers.search.engine import Dense, Lexical, QueryEmbedder, SearchConfig, SearchEngine
from dailypapers.settings import Settings
from dailypapers.store import Store
from dailypapers.store.documents import abstracts, iter_documents
from dailypapers.store.papers import paper_stamp

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


def open_engine(
    store: Store,
    settings: Settings,
    *,
    embedder: Embedder | None = None,
    previous: SearchEngine | None = None,
) -> SearchEngine:
    """A search engine over everything in ``store`` and the index files that exist.

    Opens, never builds (the index job does): a missing dense index leaves keyword search, a
    missing lexical index leaves exact id and title matches with a note. A part that cannot
    be opened now but was open in ``previous`` (an update landing at that very moment) is
    kept from it; :attr:`SearchEngine.complete` is then False, so a server tries again.
    """
    with store.read() as connection:
        catalog = Catalog(iter_documents(connection))
    model = embedder or _embedder(settings)
    backend = get_backend(settings.search_backend)
    opened = backend.open(settings, model, catalog.entries)
    lexical: Lexical | None = opened.lexical
    dense: Dense | None = opened.dense
    query_embedder: QueryEmbedder | None = model
    complete = True
    # A damaged keyword index (a search failed on it) is never kept.
    keep_lexical = previous is not None and not previous.damaged
    if keep_lexical and lexical is None and previous is not None and previous.lexical is not None:
        lexical, complete = previous.lexical, False
    if previous is not None and dense is None and previous.dense is not None:
        dense, query_embedder, complete = previous.dense, previous.embedder, False

    def page_abstracts(ids: list[str]) -> dict[str, str]:
        with store.read() as connection:
            return abstracts(connection, ids)

    config = search_config(settings)
    engine = SearchEngine(catalog, lexical, dense, query_embedder, config, page_abstracts)
    engine.complete = complete
    return engine


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
    engine at once; when the store's :func:`paper_stamp` or the backend's stamp of its index
    files has moved, a new engine is opened in
    a background thread and swapped in when ready, so no request waits for a reload.
    """

    def __init__(self, store: Store, settings: Settings, check_every: float = 30.0) -> None:
        self.store = store
        self.settings = settings
        self.check_every = check_every
        self._engine: SearchEngine | None = None
        self.generation = 0  # how many engines were opened: what searches answer changed
        self._stamp: object = None
        self._checked = 0.0
        self._open_lock = threading.Lock()
        self._reloading = threading.Lock()
        self._backend = get_backend(settings.search_backend)

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
        """The papers' stamp and the index files' (a build can land without the store
        changing). New vectors alone do not count: the engine reads them from the index
        files, which the worker brings up to date now and then while it embeds a backlog,
        so reopening for each batch written would only cost CPU."""
        with self.store.read() as connection:
            stamp = paper_stamp(connection)
        return stamp, self._backend.stamp(self.settings)

    def _open(self, stamp: object, previous: SearchEngine | None) -> None:
        engine = open_engine(self.store, self.settings, previous=previous)
        # An engine that kept a part of ``previous`` is reopened at the next check.
        self._engine, self._stamp = engine, stamp if engine.complete else None
        self.generation += 1

    def get(self) -> SearchEngine:
        engine = self._engine
        if engine is None:
            with self._open_lock:
                if self._engine is None:
                    self._open(self._stamp_now(), None)
                    self._checked = time.monotonic()
                    _settle_heap()
                engine = self._engine
                assert engine is not None
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
            if rebuild:
                repair_lexical(self.store, self.settings)
            self._open(stamp, self._engine)
            _settle_heap()
        except Exception:  # keep serving the engine we have; the next check tries again
            log.exception("reloading the search engine failed")
        finally:
            self._reloading.release()
