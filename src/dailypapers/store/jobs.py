"""The background worker's job runs: a job table with leases, on SQLite and PostgreSQL.

One row per job and scheduled slot (``UNIQUE (job, slot)``), so two schedulers that create
the same slot make one run. A worker claims a due run by writing its name and a lease time
into the row, in one transaction: on PostgreSQL the candidate row is read ``FOR UPDATE SKIP
LOCKED``, so workers on several machines each take a different run without waiting; SQLite
serialises writers (``BEGIN IMMEDIATE``), which gives the same guarantee on one machine. A
running worker renews its lease; a killed one stops renewing, and once the lease has expired
any worker takes the run over. Finishing, renewing and retrying check the owner, so a worker
that lost its lease cannot overwrite what the new owner records.

Times are naive UTC from the workers' clocks (keep machines on NTP; a lease is tens of
seconds, far above ordinary clock drift).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    Connection,
    Insert,
    case,
    delete,
    exists,
    func,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from dailypapers.store.schema import job_runs

UNFINISHED = ("due", "running")


@dataclass(frozen=True, slots=True)
class JobRun:
    """One run of a job, as stored."""

    id: int
    job: str
    slot: datetime
    status: str
    attempts: int
    not_before: datetime
    owner: str | None
    lease_until: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    counts: dict[str, int]
    message: str | None


def _run(row: object) -> JobRun:
    values = dict(row._mapping)  # type: ignore[attr-defined]
    values["counts"] = json.loads(values["counts"]) if values["counts"] else {}
    return JobRun(**values)


def add_run(connection: Connection, job: str, slot: datetime) -> bool:
    """Create the run of ``job`` for ``slot`` unless it exists; True when this call made it."""
    values = {"job": job, "slot": slot, "status": "due", "attempts": 0, "not_before": slot}
    statement: Insert
    if connection.dialect.name == "postgresql":
        statement = postgresql.insert(job_runs).values(**values).on_conflict_do_nothing()
    else:  # the store runs on SQLite otherwise
        statement = sqlite.insert(job_runs).values(**values).on_conflict_do_nothing()
    return connection.execute(statement.returning(job_runs.c.id)).first() is not None


def schedule_run(connection: Connection, job: str, slot: datetime) -> bool:
    """Create the run of ``job`` for ``slot``, unless one of its runs is still to finish.

    A long run (embedding a backlog) thus never piles up slots behind it; the next slot
    after it finishes runs then.
    """
    pending = connection.execute(
        select(exists().where(job_runs.c.job == job, job_runs.c.status.in_(UNFINISHED)))
    ).scalar_one()
    return False if pending else add_run(connection, job, slot)


def claim_run(
    connection: Connection,
    owner: str,
    jobs: list[str],
    *,
    now: datetime,
    lease: timedelta,
    max_attempts: int,
) -> JobRun | None:
    """Take the oldest due run of one of ``jobs`` (or one whose lease expired) for ``owner``.

    Call in a write transaction. A run whose owner died after ``max_attempts`` tries is
    marked failed instead of being taken again (it may be what kills its workers).
    """
    expired = (job_runs.c.status == "running") & (job_runs.c.lease_until < now)
    connection.execute(
        update(job_runs)
        .where(expired, job_runs.c.attempts >= max_attempts, job_runs.c.job.in_(jobs))
        .values(
            status="failed",
            finished_at=now,
            owner=None,
            lease_until=None,
            message=f"its worker stopped {max_attempts} times before finishing it",
        )
    )
    due = (job_runs.c.status == "due") & (job_runs.c.not_before <= now)
    candidate = connection.execute(
        select(job_runs.c.id, job_runs.c.status, job_runs.c.owner)
        .where(job_runs.c.job.in_(jobs), due | expired)
        .order_by(job_runs.c.not_before, job_runs.c.id)
        .limit(1)
        .with_for_update(skip_locked=True)  # left out on SQLite, where writers take turns
    ).first()
    if candidate is None:
        return None
    values: dict[str, object] = {
        "status": "running",
        "owner": owner,
        "lease_until": now + lease,
        "started_at": now,
        "attempts": job_runs.c.attempts + 1,
    }
    if candidate.status == "running":
        values["message"] = f"taken over from {candidate.owner}, whose lease expired"
    connection.execute(update(job_runs).where(job_runs.c.id == candidate.id).values(**values))
    return get_run(connection, candidate.id)


def get_run(connection: Connection, run_id: int) -> JobRun | None:
    row = connection.execute(select(job_runs).where(job_runs.c.id == run_id)).first()
    return None if row is None else _run(row)


def _owned(run_id: int, owner: str) -> ColumnElement[bool]:
    return (
        (job_runs.c.id == run_id) & (job_runs.c.owner == owner) & (job_runs.c.status == "running")
    )


def renew_lease(connection: Connection, run_id: int, owner: str, until: datetime) -> bool:
    """Extend ``owner``'s lease; False when the run is no longer its own."""
    result = connection.execute(
        update(job_runs).where(_owned(run_id, owner)).values(lease_until=until)
    )
    return result.rowcount == 1


def finish_run(
    connection: Connection,
    run_id: int,
    owner: str,
    *,
    status: str,
    now: datetime,
    counts: dict[str, int] | None = None,
    message: str | None = None,
) -> bool:
    """Record a run's end (``ok``, ``idle`` or ``failed``); False if ``owner`` lost it.

    An ``idle`` run (nothing to do) replaces the job's previous idle runs, so a job polled
    every minute keeps one such row, not one per minute.
    """
    result = connection.execute(
        update(job_runs)
        .where(_owned(run_id, owner))
        .values(
            status=status,
            finished_at=now,
            lease_until=None,
            counts=json.dumps(counts or {}),
            # Without a message of its own, a run keeps its note (taken over, retried).
            message=message[:2000] if message else job_runs.c.message,
        )
    )
    if result.rowcount != 1:
        return False
    if status == "idle":
        job = select(job_runs.c.job).where(job_runs.c.id == run_id).scalar_subquery()
        connection.execute(
            delete(job_runs).where(
                job_runs.c.job == job, job_runs.c.status == "idle", job_runs.c.id != run_id
            )
        )
    return True


def retry_run(
    connection: Connection, run_id: int, owner: str, *, not_before: datetime, message: str
) -> bool:
    """Put a failed attempt back as due at ``not_before`` (the back-off)."""
    result = connection.execute(
        update(job_runs)
        .where(_owned(run_id, owner))
        .values(status="due", not_before=not_before, owner=None, lease_until=None, message=message)
    )
    return result.rowcount == 1


def release_run(connection: Connection, run_id: int, owner: str) -> bool:
    """Hand a run back as due at once (its worker is stopping between batches); the attempt
    does not count, the next worker resumes the job where the committed batches left it."""
    result = connection.execute(
        update(job_runs)
        .where(_owned(run_id, owner))
        .values(
            status="due",
            owner=None,
            lease_until=None,
            attempts=case((job_runs.c.attempts > 0, job_runs.c.attempts - 1), else_=0),
            message="handed back by a stopping worker",
        )
    )
    return result.rowcount == 1


def last_runs(connection: Connection) -> dict[str, JobRun]:
    """The newest run of each job that has started, by job name."""
    newest = (
        select(func.max(job_runs.c.id).label("id"))
        .where(job_runs.c.started_at.is_not(None))
        .group_by(job_runs.c.job)
        .subquery()
    )
    rows = connection.execute(select(job_runs).join(newest, newest.c.id == job_runs.c.id))
    return {run.job: run for run in map(_run, rows)}


def next_due(connection: Connection) -> dict[str, datetime]:
    """When each job's earliest waiting run may start, by job name."""
    rows = connection.execute(
        select(job_runs.c.job, func.min(job_runs.c.not_before))
        .where(job_runs.c.status == "due")
        .group_by(job_runs.c.job)
    )
    return {job: when for job, when in rows}


def runs_of(connection: Connection, job: str) -> list[JobRun]:
    """Every stored run of ``job``, by slot."""
    rows = connection.execute(
        select(job_runs).where(job_runs.c.job == job).order_by(job_runs.c.slot, job_runs.c.id)
    )
    return [_run(row) for row in rows]
