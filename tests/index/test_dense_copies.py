"""The graph's int8 copies: one vector's copy is its row's, and copies keep the cosines."""

from __future__ import annotations

import numpy as np

from dailypapers.index.dense.copies import query_copy, row_copies


def _vectors(count: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rows = rng.normal(size=(count, 384)) * rng.choice([1e-6, 0.05, 1.0, 30.0], size=(count, 1))
    vectors: np.ndarray = rows.astype(np.float32)
    return vectors


def test_a_query_is_copied_as_a_row_is() -> None:
    vectors = _vectors(1000)
    vectors[7] = 0.0
    rows = row_copies(vectors)
    assert rows.dtype == np.int8 and not rows[7].any()
    for vector, row in zip(vectors, rows, strict=True):
        assert query_copy(vector).tobytes() == row.tobytes()


def test_each_copy_fills_the_int8_range_and_keeps_the_cosines() -> None:
    vectors = _vectors(400, seed=1)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    rows = row_copies(vectors)
    assert (np.abs(rows.astype(np.int16)).max(axis=1) == 127).all()
    copied = rows.astype(np.float32)
    copied /= np.linalg.norm(copied, axis=1, keepdims=True)
    # usearch's own cast (x 127, truncated) of these unit vectors is off by up to 0.023.
    assert float(np.abs(copied @ copied.T - vectors @ vectors.T).max()) < 0.01
