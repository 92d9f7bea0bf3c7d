"""Worker processes against one database: 3 workers and 50 due runs on PostgreSQL with two
workers killed by ``kill -9`` mid-run (each run executed once, none lost), and a worker
stopped by SIGTERM between batches on SQLite (its run handed back and finished by the next).

Bounded: every wait has a deadline, and every process started is killed at the end.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from dailypapers.store import Store, open_store
from dailypapers.store.jobs import JobRun, add_run, runs_of
from tests.support.postgres import PostgresServer
from tests.worker.probe_worker import PROBE

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 1, 5, 20, 30)  # in the past: due at once
DEADLINE = 60.0  # seconds for the whole 3-worker test


class Workers:
    """Probe worker processes sharing one log; all killed on exit."""

    def __init__(self, log: Path, steps: int, seconds: float) -> None:
        self.args = [sys.executable, "-m", "tests.worker.probe_worker", str(log), str(steps),
                     str(seconds)]  # fmt: skip
        self.env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(self.args, cwd=ROOT, env=self.env, stderr=subprocess.PIPE)
        self.processes.append(process)
        return process

    def live(self) -> dict[int, subprocess.Popen[bytes]]:
        return {p.pid: p for p in self.processes if p.poll() is None}

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            _out, err = process.communicate(timeout=10)
            if process.returncode not in (0, -signal.SIGKILL):
                print(err.decode()[-2000:])


MakeWorkers = Callable[[int, float], Workers]


@pytest.fixture
def workers(tmp_path: Path) -> Iterator[MakeWorkers]:
    made: list[Workers] = []

    def make(steps: int, seconds: float) -> Workers:
        made.append(Workers(tmp_path / "probe.log", steps, seconds))
        return made[-1]

    yield make
    for group in made:
        group.stop_all()


def lines(log: Path) -> list[tuple[str, str, int]]:
    if not log.exists():
        return []
    text = log.read_text()
    fields = [line.split() for line in text.splitlines()]
    return [(w, slot, int(pid)) for w, slot, pid in (f for f in fields if len(f) == 3)]


def probe_runs(store: Store) -> list[JobRun]:
    with store.read() as connection:
        return runs_of(connection, PROBE)


def pid_of(run: JobRun) -> int:
    return int((run.owner or ":0").rsplit(":", 1)[1])


def settings_for_workers(monkeypatch: pytest.MonkeyPatch, url: str, lease: float) -> None:
    monkeypatch.setenv("DAILYPAPERS_DATABASE_URL", url)
    monkeypatch.setenv("DAILYPAPERS_WORKER_LEASE_SECONDS", str(lease))
    monkeypatch.setenv("DAILYPAPERS_WORKER_POLL_SECONDS", "0.1")


def test_three_workers_fifty_runs_each_once_despite_kill_9(
    postgres: PostgresServer,
    workers: MakeWorkers,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = postgres.fresh_database()
    store = open_store(url)
    slots = [T0 + timedelta(seconds=i) for i in range(50)]
    with store.write() as connection:
        for slot in slots:
            add_run(connection, PROBE, slot)
    settings_for_workers(monkeypatch, url, lease=2.0)
    group = workers(5, 0.1)
    started = time.monotonic()
    for _ in range(3):
        group.start()
    killed: dict[int, str] = {}  # pid -> slot it was running
    try:
        while time.monotonic() - started < DEADLINE:
            runs = probe_runs(store)
            if all(run.status == "ok" for run in runs):
                break
            if len(killed) < 2:
                _kill_one_mid_run(group, runs, tmp_path / "probe.log", killed)
            time.sleep(0.05)
        seconds = time.monotonic() - started
    finally:
        group.stop_all()
    runs = probe_runs(store)
    store.dispose()
    done = Counter(slot for word, slot, _pid in lines(tmp_path / "probe.log") if word == "done")
    assert len(killed) == 2
    assert [run.status for run in runs] == ["ok"] * 50, "lost runs"
    assert all(done[slot.isoformat()] == 1 for slot in slots), "a run executed twice or never"
    taken_over = [run for run in runs if run.slot.isoformat() in killed.values()]
    assert all(run.attempts == 2 and "taken over" in (run.message or "") for run in taken_over)
    assert {pid_of(run) for run in runs}.isdisjoint(killed)  # finished by a surviving worker
    print(f"\nworker figures: 50 runs, 3 workers, {len(killed)} killed with kill -9, "
          f"duplicates {sum(n - 1 for n in done.values())}, lost {50 - len(done)}, "
          f"{seconds:.1f} s")  # fmt: skip


def _kill_one_mid_run(
    group: Workers, runs: list[JobRun], log: Path, killed: dict[int, str]
) -> None:
    """Kill -9 a worker whose run has started (its start line is written) but not finished."""
    live = group.live()
    started = {(slot, pid) for word, slot, pid in lines(log) if word == "start"}
    for run in runs:
        pid, slot = pid_of(run), run.slot.isoformat()
        if run.status == "running" and pid in live and (slot, pid) in started:
            os.kill(pid, signal.SIGKILL)
            live[pid].wait(timeout=10)
            killed[pid] = slot
            group.start()  # keep three workers
            return


def test_sigterm_stops_a_worker_between_batches_and_the_next_one_finishes(
    sqlite_store: Store,
    workers: MakeWorkers,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with sqlite_store.write() as connection:
        add_run(connection, PROBE, T0)
    settings_for_workers(monkeypatch, sqlite_store.url, lease=30.0)
    group = workers(200, 0.05)
    first = group.start()
    deadline = time.monotonic() + 30
    while not lines(tmp_path / "probe.log") and time.monotonic() < deadline:
        time.sleep(0.05)
    first.send_signal(signal.SIGTERM)
    _out, err = first.communicate(timeout=10)  # a step is 0.05 s: it stops long before
    assert first.returncode == 0, err.decode()
    (run,) = probe_runs(sqlite_store)
    assert run.status == "due" and run.owner is None and run.attempts == 0
    assert run.message == "handed back by a stopping worker"
    # The next worker takes it at once (not after the 30 s lease) and finishes it.
    group.args[4] = "1"
    second = group.start()
    while probe_runs(sqlite_store)[0].status != "ok" and time.monotonic() < deadline:
        time.sleep(0.05)
    second.send_signal(signal.SIGTERM)
    second.communicate(timeout=10)
    assert second.returncode == 0
    assert [word for word, _slot, _pid in lines(tmp_path / "probe.log")] == [
        "start",
        "start",
        "done",
    ]
