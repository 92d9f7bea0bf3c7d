"""The embedding job on real papers with the real model: batches, progress, re-embedding a
changed paper, readers never waiting, and a run killed with SIGKILL that resumes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from dailypapers.index.dense.embedder import OnnxEmbedder
from dailypapers.index.dense.vectors import document_text, embed_papers
from dailypapers.paper import make_record
from dailypapers.settings import Settings
from dailypapers.store import Store
from dailypapers.store.papers import upsert_papers
from dailypapers.store.vectors import (
    count_papers_needing_vectors,
    get_vector,
    iter_vector_pages,
    vector_stats,
)
from tests.index.conftest import listing_records


def _load(store: Store, shared_data: Path, count: int) -> None:
    with store.write() as connection:
        upsert_papers(connection, listing_records(shared_data, count))


def test_document_text() -> None:
    assert document_text(" A title ", "An abstract.") == "A title. An abstract."
    assert document_text("Why?", "Because.") == "Why? Because."
    assert document_text("Only a title", "  ") == "Only a title"


def test_job_embeds_in_batches_then_only_what_changed(
    store: Store, shared_data: Path, minilm: OnnxEmbedder
) -> None:
    _load(store, shared_data, 40)
    seen: list[tuple[int, int]] = []
    summary = embed_papers(
        store, minilm, batch_size=16, progress=lambda done, total: seen.append((done, total))
    )
    assert (summary.embedded, summary.remaining, summary.model) == (40, 0, minilm.name)
    assert seen == [(16, 40), (32, 40), (40, 40)]
    with store.read() as connection:
        ids, matrix = next(iter_vector_pages(connection, minilm.name))
        first = listing_records(shared_data, 1)[0]
        stored = get_vector(connection, minilm.name, first.arxiv_id)
    assert len(ids) == 40 and matrix.shape == (40, 384)
    assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-5)
    text = document_text(first.title, first.abstract or "")
    assert stored is not None and stored @ minilm.embed_query(text) > 0.97
    assert embed_papers(store, minilm).embedded == 0
    # A changed paper (here its abstract) is embedded again, and only it.
    changed = make_record(first.arxiv_id, first.title, abstract="A different abstract now.")
    with store.write() as connection:
        upsert_papers(connection, [changed])
    again = embed_papers(store, minilm)
    assert (again.embedded, again.remaining) == (1, 0)
    with store.read() as connection:
        new = get_vector(connection, minilm.name, first.arxiv_id)
    assert new is not None and float(new @ stored) < 0.99


def test_limit_stops_after_whole_batches(
    store: Store, shared_data: Path, minilm: OnnxEmbedder
) -> None:
    _load(store, shared_data, 30)
    summary = embed_papers(store, minilm, batch_size=8, limit=10)
    assert (summary.embedded, summary.remaining) == (16, 14)


def test_readers_do_not_wait_for_the_job(
    sqlite_store: Store, shared_data: Path, minilm: OnnxEmbedder
) -> None:
    _load(sqlite_store, shared_data, 120)
    job = threading.Thread(target=embed_papers, args=(sqlite_store, minilm), daemon=True)
    slowest = 0.0
    job.start()
    while job.is_alive():
        started = time.perf_counter()
        with sqlite_store.read() as connection:
            count_papers_needing_vectors(connection, minilm.name)
        slowest = max(slowest, time.perf_counter() - started)
        time.sleep(0.01)
    job.join()
    # Embedding 120 papers takes seconds; each read takes milliseconds throughout.
    assert slowest < 0.5


JOB = (
    "import sys; from dailypapers.settings import get_settings; "
    "from dailypapers.store import open_store; "
    "from dailypapers.index.dense.embedder import load_embedder; "
    "from dailypapers.index.dense.vectors import embed_papers; "
    "s = get_settings(); e = load_embedder(s); "
    "r = embed_papers(open_store(s.resolved_database_url), e, batch_size=int(sys.argv[1])); "
    "print(r.embedded, r.remaining)"
)


def test_killed_job_resumes_where_it_stopped(
    store: Store, shared_data: Path, settings: Settings, minilm: OnnxEmbedder
) -> None:
    total = 240
    _load(store, shared_data, total)
    model = minilm.name
    command = [sys.executable, "-c", JOB, "8"]
    child = subprocess.Popen(command, env=dict(os.environ), stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and child.poll() is None:
        with store.read() as connection:
            if vector_stats(connection, model).count >= 24:
                break
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    _, errors = child.communicate(timeout=30)
    with store.read() as connection:
        kept = vector_stats(connection, model).count
        needing = count_papers_needing_vectors(connection, model)
    assert 0 < kept < total, errors.decode()[-2000:]
    assert kept % 8 == 0, "only whole batches are committed"
    assert needing == total - kept
    again = subprocess.run(command, env=dict(os.environ), capture_output=True, text=True)
    assert again.returncode == 0, again.stderr[-2000:]
    assert again.stdout.split() == [str(total - kept), "0"]
    with store.read() as connection:
        ids = [i for page, _ in iter_vector_pages(connection, model) for i in page]
    assert ids == sorted(r.arxiv_id for r in listing_records(shared_data, total))
