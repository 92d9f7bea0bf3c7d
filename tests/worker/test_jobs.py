"""The worker's real jobs, run by the real loop: the arXiv harvest against a replay of
captured OAI-PMH responses, and the embedding of a backlog, newest papers first, with the
built-in model; on SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
import itertools
import json
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from dailypapers.index.backends import get_backend
from dailypapers.index.backends.base import Updated
from dailypapers.index.dense.embedder import embedder_name
from dailypapers.index.job import update_indexes
from dailypapers.index.lexical import index as lexical
from dailypapers.ingest.files import parse_listing
from dailypapers.ingest.run import ingest
from dailypapers.paper import feed_day
from dailypapers.settings import Settings, get_settings
from dailypapers.store import Store
from dailypapers.store.jobs import add_run, get_run, runs_of
from dailypapers.store.papers import count_papers
from dailypapers.store.runs import last_runs
from dailypapers.store.vectors import papers_needing_vectors, semantic_progress
from dailypapers.worker import jobs
from dailypapers.worker.context import JobContext, Stopping
from dailypapers.worker.jobs import EMBED, HARVEST, embed_backlog
from dailypapers.worker.loop import Worker
from dailypapers.worker.registry import JOBS
from tests.support.replay import ReplayServer, Response

PAST = datetime(2026, 1, 5, 12, 0)
LISTING = Path("arxiv-daily-listings") / "papers.jsonl.gz"
# A ListRecords answer of arXiv (set cs, one cs.DM paper), from a recording of a real harvest.
RECORDING = (
    Path("arxiv-responses")
    / "oai-pmh"
    / ("paperhive_nock_oaipmh-listrecords---should-list-identifiers-from-arxiv.json")
)


def configure(monkeypatch: pytest.MonkeyPatch, **values: str) -> Settings:
    for name, value in values.items():
        monkeypatch.setenv(f"DAILYPAPERS_{name.upper()}", value)
    get_settings.cache_clear()
    return get_settings()


def arxiv_answer(shared_data: Path) -> Response:
    exchanges = json.loads((shared_data / RECORDING).read_text(encoding="utf-8"))
    answer = next(e for e in exchanges if e["status"] == 200)
    return Response(200, answer["response"].encode(), {"Content-Type": "text/xml"})


def test_harvest_ingests_updates_the_keyword_index_and_asks_for_embedding(
    store: Store,
    replay: ReplayServer,
    shared_data: Path,
    monkeypatch: pytest.MonkeyPatch,
    settings_env: Path,
) -> None:
    replay.add("/oai", arxiv_answer(shared_data), query={"verb": "ListRecords"})
    config = configure(
        monkeypatch, arxiv_oai_url=f"{replay.base_url}/oai", categories="cs.DM", http_retries="0"
    )
    with store.write() as connection:
        add_run(connection, HARVEST, PAST)
    assert Worker(store, config, JOBS, owner="w").run_once()
    with store.read() as connection:
        (run,) = runs_of(connection, HARVEST)
        assert count_papers(connection).papers == 1
        (ingested,) = last_runs(connection)
        (embedding,) = runs_of(connection, EMBED)
    assert run.status == "ok" and run.counts == {
        "new": 1, "updated": 0, "unchanged": 0, "skipped": 0
    }  # fmt: skip
    assert (ingested.source, ingested.status) == ("arxiv", "ok")
    assert replay.requests[0][1]["set"] == "cs"
    assert len(lexical.LexicalIndex.open(lexical.index_path(settings_env))) == 1
    assert embedding.status == "due"  # the new paper is embedded next


def test_an_unreachable_arxiv_is_retried_later(
    store: Store, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    replay.add("/oai", Response(502, b"Bad Gateway"))
    config = configure(monkeypatch, arxiv_oai_url=f"{replay.base_url}/oai", http_retries="0")
    with store.write() as connection:
        add_run(connection, HARVEST, PAST)
    assert Worker(store, config, JOBS, owner="w").run_once()
    with store.read() as connection:
        (run,) = runs_of(connection, HARVEST)
        (ingested,) = last_runs(connection)
    assert run.status == "due" and run.attempts == 1 and "HTTP 502" in (run.message or "")
    assert ingested.status == "failed"


def load_listing(store: Store, shared_data: Path, count: int) -> list[str]:
    """Store ``count`` listed papers; their ids, newest feed day first (then id, reversed)."""
    with gzip.open(shared_data / LISTING, "rt") as lines:
        records = [parse_listing(json.loads(line)) for line in itertools.islice(lines, count)]
    ingest(store, "file", "listing", records)
    ranked = sorted(records, key=lambda r: (feed_day(r), r.arxiv_id), reverse=True)
    return [record.arxiv_id for record in ranked]


def test_the_backlog_is_embedded_newest_first_and_made_searchable(
    store: Store, shared_data: Path, monkeypatch: pytest.MonkeyPatch, settings_env: Path
) -> None:
    newest_first = load_listing(store, shared_data, 96)
    config = configure(monkeypatch, embedding_batch_size="32")
    model = embedder_name(config)
    with store.write() as connection:
        add_run(connection, EMBED, PAST)
    # A worker told to stop embeds one batch, the newest papers, then hands the run back.
    with store.read() as connection:
        run = get_run(connection, 1)
    assert run is not None
    context = JobContext(store, config, run)
    context.stop.set()
    with pytest.raises(Stopping):
        embed_backlog(context)
    with store.read() as connection:
        progress = semantic_progress(connection, model)
        waiting = {p.id for p in papers_needing_vectors(connection, model, limit=1000)}
    assert (progress.embedded, progress.papers, progress.percent) == (32, 96, 33)
    assert waiting.isdisjoint(newest_first[:32]) and set(newest_first[32:]) == waiting

    # A run that has had its time hands over to a follow-up run, due at once.
    monkeypatch.setattr(jobs, "EMBED_RUN_SECONDS", 0.0)
    worker = Worker(store, config, [kind for kind in JOBS if kind.name == EMBED], owner="w")
    assert worker.run_once()
    monkeypatch.setattr(jobs, "EMBED_RUN_SECONDS", 300.0)
    assert worker.run_once()
    with store.read() as connection:
        first, follow_up = runs_of(connection, EMBED)
        assert semantic_progress(connection, model).percent == 100
    assert first.status == "ok" and first.counts == {"embedded": 32, "remaining": 32}
    assert follow_up.status == "ok" and follow_up.counts == {"embedded": 32, "remaining": 0}
    assert any((settings_env / "index").rglob("*"))  # the dense index files were written


def test_between_batches_only_the_dense_index_is_updated(
    store: Store, shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Embedding changes no paper: the updates between batches leave the keyword index (and
    so the site's catalog and cached answers) alone; the run's last update does it all."""
    load_listing(store, shared_data, 96)
    config = configure(monkeypatch, embedding_batch_size="32", worker_index_every="0")
    update_indexes(store, config, None)
    params = lexical.index_path(config.data_dir) / lexical.PARAMS
    written = params.read_text()
    calls: list[tuple[bool, bool]] = []  # (lexical, params.json as before the run)

    def recorded(*args: Any, lexical: bool = True, **options: Any) -> Updated:
        updated = update_indexes(*args, lexical=lexical, **options)
        calls.append((lexical, params.read_text() == written))
        return updated

    monkeypatch.setattr(jobs, "update_indexes", recorded)
    with store.write() as connection:
        add_run(connection, EMBED, PAST)
    with store.read() as connection:
        run = get_run(connection, 1)
    assert run is not None
    time.sleep(1.1)  # params.json records its update time to the second
    assert embed_backlog(JobContext(store, config, run)) == {"embedded": 96, "remaining": 0}
    assert calls == [(False, True)] * 3 + [(True, False)]
    assert get_backend(config.search_backend).stamp(config).dense != ()  # dense files written
