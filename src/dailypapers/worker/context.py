"""What a job sees while it runs: the store, the settings, its run, and a way to stop.

A job calls :meth:`JobContext.check` between batches: it raises :class:`Stopping` once the
worker was asked to stop (SIGTERM) and :class:`LeaseLost` once another worker has taken the
run over, so a job never starts a batch it should not. Both are
:class:`~dailypapers.ingest.run.Interrupted`, which an ingest records as ``interrupted``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import timedelta

from dailypapers.ingest.run import Interrupted
from dailypapers.settings import Settings
from dailypapers.store import Store
from dailypapers.store.batches import utc_now
from dailypapers.store.jobs import JobRun, add_run, schedule_run


class Stopping(Interrupted):
    """The worker is stopping: the run is handed back between batches."""


class LeaseLost(Interrupted):
    """The worker's lease on the run expired and another worker took it over."""


@dataclass
class JobContext:
    store: Store
    settings: Settings
    run: JobRun
    stop: threading.Event = field(default_factory=threading.Event)
    lost: threading.Event = field(default_factory=threading.Event)

    def check(self) -> None:
        """Raise if the job must not start another batch."""
        if self.lost.is_set():
            raise LeaseLost(f"the lease on run {self.run.id} ({self.run.job}) was lost")
        if self.stop.is_set():
            raise Stopping("the worker is stopping")

    def trigger(self, job: str) -> bool:
        """Ask for a run of ``job`` now (unless one is already waiting or running)."""
        with self.store.write() as connection:
            return schedule_run(connection, job, utc_now())

    def follow_up(self) -> None:
        """Add a run of this job due now, to go on after this one (others due first go first)."""
        with self.store.write() as connection:
            add_run(connection, self.run.job, max(utc_now(), self.run.slot + timedelta(seconds=1)))
