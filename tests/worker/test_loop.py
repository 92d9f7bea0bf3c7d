"""The worker loop in this process, on SQLite and PostgreSQL: schedules make one run per
slot, a failing job is retried with back-off and never stops the others, outcomes recorded."""

from __future__ import annotations

import time as time_module
from datetime import datetime, time, timedelta

import pytest

from dailypapers.settings import Settings, get_settings
from dailypapers.store import Store
from dailypapers.store.batches import utc_now
from dailypapers.store.jobs import add_run, runs_of
from dailypapers.worker.context import JobContext
from dailypapers.worker.loop import Worker
from dailypapers.worker.registry import JOBS, JobKind
from dailypapers.worker.schedule import Every, Weekly

PAST = datetime(2026, 1, 5, 12, 0)


def settings(monkeypatch: pytest.MonkeyPatch, **values: str) -> Settings:
    for name, value in values.items():
        monkeypatch.setenv(f"DAILYPAPERS_{name.upper()}", value)
    get_settings.cache_clear()
    return get_settings()


def failing(context: JobContext) -> dict[str, int]:
    raise RuntimeError("the source said no\nsecond line")


def counting(context: JobContext) -> dict[str, int]:
    return {"items": 3}


def kinds() -> list[JobKind]:
    return [
        JobKind("fails", "always fails", lambda _s: None, failing),
        JobKind("works", "counts three", lambda _s: None, counting),
    ]


def test_a_failing_job_is_retried_with_back_off_and_the_others_run(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = settings(monkeypatch, worker_retry_seconds="3600", worker_max_attempts="2")
    with store.write() as connection:
        add_run(connection, "fails", PAST)
        add_run(connection, "works", PAST + timedelta(seconds=1))
    worker = Worker(store, config, kinds(), owner="w")
    assert worker.run_once() and worker.run_once()  # the failure, then the other job
    assert not worker.run_once()  # the retry waits an hour
    with store.read() as connection:
        (failed,) = runs_of(connection, "fails")
        (worked,) = runs_of(connection, "works")
    assert worked.status == "ok" and worked.counts == {"items": 3}
    assert failed.status == "due" and failed.attempts == 1
    assert failed.message is not None
    assert failed.message.startswith("attempt 1 failed: RuntimeError: the source said no; retry")
    assert failed.not_before > utc_now() + timedelta(minutes=59)


def test_the_last_attempt_records_the_failure(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = settings(monkeypatch, worker_retry_seconds="0.01", worker_max_attempts="3")
    with store.write() as connection:
        add_run(connection, "fails", PAST)
    worker = Worker(store, config, kinds(), owner="w")
    for _ in range(500):  # each retry waits 0.01 s, then 0.02 s
        worker.run_once()
        with store.read() as connection:
            (run,) = runs_of(connection, "fails")
        if run.status == "failed":
            break
        time_module.sleep(0.005)
    assert run.status == "failed" and run.attempts == 3
    assert run.message == "attempt 3 failed: RuntimeError: the source said no"


def test_schedules_make_one_run_per_slot(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    config = settings(monkeypatch, worker_embed_every="60")
    every_minute = JobKind("tick", "", lambda s: Every(s.worker_embed_every), counting)
    workers = [Worker(store, config, [every_minute], owner=f"w{i}") for i in range(2)]
    at = datetime(2026, 1, 5, 12, 0, 59)
    for worker in workers:
        worker.schedule(at)  # two schedulers, the same slot
    with store.read() as connection:
        (run,) = runs_of(connection, "tick")
    assert run.slot == datetime(2026, 1, 5, 12, 0)


def test_the_registry_schedules_harvest_after_announcements_and_embedding_often(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = settings(monkeypatch)
    by_name = {kind.name: kind.schedule(config) for kind in JOBS}
    assert by_name["harvest"] == Weekly(("sun", "mon", "tue", "wed", "thu"), time(20, 30),
                                        "America/New_York")  # fmt: skip
    assert by_name["embed"] == Every(120.0)


def test_weekly_slots_follow_the_time_zone_and_the_days() -> None:
    weekly = Weekly.parse(("sun", "mon", "tue", "wed", "thu"), "20:30", "America/New_York")
    # Friday 2026-01-09 18:00 UTC: the latest slot is Thursday 20:30 EST = Friday 01:30 UTC.
    friday = datetime(2026, 1, 9, 18, 0)
    assert weekly.latest(friday) == datetime(2026, 1, 9, 1, 30)
    assert weekly.following(friday) == datetime(2026, 1, 12, 1, 30)  # Sunday evening
    # Summer time: 20:30 EDT is 00:30 UTC.
    assert weekly.latest(datetime(2026, 7, 7, 12, 0)) == datetime(2026, 7, 7, 0, 30)
    assert weekly.latest(datetime(2026, 1, 12, 1, 30)) == datetime(2026, 1, 12, 1, 30)


def test_every_slots_are_on_one_grid() -> None:
    every = Every(120)
    assert every.latest(datetime(2026, 1, 5, 12, 3, 59)) == datetime(2026, 1, 5, 12, 2)
    assert every.following(datetime(2026, 1, 5, 12, 3, 59)) == datetime(2026, 1, 5, 12, 4)
