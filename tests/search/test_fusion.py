"""Fusion functions against hand-computed values."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dailypapers.search.fusion import (
    ADAPTIVE,
    AdaptiveConstants,
    _sorted,
    adaptive_fusion,
    bounded_scores,
    convex_combination,
    get_fusion,
    lists_agree,
    reciprocal_rank_fusion,
    semantic_trust,
)


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
    assert convex_combination([[], [("x", 3.0)]], [1.0, 1.0]) == [("x", 1.0)]
    assert adaptive_fusion([[], []], [1.0, 1.0]) == []
    with pytest.raises(ValueError, match="choose one of rrf, convex, adaptive"):
        get_fusion("borda")


# A keyword-bag query: its paper "p" leads the BM25 list; the semantic list is noise, a flat
# run of middling cosines on which "p" comes last (as measured for such queries: best cosine
# about 0.42, the tenth 0.07 below it).
NOISE = [(f"n{i}", 0.42 - 0.007 * i) for i in range(30)] + [("p", 0.2)]
KEYWORDS = [("p", 21.0), ("n3", 17.5), ("n7", 16.0), ("q", 9.0)]


def test_semantic_trust_follows_the_formula() -> None:
    c = AdaptiveConstants(
        floor=0.3, ceiling=0.7, gap_low=0.0, gap_high=0.2, words_low=4, words_high=12,
        agree_words=8, agree_depth=3,
    )  # fmt: skip
    steep = [("a", 0.6)] + [(f"x{i}", 0.5) for i in range(9)]  # a = 0.75, b = 0.5
    apart = [("k1", 9.0), ("k2", 8.0), ("k3", 7.0), ("a", 6.0)]  # "a" is the fourth: no d
    assert semantic_trust(apart, steep, 2, c) == pytest.approx(0.5)
    assert semantic_trust(apart, steep, 10, c) == pytest.approx(0.75)  # c = (10 - 4) / 8
    assert semantic_trust(apart, steep, 20, c) == 1.0
    assert semantic_trust(apart, [("a", 0.2), ("b", 0.1)], 2, c) == 0.0  # below the floor
    assert semantic_trust(apart, [], 30, c) == 0.0


def test_a_long_query_on_whose_first_hits_both_lists_agree_trusts_the_semantic_list() -> None:
    c = AdaptiveConstants(agree_words=8, agree_depth=3)
    flat = [(f"n{i}", 0.42 - 0.007 * i) for i in range(30)]  # a, b and c all small
    agreeing = [("k1", 9.0), ("k2", 8.0), ("n2", 7.0), ("n9", 6.0)]  # n2: third and third
    assert lists_agree(agreeing, flat, 3)
    assert semantic_trust(agreeing, flat, 8, c) == 1.0
    assert semantic_trust(agreeing, flat, 7, c) < 0.2  # too short: keywords, not a claim
    assert not lists_agree(agreeing, flat, 2)  # n2 is not among the first 2 semantic hits
    assert semantic_trust(agreeing, flat, 8, AdaptiveConstants(agree_depth=2)) < 0.2
    late = [("k1", 9.0), ("k2", 8.0), ("k3", 7.5), ("n0", 7.0)]  # n0: fourth keyword hit
    assert not lists_agree(late, flat, 10)


# A keyword-bag query: its paper "p" leads the BM25 list; the semantic list is noise, a flat
# run of middling cosines on which "p" comes last (as measured for such queries: best cosine
# about 0.42, the tenth 0.07 below it).
NOISE = [(f"n{i}", 0.42 - 0.007 * i) for i in range(30)] + [("p", 0.2)]
KEYWORDS = [("p", 21.0), ("n13", 17.5), ("n17", 16.0), ("q", 9.0)]


def test_noise_from_the_semantic_list_does_not_bury_a_keyword_match() -> None:
    assert 0.0 <= semantic_trust(KEYWORDS, NOISE, 5) < 0.3
    adaptive = adaptive_fusion([KEYWORDS, NOISE], [1.0, 1.0], words=5)
    assert [doc for doc, _ in adaptive[:3]] == ["p", "n13", "n17"]
    # The fixed-weight convex combination lets the noise win: the reason for the adaptive one.
    convex = convex_combination([KEYWORDS, NOISE], [1.0, 1.0])
    assert convex[0][0] != "p"


def test_a_semantic_list_that_stands_out_keeps_its_weight() -> None:
    confident = [("s", 0.81)] + [(f"n{i}", 0.55 - 0.01 * i) for i in range(20)]
    assert semantic_trust(KEYWORDS, confident, 5) == 1.0
    fused = dict(adaptive_fusion([KEYWORDS, confident], [1.0, 1.0], words=5))
    low = ADAPTIVE.dense_low
    assert fused["s"] == pytest.approx(1.0)  # the semantic list's best, in no keyword list
    assert fused["p"] == pytest.approx(1.0)  # the keyword list's best, not semantic
    assert fused["n13"] == pytest.approx(17.5 / 21 + (0.42 - low) / (0.81 - low))
    # A long, sentence-like query keeps the semantic list whatever its shape.
    assert semantic_trust(KEYWORDS, NOISE, 24) == 1.0


def test_bounded_scores_scale_from_the_bound_to_the_best() -> None:
    assert bounded_scores([("a", 10.0), ("b", 5.0), ("c", 1.0)], 0.0) == [
        ("a", 1.0), ("b", 0.5), ("c", 0.1),
    ]  # fmt: skip
    dense = bounded_scores([("a", 0.7), ("b", 0.45), ("c", 0.1)], 0.2)
    assert dense == [("a", 1.0), ("b", pytest.approx(0.5)), ("c", 0.0)]  # below: 0
    assert bounded_scores([("a", 0.15), ("b", 0.1)], 0.2) == [("a", 0.0), ("b", 0.0)]
    assert bounded_scores([], 0.2) == []


def test_a_shorter_semantic_list_leaves_the_scores_of_its_papers() -> None:
    lexical = [(f"k{i}", 20.0 - i) for i in range(40)] + [("d3", 4.0), ("d50", 3.0)]
    dense = [(f"d{i}", 0.8 - 0.005 * i) for i in range(100)]
    for words in (3, 12, 30):
        full = dict(adaptive_fusion([lexical, dense], [1.0, 1.0], words=words))
        short = dict(adaptive_fusion([lexical, dense[:30]], [1.0, 1.0], words=words))
        # Every paper of the short list, and every keyword-only one, keeps its score; only
        # the papers cut from the tail lose their semantic part.
        cut = {doc_id for doc_id, _score in dense[30:]}
        for doc_id, score in short.items():
            if doc_id not in cut:
                assert score == pytest.approx(full[doc_id]), (words, doc_id)
        assert short["d50"] < full["d50"]
    # Min-max normalisation moves them all: the list's last score is every paper's zero.
    full = dict(convex_combination([lexical, dense], [1.0, 1.0]))
    short = dict(convex_combination([lexical, dense[:30]], [1.0, 1.0]))
    assert short["d3"] != pytest.approx(full["d3"])


# Scores drawn from a few values as well, so that many papers tie (and 0.0 meets -0.0).
_SCORES = st.one_of(st.sampled_from([0.0, -0.0, 0.25, 1.0]), st.floats(-10, 10))


@given(st.dictionaries(st.text(alphabet="0123456789.ab", max_size=12), _SCORES, max_size=250))
def test_fused_order_is_best_score_first_then_id(scores: dict[str, float]) -> None:
    """The two stable sorts give the order of one sort by (-score, id)."""
    expected = sorted(scores.items(), key=lambda item: (-item[1], item[0]))
    assert _sorted(scores) == expected


def test_equal_scores_are_ordered_by_id() -> None:
    fused = adaptive_fusion([[("b", 2.0), ("a", 2.0), ("c", 1.0)], []], [1.0, 1.0])
    assert [doc for doc, _ in fused] == ["a", "b", "c"]


def _adaptive_by_pairs(
    lists: list[list[tuple[str, float]]], weights: list[float], words: int
) -> list[tuple[str, float]]:
    """adaptive_fusion as its formula reads: each list's bounded_scores, then summed."""
    lexical, dense = lists
    trust = semantic_trust(lexical, dense, words)
    scores: dict[str, float] = {}
    for ranked, weight in (
        (bounded_scores(lexical, 0.0), weights[0]),
        (bounded_scores(dense, ADAPTIVE.dense_low), weights[1] * trust),
    ):
        for doc_id, value in ranked:
            scores[doc_id] = scores.get(doc_id, 0.0) + weight * value
    return _sorted(scores)


_IDS = st.text(alphabet="abc", max_size=3)  # few: ids in both lists, and repeated in one
_RANKED = st.lists(
    st.tuples(_IDS, st.floats(min_value=-2.0, max_value=40.0) | st.sampled_from([0.0, -0.0])),
    max_size=40,
)


@given(_RANKED, _RANKED, st.integers(0, 30), st.sampled_from([0.0, 0.5, 1.0, 2.0]))
def test_adaptive_fusion_gives_its_formulas_scores_to_the_bit(
    lexical: list[tuple[str, float]], dense: list[tuple[str, float]], words: int, weight: float
) -> None:
    """Summed in place (no list of bounded pairs in between), the same floats and order."""
    lists, weights = [lexical, dense], [1.0, weight]
    expected = _adaptive_by_pairs(lists, weights, words)
    assert repr(adaptive_fusion(lists, weights, words=words)) == repr(expected)
