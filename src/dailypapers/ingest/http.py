"""Polite HTTP GETs for the harvesters: bounded retries, back-off, and HTTP 503 Retry-After.

arXiv asks harvesters to honour ``Retry-After`` on 503 and to pause between requests. A source
that still fails after the retries raises :class:`~dailypapers.ingest.run.SourceUnusable`
with one line that says what and where.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from dailypapers import __version__
from dailypapers.ingest.run import SourceUnusable
from dailypapers.settings import Settings

USER_AGENT = f"dailypapers/{__version__} (+https://github.com/dailypapers/dailypapers)"
RETRY_STATUSES = {429, 500, 502, 503, 504}


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def backoff_seconds(attempt: int, base: float = 1.0) -> float:
    """Exponential back-off with jitter: about base * 2**attempt seconds."""
    return float(base * 2**attempt * (0.5 + random.random() / 2))


@dataclass
class Fetcher:
    """GETs with retries; ``sleep`` is injectable so tests can record the waits."""

    timeout: float = 30.0
    retries: int = 5
    max_wait: float = 120.0
    backoff_base: float = 1.0
    sleep: Callable[[float], None] = time.sleep
    client: httpx.Client = field(default_factory=lambda: httpx.Client(
        headers={"User-Agent": USER_AGENT}, follow_redirects=True
    ))  # fmt: skip

    def get(
        self, url: str, params: Mapping[str, str] | None = None, *, ok: frozenset[int] = frozenset()
    ) -> httpx.Response:
        """The response to a GET: 2xx, or any status in ``ok`` that the caller handles itself."""
        last_problem = ""
        for attempt in range(self.retries + 1):
            try:
                response = self.client.get(url, params=params, timeout=self.timeout)
            except httpx.HTTPError as error:
                last_problem = f"{type(error).__name__}: {error}"
                wait = backoff_seconds(attempt, self.backoff_base)
            else:
                if response.is_success or response.status_code in ok:
                    return response
                last_problem = f"HTTP {response.status_code}"
                if response.status_code not in RETRY_STATUSES:
                    break
                hinted = retry_after_seconds(response.headers.get("Retry-After"))
                wait = hinted if hinted is not None else backoff_seconds(attempt, self.backoff_base)
            if attempt < self.retries:
                self.sleep(min(wait, self.max_wait))
        raise SourceUnusable(f"{url}: {last_problem} after {self.retries + 1} attempts")

    def close(self) -> None:
        self.client.close()


def make_fetcher(settings: Settings, sleep: Callable[[float], None] | None = None) -> Fetcher:
    """A fetcher with the configured timeout and retries; tests pass a recording ``sleep``."""
    fetcher = Fetcher(
        timeout=settings.http_timeout,
        retries=settings.http_retries,
        max_wait=settings.http_max_wait,
    )
    if sleep is not None:
        fetcher.sleep = sleep
    return fetcher
