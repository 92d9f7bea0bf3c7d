"""The engine a server holds follows the store: new papers become findable without a restart.
It only opens index files: a server on a store whose index is not built yet builds nothing,
answers every search (with a note) and picks the index up once the index job has built it."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient

from dailypapers.index.backends import get_backend
from dailypapers.index.dense.embedder import load_embedder
from dailypapers.index.dense.vectors import embed_papers
from dailypapers.index.job import run_index, update_indexes
from dailypapers.index.lexical import index as lexical
from dailypapers.ingest.files import JsonLinesSource
from dailypapers.ingest.run import ingest
from dailypapers.paper import make_record
from dailypapers.search.engine import NOT_BUILT, SearchEngine
from dailypapers.search.query import SearchRequest
from dailypapers.search.service import LiveEngine, open_engine
from dailypapers.settings import Settings, get_settings
from dailypapers.store import Store
from dailypapers.store.papers import upsert_papers
from dailypapers.web.app import create_app

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
NEW = make_record(
    "2607.00001", "Quokka Locomotion on Sandy Terrain", abstract="Quokkas hop on sand.",
    categories=["cs.RO"], first_listed_on=date(2026, 7, 1),
)  # fmt: skip


def _ids(live: LiveEngine, text: str) -> list[str]:
    return [hit.id for hit in live.get().search(SearchRequest(text, mode="lexical")).hits]


def test_the_engine_reloads_in_the_background_when_the_store_changes(
    sqlite_store: Store,
) -> None:
    settings = get_settings()
    ingest(sqlite_store, "file", "sample", JsonLinesSource(FIXTURES / "snapshot_sample.jsonl"))
    run_index(sqlite_store, settings)
    live = LiveEngine(sqlite_store, settings, check_every=0)
    first = live.get()
    assert _ids(live, "quokka") == []
    assert live.get() is first  # nothing changed: no reload
    with sqlite_store.write() as connection:
        upsert_papers(connection, [NEW])
    run_index(sqlite_store, settings)  # what `dailypapers ingest` does after writing
    deadline = time.monotonic() + 60
    while _ids(live, "quokka") != [NEW.arxiv_id]:
        assert time.monotonic() < deadline, "the new paper never became findable"
        time.sleep(0.05)
    assert live.get() is not first


def test_a_server_engine_reads_the_typo_vocabulary_when_it_opens(sqlite_store: Store) -> None:
    settings = get_settings()
    ingest(sqlite_store, "file", "sample", JsonLinesSource(FIXTURES / "snapshot_sample.jsonl"))
    run_index(sqlite_store, settings)
    engine = LiveEngine(sqlite_store, settings, check_every=3600).get()
    assert isinstance(engine.lexical, lexical.LexicalIndex)
    assert engine.lexical.vocabulary_read  # before any query with a typo
    alone = open_engine(sqlite_store, settings)  # `dailypapers search`: read when needed
    assert isinstance(alone.lexical, lexical.LexicalIndex)
    assert not alone.lexical.vocabulary_read
    alone.search(SearchRequest("the", mode="lexical"))  # no word long enough to be a typo
    assert not alone.lexical.vocabulary_read
    alone.search(SearchRequest("zzqxvwplmnk", mode="lexical"))  # in no paper: maybe a typo
    assert alone.lexical.vocabulary_read


def test_checks_are_rate_limited(sqlite_store: Store) -> None:
    settings = get_settings()
    ingest(sqlite_store, "file", "sample", JsonLinesSource(FIXTURES / "snapshot_sample.jsonl"))
    live = LiveEngine(sqlite_store, settings, check_every=3600)
    first = live.get()
    with sqlite_store.write() as connection:
        upsert_papers(connection, [NEW])
    time.sleep(0.1)
    assert live.get() is first  # within the hour: not even looked at


def test_a_server_without_index_files_builds_none_and_answers(sqlite_store: Store) -> None:
    settings = get_settings()
    ingest(sqlite_store, "file", "sample", JsonLinesSource(FIXTURES / "snapshot_sample.jsonl"))
    with TestClient(create_app(sqlite_store, settings, warm=True)) as client:
        page = client.get("/search", params={"q": "consistency self-rewarding"})
        assert page.status_code == 200 and "not built yet" in page.text
        api = client.get("/api/papers/search", params={"q": "consistency self-rewarding"})
        assert api.status_code == 200 and api.json() == []
        by_id = client.get("/api/papers/search", params={"q": "2401.00001"})
        assert by_id.status_code == 200 and [p["paper"]["id"] for p in by_id.json()] == [
            "2401.00001"
        ]  # an exact id needs no index
        assert client.get("/papers/2401.00001").status_code == 200
        assert client.get("/api/papers/2401.00001/similar").status_code == 200
        assert client.get("/feeds/search.atom", params={"q": "consistency"}).status_code == 200
    assert not (settings.data_dir / "index").exists(), "the server wrote index files"


def test_the_engine_picks_up_an_index_built_after_it_opened(sqlite_store: Store) -> None:
    settings = get_settings()
    ingest(sqlite_store, "file", "sample", JsonLinesSource(FIXTURES / "snapshot_sample.jsonl"))
    live = LiveEngine(sqlite_store, settings, check_every=0)
    response = live.get().search(SearchRequest("consistency self-rewarding"))
    assert response.hits == [] and NOT_BUILT in response.notes
    assert not (settings.data_dir / "index").exists()
    run_index(sqlite_store, settings)  # the store does not change: only the index files do
    deadline = time.monotonic() + 60
    while _ids(live, "consistency self-rewarding") != ["2401.00001"]:
        assert time.monotonic() < deadline, "the built index was never opened"
        time.sleep(0.05)
    assert live.get().dense is not None  # the semantic index too


def test_a_reopen_that_cannot_open_an_index_keeps_the_previous_one(sqlite_store: Store) -> None:
    settings = get_settings()
    ingest(sqlite_store, "file", "sample", JsonLinesSource(FIXTURES / "snapshot_sample.jsonl"))
    run_index(sqlite_store, settings)
    first = open_engine(sqlite_store, settings)
    assert first.complete and first.lexical is not None and first.dense is not None
    # The files vanish (a restore under way, say): a reopen keeps what it had, and says so.
    shutil.rmtree(settings.data_dir / "index")
    second = open_engine(sqlite_store, settings, previous=first)
    assert (second.lexical, second.dense, second.complete) == (first.lexical, first.dense, False)
    hits = second.search(SearchRequest("consistency self-rewarding")).hits
    assert hits[0].id == "2401.00001"
    # Without a previous engine there is nothing to keep: keyword search is simply not built.
    bare = open_engine(sqlite_store, settings)
    assert bare.lexical is None and bare.dense is None and bare.complete
    for engine in (first, second, bare):
        engine.close()


def _wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def _embed(store: Store, settings: Settings, papers: int) -> None:
    """What the worker does between batches: vectors for ``papers`` more papers, then the
    dense index files alone brought up to date."""
    model = load_embedder(settings)
    embed_papers(store, model, batch_size=1, limit=papers, newest_first=True)
    update_indexes(store, settings, model, lexical=False)


def _with_vectors(engine: SearchEngine) -> set[str]:
    """The papers the engine's dense index holds (a search for anything returns them all)."""
    assert engine.dense is not None and engine.embedder is not None
    return {pid for pid, _score in engine.dense.search(engine.embedder.embed_query("x"), 99)}


def test_new_vectors_alone_reopen_only_the_dense_part(sqlite_store: Store) -> None:
    """A backlog being embedded: the catalog and keyword index are kept (no reading of every
    paper again), answers made before stay valid (``answers_generation`` does not move), and
    papers still without a vector are found by their words throughout."""
    settings = get_settings()
    ingest(sqlite_store, "file", "sample", JsonLinesSource(FIXTURES / "snapshot_sample.jsonl"))
    update_indexes(sqlite_store, settings, None)  # keyword index only, as after a big ingest
    live = LiveEngine(sqlite_store, settings, check_every=0, dense_every=3600)
    first = live.get()
    assert first.dense is None and live.answers_generation == 1
    _embed(sqlite_store, settings, 1)
    # No dense index yet: the first vectors turn semantic search on at once.
    _wait_for(lambda: live.get().dense is not None, "the first vectors were never opened")
    second = live.get()
    assert second.catalog is first.catalog and second.lexical is first.lexical
    assert (live.generation, live.answers_generation) == (2, 1)
    embedded = _with_vectors(second)
    assert len(embedded) == 1
    without_vector = next(pid for pid in second.catalog.entries if pid not in embedded)
    title = second.catalog.entries[without_vector].title
    assert without_vector in [hit.id for hit in second.search(SearchRequest(title)).hits]
    # More vectors within ``dense_every`` of that reopening: the engine stays as it is.
    _embed(sqlite_store, settings, 1)
    live.get()
    live.settle(60)
    assert live.get() is second
    live.dense_every = 0  # its time has come: reopened, the dense part only
    _wait_for(lambda: live.get() is not second, "the new vectors were never opened")
    live.settle(60)
    third = live.get()
    assert third.catalog is first.catalog and third.lexical is first.lexical
    assert len(_with_vectors(third)) == 2
    assert (live.generation, live.answers_generation) == (3, 1)
    # A new paper: everything is reopened, and every answer may have changed.
    with sqlite_store.write() as connection:
        upsert_papers(connection, [NEW])
    update_indexes(sqlite_store, settings, None)
    _wait_for(lambda: _ids(live, "quokka") == [NEW.arxiv_id], "the new paper never appeared")
    live.settle(60)
    assert live.get().catalog is not first.catalog and live.answers_generation == 2


def test_a_keyword_update_that_finds_nothing_new_leaves_the_stamp(sqlite_store: Store) -> None:
    """Each update re-reads the papers of the last minutes (a late commit must not be missed)
    and rewrites params.json; the index holds the same papers, so a server reopens nothing."""
    settings = get_settings()
    ingest(sqlite_store, "file", "sample", JsonLinesSource(FIXTURES / "snapshot_sample.jsonl"))
    backend = get_backend(settings.search_backend)
    update_indexes(sqlite_store, settings, None)
    before = backend.stamp(settings)
    params = lexical.index_path(settings.data_dir) / lexical.PARAMS
    written = params.read_text()
    time.sleep(1.1)  # params.json records its update time to the second
    assert update_indexes(sqlite_store, settings, None).lexical_papers == 3
    assert params.read_text() != written and backend.stamp(settings) == before
    with sqlite_store.write() as connection:
        upsert_papers(connection, [NEW])
    update_indexes(sqlite_store, settings, None)
    assert backend.stamp(settings).lexical != before.lexical
    assert backend.stamp(settings).dense == before.dense
