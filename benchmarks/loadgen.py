"""A closed-loop HTTP/1.1 load generator for 127.0.0.1, run as its own process by benchmarks.web.

    .venv/bin/python -m benchmarks.loadgen PATHS_FILE --port PORT [--connections 32]
        [--warmup 3] [--warmup-pass] [--warmup-max 120] [--duration 20]
        [--max-requests 100000] [--timeout 30] [--watch-pids PID,PID]

``PATHS_FILE`` holds one request target a line (``/papers/2501.00001``, already URL-encoded).
Each of ``--connections`` keep-alive connections sends a GET, reads the whole answer, and sends
the next one (closed loop); the targets are taken in turn from the file, cycling. Requests
that start in the warm-up are not recorded: its first ``--warmup`` seconds and, with
``--warmup-pass``, until every target has been requested once (so that a server's cache has
seen them all), but no longer than ``--warmup-max`` seconds. No request starts after
``--duration`` more seconds or once ``--max-requests`` are recorded; one that takes longer than
``--timeout`` seconds counts as failed and its connection is opened again. It prints one JSON
object (:class:`Result`): requests, statuses, failures, the answers' ``X-Cache`` header values
(``hit``, ``miss``, or ``absent``), latency percentiles, and the CPU time of this process, of
the ``--watch-pids`` processes (the server) and of the whole machine over the recorded window.

The client is a few lines of asyncio streams rather than httpx: on this 2-core machine
``httpx.AsyncClient`` with 32 connections made 341 requests/s of ``/healthz`` using a whole
core, so it measured itself, while this client made 2,418 requests/s using 0.18 of a core.
It understands ``Content-Length``, chunked bodies and ``Connection: close``, which is all a
uvicorn server sends.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from benchmarks.common import percentile

HOST = "127.0.0.1"  # the only address this generator talks to
HEAD_LIMIT = 64 * 1024  # longest status line + headers accepted
RETRY_PAUSE = 0.01  # seconds a connection waits after a failure before trying again
# What a failed exchange raises (TimeoutError is an OSError; ValueError: a garbled answer).
FAILURES = (OSError, EOFError, asyncio.LimitOverrunError, ValueError)
Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]


@dataclass
class Result:
    """What one run measured; times in seconds unless the name says ms."""

    requests: int  # recorded requests that got an answer, whatever its status
    statuses: dict[str, int]  # answers per HTTP status
    failures: dict[str, int]  # requests without an answer, per kind (timeout, connection)
    cache: dict[str, int]  # answers per X-Cache header value ("hit", "miss"; "absent": none)
    window: float  # from the end of the warm-up to the last recorded answer
    p50_ms: float
    p99_ms: float
    max_ms: float
    cpu: float  # this generator's CPU time (user + system) over the window
    server_cpu: float  # the watched processes' CPU time over the window
    machine_cpu: float  # the CPU time of every process on the machine over the window
    warmup_requests: int

    @property
    def errors(self) -> int:
        """Answers that are not 2xx, and requests without an answer."""
        bad = sum(n for status, n in self.statuses.items() if not status.startswith("2"))
        return bad + sum(self.failures.values())

    @property
    def per_second(self) -> float:
        return self.requests / self.window if self.window > 0 else 0.0


@dataclass
class _Run:
    """The state all connections share."""

    port: int
    targets: itertools.cycle[str]
    warmup_until: float  # the warm-up lasts at least until then
    warmup_targets: int  # and until this many requests were started
    warmup_max: float  # but not beyond this
    duration: float
    max_requests: int
    timeout: float
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    cache: Counter[bytes] = field(default_factory=Counter)  # X-Cache values, b"" if absent
    started: int = 0  # recorded requests started
    warmup_requests: int = 0
    last_answer: float = 0.0
    issued: int = 0  # requests started, warm-up included
    recording_from: float = float("inf")  # set when the warm-up ends
    stop_at: float = float("inf")
    recording: asyncio.Event = field(default_factory=asyncio.Event)

    def next_target(self, now: float) -> str | None:
        """The next target to request, or None when the run is over."""
        if not self.recording.is_set() and (
            (now >= self.warmup_until and self.issued >= self.warmup_targets)
            or now >= self.warmup_max
        ):
            self.recording_from, self.stop_at = now, now + self.duration
            self.recording.set()
        if now >= self.stop_at or self.started >= self.max_requests:
            return None
        if now >= self.recording_from:
            self.started += 1
        self.issued += 1
        return next(self.targets)


async def _read_body(reader: asyncio.StreamReader, headers: dict[bytes, bytes]) -> None:
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)  # the chunk and its CRLF
            if size == 0:
                return
    await reader.readexactly(int(headers.get(b"content-length", b"0")))


async def read_head(reader: asyncio.StreamReader) -> tuple[int, dict[bytes, bytes]]:
    """An answer's status and headers (names lowercased), read up to its body."""
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *lines = head[:-4].split(b"\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split(b" ", 2)[1]), headers


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    keep_alive: bool
    cache: bytes  # the X-Cache header's value, lowercased; b"" without one


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, port: int, target: str
) -> Answer:
    """Send one GET for ``target`` and read the whole answer."""
    writer.write(f"GET {target} HTTP/1.1\r\nHost: {HOST}:{port}\r\nAccept: */*\r\n\r\n".encode())
    status, headers = await read_head(reader)
    await _read_body(reader, headers)
    return Answer(
        status=status,
        keep_alive=headers.get(b"connection") != b"close",
        cache=headers.get(b"x-cache", b"").lower(),
    )


async def _request(run: _Run, stream: Stream | None, target: str) -> tuple[Stream, Answer]:
    """One request on ``stream`` (a new connection if None): the stream and the answer."""
    if stream is None:
        stream = await asyncio.open_connection(HOST, run.port, limit=HEAD_LIMIT)
    return stream, await exchange(*stream, run.port, target)


async def connection_loop(run: _Run) -> None:
    """One keep-alive connection sending requests back to back until the run is over."""
    stream: Stream | None = None
    while (target := run.next_target(time.perf_counter())) is not None:
        start = time.perf_counter()
        try:
            answer = await asyncio.wait_for(_request(run, stream, target), run.timeout)
        except FAILURES as error:
            if start >= run.recording_from:
                run.failures["timeout" if isinstance(error, TimeoutError) else "connection"] += 1
            _close(stream)
            stream = None
            await asyncio.sleep(RETRY_PAUSE)
            continue
        end = time.perf_counter()
        stream, got = answer
        if start >= run.recording_from:
            run.latencies.append(end - start)
            run.statuses[str(got.status)] += 1
            run.cache[got.cache] += 1
            run.last_answer = end
        else:
            run.warmup_requests += 1
        if not got.keep_alive:
            _close(stream)
            stream = None
    _close(stream)


def _close(stream: Stream | None) -> None:
    if stream is not None:
        stream[1].close()


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of ``pids`` (processes that are gone count 0)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU time spent by the whole machine since boot, all cores (not idle, not waiting)."""
    fields = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")  # up to steal; guest is in user


def cpu_now(pids: list[int]) -> tuple[float, float, float]:
    """CPU seconds so far of this process, of ``pids`` and of the whole machine."""
    return time.process_time(), cpu_seconds(pids), machine_busy_seconds()


async def _cpu_at(recording: asyncio.Event, pids: list[int]) -> tuple[float, float, float]:
    await recording.wait()
    return cpu_now(pids)


async def load(run: _Run, connections: int, pids: list[int]) -> Result:
    """Run the connections to the end; the result over the recorded window."""
    cpu_start = asyncio.create_task(_cpu_at(run.recording, pids))
    await asyncio.gather(*(connection_loop(run) for _ in range(connections)))
    own_end, server_end, machine_end = cpu_now(pids)
    if not run.recording.is_set():  # nothing was recorded (--max-requests 0)
        run.recording.set()
        run.recording_from = run.last_answer = time.perf_counter()
    own_start, server_start, machine_start = await cpu_start
    latencies = run.latencies or [0.0]
    return Result(
        requests=len(run.latencies),
        statuses=dict(run.statuses),
        failures=dict(run.failures),
        cache={(value.decode("latin-1") or "absent"): n for value, n in run.cache.items()},
        window=max(0.0, run.last_answer - run.recording_from),
        p50_ms=percentile(latencies, 0.5) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
        max_ms=max(latencies) * 1000,
        cpu=own_end - own_start,
        server_cpu=server_end - server_start,
        machine_cpu=machine_end - machine_start,
        warmup_requests=run.warmup_requests,
    )


def _pids(text: str) -> list[int]:
    return [int(pid) for pid in text.split(",") if pid]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths_file", type=Path)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--warmup-pass", action="store_true")
    parser.add_argument("--warmup-max", type=float, default=120.0)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--max-requests", type=int, default=100_000)
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--watch-pids", type=_pids, default=[])
    args = parser.parse_args()
    targets = args.paths_file.read_text().splitlines()
    if not targets:
        raise SystemExit(f"no request targets in {args.paths_file}")
    now = time.perf_counter()
    run = _Run(
        port=args.port,
        targets=itertools.cycle(targets),
        warmup_until=now + args.warmup,
        warmup_targets=len(targets) if args.warmup_pass else 0,
        warmup_max=now + max(args.warmup, args.warmup_max),
        duration=args.duration,
        max_requests=args.max_requests,
        timeout=args.timeout,
    )
    result = asyncio.run(load(run, args.connections, args.watch_pids))
    json.dump(asdict(result), sys.stdout)
    print()


if __name__ == "__main__":
    main()
