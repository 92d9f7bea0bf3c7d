"""A suspension through the accounts' own command path takes the member's upvotes out of
every count, and reinstating them puts the upvotes back (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date

from dailypapers.accounts.flows import set_suspended
from dailypapers.community.votes import set_upvote, vote_state
from dailypapers.paper import make_record
from dailypapers.store import Store
from dailypapers.store.papers import upsert_papers
from tests.support.members import add_members, member

PAPER = "2501.00001"


def test_suspended_members_upvotes_stop_counting(store: Store) -> None:
    with store.write() as connection:
        upsert_papers(connection, [make_record(PAPER, "P", first_listed_on=date(2025, 1, 6),
                                               hf_upvotes=2)])  # fmt: skip
    alice, bob = add_members(store, 2, prefix="susp")
    for voter in (alice, bob):
        set_upvote(store, voter, PAPER, True)
    set_suspended(store, member(store, alice), True)
    assert vote_state(store, None, PAPER).upvotes == 3  # type: ignore[union-attr]
    set_suspended(store, member(store, alice), False)
    assert vote_state(store, None, PAPER).upvotes == 4  # type: ignore[union-attr]
