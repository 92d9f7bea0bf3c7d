"""Rows an HNSW graph cannot reach, and how searches still find them.

usearch's HNSW graph leaves a few rows that no search reaches: once no other row links to
one, a search walks past it even from its own vector. Over the 74,737 embedded papers a
build on 2 cores left 12 to 51 such rows, one on a single thread 9 (each vector as the
query, the row not among the 10 found). Such a paper would never be a semantic hit nor
anyone's similar paper.

A build finds them as it finds each row's similar papers (the row's own vector is that
query: a row missing from its own candidates is unreachable, at least at that depth) and
keeps them (``orphans.npy``, see :mod:`~dailypapers.index.dense.ann`); every search then
scores them exactly beside the graph's candidates (a few dozen dot products more), and
each similar-papers list takes one in where it is nearer than the list's last.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Rows = npt.NDArray[np.intp]
NONE: Rows = np.zeros(0, dtype=np.intp)
# Rows of similar lists compared with the orphans at once (a block of cosines in memory).
BLOCK = 4096


def with_orphans(candidates: Rows, orphans: Rows) -> Rows:
    """The graph's ``candidates`` and the ``orphans``, sorted, each once."""
    if not len(orphans):
        return np.sort(candidates)
    return np.union1d(candidates, orphans).astype(np.intp, copy=False)


def missed_self(row: int, found: npt.NDArray[np.intp]) -> bool:
    """Whether a search from ``row``'s own vector, which ``found`` those rows, missed it."""
    return not bool((found == row).any())


def add_to_similar(
    vectors: npt.NDArray[np.float32],
    rows: npt.NDArray[np.int32],
    scores: npt.NDArray[np.float32],
    orphans: Rows,
) -> None:
    """Put each orphan into the similar lists (``rows``, ``scores``: best first, -1 and 0
    where a list is short) of the rows it is nearer to than their last, in place."""
    if not len(orphans):
        return
    kept = rows.shape[1]
    targets = vectors[orphans].T
    for start in range(0, len(rows), BLOCK):
        end = min(start + BLOCK, len(rows))
        cosines = np.asarray(vectors[start:end] @ targets, dtype=np.float32)
        floor = np.where(rows[start:end, -1] < 0, -np.inf, scores[start:end, -1])
        for offset, which in zip(*np.nonzero(cosines > floor[:, None]), strict=True):
            _insert(rows, scores, start + int(offset), int(orphans[which]),
                    float(cosines[offset, which]), kept)  # fmt: skip


def _insert(
    rows: npt.NDArray[np.int32],
    scores: npt.NDArray[np.float32],
    row: int,
    other: int,
    cosine: float,
    kept: int,
) -> None:
    listed = rows[row]
    if other == row or (listed == other).any():
        return
    length = int((listed >= 0).sum())
    # Scores are descending: the new one goes after every score at least as high.
    place = int((scores[row, :length] >= cosine).sum())
    if place >= kept:
        return
    rows[row, place + 1 :] = listed[place : kept - 1].copy()
    scores[row, place + 1 :] = scores[row, place : kept - 1].copy()
    rows[row, place], scores[row, place] = other, cosine
