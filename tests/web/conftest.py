"""What the web tests share: a store with real papers, and in-process clients of the app.

``featured`` holds the 30 papers Hugging Face featured on 2026-06-12 (real capture) and the
arXiv snapshot sample. A test module that needs more papers overrides ``filled`` (by default
just ``featured``); ``client`` and ``indexed_client`` serve whatever ``filled`` holds.
The browser tests' fixtures (``live_site``, ``browser``) are :mod:`tests.support.browser`'s.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dailypapers.index.job import run_index
from dailypapers.ingest.files import JsonLinesSource
from dailypapers.ingest.hf_daily import HfDailySource
from dailypapers.ingest.run import ingest
from dailypapers.settings import get_settings
from dailypapers.store import Store
from dailypapers.web.app import create_app
from tests.support.browser import browser, live_site  # noqa: F401 (the browser tests' fixtures)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CAPTURE = "arxiv-responses/hf-api/sotawhat_daily_papers_2026-06-12.json"


@pytest.fixture
def featured(sqlite_store: Store, shared_data: Path) -> Store:
    ingest(sqlite_store, "hf", "capture", HfDailySource(shared_data / CAPTURE))
    ingest(sqlite_store, "file", "sample", JsonLinesSource(FIXTURES / "snapshot_sample.jsonl"))
    return sqlite_store


@pytest.fixture
def filled(featured: Store) -> Store:
    return featured


@pytest.fixture
def client(filled: Store) -> Iterator[TestClient]:
    with TestClient(create_app(filled, get_settings())) as test_client:
        yield test_client


@pytest.fixture
def indexed_client(filled: Store) -> Iterator[TestClient]:
    """A client whose search has its keyword and semantic indexes built."""
    settings = get_settings()
    run_index(filled, settings)
    with TestClient(create_app(filled, settings)) as test_client:
        yield test_client
