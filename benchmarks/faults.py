"""Fault campaign: ``python -m benchmarks.faults``, figures into RELIABILITY.md.

Two kinds of fault, each many times, counted:

* corrupted keyword index: 4 KB flipped at spread positions of each kind of segment file of
  a 5,000-paper index; each trial must be refused at open (never served, never a panic);
* ``kill -9`` of ``dailypapers ingest file`` at spread moments of a 6,000-paper load (SQLite);
  after each kill every stored paper must be whole (all its authors) and a second run must
  complete the load with no duplicate and nothing lost.

Bounded (a few minutes on two cores); the tests run one trial of each kind.
"""

from __future__ import annotations

import gzip
import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from sqlalchemy import text

from benchmarks.common import LISTING, machine
from dailypapers.index.lexical.index import PARAMS, IndexUnusable, LexicalIndex, build
from dailypapers.ingest.files import parse_listing
from dailypapers.store import open_store
from dailypapers.store.documents import Document

SUFFIXES = (".store", ".term", ".idx", ".pos", ".fieldnorm", ".fast")
POSITIONS = 8  # spread over each file, from 5% to 95% of its length
FLIP = 4096
KILLS = 8
PAPERS = 6_000
QUERIES = ("language models", "diffusion", "graph neural network", "agents", "robot")


def _documents(count: int) -> list[Document]:
    with gzip.open(LISTING, "rt") as lines:
        records = [parse_listing(json.loads(line)) for line in itertools.islice(lines, count)]
    moment = datetime(2026, 1, 1)
    return [
        Document(r.arxiv_id, r.title, r.abstract or "", r.authors, r.categories, None, False,
                 f"h{r.arxiv_id}", moment)
        for r in records
    ]  # fmt: skip


def _flip(path: Path, share: float) -> None:
    size = path.stat().st_size
    length = min(FLIP, size // 2)
    start = int((size - length) * share)
    with open(path, "r+b") as stream:
        stream.seek(start)
        data = stream.read(length)
        stream.seek(start)
        stream.write(bytes(byte ^ 0xFF for byte in data))


def corrupted_index(work: Path) -> dict[str, dict[str, int]]:
    """Per file kind: trials refused at open, served, and failing otherwise."""
    pristine = work / "pristine"
    build(pristine, _documents(5_000))
    results: dict[str, dict[str, int]] = {}
    for suffix in SUFFIXES:
        counts = {"refused": 0, "served": 0, "other": 0}
        for position in range(POSITIONS):
            trial = work / f"trial{suffix}{position}"
            shutil.copytree(pristine, trial)
            generation = json.loads((trial / PARAMS).read_text())["generation"]
            _flip(sorted((trial / generation).glob(f"*{suffix}"))[0], 0.05 + 0.9 * position / 7)
            try:
                index = LexicalIndex.open(trial)
                for query in QUERIES:
                    index.search(query)
                counts["served"] += 1
            except IndexUnusable:
                counts["refused"] += 1
            except BaseException:  # noqa: B036 - a panic is what is being counted
                counts["other"] += 1
            shutil.rmtree(trial)
        results[suffix] = counts
    return results


def _whole(url: str, expected: dict[str, int]) -> tuple[int, bool]:
    """How many papers are stored, and whether each has all its authors (no half paper)."""
    store = open_store(url, migrate=False)
    query = text(
        "SELECT p.arxiv_id, COUNT(a.position) FROM papers p "
        "LEFT JOIN paper_authors a ON a.paper_id = p.arxiv_id GROUP BY p.arxiv_id"
    )
    try:
        with store.read() as connection:
            stored: dict[str, int] = {pid: n for pid, n in connection.execute(query)}
    finally:
        store.dispose()
    return len(stored), all(stored[pid] == expected[pid] for pid in stored)


def killed_ingests(work: Path) -> list[tuple[float, int, bool, bool]]:
    """Per kill: (seconds after start, papers kept, all whole, the rerun completed exactly)."""
    sample = work / "sample.jsonl.gz"
    expected: dict[str, int] = {}
    with gzip.open(LISTING, "rt") as lines, gzip.open(sample, "wt") as out:
        for line in itertools.islice(lines, PAPERS):
            out.write(line)
            record = json.loads(line)
            expected[record["id"]] = len([a for a in record["authors"] if a.strip()])
    trials = []
    for kill in range(KILLS):
        data = work / f"kill{kill}"
        env = os.environ | {
            "DAILYPAPERS_MODE": "development", "DAILYPAPERS_DATA_DIR": str(data),
            "DAILYPAPERS_INGEST_BATCH_SIZE": "300", "DAILYPAPERS_INDEX_AFTER_INGEST": "false",
        }  # fmt: skip
        url = f"sqlite:///{data / 'dailypapers.sqlite3'}"
        command = [sys.executable, "-m", "dailypapers", "ingest", "file", str(sample)]
        subprocess.run([sys.executable, "-m", "dailypapers", "init"], env=env, check=True)
        child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)  # fmt: skip
        started = time.monotonic()
        # Kill once this many papers are stored: before the first batch, then spread over
        # the run (a batch is 300 papers, so most kills land mid-batch).
        target = kill * PAPERS // KILLS
        while child.poll() is None and _whole(url, expected)[0] < target:
            time.sleep(0.02)
        after = time.monotonic() - started
        child.send_signal(signal.SIGKILL)
        child.wait()
        kept, whole = _whole(url, expected)
        again = subprocess.run(command, env=env, capture_output=True, text=True)
        line = f"{PAPERS - kept} new, 0 updated, {kept} unchanged, 0 skipped"
        complete = again.returncode == 0 and line in again.stdout
        kept_after, whole_after = _whole(url, expected)
        trials.append((after, kept, whole, complete and whole_after and kept_after == PAPERS))
    return trials


def main() -> None:
    with tempfile.TemporaryDirectory() as temp:
        work = Path(temp)
        started = time.monotonic()
        index = corrupted_index(work)
        kills = killed_ingests(work)
        print(f"# {machine()}; {time.strftime('%Y-%m-%d')}; {time.monotonic() - started:.0f} s")
        print("| file | trials | refused at open | served | other failure |")
        print("| --- | --- | --- | --- | --- |")
        for suffix, counts in index.items():
            total = sum(counts.values())
            print(f"| `{suffix}` | {total} | {counts['refused']} | {counts['served']} "
                  f"| {counts['other']} |")  # fmt: skip
        print("\n| kill after (s) | papers kept | all whole | rerun exact |")
        print("| --- | --- | --- | --- |")
        for after, kept, whole, exact in kills:
            print(f"| {after:.1f} | {kept:,} | {'yes' if whole else 'NO'} "
                  f"| {'yes' if exact else 'NO'} |")  # fmt: skip


if __name__ == "__main__":
    main()
