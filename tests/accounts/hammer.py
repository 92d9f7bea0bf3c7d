"""One worker process of the cross-process rate-limit test: waits for a common start time,
then makes CHECKS checks of one key against LIMIT and prints how many were allowed.

    python -m tests.accounts.hammer DATABASE_URL REDIS_URL|- START_AT CHECKS LIMIT
"""

from __future__ import annotations

import sys
import time

from dailypapers.accounts.limits import RateLimited, open_limiter
from dailypapers.settings import Settings
from dailypapers.store import open_store

PER_SECONDS = 1_000_000  # far longer than the test: no window edge inside it


def main(database_url: str, redis_url: str, start_at: float, checks: int, limit: int) -> int:
    settings = Settings(mode="development", redis_url=None if redis_url == "-" else redis_url)
    store = open_store(database_url, migrate=False)
    limiter = open_limiter(store, settings)
    allowed = 0
    time.sleep(max(0.0, start_at - time.time()))
    for _ in range(checks):
        try:
            limiter.check("hammer:ip", "203.0.113.9", limit=limit, per_seconds=PER_SECONDS)
            allowed += 1
        except RateLimited:
            pass
    store.dispose()
    return allowed


if __name__ == "__main__":
    url, redis_url, start, count, limit = sys.argv[1:6]
    print(main(url, redis_url, float(start), int(count), int(limit)))
