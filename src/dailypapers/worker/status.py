"""Where each job stands, for ``dailypapers stats``: its last run and when it is next due.

The next due time is the earliest waiting run in the store (a retry, a requested run), else
the job's next scheduled slot; ``None`` for a job that only runs when asked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from dailypapers.settings import Settings
from dailypapers.store.jobs import JobRun, last_runs, next_due
from dailypapers.worker.registry import JobKind


@dataclass(frozen=True)
class JobStatus:
    name: str
    what: str
    last: JobRun | None
    next_due: datetime | None


def job_status(
    connection: Connection, settings: Settings, kinds: Sequence[JobKind], now: datetime
) -> list[JobStatus]:
    last, waiting = last_runs(connection), next_due(connection)
    found = []
    for kind in kinds:
        schedule = kind.schedule(settings)
        due = waiting.get(kind.name)
        if due is None and schedule is not None:
            due = schedule.following(now)
        found.append(JobStatus(kind.name, kind.what, last.get(kind.name), due))
    return found
