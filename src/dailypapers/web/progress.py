"""How far the semantic index is ("41% of papers"), for the search page and the search API.

While the background worker embeds a backlog, papers without a vector are found by their
words only; the search page says so and ``/api/papers/search`` answers with an
``X-Semantic-Index: 41%`` header (its body stays the list the Hugging Face client expects).
Counting takes about 0.1 s on 75,000 papers, so each process counts at most every
:data:`RECOUNT_SECONDS`.
"""

from __future__ import annotations

import time

from fastapi import Request

from dailypapers.feed.reader import SemanticProgress
from dailypapers.index.dense.embedder import embedder_name
from dailypapers.web.deps import reader, settings_of

RECOUNT_SECONDS = 30.0
# The search API's header, e.g. ``X-Semantic-Index: 41%``.
SEMANTIC_INDEX_HEADER = "X-Semantic-Index"


def semantic_progress_of(request: Request) -> SemanticProgress:
    state = request.app.state
    counted: tuple[SemanticProgress, float] | None = getattr(state, "semantic_progress", None)
    if counted is None or time.monotonic() - counted[1] > RECOUNT_SECONDS:
        with reader(request) as read:
            progress = read.semantic_progress(embedder_name(settings_of(request)))
        counted = state.semantic_progress = (progress, time.monotonic())
    return counted[0]
