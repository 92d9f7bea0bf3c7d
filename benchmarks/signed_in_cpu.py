"""CPU per request of the signed-in benchmark's three phases, in process: a before/after of
the member path and of votes that a shared machine moves less than ``benchmarks.signed_in``.

Run (with the source tree to measure first on the path, its data dir a copy: votes and
sessions are written)::

    PYTHONPATH=src:. .venv/bin/python -m benchmarks.signed_in_cpu --work DIR [--rounds 2]
        [--requests 3000] [--users 1000] [--vote-every 10] [--together 1]

The site is a ``benchmarks.signed_in`` one (``--work``: its papers, index and members). The
app is made with ``create_app`` and called as ASGI on one event loop, one request at a time
(``--together N``: N at a time, as a busy server reads several requests in one pass of its
loop; no HTTP, no socket): the same page targets as ``benchmarks.signed_in``, as anonymous GETs,
as GETs of the members in turn, and with every ``--vote-every``-th request a vote (the
upvote form as ``upvote.js`` sends it). After a warm-up pass of each phase, each round times
``--requests`` requests of each phase with ``time.process_time`` (every thread of the
process: the background reads and renderings count) and prints ms per request. The run is
too short for cached pages to expire: what it measures is a hit, a merge, a vote and the
corrections votes make. Prints only.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from benchmarks import web, web_cpu
from benchmarks.signed_in import SECRET, SERVER_ENV, _pages, members
from dailypapers.settings import Settings
from dailypapers.store import open_store
from dailypapers.web.app import create_app

Call = Callable[[str, str, list[tuple[bytes, bytes]], bytes], Awaitable[int]]


def _caller(app: Any) -> Call:
    async def call(
        method: str, target: str, headers: list[tuple[bytes, bytes]], body: bytes
    ) -> int:
        return await web_cpu.request(app, target, method=method, headers=headers, body=body)

    return call


async def _phase(call: Call, pages: list[str], ids: list[str], users: list[Any], count: int,
                 vote_every: int, seed: int, together: int = 1) -> int:  # fmt: skip
    """``count`` requests (no users: anonymous), ``together`` at a time; how many did not
    answer 200."""
    batch: list[Awaitable[int]] = []
    failed = 0
    for request in _requests(call, pages, ids, users, count, vote_every, seed):
        batch.append(request)
        if len(batch) >= together:
            failed += sum(status != 200 for status in await asyncio.gather(*batch))
            batch = []
    if batch:
        failed += sum(status != 200 for status in await asyncio.gather(*batch))
    return failed


def _requests(call: Call, pages: list[str], ids: list[str], users: list[Any], count: int,
              vote_every: int, seed: int) -> Iterator[Awaitable[int]]:  # fmt: skip
    """The phase's requests, each a call not yet awaited."""
    votes, targets = random.Random(seed), itertools.cycle(pages)
    upvoted: set[tuple[int, str]] = set()
    for issued in range(1, count + 1):
        headers = [(b"host", b"127.0.0.1:8000")]
        if not users:
            yield call("GET", next(targets), headers, b"")
            continue
        voting = bool(vote_every) and issued % vote_every == 0
        # Votes take the members in turn among themselves, as in ``benchmarks.signed_in``
        # (by the request's number alone every vote went to the same hundred members).
        user = (issued // vote_every if voting else issued) % len(users)
        headers.append((b"cookie", users[user].cookie.encode()))
        if voting:
            paper = votes.choice(ids)
            wanted = (user, paper) not in upvoted
            upvoted ^= {(user, paper)}
            body = urlencode({"csrf_token": users[user].csrf, "upvoted": "1" if wanted else "0",
                              "next": f"/papers/{paper}"}).encode()  # fmt: skip
            headers += [(b"accept", b"application/json"),
                        (b"content-type", b"application/x-www-form-urlencoded"),
                        (b"content-length", str(len(body)).encode())]  # fmt: skip
            yield call("POST", f"/papers/{paper}/upvote", headers, body)
        else:
            yield call("GET", next(targets), headers, b"")


async def _run(options: argparse.Namespace) -> None:
    work = options.work.resolve()
    settings = Settings(mode="development", data_dir=work, secret_key=SECRET,
                        limit_vote=SERVER_ENV["DAILYPAPERS_LIMIT_VOTE"])  # fmt: skip
    store = open_store(settings.resolved_database_url)
    users = members(store, settings, options.users)
    targets, _ = web.targets_of(store)
    pages = _pages(targets, options.per_kind)
    app = create_app(store, settings)
    call = _caller(app)
    phases = {"anonymous": ([], 0), "reading": (users, 0), "voting": (users, options.vote_every)}
    async with app.router.lifespan_context(app):
        for people, every in phases.values():  # warm-up: every page rendered, votes made
            await _phase(call, pages, targets.ids, people, len(pages) * 2, every, 0)
        for round_ in range(1, options.rounds + 1):
            for name, (people, every) in phases.items():
                gc.collect()
                started = time.process_time()
                failed = await _phase(call, pages, targets.ids, people, options.requests, every,
                                      round_, options.together)  # fmt: skip
                await asyncio.sleep(0.2)  # what the phase left to threads finishes in it
                spent = (time.process_time() - started) * 1000 / options.requests
                print(f"round {round_} {name:9s} {spent:.3f} ms per request, "
                      f"{failed} not 200", flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--vote-every", type=int, default=10)
    parser.add_argument("--per-kind", type=int, default=200, help="days, papers and queries")
    parser.add_argument("--together", type=int, default=1,
                        help="requests sent at a time (as a busy server reads several in one "
                             "pass of its loop)")  # fmt: skip
    asyncio.run(_run(parser.parse_args()))


if __name__ == "__main__":
    main()
