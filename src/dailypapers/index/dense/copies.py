"""The int8 copies of the vectors that the HNSW graph holds and is searched with.

usearch casts a float32 vector to int8 for a cosine graph by scaling the unit vector by 127
and truncating: the values of a 384-dimension unit vector are mostly below 0.1, so its copy
keeps 3 or 4 bits of each (0.2 becomes 25, 0.05 becomes 6, 0.007 becomes 0). Here each
vector is scaled by 127 over its own largest magnitude and rounded, so its largest value is
±127 and every value keeps about 7 bits. Cosine does not see a vector's length, so a
copy's cosines are the float vectors' to about 1e-3; the graph is built and walked with
nearly the float distances at int8's size, and its beam (re-scored exactly in float32
anyway) holds more of the true nearest (BENCHMARKS.md "Dense search, session 18").

A query is scaled the same way (:func:`query_copy`, a handful of numpy calls for one
vector); the graph must be searched with copies made as its rows were (``ann``'s format 2).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Int8 = npt.NDArray[np.int8]
PEAK = 127.0


def row_copies(vectors: npt.NDArray[np.float32]) -> Int8:
    """The int8 copy of each row of ``vectors`` (rows of zeros stay zeros)."""
    matrix = np.asarray(vectors, dtype=np.float32)
    peaks = np.abs(matrix).max(axis=1, keepdims=True) if matrix.size else np.ones((len(matrix), 1))
    scale = PEAK / np.maximum(peaks, np.float32(1e-12))
    return np.rint(matrix * scale).astype(np.int8)


def query_copy(vector: npt.NDArray[np.float32]) -> Int8:
    """The int8 copy of one vector (1-D), as :func:`row_copies` makes it, in fewer calls."""
    peak = max(float(np.abs(vector).max()), 1e-12)
    copy: Int8 = np.rint(vector * np.float32(PEAK / peak)).astype(np.int8)
    return copy
