"""Paper vectors in the store: which papers need one, saving, paging, stats; both databases."""

from __future__ import annotations

import numpy as np
import pytest

from dailypapers.paper import make_record
from dailypapers.store import Store
from dailypapers.store.papers import paper_stamp, upsert_papers
from dailypapers.store.vectors import (
    count_papers_needing_vectors,
    get_vector,
    iter_vector_pages,
    papers_needing_vectors,
    save_vectors,
    vector_stats,
)

MODEL = "test-model"


def _papers(store: Store, count: int, title: str = "Paper") -> None:
    records = [
        make_record(f"2501.{n:05d}", f"{title} {n}", abstract=f"Abstract {n}.")
        for n in range(count)
    ]
    with store.write() as connection:
        upsert_papers(connection, records)


def _unit_rows(count: int, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).normal(size=(count, 8)).astype(np.float32)
    unit: np.ndarray = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    return unit


def test_needing_saving_and_paging(store: Store) -> None:
    _papers(store, 12)
    with store.read() as connection:
        assert count_papers_needing_vectors(connection, MODEL) == 12
        first = papers_needing_vectors(connection, MODEL, limit=5)
        rest = papers_needing_vectors(connection, MODEL, after=first[-1].id, limit=100)
    assert [p.id for p in first + rest] == [f"2501.{n:05d}" for n in range(12)]
    assert (first[3].title, first[3].abstract) == ("Paper 3", "Abstract 3.")
    vectors = _unit_rows(12)
    with store.write() as connection:
        save_vectors(connection, MODEL, first + rest, vectors)
    with store.read() as connection:
        assert count_papers_needing_vectors(connection, MODEL) == 0
        assert count_papers_needing_vectors(connection, "another-model") == 12
        pages = list(iter_vector_pages(connection, MODEL, page=5))
        stats = vector_stats(connection, MODEL)
        one = get_vector(connection, MODEL, "2501.00004")
        assert get_vector(connection, MODEL, "2501.99999") is None
    assert [len(ids) for ids, _ in pages] == [5, 5, 2]
    ids = [paper_id for page_ids, _ in pages for paper_id in page_ids]
    assert ids == [p.id for p in first + rest]
    matrix = np.concatenate([m for _, m in pages])
    assert matrix.dtype == np.float32 and np.array_equal(matrix, vectors)
    assert one is not None and np.array_equal(one, vectors[4])
    assert stats.count == 12 and stats.newest is not None


def test_changed_paper_needs_a_new_vector_and_replacing_keeps_one_row(store: Store) -> None:
    _papers(store, 3)
    with store.read() as connection:
        pending = papers_needing_vectors(connection, MODEL)
    with store.write() as connection:
        save_vectors(connection, MODEL, pending, _unit_rows(3))
    with store.write() as connection:
        upsert_papers(connection, [make_record("2501.00001", "A new title", abstract="New.")])
    with store.read() as connection:
        changed = papers_needing_vectors(connection, MODEL)
        before = vector_stats(connection, MODEL)
    assert [(p.id, p.title) for p in changed] == [("2501.00001", "A new title")]
    with store.write() as connection:
        save_vectors(connection, MODEL, changed, _unit_rows(1, seed=7))
    with store.read() as connection:
        after = vector_stats(connection, MODEL)
        assert count_papers_needing_vectors(connection, MODEL) == 0
        stored = get_vector(connection, MODEL, "2501.00001")
    assert after.count == before.count == 3
    assert after.newest is not None and before.newest is not None
    assert after.newest >= before.newest
    assert stored is not None and np.array_equal(stored, _unit_rows(1, seed=7)[0])


def test_save_refuses_mismatched_lengths(store: Store) -> None:
    _papers(store, 2)
    with store.read() as connection:
        pending = papers_needing_vectors(connection, MODEL)
    with pytest.raises(ValueError, match="2 papers but 1 vectors"), store.write() as connection:
        save_vectors(connection, MODEL, pending, _unit_rows(1))
    with store.read() as connection:
        assert vector_stats(connection, MODEL).count == 0


def test_votes_and_links_keep_the_vector(store: Store) -> None:
    _papers(store, 2)
    with store.read() as connection:
        pending = papers_needing_vectors(connection, MODEL)
    with store.write() as connection:
        save_vectors(connection, MODEL, pending, _unit_rows(2))
        counts = upsert_papers(
            connection,
            [
                make_record(
                    "2501.00000", "Paper 0", abstract="Abstract 0.", hf_upvotes=42,
                    github_repo="https://github.com/a/b",
                )
            ],
        )  # fmt: skip
    assert counts.updated == 1
    with store.read() as connection:
        assert papers_needing_vectors(connection, MODEL) == []


def test_the_paper_stamp_moves_with_papers_not_with_vectors(store: Store) -> None:
    with store.read() as connection:
        assert paper_stamp(connection) == (0, None)
    _papers(store, 2)
    with store.read() as connection:
        with_papers = paper_stamp(connection)
        pending = papers_needing_vectors(connection, MODEL)
    assert with_papers[0] == 2 and with_papers[1] is not None
    with store.write() as connection:
        save_vectors(connection, MODEL, pending, _unit_rows(2))
    with store.read() as connection:
        assert paper_stamp(connection) == with_papers  # a backlog being embedded moves nothing
    with store.write() as connection:
        upsert_papers(connection, [make_record("2501.00000", "Paper 0, revised")])
    with store.read() as connection:
        assert paper_stamp(connection) != with_papers
