"""A killed ingest does not stay ``running`` forever: the next run of its source marks it
``interrupted`` (on SQLite any running one; on PostgreSQL one whose heartbeat is stale)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from dailypapers.ingest.files import JsonLinesSource
from dailypapers.ingest.run import ingest
from dailypapers.store import Store, open_store
from dailypapers.store import runs as store_runs
from dailypapers.store.papers import count_papers
from dailypapers.store.runs import runs_of_source, start_run
from tests.support.postgres import PostgresServer

DAILYPAPERS = Path(sys.executable).with_name("dailypapers")
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
LISTING = Path("arxiv-daily-listings") / "papers.jsonl.gz"


def test_a_run_killed_with_kill_9_is_marked_interrupted_by_the_next(
    sqlite_store: Store, shared_data: Path
) -> None:
    env = {**os.environ, "DAILYPAPERS_DATABASE_URL": sqlite_store.url,
           "DAILYPAPERS_INGEST_BATCH_SIZE": "200"}  # fmt: skip
    process = subprocess.Popen(
        [str(DAILYPAPERS), "ingest", "file", str(shared_data / LISTING)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            with sqlite_store.read() as connection:
                if count_papers(connection).papers >= 200:
                    break
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
    finally:
        process.kill()
        process.wait(timeout=10)
    with sqlite_store.read() as connection:
        assert [run.status for run in runs_of_source(connection, "file")] == ["running"]
    ingest(sqlite_store, "file", "sample", JsonLinesSource(FIXTURES / "snapshot_sample.jsonl"))
    with sqlite_store.read() as connection:
        killed, after = runs_of_source(connection, "file")
    assert (killed.status, after.status) == ("interrupted", "ok")
    assert killed.message is not None and "killed" in killed.message
    assert killed.finished_at is not None and killed.new >= 0


def test_postgresql_marks_only_runs_whose_heartbeat_is_stale(
    postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(postgres.fresh_database())
    with store.write() as connection:
        start_run(connection, "file", "another machine, alive")
        start_run(connection, "file", "a second one")
    with store.read() as connection:
        assert [r.status for r in runs_of_source(connection, "file")] == ["running"] * 2
    monkeypatch.setattr(store_runs, "STALE_AFTER", timedelta(seconds=1))
    time.sleep(2.2)  # both heartbeats (kept to the second) are older than the limit
    with store.write() as connection:
        start_run(connection, "file", "a new run")
    with store.read() as connection:
        statuses = [r.status for r in runs_of_source(connection, "file")]
    store.dispose()
    assert statuses == ["interrupted", "interrupted", "running"]
