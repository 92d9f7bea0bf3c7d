"""Rate limits held in the store (SQLite and PostgreSQL) and in Redis, across processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dailypapers.accounts.limit_rules import budget, window_at
from dailypapers.accounts.limits import (
    RateLimited,
    RateLimiter,
    ip_key,
    lease_size,
    open_limiter,
)
from dailypapers.settings import Settings
from dailypapers.store import Store, open_store
from dailypapers.store.schema import rate_limits

REPO = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:  # a window edge for 60 s
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["sqlite", "postgresql", "redis"])
def backend(
    request: pytest.FixtureRequest, settings_env: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, str | None]]:
    """(database URL, Redis URL or None) for each place counters live: the store on SQLite,
    on PostgreSQL, and Redis (with a SQLite store beside it, unused for limits)."""
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres").fresh_database()
    else:
        url = f"sqlite:///{settings_env / 'test.sqlite3'}"
    redis_url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    yield url, redis_url


@pytest.fixture
def limiter_parts(backend: tuple[str, str | None]) -> Iterator[tuple[Store, Settings]]:
    store = open_store(backend[0])
    yield store, Settings(redis_url=backend[1])
    store.dispose()


def _limiter(parts: tuple[Store, Settings], clock: Clock, **settings: str) -> RateLimiter:
    store, base = parts
    limiter = open_limiter(store, base.model_copy(update=settings))
    limiter.clock = clock
    return limiter


def test_a_limit_allows_exactly_its_count_then_says_when(
    limiter_parts: tuple[Store, Settings],
) -> None:
    clock = Clock()
    limiter = _limiter(limiter_parts, clock)
    for _ in range(3):
        limiter.check("export:account", "ada", limit=3, per_seconds=60)
    with pytest.raises(RateLimited) as caught:
        limiter.check("export:account", "ada", limit=3, per_seconds=60)
    # Full at the window's start: in the next window the 3 slide out; one more fits once a
    # third has gone, 60 + 20 s from now.
    assert caught.value.retry_after == 80
    assert str(caught.value) == "Too many requests; try again in 80 seconds"
    limiter.check("export:account", "grace", limit=3, per_seconds=60)  # other keys are apart
    clock.now += 80
    limiter.check("export:account", "ada", limit=3, per_seconds=60)
    with pytest.raises(RateLimited):
        limiter.check("export:account", "ada", limit=3, per_seconds=60)


def test_refused_checks_do_not_count(limiter_parts: tuple[Store, Settings]) -> None:
    clock = Clock()
    limiter = _limiter(limiter_parts, clock)
    limiter.check("k", "x", limit=1, per_seconds=60)
    for _ in range(5):  # hammering while refused does not push the wait further out
        with pytest.raises(RateLimited) as caught:
            limiter.check("k", "x", limit=1, per_seconds=60)
        assert caught.value.retry_after == 120


def test_a_rule_counts_per_ip_and_per_account_all_or_none(
    limiter_parts: tuple[Store, Settings],
) -> None:
    clock = Clock()
    limiter = _limiter(limiter_parts, clock, limit_login="ip:3/1m,account:2/1m")
    limiter.check_rule("login", ip="192.0.2.1", account="Ada@Example.org")
    limiter.check_rule("login", ip="192.0.2.1", account="ada@example.org")
    with pytest.raises(RateLimited, match="Too many log-in attempts"):  # account: 2 of 2
        limiter.check_rule("login", ip="192.0.2.1", account="ADA@example.org")
    # That refusal counted nothing for the IP: it still has one attempt left.
    limiter.check_rule("login", ip="192.0.2.1", account="grace@example.org")
    with pytest.raises(RateLimited):  # IP: 3 of 3
        limiter.check_rule("login", ip="192.0.2.1", account="alan@example.org")
    limiter.check_rule("login", ip="192.0.2.2")  # only the IP is known: counted by IP
    off = _limiter(limiter_parts, clock, limit_vote="off")
    for _ in range(50):
        off.check_rule("vote", ip="192.0.2.1", account="ada")


def test_a_rules_changed_setting_applies_to_the_next_check(
    limiter_parts: tuple[Store, Settings],
) -> None:
    """A check's hits are made once per rule, address and account, and again when the
    rule's setting changes (``RateLimiter._hits``)."""
    limiter = _limiter(limiter_parts, Clock(), limit_submission="account:1/1m")
    limiter.check_rule("submission", ip="192.0.2.1", account="ada")
    with pytest.raises(RateLimited):
        limiter.check_rule("submission", ip="192.0.2.1", account="ada")
    limiter.settings = limiter.settings.model_copy(update={"limit_submission": "ip:1/1m"})
    limiter.check_rule("submission", ip="192.0.2.1", account="ada")  # the IP's first
    with pytest.raises(RateLimited):
        limiter.check_rule("submission", ip="192.0.2.1", account="grace")
    limiter.settings = limiter.settings.model_copy(update={"limit_submission": "off"})
    for _ in range(5):
        limiter.check_rule("submission", ip="192.0.2.1", account="ada")


@pytest.mark.parametrize("into", [0, 12, 13, 24, 29, 41, 59])
def test_the_previous_window_counts_by_the_share_still_inside(
    limiter_parts: tuple[Store, Settings], into: int
) -> None:
    """5 hits in a window of a 7 per minute limit, then ``into`` seconds into the next: as
    many more pass as ``limit_rules.budget`` says (its floor at exact shares too)."""
    clock = Clock()
    limiter = _limiter(limiter_parts, clock)
    for _ in range(5):
        limiter.check("k", "x", limit=7, per_seconds=60)
    clock.now += 60 + into
    allowed = 0
    with pytest.raises(RateLimited):
        for _ in range(8):
            limiter.check("k", "x", limit=7, per_seconds=60)
            allowed += 1
    assert allowed == budget(7, 5, window_at(clock.now, 60))
    assert allowed == {0: 2, 12: 3, 13: 3, 24: 4, 29: 4, 41: 5, 59: 6}[into]


def test_ipv6_clients_count_by_their_64_network() -> None:
    assert ip_key("2001:db8:1:2:aaaa::1") == ip_key("2001:db8:1:2:bbbb::2") == "2001:db8:1:2::/64"
    assert ip_key("2001:db8:1:3::1") != ip_key("2001:db8:1:2::1")
    assert ip_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert ip_key(" 192.0.2.7 ") == "192.0.2.7"


def test_counters_keep_no_address_and_expired_ones_are_deleted(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    limiter = _limiter((store, Settings()), clock)
    limiter.check_rule("signup", ip="192.0.2.1", account="ada@example.org")
    with store.read() as connection:
        buckets = connection.execute(select(rate_limits.c.bucket)).scalars().all()
    assert len(buckets) == 2
    assert not any("192.0.2.1" in b or "ada" in b for b in buckets)
    clock.now += 3 * 3600  # both windows (1 h) have expired
    monkeypatch.setattr("dailypapers.accounts.limits.CLEANUP_EVERY", 1)
    limiter.check("other", "x", limit=5, per_seconds=60)
    with store.read() as connection:
        assert connection.execute(select(func.count()).select_from(rate_limits)).scalar() == 1


def _hammer(
    database_url: str, redis_url: str | None, tmp: Path, *, processes: int, checks: int,
    limit: int, leased: bool = False,
) -> int:  # fmt: skip
    """Start the processes, let them go at once when all are ready, sum what they allowed."""
    env = {**os.environ, "PYTHONPATH": f"{REPO / 'src'}{os.pathsep}{REPO}"}
    go = tmp / "go"
    readies = [tmp / f"ready-{number}" for number in range(processes)]
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.accounts.hammer",
                database_url,
                redis_url or "-",
                str(ready),
                str(go),
                str(checks),
                str(limit),
                *(["leased"] if leased else []),
            ],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for ready in readies
    ]
    deadline = time.monotonic() + 120
    while not all(ready.exists() for ready in readies) and time.monotonic() < deadline:
        time.sleep(0.01)
    go.touch()
    allowed, spans = [], []
    for worker in workers:
        output, _ = worker.communicate(timeout=300)
        assert worker.returncode == 0
        count, began, ended = output.split()
        allowed.append(int(count))
        spans.append((float(began), float(ended)))
    # The processes checked at the same time (each began before the other ended).
    assert max(began for began, _ in spans) < min(ended for _, ended in spans), spans
    return sum(allowed)


def test_limits_hold_across_two_processes(
    backend: tuple[str, str | None], limiter_parts: tuple[Store, Settings], tmp_path: Path
) -> None:
    """Two OS processes check one key 150 times each against a limit of 100: exactly 100
    pass, on SQLite, on PostgreSQL and in Redis."""
    assert _hammer(*backend, tmp_path, processes=2, checks=150, limit=100) == 100


def test_leased_limits_hold_across_two_processes(
    backend: tuple[str, str | None], limiter_parts: tuple[Store, Settings], tmp_path: Path
) -> None:
    """The same with votes' checks (leases of hits, each reserved in the store before it is
    used): never more than 100 pass; fewer only by leases left unused at the end (at most
    lease_size - 1 a process). Redis counts every check itself: exactly 100."""
    allowed = _hammer(*backend, tmp_path, processes=2, checks=150, limit=100, leased=True)
    assert 100 - 2 * (lease_size(100) - 1) <= allowed <= 100
    if backend[1] is not None:
        assert allowed == 100


def _vote_check(limiter: RateLimiter, store: Store, *, commit: bool = True) -> bool:
    """One vote's check from the limiter's leases, in a write transaction that commits (or
    rolls back, as a vote on an unknown paper does); whether it was allowed."""
    settle = None
    try:
        with store.write() as connection:
            settle = limiter.check_leased("vote", account="ada", connection=connection)
            if not commit:
                raise LookupError("no such paper")
    except RateLimited:
        return False
    except LookupError:
        assert settle is not None
        settle(False)
        return True
    settle(True)
    return True


def _stored_hits(store: Store) -> int:
    with store.read() as connection:
        return int(connection.execute(select(func.sum(rate_limits.c.hits))).scalar() or 0)


def test_a_process_leases_vote_hits_and_still_allows_exactly_the_limit(
    database_url: str,
) -> None:
    """At 64 a minute a process reserves 4 hits at once (one statement for four votes):
    after 5 votes 8 are counted in the store; it allows exactly 64, the last ones one at a
    time once 4 no longer fit, then refuses."""
    store = open_store(database_url)
    limiter = _limiter((store, Settings()), Clock(), limit_vote="account:64/1m")
    assert lease_size(64) == 4
    assert all(_vote_check(limiter, store) for _ in range(5))
    assert _stored_hits(store) == 8
    allowed = 5 + sum(_vote_check(limiter, store) for _ in range(70))
    assert allowed == 64
    assert _stored_hits(store) == 64
    store.dispose()


def test_a_rolled_back_vote_keeps_no_lease_and_gives_its_hit_back(database_url: str) -> None:
    """A lease reserved in a transaction that rolled back is not used (the store has no
    such hits); a hit taken from a lease by a vote that rolled back is there for the next."""
    store = open_store(database_url)
    limiter = _limiter((store, Settings()), Clock(), limit_vote="account:64/1m")
    assert _vote_check(limiter, store, commit=False)  # reserved 4, rolled back
    assert _stored_hits(store) == 0
    assert _vote_check(limiter, store)  # reserves 4 again: 3 left
    assert _stored_hits(store) == 4
    assert _vote_check(limiter, store, commit=False)  # one of the lease, given back
    assert _vote_check(limiter, store)
    assert _vote_check(limiter, store)
    assert _vote_check(limiter, store)  # the third left: still no statement
    assert _stored_hits(store) == 4
    assert _vote_check(limiter, store)
    assert _stored_hits(store) == 8
    store.dispose()


def test_an_unreachable_redis_lets_requests_through_and_logs_it(
    sqlite_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.support.server import free_port

    settings = Settings(redis_url=f"redis://127.0.0.1:{free_port()}/0")  # nothing listens
    limiter = open_limiter(sqlite_store, settings)
    for _ in range(3):
        limiter.check("k", "x", limit=1, per_seconds=60)
    assert "rate limits not checked: Redis failed" in caplog.text
