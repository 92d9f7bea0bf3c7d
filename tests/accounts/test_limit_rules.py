"""The rule settings and the sliding-window arithmetic (pure functions)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from dailypapers.accounts.limit_rules import (
    Limit,
    budget,
    parse_limits,
    retry_after,
    window_at,
)
from dailypapers.settings import Settings


def test_rule_settings_are_read() -> None:
    assert parse_limits("ip:10/1h, account:3/30m") == (
        Limit("ip", 10, 3600),
        Limit("account", 3, 1800),
    )
    assert parse_limits("ip:5/90") == (Limit("ip", 5, 90),)
    assert parse_limits("account:1/d") == (Limit("account", 1, 86400),)
    assert parse_limits("off") == parse_limits("") == ()


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("10/1h", "expected SCOPE:COUNT/PERIOD"),
        ("user:10/1h", "expected SCOPE:COUNT/PERIOD"),
        ("ip:10/1w", "expected SCOPE:COUNT/PERIOD"),
        ("ip:0/1h", "at least 1"),
        ("ip:1/1h,ip:2/1h", "ip is given twice"),
    ],
)
def test_a_bad_rule_is_refused_at_start(text: str, says: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(limit_login=text)
    assert says in caught.value.errors()[0]["msg"]


def test_the_previous_window_counts_by_the_share_still_inside_the_period() -> None:
    at_start, halfway = window_at(3600.0, 60), window_at(3630.0, 60)
    assert (at_start.start, at_start.previous, at_start.previous_weight) == (3600, 3540, 1.0)
    assert halfway.previous_weight == 0.5
    assert budget(10, 10, at_start) == 0  # the whole previous window still counts
    assert budget(10, 10, halfway) == 5
    assert budget(10, 7, halfway) == 6  # 3.5 still counted: room for 6 whole hits
    assert budget(10, 0, halfway) == 10


def test_retry_after_says_when_one_more_hit_fits() -> None:
    window = window_at(3630.0, 60)  # halfway through [3600, 3660)
    # Full this window (10 of 10): in the next one these 10 are the previous window, and one
    # more fits once a tenth of them has slid out: 6 s into it, 36 s from now.
    assert retry_after(10, 0, 10, 3630.0, window) == 36
    # 5 now and 10 before (weighted 5): one more fits when the old share is below 4.
    assert retry_after(10, 10, 5, 3630.0, window) == 6
    # A limit of 1 used this window: wait for the whole of the next window to pass.
    assert retry_after(1, 0, 1, 3630.0, window) == 90
    assert retry_after(10, 10, 0, 3659.9999, window_at(3659.9999, 60)) == 1
