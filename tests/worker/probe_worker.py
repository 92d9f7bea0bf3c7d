"""A worker process with one extra job kind, ``probe``, for the multi-process tests.

Run as ``python -m tests.worker.probe_worker LOG STEPS SECONDS`` (from the repository root,
settings from the environment). A probe run appends ``start SLOT PID`` to LOG, then sleeps
STEPS times SECONDS (checking between steps whether it must stop, as real jobs do between
batches), then appends ``done SLOT PID``; a line is one small O_APPEND write, so the lines
of several processes never mix. The worker loop, leases and signals are the real ones.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

from dailypapers.settings import get_settings
from dailypapers.store import open_store
from dailypapers.worker.context import JobContext
from dailypapers.worker.loop import run_until_signalled
from dailypapers.worker.registry import JobKind

PROBE = "probe"


def probe_kind(log: Path, steps: int, seconds: float) -> JobKind:
    def note(word: str, context: JobContext) -> None:
        with log.open("a") as out:
            out.write(f"{word} {context.run.slot.isoformat()} {os.getpid()}\n")

    def run(context: JobContext) -> dict[str, int]:
        note("start", context)
        for _ in range(steps):
            time.sleep(seconds)
            context.check()
        note("done", context)
        return {"steps": steps}

    return JobKind(PROBE, "sleep, for tests", lambda _settings: None, run)


def main() -> None:
    log, steps, seconds = Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    logging.basicConfig(level=logging.WARNING)
    settings = get_settings()
    store = open_store(settings.resolved_database_url, migrate=False)
    try:
        run_until_signalled(store, settings, [probe_kind(log, steps, seconds)])
    finally:
        store.dispose()


if __name__ == "__main__":
    main()
