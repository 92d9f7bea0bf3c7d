"""The votes' part of the response cache's change stamp: a vote made by this process drops
only the cached pages that show its paper; any other change of the votes drops everything.

The cache (:class:`~dailypapers.web.cache.ResponseCache`) drops all it holds when its stamp
moves, and the store's stamp moves with every vote (:func:`~dailypapers.feed.reader.
change_stamp`). With members voting, that emptied the cache every few seconds. So the stamp
the cache watches carries, instead of the votes' stamp, an *epoch* that moves only when the
votes' stamp reached a value this process did not produce itself:

- :meth:`VoteWatch.voted` runs after each vote of this process (inside
  :meth:`VoteWatch.voting`): the cached pages showing the paper get its new count at once
  (:meth:`ResponseCache.forget_papers` with :func:`~dailypapers.web.personal.count_edits`,
  applied when each is next read; a page being rendered meanwhile is not kept), answers
  that do not say which papers they show (the API, feeds) are dropped, and the votes'
  stamp the vote's own write transaction read last (no other vote can come between on
  SQLite) is noted as expected;
- :meth:`VoteWatch.stamp` is the cache's stamp: papers, the epoch, the search engine's
  generation. A votes' stamp that is neither the last one seen nor one noted as expected
  (a vote in another worker process, a suspension) moves the epoch: everything is dropped,
  as before. While votes of this process are under way (committed, maybe, but their stamp
  not yet noted), such a move waits for the next look, at most ``MAX_DEFERRED`` looks.

On PostgreSQL a vote in another process that commits while a local vote's transaction
reads its stamp may be taken as local: its pages are right again within 1.5 x
``DAILYPAPERS_PAGE_CACHE_SECONDS`` (an expired page is served while rendered again), 5 x
that for a paper's page and search results (``cache.LASTING``), or at the next change. So
is the order of a list sorted by upvotes (a corrected count keeps its place, and a paper
climbing into a list it is not on yet appears there when the page is rendered again, at
most that long after).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from functools import partial
from typing import cast

from starlette.requests import Request

from dailypapers.feed.reader import Store, change_stamp, votes_stamp
from dailypapers.web.cache import ResponseCache
from dailypapers.web.personal import MemberVotes, count_edits

MAX_DEFERRED = 3  # looks a votes' stamp move may wait for this process's votes under way


class VoteWatch:
    """Tells the response cache which vote changes it has seen to already."""

    def __init__(self, store: Store, generation: Callable[[], object]) -> None:
        self.store = store
        self.generation = generation
        self.cache: ResponseCache | None = None  # set once the cache exists
        self.member_votes = MemberVotes()  # what cached pages mark as each member's votes
        self._seen: object = None
        self._expected: set[object] = set()
        self._pending = 0  # votes of this process under way
        self._deferred = 0
        self._epoch = 0
        self._lock = threading.Lock()

    def stamp(self) -> object:
        """The cache's stamp: (papers' stamp, votes epoch, the engine's answers generation)."""
        papers, votes = cast(tuple[object, object], change_stamp(self.store))
        with self._lock:
            self._look(votes)
        return papers, self._epoch, self.generation()

    def _look(self, votes: object) -> None:
        if votes == self._seen or self._seen is None or votes in self._expected:
            self._seen, self._deferred = votes, 0
        elif self._pending and self._deferred < MAX_DEFERRED:
            # A vote of this process may have committed without noting its stamp yet: wait.
            self._deferred += 1
            return
        else:
            self._seen, self._deferred = votes, 0
            self._epoch += 1
            self.member_votes.clear()
        if not self._pending or len(self._expected) > 10_000:
            self._expected.clear()

    def voting(self) -> VoteWatch:
        """Around a vote of this process (``with watch.voting():``): call :meth:`voted`
        inside once it committed. The watch is its own context manager, counting the votes
        under way (a generator's cost a vote several microseconds more)."""
        return self

    def __enter__(self) -> None:
        with self._lock:
            self._pending += 1

    def __exit__(self, *_error: object) -> None:
        with self._lock:
            self._pending -= 1

    def voted(
        self,
        paper_id: str,
        user_id: int,
        upvoted: bool,
        upvotes: int,
        stamp: object = None,
        day: date | None = None,
    ) -> None:
        """After a vote of this process (committed): ``user_id`` now has ``paper_id``
        ``upvoted`` or not, and it has ``upvotes``; the pages showing it show that.
        ``stamp`` is the votes' stamp the vote's own transaction read as it left it (None:
        read it now); ``day`` the paper's feed day, whose lists the vote may reorder (None:
        not known, any list)."""
        self.member_votes.voted(user_id, paper_id, upvoted)
        if self.cache is not None:
            fix = partial(count_edits, paper_id=paper_id, upvotes=upvotes)
            self.cache.forget_papers(frozenset({paper_id}), fix, days=(day,))
        if stamp is None:
            stamp = votes_stamp(self.store)
        with self._lock:
            self._expected.add(stamp)

    def discussed(self, paper_id: str) -> None:
        """After a comment of this process on ``paper_id`` was written (committed, inside
        :meth:`voting`): the cached answers showing the paper (its thread, its count) and
        those that do not say which papers they show are dropped, and the clock move the
        write made (``store.comments.tick``) is noted as expected, so the rest stays."""
        if self.cache is not None:  # a comment orders no list by upvotes: no day
            self.cache.forget_papers(frozenset({paper_id}), days=())
        stamp = votes_stamp(self.store)
        with self._lock:
            self._expected.add(stamp)


@contextmanager
def papers_shown_again(request: Request) -> Iterator[Callable[[str], None]]:
    """Around a write of this process that changes what a paper's pages show (a comment, a
    claim decision, author links): yields what to call with the paper once it committed, so
    the cached copies showing it go at once (:meth:`VoteWatch.discussed`)."""
    watch: VoteWatch | None = getattr(request.app.state, "vote_watch", None)
    if watch is None:
        yield lambda _paper: None
        return
    with watch.voting():
        yield watch.discussed
