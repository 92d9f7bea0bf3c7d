"""Fixtures for the dense index: the built-in model built once per session, real papers.

The ONNX files take a few seconds to build, so one models dir is shared by the session
(``DAILYPAPERS_MODELS_DIR``) while each test keeps its own data dir and database.
"""

from __future__ import annotations

import gzip
import itertools
import json
from pathlib import Path

import pytest

from dailypapers.index.dense.embedder import OnnxEmbedder, load_builtin
from dailypapers.ingest.files import parse_listing
from dailypapers.paper import PaperRecord
from dailypapers.settings import Settings, get_settings

LISTING = Path("arxiv-daily-listings") / "papers.jsonl.gz"


@pytest.fixture(scope="session")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture
def settings(settings_env: Path, models_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """This test's settings, with the session's models dir (also for subprocesses)."""
    monkeypatch.setenv("DAILYPAPERS_MODELS_DIR", str(models_dir))
    get_settings.cache_clear()
    return get_settings()


@pytest.fixture(scope="session")
def minilm(models_dir: Path) -> OnnxEmbedder:
    """The default embedder (built-in all-MiniLM-L6-v2, int8), loaded once."""
    settings = Settings(mode="development", data_dir=models_dir.parent, models_dir=models_dir)
    return load_builtin("all-MiniLM-L6-v2", settings)


def listing_records(shared_data: Path, count: int) -> list[PaperRecord]:
    """The first ``count`` papers of the shared daily-listing file."""
    with gzip.open(shared_data / LISTING, "rt") as lines:
        return [parse_listing(json.loads(line)) for line in itertools.islice(lines, count)]
