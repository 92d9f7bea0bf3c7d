"""Fusing ranked lists: pure functions, chosen by name (see :data:`FUSIONS`).

Each takes ranked lists of ``(doc_id, score)`` (best first), one per retriever, and weights
for them, and returns one fused list, best first. Nothing here knows about papers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

Ranked = Sequence[tuple[str, float]]
Fusion = Callable[[Sequence[Ranked], Sequence[float]], list[tuple[str, float]]]

RRF_K = 60


def _sorted(scores: dict[str, float]) -> list[tuple[str, float]]:
    # Ties broken by id so that results are deterministic.
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


def reciprocal_rank_fusion(
    lists: Sequence[Ranked], weights: Sequence[float], k: int = RRF_K
) -> list[tuple[str, float]]:
    """Reciprocal rank fusion (Cormack, Clarke and Büttcher, SIGIR 2009).

    ``score(d) = sum_i w_i / (k + rank_i(d))`` with ``rank_i(d)`` the 1-based rank of ``d`` in
    list ``i`` (a list that lacks ``d`` adds nothing). ``k = 60`` as in the paper. Only ranks
    matter, so retrievers with incomparable scores (BM25, cosine) fuse without calibration.
    """
    scores: dict[str, float] = {}
    for ranked, weight in zip(lists, weights, strict=True):
        for rank, (doc_id, _score) in enumerate(ranked, start=1):
            scores[doc_id] = scores.get(doc_id, 0.0) + weight / (k + rank)
    return _sorted(scores)


def convex_combination(
    lists: Sequence[Ranked], weights: Sequence[float]
) -> list[tuple[str, float]]:
    """Convex combination of min-max normalised scores (Bruch, Gai and Ingber, TOIS 2023).

    ``score(d) = sum_i w_i * (s_i(d) - min_i) / (max_i - min_i)``, with ``min_i``/``max_i``
    taken over list ``i`` and a document missing from list ``i`` counted as ``min_i`` (0).
    """
    scores: dict[str, float] = {}
    for ranked, weight in zip(lists, weights, strict=True):
        if not ranked:
            continue
        values = [score for _doc, score in ranked]
        low, span = min(values), (max(values) - min(values)) or 1.0
        for doc_id, score in ranked:
            scores[doc_id] = scores.get(doc_id, 0.0) + weight * (score - low) / span
    return _sorted(scores)


FUSIONS: dict[str, Fusion] = {
    "rrf": reciprocal_rank_fusion,
    "convex": convex_combination,
}


def get_fusion(name: str) -> Fusion:
    """The fusion function called ``name``; an unknown name lists the valid ones."""
    try:
        return FUSIONS[name]
    except KeyError:
        raise ValueError(f"unknown fusion {name!r}; choose one of {', '.join(FUSIONS)}") from None
