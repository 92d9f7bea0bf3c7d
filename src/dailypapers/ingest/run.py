"""Write a stream of records to the store in batches, counting what happened.

A source is an iterable of :class:`PaperRecord`, :class:`Skipped` (a bad record, reported
with where it was) and :class:`Checkpoint` (harvest state that must be committed together
with the records before it, such as an OAI-PMH resumption token). Each batch is one write
transaction, so a killed run loses at most the batch in flight and never half a paper.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dailypapers.paper import PaperRecord
from dailypapers.store import Store
from dailypapers.store.papers import WriteCounts, upsert_papers
from dailypapers.store.runs import beat, clear_state, finish_run, save_state, start_run


class SourceUnusable(Exception):
    """The source as a whole cannot be read (missing, not this format, unreachable)."""


class SourceDamaged(SourceUnusable):
    """The source broke part way (a truncated or corrupted file): the records read before the
    damage are kept, the run is recorded as failed, and the command exits non-zero."""


class Interrupted(Exception):
    """Raised by an ``on_commit`` callback to stop a run between batches (the background
    worker does on SIGTERM); the run is recorded as ``interrupted``, not ``failed``."""


def missing_reason(path: Path) -> str:
    """Why ``path`` cannot be read as a file: a directory, missing, or not a regular file."""
    if path.is_dir():
        return "is a directory, not a file (give the files in it)"
    if not path.exists():
        return "no such file"
    return "not a regular file"


@dataclass(frozen=True)
class Skipped:
    """A record that was reported and left out: ``where`` says which (line 17, entry 3)."""

    where: str
    reason: str


@dataclass(frozen=True)
class Checkpoint:
    """Harvest state to commit with the records yielded before it; ``None`` clears it."""

    key: str
    state: dict[str, Any] | None


Item = PaperRecord | Skipped | Checkpoint


@dataclass
class Summary:
    """What a run did; ``skipped_records`` keeps the first reports for the user."""

    counts: WriteCounts = field(default_factory=WriteCounts)
    skipped: int = 0
    skipped_records: list[Skipped] = field(default_factory=list)

    def as_dict(self) -> dict[str, int]:
        return {
            "new": self.counts.new,
            "updated": self.counts.updated,
            "unchanged": self.counts.unchanged,
            "skipped": self.skipped,
        }

    def line(self) -> str:
        c = self.counts
        return f"{c.new} new, {c.updated} updated, {c.unchanged} unchanged, {self.skipped} skipped"


MAX_REPORTED = 1000


class BatchWriter:
    """Collects records and commits them, with any checkpoint, one batch at a time."""

    def __init__(
        self,
        store: Store,
        batch_size: int,
        on_commit: Callable[[Summary], None],
        run_id: int | None = None,
    ):
        self.store = store
        self.run_id = run_id
        self.batch_size = batch_size
        self.on_commit = on_commit
        self.summary = Summary()
        self.pending: list[PaperRecord] = []

    def add(self, item: Item) -> None:
        if isinstance(item, PaperRecord):
            self.pending.append(item)
            if len(self.pending) >= self.batch_size:
                self.commit()
        elif isinstance(item, Skipped):
            self.summary.skipped += 1
            if len(self.summary.skipped_records) < MAX_REPORTED:
                self.summary.skipped_records.append(item)
        else:
            self.commit(item)

    def commit(self, checkpoint: Checkpoint | None = None) -> None:
        if not self.pending and checkpoint is None:
            return
        with self.store.write() as connection:
            if self.pending:
                self.summary.counts += upsert_papers(connection, self.pending)
            if checkpoint is not None and checkpoint.state is None:
                clear_state(connection, checkpoint.key)
            elif checkpoint is not None and checkpoint.state is not None:
                save_state(connection, checkpoint.key, checkpoint.state)
            if self.run_id is not None:
                beat(connection, self.run_id)
        self.pending = []
        self.on_commit(self.summary)


def _record_failure(store: Store, run_id: int, writer: BatchWriter, error: Exception) -> None:
    with store.write() as connection:
        finish_run(
            connection, run_id, counts=writer.summary.as_dict(),
            status="interrupted" if isinstance(error, Interrupted) else "failed",
            message=str(error)[:2000] or type(error).__name__,
        )  # fmt: skip


def ingest(
    store: Store,
    source: str,
    target: str,
    items: Iterable[Item],
    *,
    batch_size: int = 2000,
    on_commit: Callable[[Summary], None] = lambda _summary: None,
) -> Summary:
    """Write ``items`` to ``store`` and record the run; raises :class:`SourceUnusable`."""
    with store.write() as connection:
        run_id = start_run(connection, source, target)
    writer = BatchWriter(store, batch_size, on_commit, run_id)
    try:
        for item in items:
            writer.add(item)
        writer.commit()
    except SourceDamaged as error:
        writer.commit()  # what was read before the damage is whole: keep it
        _record_failure(store, run_id, writer, error)
        raise SourceDamaged(f"{error} ({writer.summary.line()} before it)") from None
    except Exception as error:
        # Record the failure (the papers committed so far stay), then let it propagate. An
        # interrupt (Ctrl-C) is not recorded: SQLAlchemy drops the interrupted connection
        # without a rollback, so SQLite's write lock is held until it is collected; the run
        # then keeps its "running" status until the next run of its source marks it
        # interrupted.
        _record_failure(store, run_id, writer, error)
        raise
    with store.write() as connection:
        finish_run(connection, run_id, status="ok", counts=writer.summary.as_dict())
    return writer.summary
