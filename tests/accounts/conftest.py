"""A throwaway Redis server for the rate-limit tests (tests/support/redis.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from tests.support.redis import start_redis


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    with start_redis() as url:
        yield url


@pytest.fixture
def redis_url(redis_server: str) -> str:
    """The session's Redis, emptied for this test."""
    with redis.Redis.from_url(redis_server) as client:
        client.flushdb()
    return redis_server
