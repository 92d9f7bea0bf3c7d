"""The whole site over real papers, served by uvicorn on a free port of 127.0.0.1, for tests
that talk to it the way outside programs do (Hugging Face's client, the W3C HTML checker).

:func:`served_site` ingests the 30 papers Hugging Face featured on 2026-06-12 (real capture),
the arXiv snapshot sample and a daily-listing record (which has no submission time), builds
the keyword and semantic indexes as ``dailypapers index`` would, and serves the app
(:class:`tests.support.browser.LiveServer`) until the ``with`` block ends. The data is only
read, so one server can serve a whole test module.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

from dailypapers.index.job import run_index
from dailypapers.ingest.files import JsonLinesSource
from dailypapers.ingest.hf_daily import HfDailySource
from dailypapers.ingest.run import ingest
from dailypapers.settings import Settings
from dailypapers.store import open_store
from dailypapers.web.app import create_app
from tests.support.browser import LiveServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CAPTURE = "arxiv-responses/hf-api/sotawhat_daily_papers_2026-06-12.json"
# Its first good line is a daily-listing record: listed on a day, with no submission time.
LISTING = FIXTURES / "listing_with_bad_lines.jsonl"


def site_settings(data_dir: Path, models_dir: Path) -> Settings:
    """Development settings in ``data_dir``, whatever DAILYPAPERS_* the shell has set."""
    with pytest.MonkeyPatch.context() as patch:
        for name in list(os.environ):
            if name.startswith("DAILYPAPERS_"):
                patch.delenv(name)
        return Settings(
            _env_file=None,
            mode="development",
            data_dir=data_dir,
            database_url=f"sqlite:///{data_dir / 'dailypapers.sqlite3'}",
            models_dir=models_dir,
        )


@contextmanager
def served_site(
    shared_data: Path, data_dir: Path, models_dir: Path, extra: Sequence[Path] = ()
) -> Iterator[str]:
    """The root URL of the real server over the ingested and indexed papers (and those of
    the JSON Lines files ``extra``)."""
    settings = site_settings(data_dir, models_dir)
    store = open_store(settings.resolved_database_url)
    try:
        ingest(store, "hf", "capture", HfDailySource(shared_data / CAPTURE))
        ingest(store, "file", "sample", JsonLinesSource(FIXTURES / "snapshot_sample.jsonl"))
        for path in (LISTING, *extra):
            ingest(store, "file", path.name, JsonLinesSource(path))
        run_index(store, settings)
        with LiveServer(create_app(store, settings, warm=True)) as server:
            yield server.url
    finally:
        store.dispose()
