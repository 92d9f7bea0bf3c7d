"""The query embedding's thread (search/embedding.py): results, errors, timeouts, order, end."""

from __future__ import annotations

import gc
import threading
import time

import pytest

from dailypapers.search.embedding import QueryThread


def test_a_query_gives_its_result_again_and_again() -> None:
    worker = QueryThread()
    pending = worker.start(str.upper, "coral")
    assert pending.result(5) == "CORAL"
    assert pending.result(0) == "CORAL" and pending.done()
    worker.close()


def test_the_embedders_error_is_raised_to_whoever_waits() -> None:
    def broken(text: str) -> str:
        raise RuntimeError(f"model file unreadable for {text}")

    worker = QueryThread()
    pending = worker.start(broken, "coral")
    for _ in range(2):
        with pytest.raises(RuntimeError, match="unreadable for coral"):
            pending.result(5)
    assert worker.start(str.upper, "next").result(5) == "NEXT"  # the worker carries on
    worker.close()


def test_a_slow_query_times_out_finishes_later_and_the_next_waits_behind_it() -> None:
    release = threading.Event()
    ran: list[str] = []

    def slow(text: str) -> str:
        release.wait(5)
        ran.append(text)
        return text

    worker = QueryThread()
    first = worker.start(slow, "first")
    with pytest.raises(TimeoutError):
        first.result(0.05)
    second = worker.start(slow, "second")
    assert not second.done()
    release.set()
    assert second.result(5) == "second" and first.result(0) == "first"
    assert ran == ["first", "second"]
    worker.close()


def test_queries_run_one_at_a_time_on_one_named_thread() -> None:
    seen: list[str] = []
    running = []

    def noted(text: str) -> str:
        running.append(text)
        assert len(running) == 1, "two queries at once"
        seen.append(threading.current_thread().name)
        time.sleep(0.001)
        running.pop()
        return text

    worker = QueryThread()
    pendings = [worker.start(noted, str(i)) for i in range(20)]
    assert [p.result(5) for p in pendings] == [str(i) for i in range(20)]
    assert set(seen) == {"query-embedding"}
    worker.close()


def test_no_thread_before_the_first_query_and_none_after_close() -> None:
    worker = QueryThread()
    assert not worker.alive()
    assert worker.start(str.upper, "a").result(5) == "A"
    assert worker.alive()
    thread = worker._worker
    worker.close()
    assert thread is not None
    thread.join(5)
    assert not thread.is_alive()
    with pytest.raises(RuntimeError, match="closed"):
        worker.start(str.upper, "b")


def test_a_thread_dropped_without_close_ends_its_worker() -> None:
    worker = QueryThread()
    worker.start(str.upper, "a").result(5)
    thread = worker._worker
    assert thread is not None
    del worker
    gc.collect()
    thread.join(5)
    assert not thread.is_alive()
