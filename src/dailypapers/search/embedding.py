"""The query embedding's own thread: a search hands it the query and takes the vector back.

``QueryThread().start(embed, text)`` queues ``embed(text)`` for one worker thread (started
with the first query) and returns a :class:`Pending` at once; ``Pending.result(timeout)``
waits for the vector, raises ``TimeoutError`` after ``timeout`` seconds (the embedding then
finishes in the background and the next query waits behind it), or raises what ``embed``
raised. One thread, one query at a time, in the order they came. The engine
(``search/engine.py``) starts the embedding, runs the keyword search meanwhile (ONNX Runtime
releases the GIL), then takes the vector.

Why not ``concurrent.futures.ThreadPoolExecutor`` (used before): its ``submit`` and
``Future.result`` run some twenty Python-level lock, condition and semaphore calls between
the two threads (the future's ``Condition``, the executor's idle semaphore), about 60 µs of
CPU a query handed over; here a ``SimpleQueue`` and one lock a query, both in C, about 25
(BENCHMARKS.md "Dense half and engine, session 19").

The worker holds only the queue, never the ``QueryThread``: once that is closed or
collected, a ``None`` in the queue ends the worker after the queries before it.
"""

from __future__ import annotations

import queue
import threading
import weakref
from collections.abc import Callable
from typing import Generic, TypeVar

Value = TypeVar("Value")


class Pending(Generic[Value]):
    """One query handed to the thread: its result once the worker has made it."""

    __slots__ = ("_embed", "_text", "_done", "_value", "_error")

    def __init__(self, embed: Callable[[str], Value], text: str) -> None:
        self._embed = embed
        self._text = text
        self._value: Value | None = None
        self._error: BaseException | None = None
        # Held until the worker is done: ``result`` waits by acquiring it.
        self._done = threading.Lock()
        self._done.acquire()

    def result(self, timeout: float | None = None) -> Value:
        """The vector; ``TimeoutError`` if it takes over ``timeout`` seconds (None: no
        limit); what the embedding raised, if it failed."""
        if not self._done.acquire(timeout=-1 if timeout is None else timeout):
            raise TimeoutError(f"the query embedding took over {timeout} s")
        self._done.release()  # a later call returns at once
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]  # set whenever _error is not

    def done(self) -> bool:
        return not self._done.locked()

    def run(self) -> None:
        """Make the result (in the worker thread)."""
        try:
            self._value = self._embed(self._text)
        except BaseException as error:  # noqa: BLE001 - handed to whoever waits, as a Future does
            self._error = error
        finally:
            self._done.release()


def _serve(jobs: queue.SimpleQueue[Pending[object] | None]) -> None:
    """The worker: run each query queued until a ``None``."""
    while (job := jobs.get()) is not None:
        job.run()
        del job  # not kept alive while waiting for the next one


class QueryThread:
    """One worker thread that embeds the queries started, in order."""

    def __init__(self, name: str = "query-embedding") -> None:
        self._name = name
        self._jobs: queue.SimpleQueue[Pending[object] | None] = queue.SimpleQueue()
        self._worker: threading.Thread | None = None
        self._starting = threading.Lock()
        self._closed = False
        # A QueryThread dropped without close (an engine replaced) still ends its worker.
        self._finalizer = weakref.finalize(self, self._jobs.put, None)

    def start(self, embed: Callable[[str], Value], text: str) -> Pending[Value]:
        """``embed(text)`` queued for the worker; its pending result."""
        if self._worker is None:
            self._start_worker()
        if self._closed:
            raise RuntimeError("the query embedding thread is closed")
        job = Pending(embed, text)
        self._jobs.put(job)  # type: ignore[arg-type]  # the worker only calls run()
        return job

    def _start_worker(self) -> None:
        with self._starting:
            if self._worker is None and not self._closed:
                worker = threading.Thread(
                    target=_serve, args=(self._jobs,), name=self._name, daemon=True
                )
                worker.start()
                self._worker = worker

    def close(self) -> None:
        """End the worker once the queries already queued are done; later starts raise."""
        self._closed = True
        self._finalizer()

    def alive(self) -> bool:
        """Whether the worker thread is running (False before the first query)."""
        return self._worker is not None and self._worker.is_alive()
