"""The index writer lock: one builder at a time, across threads and processes; a second one
waits (or, asked not to, is told at once); files built concurrently are never corrupt."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from dailypapers.index.backends.base import Updated
from dailypapers.index.dense.ann import index_root, load_dense_index
from dailypapers.index.job import IndexBusy, update_indexes
from dailypapers.index.lexical import index as lexical
from dailypapers.index.lock import lock_path, writer_lock
from dailypapers.paper import make_record
from dailypapers.settings import Settings
from dailypapers.store import Store
from dailypapers.store.papers import upsert_papers
from dailypapers.store.vectors import papers_needing_vectors, save_vectors

HOLDER = """
import sys
from pathlib import Path
from dailypapers.index.lock import writer_lock
with writer_lock(Path(sys.argv[1])):
    print("held", flush=True)
    sys.stdin.read()
"""


@dataclass(frozen=True)
class Model:
    name: str = "test-model"
    dimensions: int = 16


def test_a_second_writer_waits_or_is_told(tmp_path: Path) -> None:
    acquired = threading.Event()

    def second() -> None:
        with writer_lock(tmp_path):
            acquired.set()

    with writer_lock(tmp_path):
        with pytest.raises(IndexBusy, match="another process is updating the index"):
            with writer_lock(tmp_path, wait=False):
                pass
        waiter = threading.Thread(target=second)
        waiter.start()
        assert not acquired.wait(0.2), "the second writer got in while the first held the lock"
    waiter.join(timeout=30)
    assert acquired.is_set()
    with writer_lock(tmp_path, wait=False):  # free again
        pass


def test_the_lock_holds_across_processes(tmp_path: Path) -> None:
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=environment,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with pytest.raises(IndexBusy):
            with writer_lock(tmp_path, wait=False):
                pass
    finally:
        holder.communicate("", timeout=60)  # the holder exits; the kernel drops its lock
    assert holder.returncode == 0
    with writer_lock(tmp_path, wait=False):
        pass
    assert lock_path(tmp_path).is_file()


def _papers_with_vectors(store: Store, count: int) -> None:
    records = [make_record(f"2501.{n:05d}", f"Paper {n}", abstract="Words.") for n in range(count)]
    with store.write() as connection:
        upsert_papers(connection, records)
    with store.read() as connection:
        pending = papers_needing_vectors(connection, Model.name)
    rng = np.random.default_rng(0)
    with store.write() as connection:
        save_vectors(
            connection, Model.name, pending, rng.normal(size=(count, 16)).astype(np.float32)
        )


def test_concurrent_builders_leave_whole_indexes(sqlite_store: Store, settings: Settings) -> None:
    settings = settings.model_copy(update={"dense_exact_below": 50})
    _papers_with_vectors(sqlite_store, 200)
    results: list[Updated] = []
    errors: list[BaseException] = []

    def build() -> None:
        try:
            for _ in range(2):
                results.append(update_indexes(sqlite_store, settings, Model()))
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)

    builders = [threading.Thread(target=build) for _ in range(3)]
    for builder in builders:
        builder.start()
    for builder in builders:
        builder.join(timeout=300)
    assert not errors, errors
    assert len(results) == 6
    assert all((r.lexical_papers, r.dense_papers) == (200, 200) for r in results)
    assert sum(r.lexical_rebuilt for r in results) == 1, "built once, then updated"
    assert len(lexical.LexicalIndex.open(lexical.index_path(settings.data_dir))) == 200
    root = index_root(settings, Model.name)
    dense = load_dense_index(root, model=Model.name, dimensions=16)
    assert len(dense) == 200 and dense.graph is not None
    assert len(list(root.glob("build-*"))) == 1, "an up-to-date index is not built again"
    assert not list(root.glob(".tmp-*")) and not list(root.parent.rglob(".tmp-*"))
