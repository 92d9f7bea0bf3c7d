"""The engine a server holds follows the store: new papers become findable without a restart."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

from dailypapers.index.job import run_index
from dailypapers.ingest.files import JsonLinesSource
from dailypapers.ingest.run import ingest
from dailypapers.paper import make_record
from dailypapers.search.query import SearchRequest
from dailypapers.search.service import LiveEngine
from dailypapers.settings import get_settings
from dailypapers.store import Store
from dailypapers.store.papers import upsert_papers

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
