"""Fusion functions against hand-computed values."""

from __future__ import annotations

import pytest

from dailypapers.search.fusion import convex_combination, get_fusion, reciprocal_rank_fusion


def test_rrf_matches_the_formula() -> None:
    lexical = [("a", 12.0), ("b", 9.0), ("c", 1.0)]
    dense = [("c", 0.9), ("a", 0.8)]
    fused = dict(reciprocal_rank_fusion([lexical, dense], [1.0, 1.0]))
    assert fused["a"] == pytest.approx(1 / 61 + 1 / 62)
    assert fused["b"] == pytest.approx(1 / 62)
    assert fused["c"] == pytest.approx(1 / 63 + 1 / 61)
    order = [doc for doc, _ in reciprocal_rank_fusion([lexical, dense], [1.0, 1.0])]
    assert order == ["a", "c", "b"]


def test_rrf_weights_and_k() -> None:
    fused = dict(reciprocal_rank_fusion([[("a", 1.0)], [("b", 1.0)]], [2.0, 1.0], k=0))
    assert fused == {"a": 2.0, "b": 1.0}


def test_convex_combination_normalises_each_list() -> None:
    lexical = [("a", 10.0), ("b", 5.0), ("c", 0.0)]
    dense = [("b", 0.9), ("c", 0.5), ("a", 0.1)]
    fused = dict(convex_combination([lexical, dense], [0.5, 0.5]))
    assert fused["a"] == pytest.approx(0.5 * 1.0 + 0.5 * 0.0)
    assert fused["b"] == pytest.approx(0.5 * 0.5 + 0.5 * 1.0)
    assert fused["c"] == pytest.approx(0.5 * 0.0 + 0.5 * 0.5)


def test_empty_lists_and_unknown_names() -> None:
    assert reciprocal_rank_fusion([[], []], [1.0, 1.0]) == []
    assert convex_combination([[], [("x", 3.0)]], [1.0, 1.0]) == [("x", 0.0)]
    with pytest.raises(ValueError, match="choose one of rrf, convex"):
        get_fusion("borda")
