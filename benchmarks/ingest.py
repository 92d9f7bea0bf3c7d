"""Benchmark of ``dailypapers ingest file`` on the 74,728 real papers of the shared listing file.

Every step runs in a child process of its own, so its wall time includes starting Python and
its peak memory (``ru_maxrss`` from ``wait4``) is that child's alone:

1. baseline: read the gzipped JSON Lines, make one row per paper (id, title, abstract,
   comment, authors and categories joined, first listing date) and insert them with a bare
   ``sqlite3`` executemany into one table without indexes, in one transaction;
2. ingest: what ``dailypapers ingest file PATH`` runs, ``ingest()`` over a
   ``JsonLinesSource`` with the configured batch size, into a fresh SQLite database in a
   temporary directory (settings come only from the environment given here); the search
   index update the command may do afterwards is not part of it;
3. re-ingest: the same again, where every paper is unchanged.

The three steps are repeated ``--runs`` times in turn, and the report gives medians, so other
work on the machine skews all of them alike. It replaces the "Ingest" section of
BENCHMARKS.md (``--out``), keeping the other sections, and prints it. Run from the checkout:

    .venv/bin/python -m benchmarks.ingest [--data PATH] [--out BENCHMARKS.md] [--runs 3]

Without the data file it prints why and exits 0 without touching the report.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.common import LISTING, REPORT, ROOT, machine, write_section

HEADING = "## Ingest"
TARGET_SECONDS = 30.0  # the whole file into a fresh database
TARGET_RSS = 1024**3  # peak resident memory of an ingest, bytes
SUMMARY_RE = re.compile(r"(\d+) new, (\d+) updated, (\d+) unchanged, (\d+) skipped")


@dataclass(frozen=True)
class Measured:
    """One finished child process: seconds of wall and CPU time, peak RSS in bytes, output."""

    wall: float
    cpu: float
    peak_rss: int
    stdout: str


def measure(command: Sequence[str], env: dict[str, str], cwd: Path) -> Measured:
    """Run ``command`` to completion; raise with its stderr if it fails."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        child = subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=cwd)
        # wait4 reaps the child and gives its own resource usage (RUSAGE_CHILDREN would
        # give the largest peak of all children so far).
        _pid, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if child.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {child.returncode}:\n{stderr[-2000:]}")
    return Measured(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024, stdout)


def baseline_rows(data: Path) -> list[tuple[Any, ...]]:
    """The papers of ``data`` as plain rows, with no cleaning or checking."""
    rows = []
    with gzip.open(data) as lines:
        for line in lines:
            raw = json.loads(line)
            dates = raw.get("listing_dates") or [None]
            rows.append(
                (
                    raw["id"], raw["title"], raw["summary"], raw.get("comment"),
                    ", ".join(raw.get("authors") or []), " ".join(raw.get("categories") or []),
                    dates[0],
                )
            )  # fmt: skip
    return rows


def baseline(data: Path) -> None:
    """The baseline step (in its child process): print rows and seconds spent inserting."""
    rows = baseline_rows(data)
    connection = sqlite3.connect("baseline.sqlite3", isolation_level=None)  # in the work dir
    connection.execute(
        "CREATE TABLE papers (id TEXT, title TEXT, abstract TEXT, comment TEXT, "
        "authors TEXT, categories TEXT, first_listed_on TEXT)"
    )
    start = time.perf_counter()
    connection.execute("BEGIN")
    connection.executemany("INSERT INTO papers VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    connection.execute("COMMIT")
    elapsed = time.perf_counter() - start
    connection.close()
    print(json.dumps({"rows": len(rows), "insert_seconds": elapsed}))


def ingest_file(data: Path) -> None:
    """The ingest step (in its child process): the store and settings as the command has them."""
    from dailypapers.ingest.files import JsonLinesSource
    from dailypapers.ingest.run import ingest
    from dailypapers.settings import get_settings
    from dailypapers.store import open_store

    settings = get_settings()
    store = open_store(settings.resolved_database_url)
    try:
        summary = ingest(
            store, "file", str(data), JsonLinesSource(data), batch_size=settings.ingest_batch_size
        )
    finally:
        store.dispose()
    print(summary.line())


def child_env(work: Path) -> dict[str, str]:
    """This environment without any DAILYPAPERS_* setting, then a store inside ``work``."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("DAILYPAPERS_")}
    env["DAILYPAPERS_MODE"] = "development"
    env["DAILYPAPERS_DATA_DIR"] = str(work / "data")
    env["DAILYPAPERS_DATABASE_URL"] = f"sqlite:///{work / 'data' / 'bench.sqlite3'}"
    env["PYTHONPATH"] = str(ROOT)  # the child runs this module with ``-m``
    return env


def counts(result: Measured) -> tuple[int, ...]:
    """(new, updated, unchanged, skipped) from the command's summary line."""
    found = SUMMARY_RE.search(result.stdout)
    if found is None:
        raise RuntimeError(f"no summary line in the output: {result.stdout!r}")
    return tuple(int(n) for n in found.groups())


@dataclass(frozen=True)
class Round:
    """The three steps once, with the baseline's own insert time and the papers ingested."""

    baseline: Measured
    baseline_insert: float
    ingest: Measured
    reingest: Measured
    papers: int


def one_round(data: Path) -> Round:
    """Baseline, ingest and re-ingest, each in a fresh child, in a fresh directory."""
    with tempfile.TemporaryDirectory(prefix="ingest-bench-") as work_dir:
        work = Path(work_dir)
        env = child_env(work)
        this = [sys.executable, "-m", "benchmarks.ingest", "--data", str(data), "--step"]
        base = measure([*this, "baseline"], env, work)
        first = measure([*this, "ingest"], env, work)
        again = measure([*this, "ingest"], env, work)
    new, updated, unchanged, skipped = counts(first)
    if (updated, unchanged) != (0, 0) or counts(again) != (0, 0, new, skipped):
        raise RuntimeError(f"unexpected counts: {counts(first)} then {counts(again)}")
    inner = json.loads(base.stdout)
    if inner["rows"] != new + skipped:
        raise RuntimeError(f"baseline has {inner['rows']} rows, the ingest saw {new + skipped}")
    return Round(base, inner["insert_seconds"], first, again, new)


STEPS: dict[str, Callable[[Path], None]] = {"baseline": baseline, "ingest": ingest_file}


def sqlite_machine() -> str:
    return machine(f"SQLite {sqlite3.sqlite_version}")


def seconds(values: list[float]) -> str:
    """Median, and the range when there is more than one run."""
    text = f"{statistics.median(values):.1f} s"
    return text + (f" ({min(values):.1f}–{max(values):.1f})" if len(values) > 1 else "")


def step_row(label: str, runs: list[Measured], papers: int, base_wall: float) -> str:
    walls = [run.wall for run in runs]
    wall = statistics.median(walls)
    return (
        f"| {label} | {seconds(walls)} | {papers / wall:,.0f} | "
        f"{statistics.median(run.cpu for run in runs):.1f} s | "
        f"{max(run.peak_rss for run in runs) / 1024**2:,.0f} MiB | {wall / base_wall:.1f} |"
    )


def target_row(label: str, limit: str, measured: str, ok: bool) -> str:
    return f"| {label} | {limit} | {measured} | {'pass' if ok else 'FAIL'} |"


def report(data: Path, rounds: list[Round], loads: tuple[float, float]) -> str:
    papers = rounds[0].papers
    base_wall = statistics.median(r.baseline.wall for r in rounds)
    slowest = max(r.ingest.wall for r in rounds)
    peak = max(max(r.ingest.peak_rss, r.reingest.peak_rss) for r in rounds)
    size = f"{data.stat().st_size / 1024**2:.0f} MiB"
    runs = f"median of {len(rounds)} runs, range in brackets" if len(rounds) > 1 else "one run"
    return "\n".join(
        [
            HEADING,
            "",
            f"`python -m benchmarks.ingest`, {datetime.now(UTC):%Y-%m-%d}, on {sqlite_machine()}; "
            f"load average {loads[0]:.1f} when it started, {loads[1]:.1f} at the end.",
            "",
            f"{data.name}: {papers:,} papers, {size} gzipped. Each step is one child process "
            f"(its times include starting Python), timed from start to exit; {runs}; "
            "CPU time is user + system.",
            "",
            "| step | wall time | papers/s | CPU time | peak RSS | × baseline |",
            "| --- | --- | --- | --- | --- | --- |",
            step_row(
                "baseline: bare executemany into one table",
                [r.baseline for r in rounds], papers, base_wall,
            ),
            step_row(
                "ingest, fresh database",
                [r.ingest for r in rounds], papers, base_wall,
            ),
            step_row(
                "the same again, every paper unchanged",
                [r.reingest for r in rounds], papers, base_wall,
            ),
            "",
            "The baseline reads and parses the same file, makes one row per paper (id, title, "
            "abstract, comment, authors and categories joined, first listing date) and inserts "
            "the rows with one sqlite3 executemany into a table without indexes, in one "
            "transaction; the insert itself took "
            f"{statistics.median(r.baseline_insert for r in rounds):.1f} s. The ingest is what "
            "`dailypapers ingest file` runs before its search index update: it also cleans "
            "and checks every record, extracts links, hashes, and writes papers, authors, "
            "categories and links with their indexes, one transaction per batch of "
            "`DAILYPAPERS_INGEST_BATCH_SIZE` (default 2000).",
            "",
            "| target | limit | measured | result |",
            "| --- | --- | --- | --- |",
            target_row(
                "whole file into a fresh database (slowest run)",
                f"≤ {TARGET_SECONDS:.0f} s", f"{slowest:.1f} s", slowest <= TARGET_SECONDS,
            ),
            target_row(
                "peak RSS of an ingest or re-ingest",
                "≤ 1 GiB", f"{peak / 1024**2:,.0f} MiB", peak <= TARGET_RSS,
            ),
        ]
    )  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=LISTING, help="the listing file (.jsonl.gz)")
    parser.add_argument("--out", type=Path, default=REPORT, help="the report to update")
    parser.add_argument("--runs", type=int, default=3, help="rounds of the three steps")
    parser.add_argument("--step", choices=STEPS, help=argparse.SUPPRESS)  # in a child process
    args = parser.parse_args()
    args.data = args.data.resolve()  # the children run in a temporary directory
    if not args.data.is_file():
        print(f"skipped: no data file at {args.data} (pass --data PATH)", file=sys.stderr)
        return 0
    if args.step:
        STEPS[args.step](args.data)
        return 0
    start_load = os.getloadavg()[0]  # other work on the machine slows every step
    rounds = [one_round(args.data) for _ in range(max(1, args.runs))]
    section = report(args.data, rounds, (start_load, os.getloadavg()[0]))
    print(section)
    write_section(HEADING, section, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
