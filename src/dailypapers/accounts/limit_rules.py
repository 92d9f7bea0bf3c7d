"""Rate-limit rules and the sliding-window arithmetic, as pure functions.

A rule setting reads ``ip:10/1h,account:3/1h``: at most 10 in any hour per client IP and 3
per account (or email address); ``off`` turns a rule off. Counting is a sliding-window
counter: hits are kept per fixed window of the period, and a new hit is allowed while
``previous window's hits x the share of it still inside the sliding period + this window's
hits`` stays within the limit. That needs two counters per key instead of a log of every
hit, never lets more than the limit through in a window, and has no burst of twice the
limit at window edges as a plain fixed window has.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

PERIOD_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
SCOPES = ("ip", "account")
_LIMIT = re.compile(r"^(ip|account):(\d+)/(\d*)([smhd]?)$")
EPSILON = 1e-9  # keeps limit - prev x weight from rounding down across a float error


@dataclass(frozen=True)
class Limit:
    """At most ``count`` hits per ``seconds`` for each key of ``scope``."""

    scope: str
    count: int
    seconds: int


def parse_limits(text: str) -> tuple[Limit, ...]:
    """``ip:10/1h,account:3/1h`` as limits; ``off`` or empty as none; ``ValueError`` if bad."""
    cleaned = text.replace(" ", "").lower()
    if cleaned in ("", "off"):
        return ()
    limits: list[Limit] = []
    for part in cleaned.split(","):
        found = _LIMIT.match(part)
        if not found:
            raise ValueError(
                f"cannot read {part!r}: expected SCOPE:COUNT/PERIOD such as ip:10/1h or "
                "account:5/30m (scopes ip and account; periods in s, m, h or d), or off"
            )
        scope, count, amount, unit = found.groups()
        seconds = int(amount or 1) * PERIOD_UNITS[unit or "s"]
        if seconds < 1 or int(count) < 1:
            raise ValueError(f"{part!r}: the count and the period must be at least 1")
        if any(limit.scope == scope for limit in limits):
            raise ValueError(f"{scope} is given twice in {text!r}")
        limits.append(Limit(scope, int(count), seconds))
    return tuple(limits)


@dataclass(frozen=True)
class Window:
    """The fixed window ``now`` falls in, the one before, and how much of that one counts."""

    start: int
    previous: int
    seconds: int
    previous_weight: float


def window_start(now: float, seconds: int) -> int:
    """The start of the fixed window of ``seconds`` that ``now`` falls in."""
    return int(now // seconds) * seconds


def window_at(now: float, seconds: int) -> Window:
    start = window_start(now, seconds)
    return Window(start, start - seconds, seconds, 1.0 - (now - start) / seconds)


def budget(limit: int, previous_hits: int, window: Window) -> int:
    """How many hits the current window may hold now (a new hit is allowed below this)."""
    return math.floor(limit - previous_hits * window.previous_weight + EPSILON)


def retry_after(
    limit: int, previous_hits: int, current_hits: int, now: float, window: Window
) -> int:
    """Whole seconds until one more hit would be allowed (at least 1)."""
    end = window.start + window.seconds
    room = limit - current_hits - 1  # what the previous window's share must shrink to
    at = float(end)
    if room >= 0 and previous_hits > 0:
        at = window.start + window.seconds * (1.0 - room / previous_hits)
    if at >= end:  # not in this window: in the next, this window's hits are the previous
        share = 1.0 - (limit - 1) / current_hits if current_hits else 0.0
        at = end + window.seconds * max(0.0, share)
    return max(1, math.ceil(at - now - EPSILON))
