"""One worker process of the cross-process rate-limit test: opens the limiter, says it is
ready (creates READY_FILE), waits until GO_FILE exists, then makes CHECKS checks of one key
against LIMIT (pausing a moment between them, as clients do, so SQLite's waiting writer gets
its turn) and prints how many were allowed, and when its first check began and its last
ended.

    python -m tests.accounts.hammer DATABASE_URL REDIS_URL|- READY GO CHECKS LIMIT [leased]

With ``leased`` each check is a vote's: ``check_leased`` in a write transaction of the store,
settled once it committed (the process's leases of hits).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from dailypapers.accounts.limits import RateLimited, open_limiter
from dailypapers.settings import Settings
from dailypapers.store import open_store

PER_SECONDS = 1_000_000  # far longer than the test: no window edge inside it


def main(
    database_url: str, redis_url: str, ready: Path, go: Path, checks: int, limit: int,
    leased: bool = False,
) -> tuple[int, float, float]:  # fmt: skip
    settings = Settings(
        mode="development",
        redis_url=None if redis_url == "-" else redis_url,
        limit_vote=f"ip:{limit}/{PER_SECONDS}s",
    )
    store = open_store(database_url, migrate=False)
    limiter = open_limiter(store, settings)
    allowed = 0
    ready.touch()
    deadline = time.monotonic() + 120
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.001)
    began = time.time()
    for _ in range(checks):
        time.sleep(0.001)
        try:
            if leased:
                with store.write() as connection:
                    settle = limiter.check_leased("vote", ip="203.0.113.9", connection=connection)
                settle(True)
            else:
                limiter.check("hammer:ip", "203.0.113.9", limit=limit, per_seconds=PER_SECONDS)
            allowed += 1
        except RateLimited:
            pass
    ended = time.time()
    store.dispose()
    return allowed, began, ended


if __name__ == "__main__":
    url, redis_url, ready, go, count, limit = sys.argv[1:7]
    leased = sys.argv[7:] == ["leased"]
    print(*main(url, redis_url, Path(ready), Path(go), int(count), int(limit), leased))
