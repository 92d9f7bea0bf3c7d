"""1,000 members upvoting one paper at once give exactly 1,000, on SQLite and PostgreSQL.

Each vote is its own request as the site runs it (:func:`dailypapers.community.votes.
set_upvote`: one write transaction), from 32 threads over the store's connection pool, every
member a distinct account; half of them click twice. Bounded: each batch must finish within
the test's timeout (no timing is asserted).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date

import pytest

from dailypapers.community.votes import set_upvote
from dailypapers.paper import make_record
from dailypapers.store import Store
from dailypapers.store.papers import upsert_papers
from dailypapers.store.votes import upvotes_of
from tests.support.members import add_members

VOTERS = 1_000
THREADS = 32
PAPER = "2501.00001"


def _vote_all(store: Store, members: list[int], upvoted: bool, clicks: int) -> None:
    start = threading.Barrier(THREADS)

    def vote(member: int) -> None:
        for _ in range(clicks):
            set_upvote(store, member, PAPER, upvoted)

    def worker(part: list[int]) -> None:
        start.wait(timeout=60)  # all threads begin together
        for member in part:
            vote(member)

    parts = [members[index::THREADS] for index in range(THREADS)]
    with ThreadPoolExecutor(THREADS) as pool:
        for future in [pool.submit(worker, part) for part in parts]:
            future.result(timeout=300)


@pytest.mark.timeout(600)
def test_a_thousand_concurrent_voters_count_exactly(store: Store) -> None:
    with store.write() as connection:
        upsert_papers(connection, [make_record(PAPER, "Popular", first_listed_on=date(2025, 1, 6),
                                               hf_upvotes=7)])  # fmt: skip
    members = add_members(store, VOTERS, prefix="voter")
    _vote_all(store, members, True, clicks=2)  # every member double-clicks
    with store.read() as connection:
        assert upvotes_of(connection, PAPER) == (7, VOTERS)
    _vote_all(store, members[: VOTERS // 2], False, clicks=2)
    with store.read() as connection:
        assert upvotes_of(connection, PAPER) == (7, VOTERS - VOTERS // 2)
