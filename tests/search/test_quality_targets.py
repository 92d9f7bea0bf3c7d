"""The issue's targets for the hybrid, as ``benchmarks.quality`` checks them per set."""

from __future__ import annotations

import pytest
from benchmarks.quality import SCIFACT_BEFORE, target, verdict


def test_the_better_half_minus_a_hundredth() -> None:
    # A weak semantic half carries no signal: near the keyword half is enough.
    assert target("keyword-bag", 0.653, 0.157, 0.504) == pytest.approx(0.643)
    # The better half at the ceiling leaves no room to be above both.
    assert target("title-memory", 1.0, 0.764, 0.971) == pytest.approx(0.99)


def test_above_both_where_both_carry_signal() -> None:
    assert target("other", 0.62, 0.58, 0.6) == pytest.approx(0.621)


def test_scifact_no_lower_than_before() -> None:
    assert target("scifact", 0.674, 0.665, 0.7) == SCIFACT_BEFORE
    assert target("scifact", 0.674, 0.665, 0.73) == 0.73


def test_verdict_says_by_how_much_a_set_falls_short() -> None:
    def modes(adaptive: float) -> dict[str, dict[str, float]]:
        scores = {"lexical": 0.674, "semantic": 0.665, "convex": 0.7230, "adaptive": adaptive}
        return {mode: {"ndcg@10": value} for mode, value in scores.items()}

    assert verdict("scifact", modes(0.7238)) == "0.7232 | yes, above both"
    assert verdict("scifact", modes(0.7231)) == "0.7232 | no (short by 0.0001), above both"
