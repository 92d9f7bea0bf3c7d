"""Upvotes in the store, on SQLite and on a real PostgreSQL server: one per member and
paper, the count kept beside them, imported and local apart, windows by time, suspensions."""

from __future__ import annotations

import threading
from datetime import date, datetime

import pytest
from sqlalchemy import Connection

from dailypapers.community.votes import (
    UnknownPaper,
    VoteState,
    WriterBusy,
    checkpoint,
    set_upvote,
    suspension_changed,
    vote_state,
)
from dailypapers.paper import make_record
from dailypapers.store import Store
from dailypapers.store import votes as votes_sql
from dailypapers.store.entries import feed_entries, feed_page, rank_inputs
from dailypapers.store.papers import upsert_papers
from dailypapers.store.submissions import add_submission, forget_submitter, remove_submission
from dailypapers.store.users import update_user
from dailypapers.store.votes import (
    add_vote,
    remove_vote,
    set_counted,
    set_vote,
    set_vote_stamped,
    upvotes_of,
    vote_stamp,
    voted_among,
    voted_papers,
)
from tests.support.members import add_members

DAY = date(2025, 1, 6)
T0 = datetime(2025, 1, 6, 12)


def _papers(store: Store) -> None:
    records = [
        make_record("2501.00001", "Imported votes", first_listed_on=DAY, hf_upvotes=3,
                    submitted_at=datetime(2025, 1, 3)),
        make_record("2501.00002", "Local votes", first_listed_on=DAY,
                    submitted_at=datetime(2025, 1, 2)),
    ]  # fmt: skip
    with store.write() as connection:
        upsert_papers(connection, records)


def test_one_vote_per_member_and_paper(store: Store) -> None:
    _papers(store)
    alice, bob = add_members(store, 2)
    with store.write() as connection:
        assert add_vote(connection, alice, "2501.00002", T0)
        assert not add_vote(connection, alice, "2501.00002", T0)  # a double click
        assert add_vote(connection, bob, "2501.00002", T0)
    with store.read() as connection:
        assert upvotes_of(connection, "2501.00002") == (0, 2)
        assert voted_among(connection, alice, ["2501.00001", "2501.00002"]) == {"2501.00002"}
    with store.write() as connection:
        assert remove_vote(connection, alice, "2501.00002")
        assert not remove_vote(connection, alice, "2501.00002")
    with store.read() as connection:
        assert upvotes_of(connection, "2501.00002") == (0, 1)
        assert voted_among(connection, alice, ["2501.00002"]) == frozenset()
        assert upvotes_of(connection, "2509.99999") is None


def test_shown_count_is_imported_plus_local_and_orders_the_day(store: Store) -> None:
    _papers(store)
    members = add_members(store, 4)
    with store.write() as connection:
        for member in members:
            add_vote(connection, member, "2501.00002", T0)
    with store.read() as connection:
        page = feed_page(connection, DAY, DAY, limit=10)
    assert [(e.id, e.hf_upvotes, e.local_upvotes, e.upvotes) for e in page.entries] == [
        ("2501.00002", 0, 4, 4),
        ("2501.00001", 3, 0, 3),
    ]


def test_a_vote_stays_on_a_new_version(store: Store) -> None:
    _papers(store)
    (alice,) = add_members(store, 1)
    with store.write() as connection:
        add_vote(connection, alice, "2501.00001", T0)
    newer = make_record("2501.00001", "Imported votes, revised", version=2, first_listed_on=DAY,
                        hf_upvotes=5)  # fmt: skip
    with store.write() as connection:
        upsert_papers(connection, [newer])
    with store.read() as connection:
        (entry,) = feed_entries(connection, ["2501.00001"])
        assert (entry.title, entry.upvotes) == ("Imported votes, revised", 6)
        assert voted_papers(connection, alice, limit=10) == ["2501.00001"]


def test_suspended_members_votes_stop_counting_and_come_back(store: Store) -> None:
    _papers(store)
    alice, bob = add_members(store, 2)
    with store.write() as connection:
        add_vote(connection, alice, "2501.00002", T0)
        add_vote(connection, bob, "2501.00002", T0)
        add_vote(connection, alice, "2501.00001", T0)
        before = vote_stamp(connection)
        assert set_counted(connection, alice, False) == 2
        assert set_counted(connection, alice, False) == 0  # already suspended
        assert vote_stamp(connection) != before
    with store.read() as connection:
        assert upvotes_of(connection, "2501.00002") == (0, 1)
        assert upvotes_of(connection, "2501.00001") == (3, 0)
        inputs = {i.id: i for i in rank_inputs(connection, DAY, DAY)}
        assert inputs["2501.00002"].window_upvotes == 1
    with store.write() as connection:
        # Taking back an uncounted vote leaves the count alone.
        remove_vote(connection, alice, "2501.00001")
        assert set_counted(connection, alice, True) == 1
    with store.read() as connection:
        assert upvotes_of(connection, "2501.00002") == (0, 2)
        assert upvotes_of(connection, "2501.00001") == (3, 0)


def test_trending_counts_the_votes_of_its_window(store: Store) -> None:
    _papers(store)
    members = add_members(store, 5)
    times = [datetime(2025, 1, 1), datetime(2025, 1, 5, 23, 59), T0, T0, datetime(2025, 1, 7)]
    with store.write() as connection:
        for member, moment in zip(members, times, strict=True):
            add_vote(connection, member, "2501.00002", moment)
    with store.read() as connection:
        day = {i.id: i.window_upvotes for i in rank_inputs(connection, DAY, DAY)}
        week = rank_inputs(connection, DAY, DAY, since=datetime(2024, 12, 31))
    assert day == {"2501.00001": 0, "2501.00002": 3}  # from midnight of the window's first day
    assert {i.id: i.window_upvotes for i in week}["2501.00002"] == 5


def test_the_stamp_moves_with_every_vote(store: Store) -> None:
    _papers(store)
    alice, bob = add_members(store, 2)
    stamps = []
    with store.read() as connection:
        stamps.append(vote_stamp(connection))
    steps: list[tuple[int, datetime | None]] = [
        (alice, T0),  # alice upvotes
        (alice, None),  # and takes it back
        (bob, datetime(2025, 1, 6, 13)),  # bob upvotes
    ]
    for member, moment in steps:
        with store.write() as connection:
            if moment is None:
                remove_vote(connection, member, "2501.00002")
            else:
                add_vote(connection, member, "2501.00002", moment)
        with store.read() as connection:
            stamps.append(vote_stamp(connection))
    # Each differs from the one before (what the page cache compares with).
    assert all(before != after for before, after in zip(stamps, stamps[1:], strict=False))
    assert stamps[1] != stamps[3]


def test_a_suspension_follows_the_account(store: Store) -> None:
    _papers(store)
    alice, bob = add_members(store, 2)
    for member in (alice, bob):
        set_upvote(store, member, "2501.00002", True)
    with store.write() as connection:
        update_user(connection, alice, {"suspended_at": T0})
    assert suspension_changed(store, alice) == 1
    assert vote_state(store, bob, "2501.00002") == VoteState("2501.00002", True, 1)
    with store.write() as connection:
        update_user(connection, alice, {"suspended_at": None})
    assert suspension_changed(store, alice) == 1
    assert vote_state(store, alice, "2501.00002") == VoteState("2501.00002", True, 2)


def test_the_stamp_moves_with_suspensions_and_set_vote_too(store: Store) -> None:
    _papers(store)
    alice, bob = add_members(store, 2)

    def stamp() -> object:
        with store.read() as connection:
            return vote_stamp(connection)

    stamps = [stamp()]
    state = set_upvote(store, alice, "2501.00002", True, stamp=True)
    assert state.stamp == stamp() != stamps[-1]  # a vote knows the stamp it left
    stamps.append(stamp())
    set_upvote(store, alice, "2501.00002", True)  # a double click changes nothing
    assert stamp() == stamps[-1]
    with store.write() as connection:
        update_user(connection, alice, {"suspended_at": T0})
    suspension_changed(store, alice)
    assert stamp() != stamps[-1]


def test_a_vote_that_changed_something_answers_the_clock_as_it_moved_it(store: Store) -> None:
    _papers(store)
    (alice,) = add_members(store, 1)
    with store.write() as connection:
        before = vote_stamp(connection)
        counts, ticked, day = set_vote_stamped(connection, alice, "2501.00001", True, T0)
        assert day == DAY
        assert counts == (3, 1) and ticked == vote_stamp(connection) != before
        # A vote that changes nothing reads the clock as it is, with the counts.
        assert set_vote_stamped(connection, alice, "2501.00001", True, T0) == ((3, 1), ticked, DAY)
        assert set_vote_stamped(connection, alice, "2509.99999", True, T0) == (None, ticked, None)
        assert set_vote_stamped(connection, alice, "2509.99999", False, T0) == (None, ticked, None)
        assert set_vote_stamped(connection, alice, "2501.00001", False, T0) == (
            (3, 0),
            ticked + 1,
            DAY,
        )
        assert vote_stamp(connection) == ticked + 1


def test_set_vote_is_exact_and_knows_unknown_papers(store: Store) -> None:
    _papers(store)
    alice, bob = add_members(store, 2)
    with store.write() as connection:
        assert set_vote(connection, alice, "2501.00001", True, T0) == (3, 1)
        assert set_vote(connection, alice, "2501.00001", True, T0) == (3, 1)  # again: nothing
        assert set_vote(connection, bob, "2501.00001", True, T0) == (3, 2)
        assert set_vote(connection, bob, "2501.00001", False, T0) == (3, 1)
        assert set_vote(connection, bob, "2501.00001", False, T0) == (3, 1)
        assert set_vote(connection, bob, "2509.99999", True, T0) is None
        assert set_vote(connection, bob, "2509.99999", False, T0) is None
    with store.read() as connection:
        assert voted_papers(connection, alice, limit=5) == ["2501.00001"]
        assert voted_papers(connection, bob, limit=5) == []
        assert upvotes_of(connection, "2501.00001") == (3, 1)
    with pytest.raises(UnknownPaper):
        set_upvote(store, alice, "2509.99999", True)


def test_a_rule_run_first_rolls_the_vote_back(store: Store) -> None:
    _papers(store)
    (alice,) = add_members(store, 1)

    def refuse(connection: Connection) -> None:
        raise RuntimeError("refused")

    with pytest.raises(RuntimeError):
        set_upvote(store, alice, "2501.00002", True, first=refuse)
    assert vote_state(store, alice, "2501.00002") == VoteState("2501.00002", False, 0)


def test_a_write_at_once_never_waits_for_another_writer(sqlite_store: Store) -> None:
    _papers(sqlite_store)
    (alice,) = add_members(sqlite_store, 1)
    with sqlite_store.write(), pytest.raises(WriterBusy):  # another writer holds the lock
        set_upvote(sqlite_store, alice, "2501.00002", True, at_once=True)
    state = set_upvote(sqlite_store, alice, "2501.00002", True, at_once=True)
    assert state == VoteState("2501.00002", True, 1)
    with sqlite_store.write_engine.connect() as connection:  # waits again, as every writer
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000


def test_a_write_at_once_commits_or_rolls_back_on_the_driver_or_through_sqlalchemy(
    sqlite_store: Store,
) -> None:
    """The transaction of a write at once ends on the driver, or through SQLAlchemy when a
    statement run through it began its side (the rate limit's clean-up does): either way
    what it wrote commits, an error rolls it all back, and the thread's kept connection is
    left out of any transaction for the next one (a write at once inside one is refused)."""
    _papers(sqlite_store)
    alice, bob, carol = add_members(sqlite_store, 3)
    now = datetime(2025, 1, 6, 12)
    with votes_sql.write_at_once(sqlite_store) as connection:  # the driver's commit
        set_vote_stamped(connection, alice, "2501.00002", True, now)
        with pytest.raises(WriterBusy), votes_sql.write_at_once(sqlite_store):
            pass
    with votes_sql.write_at_once(sqlite_store) as connection:  # SQLAlchemy's commit
        connection.exec_driver_sql("SELECT 1").all()
        assert connection.in_transaction()
        set_vote_stamped(connection, bob, "2501.00002", True, now)
    for through_sqlalchemy in (False, True):
        with pytest.raises(RuntimeError), votes_sql.write_at_once(sqlite_store) as connection:
            if through_sqlalchemy:
                connection.exec_driver_sql("SELECT 1").all()
            set_vote_stamped(connection, carol, "2501.00002", True, now)
            raise RuntimeError("rolled back")
    with votes_sql.write_at_once(sqlite_store) as connection:
        assert not connection.in_transaction()
        assert upvotes_of(connection, "2501.00002") == (0, 2)
    assert vote_state(sqlite_store, carol, "2501.00002") == VoteState("2501.00002", False, 2)


def test_a_write_at_once_is_sqlite_only(store: Store) -> None:
    if store.is_sqlite:
        pytest.skip("a test of PostgreSQL")
    with pytest.raises(WriterBusy):
        set_upvote(store, 1, "2501.00002", True, at_once=True)


def test_a_checkpoint_copies_back_what_writes_at_once_leave(sqlite_store: Store) -> None:
    _papers(sqlite_store)
    members = add_members(sqlite_store, 3)
    for member in members:
        set_upvote(sqlite_store, member, "2501.00002", True, at_once=True)
    checkpoint(sqlite_store)
    with sqlite_store.write_engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        assert raw is not None
        busy, logged, copied = raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert busy == 0 and logged == copied  # nothing was left to copy
    assert vote_state(sqlite_store, None, "2501.00002") == VoteState("2501.00002", False, 3)


def test_after_a_checkpoint_of_a_long_wal_the_next_write_starts_it_again(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once the WAL is long, the checkpoint has it all copied and the next vote writes it
    from its start: it does not grow by every vote while votes keep coming (a passive
    checkpoint stops at a reader's snapshot, and writes coming meanwhile leave it never all
    copied). Here the restart may wait for the reader (the site's does not: the restart
    holds the write lock; it gives up and the next checkpoint tries again)."""
    monkeypatch.setattr(votes_sql, "WAL_RESTART_FRAMES", 20)  # a few votes here
    monkeypatch.setattr(votes_sql, "CHECKPOINT_WAIT_MS", 1_000)
    _papers(sqlite_store)
    members = add_members(sqlite_store, 12)
    for member in members[:10]:
        set_upvote(sqlite_store, member, "2501.00002", True, at_once=True)
    reader = sqlite_store.read_engine.connect()
    reader.exec_driver_sql("SELECT count(*) FROM paper_votes").scalar()  # begins its snapshot
    set_upvote(sqlite_store, members[10], "2501.00002", True, at_once=True)
    leaves = threading.Timer(0.03, reader.close)  # ends its read transaction
    leaves.start()
    checkpoint(sqlite_store)
    leaves.join()
    set_upvote(sqlite_store, members[11], "2501.00002", True, at_once=True)
    with sqlite_store.write_engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        assert raw is not None
        _busy, logged, _copied = raw.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert 0 < logged < 20  # the last vote's pages alone, not the twelve votes'
    assert vote_state(sqlite_store, None, "2501.00002") == VoteState("2501.00002", False, 12)


def test_writes_at_once_keep_their_connection_and_roll_back_whole(sqlite_store: Store) -> None:
    """A thread's writes at once reuse one open connection (no pool round trip a vote); one
    that fails rolls back all it did and leaves the connection ready for the next."""
    _papers(sqlite_store)
    alice, bob = add_members(sqlite_store, 2)
    seen: list[object] = []

    def note(connection: Connection) -> None:
        seen.append(connection.connection.driver_connection)

    set_upvote(sqlite_store, alice, "2501.00002", True, first=note, at_once=True)

    def refuse(connection: Connection) -> None:
        note(connection)
        set_vote(connection, bob, "2501.00001", True, T0)  # written, then rolled back
        raise RuntimeError("refused")

    with pytest.raises(RuntimeError):
        set_upvote(sqlite_store, bob, "2501.00002", True, first=refuse, at_once=True)
    with pytest.raises(UnknownPaper):
        set_upvote(sqlite_store, bob, "2509.99999", True, first=note, at_once=True)
    set_upvote(sqlite_store, bob, "2501.00002", True, first=note, at_once=True)
    assert len(seen) == 4 and all(driver is seen[0] for driver in seen)
    assert vote_state(sqlite_store, bob, "2501.00001") == VoteState("2501.00001", False, 3)
    assert vote_state(sqlite_store, bob, "2501.00002") == VoteState("2501.00002", True, 2)
    with sqlite_store.write():  # the lock is free: nothing was left open
        pass


def test_taking_a_submission_off_moves_the_clock_cached_lists_watch(store: Store) -> None:
    """A listed paper whose submission a moderator removes goes back to its listing day
    without any vote or new paper: the votes' clock moves, so cached lists are dropped
    (a list no vote changed is otherwise kept on past its lifetime, web/cache.py)."""
    _papers(store)
    (alice,) = add_members(store, 1)
    with store.write() as connection:
        add_submission(connection, "2501.00002", alice, None, T0)
        before = vote_stamp(connection)
        assert remove_submission(connection, "2501.00002")
        assert vote_stamp(connection) != before
        assert forget_submitter(connection, alice) == 0  # nothing of theirs left: no move
        assert vote_stamp(connection) == before + 1
