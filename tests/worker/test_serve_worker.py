"""``dailypapers serve`` on SQLite runs one background worker as a child process: it
harvests (here a replay of arXiv), embeds the papers while the site serves, and stops with
the server on Ctrl-C. Bounded in time; everything started is stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from dailypapers.index.dense.embedder import embedder_name
from dailypapers.ingest.files import JsonLinesSource
from dailypapers.ingest.run import ingest
from dailypapers.settings import get_settings
from dailypapers.store import Store
from dailypapers.store.jobs import last_runs
from dailypapers.store.vectors import semantic_progress
from tests.support.replay import ReplayServer
from tests.support.server import free_port, wait_until_up
from tests.worker.test_jobs import arxiv_answer

DAILYPAPERS = Path(sys.executable).with_name("dailypapers")
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DEADLINE = 120.0  # the model may be built first (once per test session)


def _children(pid: int) -> list[int]:
    found = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in found.read_text().split()] if found.exists() else []


def test_serve_runs_one_worker_that_harvests_embeds_and_stops_with_it(
    sqlite_store: Store,
    replay: ReplayServer,
    shared_data: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ingest(sqlite_store, "file", "sample", JsonLinesSource(FIXTURES / "snapshot_sample.jsonl"))
    replay.add("/oai", arxiv_answer(shared_data), query={"verb": "ListRecords"})
    for name, value in {
        "DATABASE_URL": sqlite_store.url, "ARXIV_OAI_URL": f"{replay.base_url}/oai",
        "CATEGORIES": "cs.DM", "HTTP_RETRIES": "0", "WORKER_POLL_SECONDS": "0.2",
    }.items():  # fmt: skip
        monkeypatch.setenv(f"DAILYPAPERS_{name}", value)
    get_settings.cache_clear()
    model = embedder_name(get_settings())
    port = free_port()
    server = subprocess.Popen(
        [str(DAILYPAPERS), "serve", "--port", str(port), "--workers", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ),
    )  # fmt: skip
    try:
        deadline = time.monotonic() + DEADLINE
        progress = None
        while time.monotonic() < deadline and server.poll() is None:
            with sqlite_store.read() as connection:
                progress = semantic_progress(connection, model)
                runs = last_runs(connection)
            if progress.percent == 100 and runs.get("harvest") and runs["harvest"].status == "ok":
                break
            time.sleep(0.5)
        assert progress is not None and progress.percent == 100, progress
        assert progress.papers == 4  # the sample's 3 and the harvested one
        wait_until_up(f"http://127.0.0.1:{port}", server)  # its web workers may still be starting
        api = httpx.get(f"http://127.0.0.1:{port}/api/papers/search", params={"q": "graph"})
        assert api.status_code == 200 and api.headers["X-Semantic-Index"].endswith("%")
        workers = [pid for pid in _children(server.pid)
                   if b"worker" in Path(f"/proc/{pid}/cmdline").read_bytes()]  # fmt: skip
        assert len(workers) == 1  # one background worker, not one per web worker
        server.send_signal(signal.SIGINT)
        _out, err = server.communicate(timeout=90)
        assert server.returncode == 0, err
        assert not Path(f"/proc/{workers[0]}").exists()  # the worker stopped with it
    finally:
        if server.poll() is None:
            for child in _children(server.pid):
                os.kill(child, signal.SIGKILL)
            server.kill()
            server.communicate(timeout=10)
