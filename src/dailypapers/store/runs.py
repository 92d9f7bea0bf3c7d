"""Ingest runs (what ran, when, with what outcome) and the resumable state of harvests.

A run is ``running`` from :func:`start_run` to :func:`finish_run`; each committed batch moves
its heartbeat (:func:`beat`). A process killed with ``kill -9`` never finishes its run, so
starting a run first marks the killed ones of the same source ``interrupted``: on SQLite
every ``running`` one (``dailypapers`` writes one batch at a time there), on PostgreSQL those
whose heartbeat is older than :data:`STALE_AFTER` (another machine may be ingesting).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, func, select, update

from dailypapers.store.batches import utc_now
from dailypapers.store.schema import harvest_state, ingest_runs


@dataclass(frozen=True)
class RunOutcome:
    """The last run of one ingest source, as ``dailypapers stats`` shows it."""

    source: str
    target: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    new: int
    updated: int
    unchanged: int
    skipped: int
    message: str | None


# Longer than a batch can take (an OAI-PMH page waits at most a few minutes for retries).
STALE_AFTER = timedelta(minutes=30)


def mark_interrupted(connection: Connection, source: str) -> int:
    """Mark the killed runs of ``source`` ``interrupted``; returns how many."""
    stale = (ingest_runs.c.source == source) & (ingest_runs.c.status == "running")
    if connection.dialect.name != "sqlite":
        last_sign = func.coalesce(ingest_runs.c.heartbeat_at, ingest_runs.c.started_at)
        stale &= last_sign < utc_now() - STALE_AFTER
    result = connection.execute(
        update(ingest_runs)
        .where(stale)
        .values(
            status="interrupted",
            finished_at=func.coalesce(ingest_runs.c.heartbeat_at, ingest_runs.c.started_at),
            message="the process stopped before the run finished (killed or crashed)",
        )
    )
    return result.rowcount


def start_run(connection: Connection, source: str, target: str) -> int:
    """Record that a run began; its row says ``running`` until :func:`finish_run`."""
    mark_interrupted(connection, source)
    now = utc_now()
    result = connection.execute(
        ingest_runs.insert().values(
            source=source,
            target=target[:2000],
            status="running",
            started_at=now,
            heartbeat_at=now,
            new=0,
            updated=0,
            unchanged=0,
            skipped=0,
        )  # fmt: skip
    )
    return int(result.inserted_primary_key[0])  # type: ignore[index]


def beat(connection: Connection, run_id: int) -> None:
    """Move a running run's heartbeat (call in each batch's write transaction)."""
    connection.execute(
        update(ingest_runs).where(ingest_runs.c.id == run_id).values(heartbeat_at=utc_now())
    )


def finish_run(
    connection: Connection,
    run_id: int,
    *,
    status: str,
    counts: dict[str, int],
    message: str | None = None,
) -> None:
    connection.execute(
        update(ingest_runs)
        .where(ingest_runs.c.id == run_id)
        .values(status=status, finished_at=utc_now(), message=message, **counts)
    )


def last_runs(connection: Connection) -> list[RunOutcome]:
    """The newest run of each source, sources in alphabetical order."""
    newest = (
        select(ingest_runs.c.source, func.max(ingest_runs.c.id).label("id"))
        .group_by(ingest_runs.c.source)
        .subquery()
    )
    rows = connection.execute(
        select(ingest_runs)
        .join(newest, newest.c.id == ingest_runs.c.id)
        .order_by(ingest_runs.c.source)
    ).mappings()
    hidden = ("id", "heartbeat_at")
    return [RunOutcome(**{k: v for k, v in row.items() if k not in hidden}) for row in rows]


def runs_of_source(connection: Connection, source: str) -> list[RunOutcome]:
    """Every run of one source, oldest first."""
    rows = connection.execute(
        select(ingest_runs).where(ingest_runs.c.source == source).order_by(ingest_runs.c.id)
    ).mappings()
    hidden = ("id", "heartbeat_at")
    return [RunOutcome(**{k: v for k, v in row.items() if k not in hidden}) for row in rows]


def load_state(connection: Connection, key: str) -> dict[str, Any] | None:
    text = connection.scalar(select(harvest_state.c.state).where(harvest_state.c.key == key))
    return json.loads(text) if text else None


def save_state(connection: Connection, key: str, state: dict[str, Any]) -> None:
    """Insert or replace the state under ``key`` (call in the batch's write transaction)."""
    clear_state(connection, key)
    connection.execute(
        harvest_state.insert().values(key=key, state=json.dumps(state), updated_at=utc_now())
    )


def clear_state(connection: Connection, key: str) -> None:
    connection.execute(delete(harvest_state).where(harvest_state.c.key == key))
