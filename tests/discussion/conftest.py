"""What the discussion tests share: a store (SQLite and PostgreSQL) holding the 30 papers
Hugging Face featured on 2026-06-12 (real capture) and the arXiv snapshot sample."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from dailypapers.ingest.files import JsonLinesSource
from dailypapers.ingest.hf_daily import HfDailySource
from dailypapers.ingest.run import ingest
from dailypapers.store import Store
from dailypapers.store.entries import feed_page

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DAY = date(2026, 6, 12)
CAPTURE = "arxiv-responses/hf-api/sotawhat_daily_papers_2026-06-12.json"


@pytest.fixture
def papers(store: Store, shared_data: Path) -> Store:
    ingest(store, "hf", "capture", HfDailySource(shared_data / CAPTURE))
    ingest(store, "file", "sample", JsonLinesSource(FIXTURES / "snapshot_sample.jsonl"))
    return store


def paper_ids(store: Store, count: int) -> list[str]:
    """``count`` stored paper ids (the featured day's, most upvoted first)."""
    with store.read() as connection:
        page = feed_page(connection, DAY, DAY, limit=count)
    return [entry.id for entry in page.entries]
