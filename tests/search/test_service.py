"""The engine a server holds follows the store: new papers become findable without a restart.
It only opens index files: a server on a store whose index is not built yet builds nothing,
answers every search (with a note) and picks the index up once the index job has built it."""

from __future__ import annotations

import shutil
import time
from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient

from dailypapers.index.job import run_index
from dailypapers.ingest.files import JsonLinesSource
from dailypapers.ingest.run import ingest
from dailypapers.paper import make_record
from dailypapers.search.engine import NOT_BUILT
from dailypapers.search.query import SearchRequest
from dailypapers.search.service import LiveEngine, open_engine
from dailypapers.settings import get_settings
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
