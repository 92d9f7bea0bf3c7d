"""The worker: create the due slots, claim one run under a lease, run it, record it; repeat.

``Worker(store, settings, kinds).run_forever()`` loops until its ``stop`` event is set
(``dailypapers worker`` sets it on SIGTERM or Ctrl-C): a job then stops between batches and
its run is handed back as due, so the next worker resumes it. While a job runs, a heartbeat
thread renews the lease every third of ``DAILYPAPERS_WORKER_LEASE_SECONDS``; a worker killed
with ``kill -9`` stops renewing and another worker takes the run over once the lease expires.
A job that fails is retried with doubling back-off (``DAILYPAPERS_WORKER_RETRY_SECONDS``)
up to ``DAILYPAPERS_WORKER_MAX_ATTEMPTS`` attempts; the other jobs go on meanwhile.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from dailypapers.ingest.run import SourceUnusable
from dailypapers.settings import Settings
from dailypapers.store import Store
from dailypapers.store.batches import utc_now
from dailypapers.store.jobs import (
    JobRun,
    claim_run,
    finish_run,
    release_run,
    renew_lease,
    retry_run,
    schedule_run,
)
from dailypapers.worker.context import JobContext, LeaseLost, Stopping
from dailypapers.worker.registry import JobKind

log = logging.getLogger("dailypapers.worker")


def now() -> datetime:
    return utc_now(precise=True)


def error_line(error: BaseException) -> str:
    text = str(error).strip()
    return f"{type(error).__name__}: {text.splitlines()[0]}" if text else type(error).__name__


class Heartbeat:
    """Renews a run's lease in a thread until stopped; sets ``lost`` if the run was taken."""

    def __init__(self, store: Store, run: JobRun, owner: str, lease: timedelta) -> None:
        self.store, self.run, self.owner, self.lease = store, run, owner, lease
        self.lost = threading.Event()
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="lease", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _beat(self) -> None:
        while not self._done.wait(self.lease.total_seconds() / 3):
            try:
                with self.store.write() as connection:
                    kept = renew_lease(connection, self.run.id, self.owner, now() + self.lease)
            except Exception as error:  # the database may come back before the lease ends
                log.warning("renewing the lease of run %d failed: %s", self.run.id, error)
                continue
            if not kept:
                self.lost.set()
                return


class Worker:
    def __init__(
        self,
        store: Store,
        settings: Settings,
        kinds: Sequence[JobKind],
        *,
        owner: str | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.store, self.settings = store, settings
        self.kinds = {kind.name: kind for kind in kinds}
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}"
        self.stop = stop or threading.Event()
        self.lease = timedelta(seconds=settings.worker_lease_seconds)

    def run_forever(self) -> None:
        log.info("worker %s: jobs %s", self.owner, ", ".join(self.kinds))
        while not self.stop.is_set():
            try:
                busy = self.run_once()
            except Exception as error:  # the database is down, say: wait and try again
                log.warning("worker %s: %s", self.owner, error_line(error))
                busy = False
            if not busy:
                self.stop.wait(self.settings.worker_poll_seconds)
        log.info("worker %s stopped", self.owner)

    def run_once(self) -> bool:
        """Schedule the due slots, then claim and run one run; False when none was due."""
        self.schedule(now())
        with self.store.write() as connection:
            run = claim_run(
                connection, self.owner, list(self.kinds), now=now(), lease=self.lease,
                max_attempts=self.settings.worker_max_attempts,
            )  # fmt: skip
        if run is None:
            return False
        self.execute(run)
        return True

    def schedule(self, at: datetime) -> None:
        """Create each scheduled kind's latest slot (once: the store keeps (job, slot) unique)."""
        slots = {}
        for kind in self.kinds.values():
            schedule = kind.schedule(self.settings)
            if schedule is not None:
                slots[kind.name] = schedule.latest(at)
        if not slots:
            return
        with self.store.write() as connection:
            for job, slot in slots.items():
                schedule_run(connection, job, slot)

    def execute(self, run: JobRun) -> None:
        log.debug("run %d: %s (slot %s, attempt %d)", run.id, run.job, run.slot, run.attempts)
        with Heartbeat(self.store, run, self.owner, self.lease) as heartbeat:
            context = JobContext(self.store, self.settings, run, self.stop, heartbeat.lost)
            try:
                counts = self.kinds[run.job].run(context)
            except Stopping:
                self._record(release_run, run.id, self.owner)
                log.info("run %d handed back: the worker is stopping", run.id)
            except LeaseLost:
                log.warning("run %d: lease lost, another worker has taken it over", run.id)
            except SourceUnusable as error:  # arXiv down, say: expected now and then
                log.warning("run %d (%s) failed: %s", run.id, run.job, error_line(error))
                self._failed(run, error_line(error))
            except Exception as error:
                log.exception("run %d (%s) failed", run.id, run.job)
                self._failed(run, error_line(error))
            else:
                status = "ok" if any(counts.values()) else "idle"
                self._record(finish_run, run.id, self.owner, status=status, now=now(),
                             counts=counts)  # fmt: skip
                # A job polled every few minutes with nothing to do stays quiet.
                log.log(logging.INFO if status == "ok" else logging.DEBUG,
                        "run %d (%s): %s %s", run.id, run.job, status, counts)  # fmt: skip

    def _failed(self, run: JobRun, line: str) -> None:
        if run.attempts >= self.settings.worker_max_attempts:
            self._record(finish_run, run.id, self.owner, status="failed", now=now(),
                         message=f"attempt {run.attempts} failed: {line}")  # fmt: skip
            return
        wait = self.settings.worker_retry_seconds * 2 ** (run.attempts - 1)
        retry_at = now() + timedelta(seconds=wait)
        message = f"attempt {run.attempts} failed: {line}; retry at {retry_at:%H:%M:%S} UTC"
        self._record(retry_run, run.id, self.owner, not_before=retry_at, message=message[:2000])

    def _record(self, write: Callable[..., bool], *args: object, **kwargs: object) -> None:
        with self.store.write() as connection:
            if not write(connection, *args, **kwargs):
                log.warning("run %s was taken over before its outcome was recorded", args[0])


def run_until_signalled(
    store: Store,
    settings: Settings,
    kinds: Sequence[JobKind],
    stop: threading.Event | None = None,
) -> None:
    """Run a worker in this process until SIGTERM or SIGINT (or ``stop`` is set), which stop
    it between batches."""
    stop = stop or threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda _signum, _frame: stop.set())
    Worker(store, settings, kinds, stop=stop).run_forever()
