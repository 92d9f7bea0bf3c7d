"""The whole 74,728-paper listing file, and a run killed with SIGKILL then resumed."""

from __future__ import annotations

import gzip
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from dailypapers.ingest.files import JsonLinesSource
from dailypapers.ingest.run import ingest
from dailypapers.paper import Link
from dailypapers.store import Store, open_store
from dailypapers.store.papers import count_papers, get_paper

LISTING = Path("arxiv-daily-listings") / "papers.jsonl.gz"


@pytest.mark.slow
def test_whole_listing_file(shared_data: Path, sqlite_store: Store) -> None:
    summary = ingest(sqlite_store, "file", "listing", JsonLinesSource(shared_data / LISTING))
    assert (summary.counts.new, summary.skipped) == (74_728, 0)
    with sqlite_store.read() as connection:
        assert count_papers(connection).papers == 74_728
        gesture = get_paper(connection, "1812.06145")
        story = get_paper(connection, "2506.09612")
        auctions = get_paper(connection, "2606.30776")
    assert gesture is not None and story is not None and auctions is not None
    assert gesture.authors == ("Mahdi Abavisani", "Hamid Reza Vaezi Joze", "Vishal M. Patel")
    assert gesture.categories == ("cs.CV", "cs.AI", "cs.HC", "cs.LG", "stat.ML")
    assert story.authors == ("Mingxiao LI", "mang ning", "Marie-Francine Moens")
    assert story.comment == "17 pages, 9. figures"
    code = Link("code", "https://github.com/Mingxiao-Li/Asymmetry-Zigzag-StoryDiffusion")
    assert code in story.links
    assert (auctions.primary_category, str(auctions.first_listed_on)) == ("cs.GT", "2026-07-01")


def _first_lines(source: Path, target: Path, count: int) -> dict[str, int]:
    """Write the first ``count`` records to ``target``; return each id's number of authors."""
    authors: dict[str, int] = {}
    with gzip.open(source, "rt") as lines, gzip.open(target, "wt") as out:
        for line in itertools.islice(lines, count):
            out.write(line)
            record = json.loads(line)
            authors[record["id"]] = len([a for a in record["authors"] if a.strip()])
    return authors


def _papers_and_author_rows(store: Store) -> dict[str, int]:
    query = text(
        "SELECT p.arxiv_id, COUNT(a.position) FROM papers p "
        "LEFT JOIN paper_authors a ON a.paper_id = p.arxiv_id GROUP BY p.arxiv_id"
    )
    with store.read() as connection:
        return {paper_id: n for paper_id, n in connection.execute(query)}


def test_killed_run_resumes_without_duplicates(
    shared_data: Path, database_url: str, tmp_path: Path
) -> None:
    sample = tmp_path / "sample.jsonl.gz"
    expected_authors = _first_lines(shared_data / LISTING, sample, 6_000)
    env = os.environ | {"DAILYPAPERS_INGEST_BATCH_SIZE": "300"}
    command = [sys.executable, "-m", "dailypapers", "ingest", "file", str(sample)]
    store = open_store(database_url)
    try:
        child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(_papers_and_author_rows(store)) < 900:
            time.sleep(0.02)
        child.send_signal(signal.SIGKILL)
        child.communicate(timeout=30)
        stored = _papers_and_author_rows(store)
        assert 0 < len(stored) < 6_000, "the kill should land in the middle of the run"
        # Whole papers only: every stored paper has all of its authors.
        assert all(stored[pid] == expected_authors[pid] for pid in stored)
        again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert again.returncode == 0, again.stderr
        new = 6_000 - len(stored)
        assert f"{new} new, 0 updated, {len(stored)} unchanged, 0 skipped" in again.stdout
        assert _papers_and_author_rows(store) == expected_authors
    finally:
        store.dispose()


def test_ctrl_c_exits_130_without_a_traceback(
    shared_data: Path, sqlite_store: Store, tmp_path: Path
) -> None:
    sample = tmp_path / "sample.jsonl.gz"
    _first_lines(shared_data / LISTING, sample, 6_000)
    env = os.environ | {"DAILYPAPERS_INGEST_BATCH_SIZE": "300"}
    command = [sys.executable, "-m", "dailypapers", "ingest", "file", str(sample)]
    child = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        # Make sure Ctrl-C is not ignored in the child, whatever the parent does with it.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not _papers_and_author_rows(sqlite_store):
        time.sleep(0.02)
    child.send_signal(signal.SIGINT)
    _out, err = child.communicate(timeout=60)
    assert child.returncode == 130 and "Traceback" not in err
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and " 0 skipped" in again.stdout
    assert len(_papers_and_author_rows(sqlite_store)) == 6_000
