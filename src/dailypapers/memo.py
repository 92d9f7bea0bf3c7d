"""Bounded memos: a value derived from its key alone, kept so that it is made once.

The uncached pages show the same papers again and again (a day's 50, a paper's similar
ones), and what the site makes of a paper (its entry from a row, its card's HTML, its JSON
item) depends only on values it was made from. A :class:`Memo` keeps such a value keyed by
all of those values, so it is never stale: a change to any of them is another key. Each
memo holds at most ``size`` values, the oldest kept dropped first; a read is one dict
lookup (atomic under the GIL), writes take a lock. The values are in an ``OrderedDict``, whose
oldest goes in constant time: a plain dict's oldest key (``next(iter(d))``) is found by
walking past every slot deleted before it, which made each value kept in a full memo cost
18 us instead of 1 (50,000 keeps into a memo of 16,384), some 2.7 ms of a page whose 50
papers were all new to it (three memos each). The app sizes them all from
``DAILYPAPERS_PAGE_MEMO_PAPERS`` (:func:`size_all`): each memo keeps one value per paper.

The benchmarks report pages with every memo empty too (``benchmarks.web_cpu``'s cold
rows): :func:`set_aside` empties all of them for a block and puts them back after.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterable, Iterator
from contextlib import contextmanager
from threading import Lock
from typing import Any, Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

# Values each memo keeps until the app sizes them (the default of PAGE_MEMO_PAPERS).
DEFAULT_SIZE = 16_384
_memos: list[Memo[Any, Any]] = []


class Memo(Generic[K, V]):
    """Values by key, at most ``size`` of them (the oldest kept goes first)."""

    def __init__(self, size: int = DEFAULT_SIZE, *, fixed: bool = False) -> None:
        self.size = size
        self.fixed = fixed  # sized by its owner: size_all leaves it (it still clears it)
        self.kept: OrderedDict[K, V] = OrderedDict()
        self._lock = Lock()
        _memos.append(self)

    def get(self, key: K) -> V | None:
        return self.kept.get(key)

    def keep(self, key: K, value: V) -> None:
        self.keep_all(((key, value),))

    def keep_all(self, pairs: Iterable[tuple[K, V]]) -> None:
        """:meth:`keep` each ``(key, value)``, under the lock once (a page keeps 50)."""
        if self.size <= 0:
            return
        with self._lock:
            kept = self.kept
            for key, value in pairs:
                while len(kept) >= self.size:
                    kept.popitem(last=False)
                kept[key] = value

    def clear(self) -> None:
        with self._lock:
            self.kept = OrderedDict()

    def __len__(self) -> int:
        return len(self.kept)


def size_all(size: int) -> None:
    """Let every memo keep at most ``size`` values (``DAILYPAPERS_PAGE_MEMO_PAPERS``: each
    memo keeps one value per paper); 0 keeps none."""
    for memo in _memos:
        with memo._lock:
            memo.size = memo.size if memo.fixed else size
            memo.kept = OrderedDict()


def clear_all() -> None:
    """Forget every kept value of every memo."""
    for memo in _memos:
        memo.clear()


@contextmanager
def set_aside() -> Iterator[None]:
    """Within the block every memo starts empty; what they kept before is back after."""
    kept = [(memo, memo.kept) for memo in _memos]
    clear_all()
    try:
        yield
    finally:
        for memo, values in kept:
            with memo._lock:
                memo.kept = values
