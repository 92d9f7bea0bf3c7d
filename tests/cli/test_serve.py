"""``dailypapers serve`` as a user runs it: a real process on 127.0.0.1, stopped by Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from dailypapers.cli import app
from dailypapers.ingest.files import JsonLinesSource
from dailypapers.ingest.run import ingest
from dailypapers.settings import get_settings
from dailypapers.store import Store
from dailypapers.web.app import create_app
from tests.support.server import free_port, wait_until_up

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DAILYPAPERS = Path(sys.executable).with_name("dailypapers")


@pytest.fixture
def served(sqlite_store: Store) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """The server on a free port over a store with the snapshot sample in it."""
    ingest(sqlite_store, "file", "sample", JsonLinesSource(FIXTURES / "snapshot_sample.jsonl"))
    os.environ["DAILYPAPERS_DATABASE_URL"] = sqlite_store.url  # monkeypatched env: restored
    os.environ["DAILYPAPERS_SERVE_WORKER"] = "false"  # tests/worker runs serve with its worker
    port = free_port()
    process = subprocess.Popen(
        [str(DAILYPAPERS), "serve", "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield f"http://127.0.0.1:{port}", process
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


def test_serve_answers_pages_and_api_and_stops_on_ctrl_c(
    served: tuple[str, subprocess.Popen[str]],
) -> None:
    base, process = served
    wait_until_up(base, process)
    page = httpx.get(f"{base}/date/2024-01-01", timeout=10)
    assert page.status_code == 200 and "Consistency Regularization" in page.text
    api = httpx.get(f"{base}/api/papers/2401.00001", timeout=10)
    assert api.json()["title"].startswith("Consistency Regularization")
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=15)
    assert process.returncode == 0, err
    assert f"serving on {base}" in out
    assert "Traceback" not in err


def test_ctrl_c_while_the_search_engine_opens_exits_cleanly(
    served: tuple[str, subprocess.Popen[str]],
) -> None:
    # The engine opens in a thread at start-up (the index is built, the model loaded): a
    # Ctrl-C then used to abort the process from native code as the interpreter exited.
    base, process = served
    wait_until_up(base, process)
    process.send_signal(signal.SIGINT)
    _out, err = process.communicate(timeout=90)
    assert process.returncode == 0, err
    assert "terminate called" not in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "70000"], "--port"),
        (["--workers", "0"], "--workers"),
    ],
)
def test_bad_options_exit_2(cli: CliRunner, args: list[str], message: str) -> None:
    result = cli.invoke(app, ["serve", *args])
    assert result.exit_code == 2
    assert "Invalid value" in result.output and message in result.output


def test_default_secret_refused_before_serving(
    cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAILYPAPERS_MODE", "production")
    get_settings.cache_clear()
    result = cli.invoke(app, ["serve", "--port", str(free_port())])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "DAILYPAPERS_SECRET_KEY" in result.stderr


def test_an_app_shut_down_while_warming_up_waits_for_the_engine(sqlite_store: Store) -> None:
    # Leaving the engine half-opened in a thread at exit aborts the process (native code).
    ingest(sqlite_store, "file", "sample", JsonLinesSource(FIXTURES / "snapshot_sample.jsonl"))
    app = create_app(sqlite_store, get_settings(), warm=True)
    with TestClient(app):
        pass  # start-up then shutdown at once: the warm-up has barely begun
    assert app.state.engine.ready
