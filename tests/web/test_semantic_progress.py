"""While papers await vectors, the search page and ``/api/papers/search`` say how far the
semantic index is, and those papers are still found by their words."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient

from dailypapers.index.dense.embedder import embedder_name
from dailypapers.index.job import update_indexes
from dailypapers.settings import get_settings
from dailypapers.store.vectors import SemanticProgress, semantic_progress
from dailypapers.web.progress import RECOUNT_SECONDS

QUERY = "Consistency Regularization Self-Rewarding"


def test_without_vectors_search_says_so_and_finds_papers_by_their_words(
    client: TestClient,
) -> None:
    store = client.app.state.store  # type: ignore[attr-defined]
    update_indexes(store, get_settings(), None)  # the keyword index, as the worker builds it
    page = client.get("/search", params={"q": QUERY})
    assert page.status_code == 200
    assert "Semantic index: 0% of papers so far" in page.text
    assert "Consistency Regularization for Self-Rewarding Language Models" in page.text
    api = client.get("/api/papers/search", params={"q": QUERY})
    assert api.headers["X-Semantic-Index"] == "0%"
    assert api.json()[0]["paper"]["id"] == "2401.00001"  # the body is still the list


def test_with_every_vector_nothing_is_said_and_the_header_is_100(
    indexed_client: TestClient,
) -> None:
    store = indexed_client.app.state.store  # type: ignore[attr-defined]
    with store.read() as connection:
        assert semantic_progress(connection, embedder_name(get_settings())).percent == 100
    page = indexed_client.get("/search", params={"q": QUERY})
    assert "Semantic index" not in page.text
    api = indexed_client.get("/api/papers/search", params={"q": QUERY})
    assert api.headers["X-Semantic-Index"] == "100%"


def test_an_old_count_is_served_while_it_is_counted_again_in_the_background(
    indexed_client: TestClient,
) -> None:
    state = indexed_client.app.state  # type: ignore[attr-defined]
    old = SemanticProgress(embedded=1, papers=2)
    state.semantic_progress = (old, time.monotonic() - RECOUNT_SECONDS - 1)
    api = indexed_client.get("/api/papers/search", params={"q": QUERY})
    assert api.headers["X-Semantic-Index"] == "50%"  # this request did not wait to count
    deadline = time.monotonic() + 10
    while state.semantic_progress[0] == old and time.monotonic() < deadline:
        time.sleep(0.01)
    assert state.semantic_progress[0].percent == 100  # the next requests get the new count
    api = indexed_client.get("/api/papers/search", params={"q": "Self-Rewarding"})  # uncached
    assert api.headers["X-Semantic-Index"] == "100%"
