"""The index writer lock: one process at a time builds or updates the index files.

``writer_lock(data_dir)`` holds an exclusive ``flock`` on ``DATA_DIR/index/.writer.lock``
while the index job (``dailypapers index``, the background worker, ``dailypapers search``
before it searches) updates the lexical and the dense files. A second builder waits for it,
or with ``wait=False`` gets :class:`IndexBusy` at once and can skip its turn. Readers (the
web server) never take it: builds are written beside the files in use and swapped in by an
atomic rename, so readers never need to wait. The kernel drops the lock when its holder
exits, even killed, so a crash never leaves the index locked.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

LOCK_FILE: Final = ".writer.lock"


class IndexBusy(Exception):
    """Another process holds the index writer lock."""


def lock_path(data_dir: Path) -> Path:
    return data_dir / "index" / LOCK_FILE


@contextmanager
def writer_lock(data_dir: Path, *, wait: bool = True) -> Iterator[None]:
    """Hold the index writer lock; without ``wait``, raise :class:`IndexBusy` if held."""
    path = lock_path(data_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise IndexBusy(f"another process is updating the index ({path})") from None
        yield  # closing the descriptor releases the lock
    finally:
        os.close(descriptor)
