"""Fusing ranked lists: pure functions, chosen by name (see :data:`FUSIONS`).

Each takes ranked lists of ``(doc_id, score)`` (best first), one per retriever, weights for
them and the number of words of the query, and returns one fused list, best first. Nothing
here knows about papers. ``adaptive`` (the default) is measured by kind of query in
BENCHMARKS.md; ``benchmarks.fit_fusion`` fits its constants. ``rrf`` and ``convex`` depend on
every rank or score of each list; ``adaptive`` only on each list's head and the scores of the
papers it holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Protocol

Ranked = Sequence[tuple[str, float]]


class Fusion(Protocol):
    def __call__(
        self, lists: Sequence[Ranked], weights: Sequence[float], *, words: int = 0
    ) -> list[tuple[str, float]]: ...


RRF_K = 60


def _sorted(scores: dict[str, float]) -> list[tuple[str, float]]:
    """Best score first, equal scores by id (so that results are deterministic): sorted by
    id, then by score alone, which keeps the id order of equal scores (a stable sort, also
    reversed). Two sorts in C: a key tuple made in Python per paper cost twice as much. The
    first sorts by the id alone (each is there once): comparing the pairs themselves cost
    twice as much again (72 against 34 µs for 190 papers)."""
    ordered = sorted(scores.items(), key=_ID)
    ordered.sort(key=_SCORE, reverse=True)
    return ordered


_ID = itemgetter(0)
_SCORE = itemgetter(1)


def reciprocal_rank_fusion(
    lists: Sequence[Ranked], weights: Sequence[float], *, words: int = 0, k: int = RRF_K
) -> list[tuple[str, float]]:
    """Reciprocal rank fusion (Cormack, Clarke and Büttcher, SIGIR 2009).

    ``score(d) = sum_i w_i / (k + rank_i(d))`` with ``rank_i(d)`` the 1-based rank of ``d`` in
    list ``i`` (a list that lacks ``d`` adds nothing). ``k = 60`` as in the paper. Only ranks
    matter, so retrievers with incomparable scores (BM25, cosine) fuse without calibration.
    ``words`` is not used.
    """
    scores: dict[str, float] = {}
    for ranked, weight in zip(lists, weights, strict=True):
        for rank, (doc_id, _score) in enumerate(ranked, start=1):
            scores[doc_id] = scores.get(doc_id, 0.0) + weight / (k + rank)
    return _sorted(scores)


def convex_combination(
    lists: Sequence[Ranked], weights: Sequence[float], *, words: int = 0
) -> list[tuple[str, float]]:
    """Convex combination of min-max normalised scores (Bruch, Gai and Ingber, TOIS 2023).

    ``score(d) = sum_i w_i * (s_i(d) - min_i) / (max_i - min_i)``, with ``min_i``/``max_i``
    taken over list ``i``, a document missing from list ``i`` counted as ``min_i`` (0), and
    every document of a list whose scores are all equal counted as 1. ``words`` is not used.
    """
    scores: dict[str, float] = {}
    for ranked, weight in zip(lists, weights, strict=True):
        if not ranked:
            continue
        values = [score for _doc, score in ranked]
        low, span = min(values), max(values) - min(values)
        for doc_id, score in ranked:
            # A list of equal scores (one hit, say) holds only best hits: each counts as 1.
            normalised = (score - low) / span if span else 1.0
            scores[doc_id] = scores.get(doc_id, 0.0) + weight * normalised
    return _sorted(scores)


def bounded_scores(ranked: Ranked, low: float) -> list[tuple[str, float]]:
    """Scores scaled to 0..1 by a fixed lower bound and the list's best score.

    ``(s - low) / (best - low)``, at least 0: theoretical min-max normalisation (Bruch, Gai and
    Ingber, TOIS 2023), with ``low`` what the retriever's scores cannot usefully go below
    (0 for BM25, a fitted cosine for the semantic list) in place of the list's own last score.
    The list's head alone sets every score, so a list cut shorter, or an approximate search
    that misses some of its tail, leaves the scores of the papers it holds as they were.
    A best score at or below ``low`` gives every paper 0.
    """
    if not ranked:
        return []
    span = ranked[0][1] - low
    if span <= 0:
        return [(doc_id, 0.0) for doc_id, _score in ranked]
    return [(doc_id, max(0.0, (score - low) / span)) for doc_id, score in ranked]


@dataclass(frozen=True)
class AdaptiveConstants:
    """The constants of :func:`adaptive_fusion`, fitted by ``benchmarks.fit_fusion``."""

    dense_low: float = 0.25  # the cosine scaled to 0 in the semantic list (bounded_scores)
    floor: float = 0.425  # best cosine at or below which the semantic list is noise
    ceiling: float = 0.7  # best cosine from which it is trusted in full
    gap_low: float = 0.03  # best minus tenth cosine at or below which nothing stands out
    gap_high: float = 0.2  # ... from which the best clearly stand out
    words_low: float = 5.0  # queries this short are keywords ...
    words_high: float = 24.0  # ... this long are sentences, which the model reads well
    agree_words: float = 8.0  # from this many words, lists that agree at the top ...
    agree_depth: int = 10  # ... (a first-3 keyword hit among this many semantic ones) ...
    # ... give the semantic list its full weight: a long claim both lists understood.


ADAPTIVE = AdaptiveConstants()


def _ramp(value: float, low: float, high: float) -> float:
    """0 at or below ``low``, 1 at or above ``high``, linear between."""
    return min(1.0, max(0.0, (value - low) / (high - low)))


AGREE_LEXICAL = 3  # keyword hits looked at for agreement


def lists_agree(lexical: Ranked, dense: Ranked, depth: int) -> bool:
    """Whether one of the first 3 keyword hits is among the first ``depth`` semantic hits."""
    head = {doc_id for doc_id, _score in dense[:depth]}
    return any(doc_id in head for doc_id, _score in lexical[:AGREE_LEXICAL])


def semantic_trust(
    lexical: Ranked, dense: Ranked, words: int, constants: AdaptiveConstants = ADAPTIVE
) -> float:
    """How far the semantic list of one query can be trusted, from 0 (noise) to 1.

    ``trust = max(min(a, b), c, d)`` with ``c1`` and ``c10`` the first and tenth cosines
    (the last if fewer) and ``ramp(x, lo, hi) = clamp((x - lo) / (hi - lo), 0, 1)``:
    ``a = ramp(c1, floor, ceiling)``: the best match is close;
    ``b = ramp(c1 - c10, gap_low, gap_high)``: the best stand out from the rest;
    ``c = ramp(words, words_low, words_high)``: a long, sentence-like query;
    ``d = 1`` if ``words >= agree_words`` and one of the first 3 keyword hits is among the
    first ``agree_depth`` semantic hits (else 0): a long query both lists read the same way.
    """
    if not dense:
        return 0.0
    best, tenth = dense[0][1], dense[min(9, len(dense) - 1)][1]
    close = _ramp(best, constants.floor, constants.ceiling)
    standing_out = _ramp(best - tenth, constants.gap_low, constants.gap_high)
    sentence = _ramp(words, constants.words_low, constants.words_high)
    if words >= constants.agree_words and lists_agree(lexical, dense, constants.agree_depth):
        return 1.0
    return max(min(close, standing_out), sentence)


def adaptive_fusion(
    lists: Sequence[Ranked],
    weights: Sequence[float],
    *,
    words: int = 0,
    constants: AdaptiveConstants = ADAPTIVE,
) -> list[tuple[str, float]]:
    """Convex combination whose semantic weight follows how much this query's list deserves.

    ``lists`` is ``[lexical, semantic]``: ``score(d) = w_lex * L(d) + w_sem * trust * S(d)``,
    with ``L`` the BM25 scores over the list's best (:func:`bounded_scores` with 0 as the
    bound) and ``S`` the cosines scaled from ``dense_low`` to the list's best (a paper missing
    from a list gets 0 from it), ``w_lex`` and ``w_sem`` the configured weights and ``trust``
    (0 to 1) from :func:`semantic_trust`. Nothing depends on a list's tail (its tenth score at
    most), so the semantic list may come from an approximate, shallower search.

    A bag of keywords whose nearest abstracts are all about equally far (a flat, low list of
    cosines) then ranks by its keywords alone, while a claim or a title whose semantic
    neighbours stand out, or a long claim on whose best papers both lists agree, keeps both
    lists. A few arithmetic operations over the list heads:
    microseconds.
    """
    lexical, dense = lists
    trust = semantic_trust(lexical, dense, words, constants)
    scores: dict[str, float] = {}
    _add_bounded(scores, lexical, 0.0, weights[0])
    _add_bounded(scores, dense, constants.dense_low, weights[1] * trust)
    return _sorted(scores)


def _add_bounded(scores: dict[str, float], ranked: Ranked, low: float, weight: float) -> None:
    """Add ``weight`` times :func:`bounded_scores` of ``ranked`` to ``scores``, the same
    values to the bit, without the list of pairs in between (two hundred tuples and ``max``
    calls a search page)."""
    if not ranked:
        return
    span = ranked[0][1] - low
    get = scores.get
    if span <= 0:
        for doc_id, _score in ranked:
            scores[doc_id] = get(doc_id, 0.0) + weight * 0.0
        return
    for doc_id, score in ranked:
        value = (score - low) / span
        # max(0.0, value) as a comparison: 0.0 for a NaN, -0.0 and 0.0 alike, as max gives.
        scores[doc_id] = get(doc_id, 0.0) + weight * (value if value > 0.0 else 0.0)


FUSIONS: dict[str, Fusion] = {
    "rrf": reciprocal_rank_fusion,
    "convex": convex_combination,
    "adaptive": adaptive_fusion,
}


def get_fusion(name: str) -> Fusion:
    """The fusion function called ``name``; an unknown name lists the valid ones."""
    try:
        return FUSIONS[name]
    except KeyError:
        raise ValueError(f"unknown fusion {name!r}; choose one of {', '.join(FUSIONS)}") from None
