"""Opening a search engine over the site's data: catalog, lexical and dense indexes, model.

``open_engine`` opens the configured search backend's index files
(``DAILYPAPERS_SEARCH_BACKEND``, :mod:`dailypapers.index.backends`) and never builds them:
builds happen in the index job (``dailypapers index``, the worker, or ``dailypapers search``
just before it searches), under the index writer lock. An index that is missing or unusable
is left out and each response says so: no dense index means keyword search only, no lexical
index means only exact ids and titles until the job has run. A model that cannot be loaded
also leaves the engine lexical-only. ``LiveEngine`` is what the web server holds: the
engine, reopened in the background when the papers have changed or an index build has
landed, so a running site finds new papers without a restart. New vectors alone (the worker
embedding a backlog brings the dense index files up to date every minute) reopen only the
dense part, keeping the catalog and keyword index, and at most every ``DENSE_REOPEN_EVERY``
seconds once semantic search is on; whatever answered before such a reopening stays right
(same papers, same words) and is allowed to lag behind the newest vectors.
When a search finds the keyword index damaged (a check at opening missed it), the engine
answers semantically meanwhile and ``LiveEngine`` has the index job rebuild it
(:func:`dailypapers.index.job.repair_lexical`, under the writer lock), then reopens.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from dataclasses import dataclass

from dailypapers.index.backends import get_backend
from dailypapers.index.dense.embedder import Embedder, EmbedderError, QueryMemo, load_embedder
from dailypapers.index.job import repair_lexical
from dailypapers.index.lexical.index import LexicalIndex
from dailypapers.search.catalog import Catalog
from dailypapers.search.engine import Dense, Lexical, QueryEmbedder, SearchConfig, SearchEngine
from dailypapers.settings import Settings
from dailypapers.store import Store
from dailypapers.store.documents import abstracts, iter_documents
from dailypapers.store.papers import paper_stamp

log = logging.getLogger(__name__)

REBUILD_EVERY = 1.0  # seconds between attempts to rebuild a damaged keyword index
# Seconds between reopenings for new vectors alone, once the engine has a dense index: each
# reopening costs the site CPU, and a few minutes' vectors of a backlog change little.
DENSE_REOPEN_EVERY = 300.0


def search_config(settings: Settings) -> SearchConfig:
    return SearchConfig(
        fusion=settings.search_fusion,
        lexical_weight=settings.search_lexical_weight,
        dense_weight=settings.search_dense_weight,
        embed_timeout=settings.search_embed_timeout,
        dense_min_similarity=settings.search_dense_min_similarity,
    )


def _embedder(settings: Settings) -> Embedder | None:
    """The query model: one thread, since a query is a dozen tokens and a second thread's
    hand-offs cost more CPU than they save (2.4 against 3.6 ms a query, BENCHMARKS.md "Web
    CPU: uncached pages, session 6"), with the last queries' vectors kept (``QueryMemo``:
    the next page of results, a search's feed, a reload); documents are embedded by the
    index job's own model."""
    try:
        model = load_embedder(settings.model_copy(update={"embedding_threads": 1}))
    except EmbedderError as error:
        log.warning("semantic search is off: %s", error)
        return None
    return QueryMemo(model)


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


def with_dense(previous: SearchEngine, dense: Dense | None, model: Embedder) -> SearchEngine:
    """``previous`` with another dense index (new vectors landed), its catalog, keyword index
    and settings kept: for when only the dense index files changed."""
    engine = SearchEngine(
        previous.catalog, previous.lexical, dense, model, previous.config, previous.abstracts
    )
    engine.complete = previous.complete
    return engine


def _settle_heap() -> None:
    """Move the engine's long-lived objects out of the garbage collector's way.

    The catalog and indexes are hundreds of thousands of objects that live as long as the
    engine; without this every full collection walks them all, which showed as 200 ms
    pauses in the load benchmark (p99 of a trivial endpoint 203 ms, 22 ms with it).
    """
    gc.collect()
    gc.freeze()


@dataclass(frozen=True)
class Seen:
    """What the open engine was opened on: the papers' stamp and the index files' parts."""

    papers: object
    lexical: object
    dense: object


class LiveEngine:
    """A search engine that follows the store: checked at most every ``check_every`` seconds.

    The first ``get`` opens the engine (others wait for it). Later calls return the open
    engine at once; when the store's :func:`paper_stamp` or the backend's stamp of its index
    files has moved, a new engine is opened in a background thread and swapped in when ready
    (one assignment), so no request waits for a reload and none sees a half-opened engine.

    Two counters say what changed, for caches of answers: ``generation`` moves at every
    reopening, ``answers_generation`` only at one that may change any answer (other papers,
    another keyword index, a repair). A reopening for new vectors alone (the dense index
    files changed, nothing else) moves only ``generation``: answers made before it are still
    correct, their semantic part just older, and a cache may keep them for its time to live.
    Such reopenings happen at once while the engine has no dense index (the first vectors
    turn semantic search on), then at most every ``dense_every`` seconds.
    """

    def __init__(
        self,
        store: Store,
        settings: Settings,
        check_every: float = 30.0,
        dense_every: float = DENSE_REOPEN_EVERY,
    ) -> None:
        self.store = store
        self.settings = settings
        self.check_every = check_every
        self.dense_every = dense_every
        self._engine: SearchEngine | None = None
        self.generation = 0  # how many engines were opened
        self.answers_generation = 0  # how many were opened on other papers or keyword index
        self._seen: Seen | None = None  # None: reopen wholly at the next check
        self._dense_opened = 0.0
        self._checked = 0.0
        self._model: Embedder | None = None
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

    def _stamp_now(self) -> Seen:
        """The papers' stamp and the index files' (a build can land without the store
        changing). New vectors in the store do not count: the engine reads them from the
        index files, which the worker brings up to date now and then while it embeds."""
        with self.store.read() as connection:
            papers = paper_stamp(connection)
        index = self._backend.stamp(self.settings)
        return Seen(papers, index.lexical, index.dense)

    def _query_model(self) -> Embedder | None:
        """The query model, loaded once and shared by the engines opened after."""
        if self._model is None:
            self._model = _embedder(self.settings)
        return self._model

    def _open(self, seen: Seen, previous: SearchEngine | None) -> None:
        engine = open_engine(
            self.store, self.settings, embedder=self._query_model(), previous=previous
        )
        if isinstance(engine.lexical, LexicalIndex):
            # Read here, in the opening's thread (the server's warm-up or a reload), not by
            # the first request with a typo: 0.3 to 0.9 s of CPU for 75,000 papers.
            engine.lexical.vocabulary()
        self._swap(engine, seen)
        self.answers_generation += 1

    def _open_dense(self, seen: Seen, previous: SearchEngine) -> None:
        model = self._query_model()
        if model is None:  # no model, no dense index: nothing to reopen
            self._seen = seen
            return
        dense = self._backend.open_dense(self.settings, model, previous.catalog.entries)
        if dense is None and previous.dense is not None:
            return  # caught between two builds: tried again at the next check
        self._swap(with_dense(previous, dense, model), seen)

    def _swap(self, engine: SearchEngine, seen: Seen) -> None:
        # An engine that kept a part of ``previous`` is reopened wholly at the next check.
        self._engine, self._seen = engine, seen if engine.complete else None
        self._dense_opened = time.monotonic()
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

    def _reopening(self, seen: Seen, rebuild: bool) -> str | None:
        """What to reopen: ``"all"``, ``"dense"`` (only new vectors landed) or None."""
        last, engine = self._seen, self._engine
        if rebuild or last is None or (seen.papers, seen.lexical) != (last.papers, last.lexical):
            return "all"
        if seen.dense == last.dense:
            return None
        has_dense = engine is not None and engine.dense is not None
        if not has_dense or time.monotonic() - self._dense_opened >= self.dense_every:
            return "dense"
        return None  # looked at again at the next check

    def _maybe_reload(self, *, rebuild: bool = False) -> None:
        """Reopen in the background when the store changed (looked at every ``check_every``
        s), or soon with the keyword index rebuilt when a search found it damaged (a rebuild
        that fails is tried again at most every ``REBUILD_EVERY`` s)."""
        wait = REBUILD_EVERY if rebuild else self.check_every
        if time.monotonic() - self._checked < wait:
            return
        if not self._reloading.acquire(blocking=False):
            return  # a reload is already under way
        try:
            self._checked = time.monotonic()
            seen = self._stamp_now()
            what = self._reopening(seen, rebuild)
        except BaseException:
            self._reloading.release()
            raise
        if what is None:
            self._reloading.release()
            return
        worker = threading.Thread(
            target=self._reload, args=(seen, what, rebuild), name="reload", daemon=True
        )
        worker.start()

    def _reload(self, seen: Seen, what: str, rebuild: bool = False) -> None:
        # The engine replaced is not closed: a request may still be searching with it. Its
        # worker thread ends when it is garbage-collected.
        try:
            if rebuild:
                repair_lexical(self.store, self.settings)
            previous, started = self._engine, time.monotonic()
            if what == "dense" and previous is not None:
                self._open_dense(seen, previous)
            else:
                self._open(seen, previous)
                _settle_heap()  # a dense reopening adds a few objects: no full collection
            log.info("search engine reopened (%s) in %.2f s", what, time.monotonic() - started)
        except Exception:  # keep serving the engine we have; the next check tries again
            log.exception("reloading the search engine failed")
        finally:
            self._reloading.release()
