"""Small helpers every store module shares: bounded ``IN`` lists and row timestamps."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import TypeVar

# Below SQLite's and PostgreSQL's limits on bound parameters in one statement.
IN_CHUNK = 500

_T = TypeVar("_T")


def chunks(items: Sequence[_T], size: int = IN_CHUNK) -> Iterator[Sequence[_T]]:
    """``items`` in slices small enough for one ``IN (...)`` list."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def utc_now(*, precise: bool = False) -> datetime:
    """Now as naive UTC, as the store keeps row timestamps: to the second, or to the
    microsecond where readers must tell two writes in the same second apart (a paper's
    ``updated_at``, which :func:`dailypapers.store.papers.paper_stamp` reads)."""
    now = datetime.now(UTC).replace(tzinfo=None)
    return now if precise else now.replace(microsecond=0)
