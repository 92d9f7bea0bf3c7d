"""The trending score: monotone in votes and stars, decaying with age, pure."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

from dailypapers.feed.trending import age_hours, trending_score, window_upvotes


def test_formula() -> None:
    assert trending_score(0, 0) == 1 / 2**1.8
    assert math.isclose(trending_score(9, 8, stars=1023, comments=2), 21 / 10**1.8)


def test_more_votes_and_stars_rank_higher_and_age_pulls_down() -> None:
    assert trending_score(5, 10) > trending_score(4, 10)
    assert trending_score(5, 10, stars=100) > trending_score(5, 10)
    assert trending_score(5, 10) > trending_score(5, 20)
    # A fresh paper with a few votes beats an old one with many.
    assert trending_score(10, 2) > trending_score(100, 24 * 7)


def test_stars_count_less_than_votes() -> None:
    assert trending_score(0, 10, stars=1000) < trending_score(20, 10)


def test_negative_inputs_are_clamped() -> None:
    assert trending_score(-3, -5, stars=-1, comments=-2) == trending_score(0, 0)


def test_age_hours() -> None:
    now = datetime(2025, 1, 7, 12)
    assert age_hours(now, None, date(2025, 1, 7)) == 12
    assert age_hours(now, datetime(2025, 1, 7, 6), None) == 6
    assert age_hours(now, None, None) == 0
    assert age_hours(now, None, date(2025, 1, 8)) == 0  # future days are new
    assert age_hours(datetime(2025, 1, 7, 12, tzinfo=UTC), None, date(2025, 1, 7)) == 12


def test_window_upvotes_add_imported_and_local() -> None:
    assert window_upvotes(3, 4) == 7
    assert window_upvotes(-1, 2) == 2  # a broken import never takes votes away
    assert trending_score(window_upvotes(3, 4), 10) == trending_score(7, 10)
