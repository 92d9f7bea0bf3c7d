"""The job table with leases (``store/jobs.py``) on SQLite and PostgreSQL: one run per
(job, slot), claims that never overlap, leases that expire and are taken over."""

from __future__ import annotations

from datetime import datetime, timedelta

from dailypapers.store import Store
from dailypapers.store.jobs import (
    add_run,
    claim_run,
    finish_run,
    last_runs,
    next_due,
    release_run,
    renew_lease,
    retry_run,
    runs_of,
    schedule_run,
)

T0 = datetime(2026, 11, 30, 12, 0, 0)
LEASE = timedelta(seconds=30)


def claim(store: Store, owner: str, at: datetime, max_attempts: int = 5) -> int | None:
    with store.write() as connection:
        run = claim_run(
            connection, owner, ["a", "b"], now=at, lease=LEASE, max_attempts=max_attempts
        )
    return None if run is None else run.id


def take(store: Store, owner: str, at: datetime) -> int:
    run_id = claim(store, owner, at)
    assert run_id is not None
    return run_id


def test_one_run_per_job_and_slot(store: Store) -> None:
    with store.write() as connection:
        assert add_run(connection, "a", T0)
        assert not add_run(connection, "a", T0)  # a second scheduler, same slot
        assert add_run(connection, "b", T0)
    with store.write() as connection:
        assert not add_run(connection, "a", T0)
    with store.read() as connection:
        assert len(runs_of(connection, "a")) == 1


def test_no_new_slot_while_a_run_of_the_job_is_unfinished(store: Store) -> None:
    with store.write() as connection:
        assert schedule_run(connection, "a", T0)
        assert not schedule_run(connection, "a", T0 + timedelta(minutes=1))
    run_id = take(store, "w1", T0)
    with store.write() as connection:
        assert not schedule_run(connection, "a", T0 + timedelta(minutes=2))  # still running
        assert finish_run(connection, run_id, "w1", status="ok", now=T0, counts={"new": 1})
        assert schedule_run(connection, "a", T0 + timedelta(minutes=3))


def test_claims_never_overlap_and_wait_for_their_time(store: Store) -> None:
    with store.write() as connection:
        add_run(connection, "a", T0)
        add_run(connection, "b", T0 + timedelta(seconds=1))
        add_run(connection, "c", T0)  # a job this worker does not run
        add_run(connection, "a", T0 + timedelta(hours=1))  # not due yet
    first, second = (
        claim(store, "w1", T0 + timedelta(seconds=5)),
        claim(store, "w2", T0 + timedelta(seconds=5)),
    )
    assert first is not None and second is not None and first != second
    assert claim(store, "w3", T0 + timedelta(seconds=5)) is None


def test_an_expired_lease_is_taken_over_and_the_old_owner_cannot_record(store: Store) -> None:
    with store.write() as connection:
        add_run(connection, "a", T0)
    run_id = take(store, "w1", T0)
    assert claim(store, "w2", T0 + LEASE / 2) is None  # the lease holds
    with store.write() as connection:
        assert renew_lease(connection, run_id, "w1", T0 + LEASE * 2)
    assert claim(store, "w2", T0 + LEASE * 3 / 2) is None  # renewed
    assert claim(store, "w2", T0 + LEASE * 3) == run_id  # expired: taken over
    with store.write() as connection:
        assert not renew_lease(connection, run_id, "w1", T0 + LEASE * 4)
        assert not finish_run(connection, run_id, "w1", status="ok", now=T0)
        assert finish_run(connection, run_id, "w2", status="ok", now=T0, counts={"x": 2})
    with store.read() as connection:
        (run,) = runs_of(connection, "a")
    assert run.status == "ok" and run.attempts == 2 and run.counts == {"x": 2}
    assert run.message == "taken over from w1, whose lease expired"


def test_a_run_whose_workers_keep_dying_ends_failed(store: Store) -> None:
    with store.write() as connection:
        add_run(connection, "a", T0)
    at = T0
    for _ in range(2):
        assert claim(store, "w", at, max_attempts=2) is not None
        at += LEASE * 2
    assert claim(store, "w", at, max_attempts=2) is None
    with store.read() as connection:
        (run,) = runs_of(connection, "a")
    assert run.status == "failed" and "stopped 2 times" in (run.message or "")


def test_retry_release_and_what_stats_reads(store: Store) -> None:
    with store.write() as connection:
        add_run(connection, "a", T0)
        add_run(connection, "b", T0)
    a, b = take(store, "w", T0), take(store, "w", T0)
    later = T0 + timedelta(minutes=5)
    with store.write() as connection:
        assert retry_run(connection, a, "w", not_before=later, message="attempt 1 failed")
        assert release_run(connection, b, "w")
    with store.read() as connection:
        assert next_due(connection) == {"a": later, "b": T0}
        runs = last_runs(connection)
    assert runs["a"].status == "due" and runs["a"].message == "attempt 1 failed"
    assert runs["b"].attempts == 0  # a hand-back does not count as an attempt
    assert claim(store, "w", T0 + timedelta(minutes=1)) == b  # a waits for its back-off


def test_an_idle_run_replaces_the_previous_idle_one(store: Store) -> None:
    for minute in range(3):
        with store.write() as connection:
            add_run(connection, "a", T0 + timedelta(minutes=minute))
        run_id = take(store, "w", T0 + timedelta(minutes=minute))
        with store.write() as connection:
            finish_run(connection, run_id, "w", status="idle", now=T0)
    with store.read() as connection:
        runs = runs_of(connection, "a")
    assert [run.slot for run in runs] == [T0 + timedelta(minutes=2)]
