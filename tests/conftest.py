"""Shared fixtures: settings in a temp data dir, real SQLite and PostgreSQL stores, a CLI
runner, a real HTTP server that replays captured responses, and the shared data folder.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dailypapers.settings import get_settings
from dailypapers.store import Store, open_store
from tests.support.postgres import PostgresServer, start_postgres
from tests.support.replay import ReplayServer
from tests.support.smtp import SmtpServer, start_smtp

SHARED_DATA = (Path(__file__).resolve().parents[1] / ".." / "shared" / "data").resolve()


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One models dir for the session: the built-in model's ONNX files are built once."""
    return tmp_path_factory.mktemp("models")


@pytest.fixture(autouse=True)
def settings_env(
    tmp_path: Path, models_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """Each test gets development settings and its own data dir; nothing leaks between tests.

    Ingest commands do not update the search index unless a test turns that back on.
    """
    for name in list(os.environ):
        if name.startswith("DAILYPAPERS_"):
            monkeypatch.delenv(name)
    data_dir = tmp_path / "data"
    monkeypatch.setenv("DAILYPAPERS_MODE", "development")
    monkeypatch.setenv("DAILYPAPERS_DATA_DIR", str(data_dir))
    monkeypatch.setenv("DAILYPAPERS_MODELS_DIR", str(models_dir))
    monkeypatch.setenv("DAILYPAPERS_INDEX_AFTER_INGEST", "false")
    # Cheap argon2id hashes: tests make many users; the parameters themselves are tested.
    monkeypatch.setenv("DAILYPAPERS_PASSWORD_TIME_COST", "1")
    monkeypatch.setenv("DAILYPAPERS_PASSWORD_MEMORY_KIB", "256")
    monkeypatch.chdir(tmp_path)  # so a developer's .env never leaks into a test
    get_settings.cache_clear()
    yield data_dir
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared test data not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL cluster on 127.0.0.1 (or DAILYPAPERS_TEST_POSTGRES_URL)."""
    with start_postgres() as server:
        yield server


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, settings_env: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    """A fresh, empty database of each kind, also set as DAILYPAPERS_DATABASE_URL."""
    if request.param == "sqlite":
        url = f"sqlite:///{settings_env / 'test.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres").fresh_database()
    monkeypatch.setenv("DAILYPAPERS_DATABASE_URL", url)
    get_settings.cache_clear()
    return url


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    opened = open_store(database_url)
    yield opened
    opened.dispose()


@pytest.fixture
def sqlite_store(settings_env: Path) -> Iterator[Store]:
    opened = open_store(f"sqlite:///{settings_env / 'dailypapers.sqlite3'}")
    yield opened
    opened.dispose()


@pytest.fixture
def cli() -> CliRunner:
    return CliRunner()


@pytest.fixture
def replay() -> Iterator[ReplayServer]:
    with ReplayServer() as server:
        yield server


@pytest.fixture
def mail_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1 (aiosmtpd) that DAILYPAPERS_SMTP_URL points at;
    ``mail_server.messages`` are the mails the site sent."""
    with start_smtp() as server:
        monkeypatch.setenv("DAILYPAPERS_SMTP_URL", server.url())
        get_settings.cache_clear()
        yield server
    get_settings.cache_clear()
