"""Rate limits that every server process shares: counted in the store, or in Redis when
``DAILYPAPERS_REDIS_URL`` is set.

    limiter = open_limiter(store)                     # once per app (app.state)
    limiter.check_rule("login", ip=client_ip, account=email)   # raises RateLimited
    limiter.check("export:account", user_name, limit=5, per_seconds=3600)
    with store.write() as connection:                # or counted in the caller's own write
        limiter.check_rule("vote", account=user_id, connection=connection)
        ...                                          # (a refusal rolls that write back)
    settle = limiter.check_leased("vote", account=user_id, connection=connection)
    ...; settle(committed)                           # votes: a lease of hits, see Leases

A check counts one hit against each of its limits, all or none: when any limit is reached
nothing is counted and ``RateLimited`` says how many seconds to wait (the web layer answers
429 with ``Retry-After``). The rules (sign-up, log-in, reset, votes, submissions, comments,
GitHub/ORCID log-ins) are settings (``DAILYPAPERS_LIMIT_*``); their arithmetic is
``limit_rules``. Keys are hashed before they are stored, so no address or IP sits in the
counters; an IPv6 client counts by its /64 network (one home or one server's range). When
Redis cannot be reached a check lets the request through and logs an error (limits must not
take the site down).
"""

from __future__ import annotations

import hashlib
import ipaddress
import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, Protocol

from sqlalchemy import Connection

from dailypapers.accounts.limit_rules import (
    EPSILON,
    Limit,
    Window,
    parse_limits,
    retry_after,
    window_at,
    window_start,
)
from dailypapers.settings import Settings, get_settings
from dailypapers.store import Store
from dailypapers.store import limits as sql

log = logging.getLogger(__name__)

Rule = Literal["signup", "login", "reset", "vote", "submission", "comment", "oauth"]
RULES: dict[Rule, str] = {
    "signup": "sign-up attempts",
    "login": "log-in attempts",
    "reset": "mail requests",
    "vote": "votes",
    "submission": "submissions",
    "comment": "comments",
    "oauth": "GitHub or ORCID log-in attempts",
}
# A write transaction of the limiter's store a check may count in (``check_rule``), named here
# so callers outside ``store/`` need not import SQLAlchemy.
Transaction = Connection
CLEANUP_EVERY = 200  # checks between deletions of expired counters (in each process)
# A lease (Leases) is this share of a limit, at most MAX_LEASE hits; below two, none.
LEASE_SHARE = 16
MAX_LEASE = 8
HITS_MEMO_SIZE = 65_536  # checks' hits kept (RateLimiter._hits); it starts afresh beyond
LEASES_KEPT = 65_536  # buckets' leases a process keeps (all forgotten past it)
Settle = Callable[[bool], None]  # told whether the transaction a check counted in committed


def lease_size(limit: int) -> int:
    """How many hits a process reserves at once under ``limit`` (1: no lease)."""
    return max(1, min(MAX_LEASE, limit // LEASE_SHARE))


class RateLimited(Exception):
    """Too many requests; ``retry_after`` is whole seconds until one more is allowed."""

    def __init__(self, retry_after: int, what: str = "requests") -> None:
        self.retry_after = retry_after
        super().__init__(f"Too many {what}; try again in {_duration(retry_after)}")


def _duration(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    if seconds < 90 * 60:
        return f"{math_ceil(seconds, 60)} minutes"
    return f"{math_ceil(seconds, 3600)} hours"


def math_ceil(value: int, unit: int) -> int:
    return -(-value // unit)


@lru_cache(maxsize=4096)  # a vote's check parsed its client's address every time
def ip_key(address: str) -> str:
    """The key a client address counts under: IPv4 as is, IPv6 by its /64 network."""
    try:
        parsed = ipaddress.ip_address(address.strip())
    except ValueError:
        return address.strip()
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed)


@dataclass(frozen=True)
class Hit:
    """One limit to count a hit against: a bucket (kind and hashed key) and its limit."""

    bucket: str
    limit: int
    seconds: int


@lru_cache(maxsize=65536)  # the same members and addresses come back: hash each once
def _bucket(key_kind: str, key: str) -> str:
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"{key_kind[:60]}:{digest}"


@dataclass(frozen=True)
class Denied:
    """Which hit was refused, with its two windows' counts, to say when to come back."""

    hit: Hit
    previous_hits: int
    current_hits: int


class Backend(Protocol):
    """Where counters live: counts the hits (all or none) or says which was refused."""

    def count(self, hits: Sequence[Hit], now: float) -> Denied | None: ...


class StoreBackend:
    """Counters in the store's ``rate_limits`` table, one short write transaction a check."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._checks = itertools.count(1)
        self.leases = Leases()

    def count(self, hits: Sequence[Hit], now: float) -> Denied | None:
        try:
            with self.store.write() as connection:
                denied = self.count_in(connection, hits, now)
                if denied is not None:
                    raise _Refused(denied)  # rolls back any hit this check added
        except _Refused as refused:
            return refused.denied
        return None

    def count_leased(
        self, connection: Connection, hits: Sequence[Hit], now: float
    ) -> tuple[Denied | None, Settle]:
        """:meth:`count_in` with this process's :class:`Leases`: each hit taken from a lease,
        or a lease reserved in the caller's transaction. Returns what to tell once it ends
        (``Settle``: committed, the leases reserved in it are kept; rolled back, the hits
        taken from leases are given back). On a refusal the hits already taken from leases
        are given back here (the caller rolls back)."""
        taken: list[tuple[str, int]] = []  # (bucket, window start) taken from a lease
        reserved: list[tuple[str, int, int]] = []  # leases reserved in this transaction
        for hit in hits:
            # The window's start alone for a hit taken from a lease (most of them): the
            # Window, a frozen dataclass, only for a statement.
            start = window_start(now, hit.seconds)
            if self.leases.take(hit.bucket, start):
                taken.append((hit.bucket, start))
                continue
            window = window_at(now, hit.seconds)
            size = lease_size(hit.limit)
            if size > 1 and _take(connection, hit, window, size):
                reserved.append((hit.bucket, window.start, size - 1))
                continue
            denied = self._count(connection, [hit], now)
            if denied is not None:
                for bucket, start in taken:
                    self.leases.give(bucket, start, 1)
                return denied, _settled
        self._clean(connection, now)

        def settle(committed: bool) -> None:
            if committed:
                for bucket, start, left in reserved:
                    self.leases.give(bucket, start, left)
            else:
                for bucket, start in taken:
                    self.leases.give(bucket, start, 1)

        return None, settle

    def _clean(self, connection: Connection, now: float) -> None:
        if next(self._checks) % CLEANUP_EVERY == 0:
            sql.delete_expired(connection, int(now))

    def count_in(self, connection: Connection, hits: Sequence[Hit], now: float) -> Denied | None:
        """:meth:`count` inside the caller's write transaction on this store: on a refusal
        the caller must roll it back (hits of an earlier scope may have been added)."""
        denied = self._count(connection, hits, now)
        if denied is None:
            self._clean(connection, now)
        return denied

    @staticmethod
    def _count(connection: Connection, hits: Sequence[Hit], now: float) -> Denied | None:
        """One statement a hit (:func:`~dailypapers.store.limits.take_hit`: the budget
        checked in it); the windows are read only to say when to come back."""
        for hit in hits:
            window = window_at(now, hit.seconds)
            if not _take(
                connection, hit, window, 1
            ):  # no room: nothing counted for it (the caller rolls back)
                stored = sql.read_hits(connection, [(hit.bucket, window.start),
                                                    (hit.bucket, window.previous)])  # fmt: skip
                previous = stored.get((hit.bucket, window.previous), 0)
                return Denied(hit, previous, stored.get((hit.bucket, window.start), 0))
        return None


def _take(connection: Connection, hit: Hit, window: Window, count: int) -> bool:
    """``count`` hits of ``hit`` in ``window`` if they all fit (one statement)."""
    return sql.take_hit(
        connection, hit.bucket, window.start, window.start + 2 * window.seconds,
        limit=hit.limit, previous=window.previous, weight=window.previous_weight,
        epsilon=EPSILON, count=count,
    )  # fmt: skip


def _settled(committed: bool) -> None:
    """Nothing to settle (a refused check, whose leases were given back already)."""


class Leases:
    """Hits this process reserved in the store ahead of its checks (votes): a check takes
    one here, without a statement, and reserves ``lease_size`` more, all or none, only when
    none is left (one alone when they no longer fit). Every hit allowed was counted in the
    store first, so the limit holds across processes as before; a lease left unused at its
    window's end counts as used (at most ``lease_size`` - 1 hits of a bucket a window, each
    process: a 16th of the limit). Thread-safe."""

    def __init__(self) -> None:
        self._left: dict[tuple[str, int], int] = {}  # (bucket, window start) -> hits left
        self._lock = threading.Lock()

    def take(self, bucket: str, window_start: int) -> bool:
        """One hit of the lease of ``bucket``'s window, if any is left."""
        key = (bucket, window_start)
        with self._lock:
            left = self._left.get(key, 0)
            if left <= 0:
                return False
            self._left[key] = left - 1
            return True

    def give(self, bucket: str, window_start: int, hits: int) -> None:
        """``hits`` more in the lease (reserved in a committed transaction, or given back
        by one rolled back)."""
        key = (bucket, window_start)
        with self._lock:
            if key not in self._left and len(self._left) >= LEASES_KEPT:
                self._left.clear()  # old windows' leases: their hits stay counted as used
            self._left[key] = self._left.get(key, 0) + hits


class _Refused(Exception):
    def __init__(self, denied: Denied) -> None:
        self.denied = denied


# Counts all hits or none, atomically (a script runs alone in Redis). KEYS: per hit, its
# current and previous window; ARGV: per hit, limit, the previous window's weight and the
# key's time to live. Returns {0} or {i, previous, current} for the first refused hit i. The
# budget is limit_rules.budget, in Lua.
_REDIS_SCRIPT = """
local n = #KEYS / 2
for i = 1, n do
  local current = tonumber(redis.call('GET', KEYS[2 * i - 1]) or '0')
  local previous = tonumber(redis.call('GET', KEYS[2 * i]) or '0')
  local budget = math.floor(tonumber(ARGV[3 * i - 2]) - previous * tonumber(ARGV[3 * i - 1]) + 1e-9)
  if current >= budget then return {i, previous, current} end
end
for i = 1, n do
  redis.call('INCR', KEYS[2 * i - 1])
  redis.call('EXPIRE', KEYS[2 * i - 1], ARGV[3 * i])
end
return {0}
"""


class RedisBackend:
    """Counters in Redis (``DAILYPAPERS_REDIS_URL``): one Lua script call a check."""

    def __init__(self, url: str) -> None:
        import redis

        self.client: Any = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self.script = self.client.register_script(_REDIS_SCRIPT)
        self.errors: type[Exception] = redis.RedisError

    def count(self, hits: Sequence[Hit], now: float) -> Denied | None:
        windows: list[Window] = [window_at(now, hit.seconds) for hit in hits]
        keys: list[str] = []
        args: list[str | int] = []
        for hit, window in zip(hits, windows, strict=True):
            keys += [f"dailypapers:limit:{hit.bucket}:{window.start}"]
            keys += [f"dailypapers:limit:{hit.bucket}:{window.previous}"]
            args += [hit.limit, repr(window.previous_weight), 2 * window.seconds]
        try:
            answer = self.script(keys=keys, args=args)
        except self.errors as error:
            # Limits guard against abuse; they must not take the site down with Redis. The
            # check lets the request through and says so in the log.
            log.error("rate limits not checked: Redis failed: %s", error)
            return None
        if int(answer[0]) == 0:
            return None
        return Denied(hits[int(answer[0]) - 1], int(answer[1]), int(answer[2]))

    def close(self) -> None:
        self.client.close()


class RateLimiter:
    """Checks against the configured rules, on a backend every process shares."""

    def __init__(
        self, backend: Backend, settings: Settings, clock: Callable[[], float] = time.time
    ) -> None:
        self.backend = backend
        self.settings = settings
        self.clock = clock
        # (rule, its setting, address, account) -> the hits of a check (_hits)
        self._made: dict[tuple[str, str, str | None, str | None], tuple[Hit, ...]] = {}

    @property
    def in_store(self) -> bool:
        """Whether the counters are in the store (no network call; a check can join the
        caller's write transaction), not in Redis."""
        return isinstance(self.backend, StoreBackend)

    def check(self, key_kind: str, key: str, *, limit: int, per_seconds: int) -> None:
        """One hit for ``key`` under ``key_kind`` (e.g. ``"export:account"``); at most
        ``limit`` per ``per_seconds``. ``RateLimited`` when there is no room."""
        self._count([Hit(_bucket(key_kind, key), limit, per_seconds)], "requests")

    def check_rule(
        self,
        rule: Rule,
        *,
        ip: str | None = None,
        account: str | None = None,
        connection: Connection | None = None,
    ) -> None:
        """One hit of ``rule`` for this client IP and this account (or email address), each
        counted under the rule's setting (``DAILYPAPERS_LIMIT_<RULE>``); a key not given or
        a scope the setting leaves out is not counted.

        With ``connection`` (a write transaction of the limiter's store), the hits are
        counted in it, so they commit with the caller's own write (a vote: one transaction
        instead of two); ``RateLimited`` must then roll that transaction back. Counters in
        Redis are counted there as always."""
        self._count(self._hits(rule, ip, account), RULES[rule], connection)

    def check_leased(
        self, rule: Rule, *, ip: str | None = None, account: str | None = None,
        connection: Connection,
    ) -> Settle:  # fmt: skip
        """:meth:`check_rule` in ``connection`` with this process's leases of hits
        (:class:`Leases`: most checks run no statement); returns what the caller must
        call once the transaction ended, with whether it committed. For the busiest writes
        (votes), whose callers do; counters in Redis are counted there as always."""
        hits = self._hits(rule, ip, account)
        if not hits or not isinstance(self.backend, StoreBackend):
            self._count(hits, RULES[rule], connection)
            return _settled
        now = self.clock()
        denied, settle = self.backend.count_leased(connection, hits, now)
        if denied is not None:
            _refuse(denied, now, RULES[rule])
        return settle

    def _hits(self, rule: Rule, ip: str | None, account: str | None) -> tuple[Hit, ...]:
        """The hits of one check of ``rule`` (see :meth:`check_rule`), made once per rule,
        address and account while the rule's setting stays the same (every vote checks:
        the address parsed, the keys hashed and the hits made were about 3 % of a vote)."""
        setting = getattr(self.settings, f"limit_{rule}")
        memo = (rule, setting, ip, account)
        hits = self._made.get(memo)
        if hits is None:
            if len(self._made) >= HITS_MEMO_SIZE:
                self._made.clear()
            hits = self._made[memo] = self._make_hits(rule, ip, account)
        return hits

    def _make_hits(self, rule: Rule, ip: str | None, account: str | None) -> tuple[Hit, ...]:
        keys = {
            "ip": ip_key(ip) if ip else None,
            "account": account.strip().casefold() if account else None,
        }
        return tuple(
            Hit(
                _bucket(f"{rule}:{limit.scope}", keys[limit.scope] or ""),
                limit.count,
                limit.seconds,
            )
            for limit in self.limits(rule)
            if keys[limit.scope]
        )

    def limits(self, rule: Rule) -> tuple[Limit, ...]:
        return _parsed(getattr(self.settings, f"limit_{rule}"))

    def _count(self, hits: Sequence[Hit], what: str, connection: Connection | None = None) -> None:
        if not hits:
            return
        now = self.clock()
        if connection is not None and isinstance(self.backend, StoreBackend):
            denied = self.backend.count_in(connection, hits, now)
        else:
            denied = self.backend.count(hits, now)
        if denied is not None:
            _refuse(denied, now, what)


def _refuse(denied: Denied, now: float, what: str) -> None:
    """``RateLimited``, with when to come back."""
    window = window_at(now, denied.hit.seconds)
    wait = retry_after(denied.hit.limit, denied.previous_hits, denied.current_hits, now, window)
    raise RateLimited(wait, what)


@lru_cache(maxsize=64)
def _parsed(setting: str) -> tuple[Limit, ...]:
    """A rule's setting as limits, parsed once (every vote checks its rule)."""
    return parse_limits(setting)


def open_limiter(store: Store, settings: Settings | None = None) -> RateLimiter:
    """The limiter the settings ask for: Redis when ``DAILYPAPERS_REDIS_URL`` is set, else
    the store."""
    settings = settings or get_settings()
    backend: Backend = (
        RedisBackend(settings.redis_url) if settings.redis_url else StoreBackend(store)
    )
    return RateLimiter(backend, settings)
