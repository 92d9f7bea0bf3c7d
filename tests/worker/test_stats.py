"""``dailypapers stats`` shows how far the semantic index is and, for each background job,
its last run and when it is next due."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dailypapers.cli import app
from dailypapers.ingest.files import JsonLinesSource
from dailypapers.ingest.run import ingest
from dailypapers.settings import get_settings
from dailypapers.store import Store
from dailypapers.store.jobs import add_run
from dailypapers.worker.loop import Worker
from dailypapers.worker.registry import JOBS
from tests.support.replay import ReplayServer, Response

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_stats_shows_semantic_progress_and_the_jobs(
    cli: CliRunner, store: Store, replay: ReplayServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest(store, "file", "sample", JsonLinesSource(FIXTURES / "snapshot_sample.jsonl"))
    replay.add("/oai", Response(503, b"down for maintenance"))
    monkeypatch.setenv("DAILYPAPERS_ARXIV_OAI_URL", f"{replay.base_url}/oai")
    monkeypatch.setenv("DAILYPAPERS_HTTP_RETRIES", "0")
    get_settings.cache_clear()
    with store.write() as connection:
        add_run(connection, "harvest", datetime(2026, 1, 5, 1, 30))
    assert Worker(store, get_settings(), JOBS, owner="w").run_once()

    report = json.loads(cli.invoke(app, ["stats", "--json"]).stdout)
    assert report["semantic_index"] == {
        "papers_with_current_vectors": 0, "papers": 3, "percent": 0
    }  # fmt: skip
    harvest, embed = report["jobs"]["harvest"], report["jobs"]["embed"]
    assert harvest["last_run"]["status"] == "due" and harvest["last_run"]["attempts"] == 1
    assert "HTTP 503" in harvest["last_run"]["message"]
    assert harvest["next_due"] > harvest["last_run"]["started_at"]  # the back-off
    assert embed["last_run"] is None and embed["next_due"].endswith("Z")

    text = cli.invoke(app, ["stats"]).stdout
    assert "semantic index    0% of papers (0 of 3 have vectors" in text
    assert "job harvest       due" in text and "job embed         never run  next 20" in text
