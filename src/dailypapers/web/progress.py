"""How far the semantic index is ("41% of papers"), for the search page and the search API.

While the background worker embeds a backlog, papers without a vector are found by their
words only; the search page says so and ``/api/papers/search`` answers with an
``X-Semantic-Index: 41%`` header (its body stays the list the Hugging Face client expects).
Counting takes about 0.1 s on 75,000 papers, so each process counts at most every
:data:`RECOUNT_SECONDS`, and only its first count is made in a request: later ones are made
in a thread while requests are answered with the last count (a request that made the count
waited 0.1 s, the tail of the search page's latency under load).
"""

from __future__ import annotations

import logging
import threading
import time

from fastapi import Request
from starlette.datastructures import State

from dailypapers.feed.reader import SemanticProgress, Store, read
from dailypapers.index.dense.embedder import embedder_name
from dailypapers.web.deps import settings_of, store_of

logger = logging.getLogger(__name__)

RECOUNT_SECONDS = 30.0
# The search API's header, e.g. ``X-Semantic-Index: 41%``.
SEMANTIC_INDEX_HEADER = "X-Semantic-Index"


def semantic_progress_of(request: Request) -> SemanticProgress:
    state = request.app.state
    counted: tuple[SemanticProgress, float] | None = getattr(state, "semantic_progress", None)
    model = embedder_name(settings_of(request))
    if counted is None:
        _count(state, store_of(request), model)
        counted = state.semantic_progress
    elif time.monotonic() - counted[1] > RECOUNT_SECONDS and _start_recount(state):
        recount = threading.Thread(
            target=_recount, args=(state, store_of(request), model), daemon=True
        )
        recount.start()
    return counted[0]


_RECOUNTING = threading.Lock()  # one recount at a time in a process


def _start_recount(state: State) -> bool:
    with _RECOUNTING:
        if getattr(state, "semantic_recounting", False):
            return False
        state.semantic_recounting = True
        return True


def _count(state: State, store: Store, model: str) -> None:
    try:
        with read(store) as reader:
            progress = reader.semantic_progress(model)
        state.semantic_progress = (progress, time.monotonic())
    finally:
        state.semantic_recounting = False


def _recount(state: State, store: Store, model: str) -> None:
    """A count in the background: a failure (the store closing at shutdown) keeps the last."""
    try:
        _count(state, store, model)
    except Exception as error:  # noqa: BLE001 - logged; the next request tries again
        logger.warning("counting the semantic index's papers failed: %r", error)
