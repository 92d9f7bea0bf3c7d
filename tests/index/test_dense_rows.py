"""Filters pushed down to the dense index give what filtering its full ranking afterwards
gives (the catalog's own check, ``Entry.allowed_by``, is the reference)."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import numpy as np
import pytest

from dailypapers.index.dense import ann
from dailypapers.index.dense.ann import DenseIndex
from dailypapers.index.dense.rows import RowAttributes
from dailypapers.search.catalog import Entry
from dailypapers.search.query import Filters

COUNT = 2000
CATEGORIES = ("cs.CL", "cs.CV", "cs.LG", "stat.ML", "q-bio.NC")
AUTHORS = ("Ada Lovelace", "Alan Turing", "Grace Hopper", "Émilie du Châtelet", "Kurt Gödel")
FILTERS = [
    Filters(since=date(2025, 3, 1)),
    Filters(until=date(2025, 2, 1)),
    Filters(since=date(2025, 2, 1), until=date(2025, 2, 28)),
    Filters(categories=("cs.CV",)),
    Filters(categories=("cs.CV", "q-bio.NC", "no.such")),
    Filters(has_code=True),
    Filters(has_code=False, categories=("cs.LG",)),
    Filters(author="grace hopper"),
    Filters(author="ÉMILIE DU CHÂTELET", since=date(2025, 1, 15)),
    Filters(categories=("no.such",)),
]


def _papers(ids: list[str], seed: int = 0) -> dict[str, Entry]:
    rng = np.random.default_rng(seed)
    start = date(2025, 1, 1)
    papers = {}
    for paper_id in ids:
        day = None if rng.random() < 0.05 else start + timedelta(days=int(rng.integers(0, 90)))
        categories = tuple(rng.choice(CATEGORIES, size=int(rng.integers(1, 3)), replace=False))
        authors = tuple(rng.choice(AUTHORS, size=int(rng.integers(1, 3)), replace=False))
        has_code = bool(rng.random() < 0.3)
        papers[paper_id] = Entry(paper_id, "t", authors, categories, day, has_code, "t")
    return papers


def _vectors(count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(40, 32))
    rows = centres[rng.integers(0, 40, count)] + 0.4 * rng.normal(size=(count, 32))
    unit: np.ndarray = (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)
    return unit


def _filtered_after(
    index: DenseIndex, papers: dict[str, Entry], query: np.ndarray, filters: Filters, k: int
) -> list[tuple[str, float]]:
    everything = index.search(query, len(index))
    return [hit for hit in everything if papers[hit[0]].allowed_by(filters)][:k]


def test_mask_matches_the_catalog_check() -> None:
    ids = [f"2501.{n:05d}" for n in range(COUNT)]
    papers = _papers(ids)
    rows = RowAttributes(ids, papers)
    for filters in FILTERS:
        expected = [papers[i].allowed_by(filters) for i in ids]
        assert rows.mask(filters).tolist() == expected, filters
    # A row whose paper is unknown never passes a filter.
    assert not RowAttributes(ids, {}).mask(Filters(has_code=False)).any()


@pytest.mark.parametrize("filter_exact", [ann.FILTER_EXACT, 50])
def test_pushed_down_equals_filtered_after(
    filter_exact: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With the threshold at 50 most filters go through the HNSW graph and its mask.
    monkeypatch.setattr(ann, "FILTER_EXACT", filter_exact)
    ids = [f"2501.{n:05d}" for n in range(COUNT)]
    papers = _papers(ids)
    vectors = _vectors(COUNT, seed=1)
    exact = DenseIndex.from_arrays("m", ids, vectors, exact_below=COUNT + 1).with_rows(papers)
    graph = DenseIndex.from_arrays("m", ids, vectors, exact_below=100).with_rows(papers)
    assert exact.graph is None and graph.graph is not None
    recalls = []
    for query, filters in itertools.product(_vectors(8, seed=2), FILTERS):
        truth = _filtered_after(exact, papers, query, filters, 10)
        pushed = exact.search(query, 10, filters)
        # The same papers in the same order; scores equal up to float32 rounding.
        assert [i for i, _ in pushed] == [i for i, _ in truth], filters
        assert [s for _, s in pushed] == pytest.approx([s for _, s in truth], abs=1e-6)
        found = graph.search(query, 10, filters)
        assert all(papers[i].allowed_by(filters) for i, _ in found)
        assert len(found) == len(truth)
        if truth:
            recalls.append(len({i for i, _ in truth} & {i for i, _ in found}) / len(truth))
    assert np.mean(recalls) >= 0.95
