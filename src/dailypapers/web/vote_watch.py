"""The votes' part of the response cache's change stamp: a vote made by this process drops
only the cached pages that show its paper; any other change of the votes drops everything.

The cache (:class:`~dailypapers.web.cache.ResponseCache`) drops all it holds when its stamp
moves, and the store's stamp moves with every vote (:func:`~dailypapers.feed.reader.
change_stamp`). With members voting, that emptied the cache every few seconds. So the stamp
the cache watches carries, instead of the votes' stamp, an *epoch* that moves only when the
votes' stamp reached a value this process did not produce itself:

- :meth:`VoteWatch.voted` runs after each vote of this process: the pages showing the paper
  are dropped at once (:meth:`ResponseCache.forget_papers`, which also refuses a page
  rendered before the vote) and the votes' stamp read right after it is noted as expected;
- :meth:`VoteWatch.stamp` is the cache's stamp: papers, the epoch, the search engine's
  generation. A votes' stamp that is neither the last one seen nor one noted as expected
  (a vote in another worker process, a suspension) moves the epoch: everything is dropped,
  as before.

A vote in another process that lands between a local vote and its stamp read is taken as
local: its pages are right again within ``DAILYPAPERS_PAGE_CACHE_SECONDS``. So is the order of
a list a paper climbs into without being on it yet (its count is right wherever it shows).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import cast

from dailypapers.feed.reader import Store, change_stamp
from dailypapers.web.cache import ResponseCache


class VoteWatch:
    """Tells the response cache which vote changes it has seen to already."""

    def __init__(self, store: Store, generation: Callable[[], object]) -> None:
        self.store = store
        self.generation = generation
        self.cache: ResponseCache | None = None  # set once the cache exists
        self._seen: object = None
        self._expected: set[object] = set()
        self._epoch = 0
        self._lock = threading.Lock()

    def stamp(self) -> object:
        """The cache's stamp: (papers' stamp, votes epoch, search engine generation)."""
        papers, votes = cast(tuple[object, object], change_stamp(self.store))
        with self._lock:
            if votes != self._seen:
                if self._seen is not None and votes not in self._expected:
                    self._epoch += 1
                self._seen = votes
            self._expected.clear()
        return papers, self._epoch, self.generation()

    def voted(self, paper_id: str) -> None:
        """After a vote of this process on ``paper_id`` (committed): drop its pages."""
        if self.cache is None:
            return
        self.cache.forget_papers(frozenset({paper_id}))
        votes = cast(tuple[object, object], change_stamp(self.store))[1]
        with self._lock:
            self._expected.add(votes)
