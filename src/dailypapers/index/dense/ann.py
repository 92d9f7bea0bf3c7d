"""Nearest-neighbour search over the papers' vectors: exact below a size, HNSW above it.

A ``DenseIndex`` holds the ids, the float32 unit vectors (so scores are exact cosines) and,
from ``DAILYPAPERS_DENSE_EXACT_BELOW`` vectors on, a usearch HNSW graph over int8 copies of
them whose candidates are re-scored exactly. On disk it is a folder per build under
``DATA_DIR/index/dense-<model-slug>/``: ``ids.json``, ``vectors.npy``, ``hnsw.usearch`` and
``params.json`` (format version, model, dimensions, count, the files' sizes and SHA-256, when
it was built and from which state of the store). A build is written to a temporary folder,
renamed, and only then named in the ``CURRENT`` file (replaced atomically), so a reader never
sees half an index. ``load_dense_index`` checks everything in ``params.json`` and raises
``DenseIndexError`` on any mismatch. Serving only loads; ``ensure_dense_index`` (run by the
index job, under its writer lock) brings the index up to date with the store: new papers and
re-embedded ones are added to a copy of the current graph and saved as a new build (its
``params.json`` says ``growth``: from which build, how many added and replaced), so a day's
papers cost an ``add`` of their vectors, not a rebuild of the whole graph; a damaged index
or a removed paper means a full build. Filters are pushed down as a mask over the rows
(:mod:`~dailypapers.index.dense.rows`).

A build with a graph also holds each paper's similar papers, found at build time exactly as
:meth:`DenseIndex.similar` finds them (``neighbours.npy``: the rows of each row's
``SIMILAR_KEPT`` nearest, -1 where fewer; ``neighbour_scores.npy``: their cosines), so a
paper's page reads them instead of searching the graph (about 1 ms a page). Every build
writes them anew for all papers, since a new paper can change any paper's neighbours. And
the rows the graph cannot reach (``orphans.npy``), which every search scores beside the
graph's candidates (:mod:`~dailypapers.index.dense.orphans`).

``DenseIndex.from_arrays`` indexes vectors that are not in the store (a BEIR corpus).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from usearch.index import Index

from dailypapers.index.dense import orphans as unreachable
from dailypapers.index.dense.rows import RowAttributes, is_active
from dailypapers.index.filters import Filters, RowInfo
from dailypapers.settings import Settings
from dailypapers.store import Store
from dailypapers.store.vectors import VectorStats, iter_vector_pages, vector_stats

FORMAT_VERSION = 1
GROWTH_KEYS = ("grown_from", "added", "replaced")
CURRENT = "CURRENT"
IDS, VECTORS, HNSW, PARAMS = "ids.json", "vectors.npy", "hnsw.usearch", "params.json"
NEIGHBOURS, NEIGHBOUR_SCORES = "neighbours.npy", "neighbour_scores.npy"
ORPHANS = "orphans.npy"  # the rows the graph cannot reach (see index.dense.orphans)
# int8 copies keep the graph small and candidates are re-scored in float32. Measured on the
# 74,728 papers with short queries (titles, first words of titles): recall@10 against exact
# search was 0.91 with usearch's default expansion_search of 64, 0.95 with 128 and 0.975 with
# 256 (p50 about 1 ms); float16 copies recalled no more at the same setting.
# A search's beam (usearch's expansion_search; the larger of it and the count asked is used).
# Without filters the whole beam is taken as candidates (at least the k wanted) and re-scored
# exactly: as cheap as asking for fewer. 400 candidates at a beam of 256 before: over the 1,000
# queries of ``benchmarks.dense_depth`` on 74,737 papers, fused with the keyword list as the
# engine does, 100 at 100 gave nDCG@10 0.7547 and Recall@100 0.886 for the paper each query
# was made from (400 at 256: 0.7566 and 0.889; exact search 0.7583 and 0.890) at 40% of the
# CPU (BENCHMARKS.md "Search CPU: the retrieval half, session 8").
SEARCH_EXPANSION = 100
HNSW_OPTIONS: dict[str, Any] = {
    "metric": "cos", "dtype": "i8", "connectivity": 16, "expansion_add": 128,
    "expansion_search": SEARCH_EXPANSION,
}  # fmt: skip
# A paper's similar papers (its own vector as the query, a handful wanted) need a far smaller
# search depth: over the 74,737 embedded papers, the top 6 at 64 matched exact search for
# 99.5% of papers (99.9% at 256) at less than half the CPU (0.7 against 1.6 ms; BENCHMARKS.md
# "Web CPU: uncached pages, session 6"). Served from a second view of the same file.
SIMILAR_EXPANSION = 64
# Graphs of fewer rows are built on one thread. usearch's threads racing to link new rows into
# a small graph leave some rows no search reaches: 300 clustered vectors built 30 times on all
# cores (2 here), 24 of their 9,000 self-look-ups missed the row itself even among the 100
# re-scored candidates; on one thread none did, and the graph is the same every build.
ONE_THREAD_BELOW = 20_000
# A graph of this many rows or more gets them grouped by their nearest of GROUP_SEEDS rows
# sampled from it (seeded), group after group, instead of in row order; keys stay the rows.
# usearch gives rows slots in the order they are added, so a search's walk, which stays among
# near vectors, meets rows near each other in memory: over 69,888 of the papers' vectors,
# 8 to 20 % less CPU a search (warm, and with the graph evicted between searches), recall@100
# against exact search 0.8145 against 0.8132 (BENCHMARKS.md "Dense search, session 18"). A
# grown graph appends its new rows at the end; the next full build groups them again.
GROUPED_FROM = ONE_THREAD_BELOW
GROUP_SEEDS = 256
# How many similar papers a build keeps for each paper: the paper page's (web/pages/paper.py).
SIMILAR_KEPT = 6
# The default of DAILYPAPERS_DENSE_EXACT_BELOW: exact search of 20,000 vectors takes ~2 ms.
EXACT_BELOW = 20_000
# Candidates fetched from the graph per result wanted, before exact re-scoring, for a
# filtered search and for similar papers.
OVERSAMPLE = 4
# Rows asked of the graph at once when a build finds every paper's similar papers.
NEIGHBOURS_BATCH = 4096
# With a filter of at most this many papers (or a tenth of the index), scoring them all
# exactly is cheaper and surer than asking the graph for enough neighbours that pass it.
FILTER_EXACT = 20_000

Matrix = npt.NDArray[np.float32]
Hits = list[tuple[str, float]]
log = logging.getLogger(__name__)


class DenseIndexError(Exception):
    """The dense index on disk is missing, unfinished, corrupt or for another model."""


def model_slug(model: str) -> str:
    """A folder-name-safe form of a model name: ``builtin:all-MiniLM-L6-v2#int8`` ->
    ``builtin-all-minilm-l6-v2-int8``."""
    return re.sub(r"[^a-z0-9]+", "-", model.lower()).strip("-") or "model"


def index_root(settings: Settings, model: str) -> Path:
    return settings.data_dir / "index" / f"dense-{model_slug(model)}"


def _build_threads(rows: int) -> int:
    """Threads to add rows to a graph that will hold ``rows``: one for a small graph (see
    ``ONE_THREAD_BELOW``), else every core (usearch's 0)."""
    return 1 if rows < ONE_THREAD_BELOW else 0


def _added_order(matrix: Matrix) -> npt.NDArray[np.intp]:
    """The order a full build adds ``matrix``'s rows to the graph in (see ``GROUPED_FROM``)."""
    if len(matrix) < max(GROUPED_FROM, GROUP_SEEDS):
        return np.arange(len(matrix), dtype=np.intp)
    seeds = matrix[np.random.default_rng(0).choice(len(matrix), GROUP_SEEDS, replace=False)]
    nearest = np.concatenate(
        [
            (matrix[start : start + NEIGHBOURS_BATCH] @ seeds.T).argmax(axis=1)
            for start in range(0, len(matrix), NEIGHBOURS_BATCH)
        ]
    )
    return np.argsort(nearest, kind="stable").astype(np.intp)


def _normalised(vectors: Matrix) -> Matrix:
    matrix = np.asarray(vectors, dtype=np.float32)
    unit: Matrix = matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
    return unit


def _unit(vector: Matrix, dimensions: int) -> Matrix:
    """``vector`` (of ``dimensions`` floats) scaled to unit length, as
    ``vector / np.linalg.norm(vector)`` gives it to the bit, without that function's checks
    (a few Python-level numpy calls, 0.05 ms in a search page): its norm is the square root
    of the float32 dot product, rounded to float32, which the square root in double rounded
    to float32 is exactly (double has more than twice float's precision)."""
    query = np.asarray(vector, dtype=np.float32).reshape(-1)
    if query.shape[0] != dimensions:
        raise ValueError(f"query has {query.shape[0]} dimensions, index {dimensions}")
    norm = float(np.float32(math.sqrt(float(query.dot(query)))))
    unit: Matrix = query / max(norm, 1e-12)
    return unit


def _top(scores: Matrix, k: int) -> npt.NDArray[np.intp]:
    """Positions of the ``k`` highest scores, best first."""
    if k >= len(scores):
        return np.argsort(-scores, kind="stable")
    best = np.argpartition(-scores, k - 1)[:k]
    return best[np.argsort(-scores[best], kind="stable")]


class DenseIndex:
    """Cosine nearest neighbours among ``ids`` (row ``i`` of ``vectors`` is ``ids[i]``)."""

    def __init__(
        self,
        model: str,
        ids: Sequence[str],
        vectors: Matrix,
        graph: Index | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        if vectors.ndim != 2 or len(ids) != vectors.shape[0]:
            raise ValueError(f"{len(ids)} ids for a matrix of shape {vectors.shape}")
        self.model = model
        self.ids = list(ids)
        self.vectors = vectors
        self.graph = graph
        self.params = params  # ``params.json`` of the build it was loaded from, if any
        self.rows: RowAttributes | None = None  # for filters: see :meth:`with_rows`
        # The graph searched for :meth:`similar` (a shallower view of the file, when loaded).
        self.similar_graph = graph
        # Each row's SIMILAR_KEPT nearest rows and their cosines, when the build holds them.
        self.neighbours: tuple[npt.NDArray[np.int32], Matrix] | None = None
        # Of a grown index not yet saved: the rows whose similar papers must be found again.
        self.redo: npt.NDArray[np.intp] | None = None
        # Rows no search of the graph reaches, scored beside its candidates (found by a
        # saved build; none known for an index made in memory, or loaded from a build made
        # before they were kept: ``orphans_known`` False).
        self.orphans = unreachable.NONE
        self.orphans_known = False
        self._orphans_as_set: tuple[npt.NDArray[np.intp], frozenset[int]] | None = None
        self.position = {paper_id: row for row, paper_id in enumerate(self.ids)}

    @property
    def dimensions(self) -> int:
        return int(self.vectors.shape[1])

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_arrays(
        cls,
        model: str,
        ids: Sequence[str],
        vectors: Matrix,
        *,
        exact_below: int = EXACT_BELOW,
        threads: int = 0,
    ) -> DenseIndex:
        """An index in memory; rows are normalised to unit length (they usually are already)."""
        matrix = _normalised(vectors)
        graph = None
        if len(ids) >= max(exact_below, 1):
            graph = Index(ndim=matrix.shape[1], **HNSW_OPTIONS)
            threads = threads or _build_threads(len(ids))
            order = _added_order(matrix)
            graph.add(order.astype(np.uint64), matrix[order], threads=threads)
        return cls(model, ids, matrix, graph)

    def _exact(self, query: Matrix, k: int, rows: npt.NDArray[np.intp] | None) -> Hits:
        found, scores = self._exact_rows(query, k, rows)
        # Whole arrays to Python at once: a numpy scalar per hit cost more than the scoring.
        ids = self.ids
        return list(zip([ids[i] for i in found.tolist()], scores.tolist(), strict=True))

    def _exact_rows(
        self, query: Matrix, k: int, rows: npt.NDArray[np.intp] | None
    ) -> tuple[npt.NDArray[np.intp], Matrix]:
        """The ``k`` best of ``rows`` (all rows for None) by exact cosine, and their scores."""
        if rows is not None and len(rows) == 0:
            return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.float32)
        scores = (self.vectors if rows is None else self.vectors[rows]) @ query
        best = _top(scores, k)
        return (best if rows is None else rows[best]), scores[best]

    def _beam(self, query: Matrix, k: int) -> Hits:
        """An unfiltered search: the graph's whole beam and the orphans, re-scored exactly.

        :meth:`_exact` over ``with_orphans(_graph(...))``, the same hits to the bit, with the
        ~115 rows as a Python list: in a search page numpy's code is cold (other work ran
        between two searches), where each numpy call cost 20 to 60 µs, the union of the beam
        and the orphans (``np.union1d``) 0.05 to 0.07 ms a search, against a set and a sort
        of 115 ints in Python (BENCHMARKS.md "Search page trims, session 14")."""
        assert self.graph is not None
        found = self.graph.search(query, count=min(max(k, SEARCH_EXPANSION), len(self.ids)))
        rows = sorted(self._orphan_rows.union(found.keys.tolist()))
        scores = self.vectors[rows] @ query
        best = _top(scores, k)
        ids = self.ids
        return list(zip([ids[rows[i]] for i in best.tolist()], scores[best].tolist(), strict=True))

    @property
    def _orphan_rows(self) -> frozenset[int]:
        """The orphans as Python ints (a set made again when ``orphans`` is replaced)."""
        orphans = self.orphans
        kept = self._orphans_as_set
        if kept is None or kept[0] is not orphans:
            kept = self._orphans_as_set = (orphans, frozenset(orphans.tolist()))
        return kept[1]

    def _graph(self, query: Matrix, count: int, graph: Index | None = None) -> npt.NDArray[np.intp]:
        graph = graph if graph is not None else self.graph
        assert graph is not None
        found = graph.search(query, count=min(count, len(self.ids)))
        return np.asarray(found.keys, dtype=np.intp)

    def with_rows(self, papers: Mapping[str, RowInfo]) -> DenseIndex:
        """Attach the per-row attributes that filters are pushed down to; returns ``self``."""
        self.rows = RowAttributes(self.ids, papers)
        return self

    def search(self, query_vector: Matrix, k: int, filters: Filters | None = None) -> Hits:
        """The ``k`` nearest papers (passing ``filters``, if any) as (id, cosine), best first.

        Filters need the row attributes (:meth:`with_rows`). A filter that leaves few rows
        is searched exactly over them; a looser one asks the graph for enough neighbours
        that about ``k * OVERSAMPLE`` pass, and falls back to exact search if too few do.
        Without filters the graph gives its whole beam (``SEARCH_EXPANSION``, at least ``k``).
        """
        if k <= 0 or not self.ids:
            return []
        query = _unit(query_vector, self.dimensions)
        if not is_active(filters):
            if self.graph is None:
                return self._exact(query, k, None)
            return self._beam(query, k)
        assert filters is not None
        if self.rows is None:
            raise ValueError("filtered dense search needs the rows' attributes (with_rows)")
        mask = self.rows.mask(filters)
        passing = int(mask.sum())
        if self.graph is None or passing <= max(FILTER_EXACT, len(self.ids) // 10):
            return self._exact(query, k, np.flatnonzero(mask))
        # Ask for enough neighbours that about ``k * OVERSAMPLE`` pass the mask.
        candidates = self._graph(query, math.ceil(k * OVERSAMPLE * len(self.ids) / passing))
        keep = candidates[mask[candidates]]
        if len(keep) < k:
            return self._exact(query, k, np.flatnonzero(mask))
        orphans = self.orphans[mask[self.orphans]]
        return self._exact(query, k, unreachable.with_orphans(keep, orphans))

    def vector(self, paper_id: str) -> Matrix | None:
        """The unit vector stored for ``paper_id`` (read-only), or None if it has none."""
        row = self.position.get(paper_id)
        if row is None:
            return None
        vector: Matrix = self.vectors[row]  # a view: the matrix is not written once built
        vector.flags.writeable = False
        return vector

    def similar(self, paper_id: str, k: int) -> Hits:
        """The ``k`` papers nearest to ``paper_id`` (never itself); [] if it has no vector."""
        row = self.position.get(paper_id)
        if row is None or k <= 0:
            return []
        if k == SIMILAR_KEPT and self.neighbours is not None:
            rows, scores = self.neighbours
            ids = self.ids
            kept = zip(rows[row].tolist(), scores[row].tolist(), strict=True)
            return [(ids[other], score) for other, score in kept if other >= 0]
        query = np.asarray(self.vectors[row], dtype=np.float32)  # a unit vector already
        if self.similar_graph is None:
            hits = self._exact(query, k + 1, None)
        else:
            candidates = self._graph(query, (k + 1) * OVERSAMPLE, self.similar_graph)
            hits = self._exact(query, k + 1, unreachable.with_orphans(candidates, self.orphans))
        return [(other, score) for other, score in hits if other != paper_id][:k]


def similar_rows(
    index: DenseIndex,
    graph: Index,
    k: int = SIMILAR_KEPT,
    *,
    only: npt.NDArray[np.intp] | None = None,
    threads: int = 0,
) -> tuple[npt.NDArray[np.int32], Matrix, npt.NDArray[np.intp]]:
    """Every row's ``k`` similar rows (-1 where fewer) and cosines, as :meth:`DenseIndex.similar`
    finds them over ``graph`` (asked for many rows at once, on ``threads``), and the rows
    the graph did not find from their own vector. With ``only``, just those rows are found
    again; the others are kept from ``index.neighbours``."""
    count = len(index)
    if only is None or index.neighbours is None:
        only = np.arange(count, dtype=np.intp)
        rows = np.full((count, k), -1, dtype=np.int32)
        scores = np.zeros((count, k), dtype=np.float32)
    else:
        rows = np.array(index.neighbours[0], dtype=np.int32)
        scores = np.array(index.neighbours[1], dtype=np.float32)
    wanted = min((k + 1) * OVERSAMPLE, count)
    missed: list[int] = []
    for start in range(0, len(only), NEIGHBOURS_BATCH):
        batch = only[start : start + NEIGHBOURS_BATCH]
        queries = np.asarray(index.vectors[batch], dtype=np.float32)
        found = graph.search(queries, count=wanted, threads=threads)
        keys = np.asarray(found.keys, dtype=np.intp).reshape(len(queries), -1)
        # One query's matches (a batch of one) have no counts: all of its keys are found.
        counts = np.asarray(getattr(found, "counts", [keys.shape[1]])).reshape(-1)
        for offset, row in enumerate(batch.tolist()):
            candidates = np.sort(keys[offset, : counts[offset]])
            if unreachable.missed_self(row, candidates):
                missed.append(row)
            best, cosines = index._exact_rows(queries[offset], k + 1, candidates)
            others = best != row
            best, cosines = best[others][:k], cosines[others][:k]
            rows[row] = -1
            rows[row, : len(best)] = best
            scores[row] = 0
            scores[row, : len(best)] = cosines
    return rows, scores, np.array(missed, dtype=np.intp)


def _rows_to_redo(
    old: DenseIndex, matrix: Matrix, changed: npt.NDArray[np.intp]
) -> npt.NDArray[np.intp] | None:
    """After ``old`` grew to ``matrix`` (its rows ``changed`` re-embedded, new rows at the
    end), the rows whose similar papers may differ: the changed and new ones, those that
    listed a changed one, and those a changed or new vector is nearer to than their last
    kept neighbour (or that kept fewer than SIMILAR_KEPT). None: every row (no old ones)."""
    if old.neighbours is None:
        return None
    kept_rows, kept_scores = (np.asarray(part) for part in old.neighbours)
    moved = np.concatenate([changed, np.arange(len(old), len(matrix))]).astype(np.intp)
    redo = np.zeros(len(matrix), dtype=bool)
    redo[moved] = True
    redo[: len(old)] |= np.isin(kept_rows, changed).any(axis=1) | (kept_rows < 0).any(axis=1)
    floor = kept_scores[:, -1]
    for start in range(0, len(old), NEIGHBOURS_BATCH):
        end = min(start + NEIGHBOURS_BATCH, len(old))
        nearest = (matrix[start:end] @ matrix[moved].T).max(axis=1, initial=-np.inf)
        redo[start:end] |= nearest >= floor[start:end]
    return np.flatnonzero(redo)


def _write_neighbours(index: DenseIndex, folder: Path) -> list[str]:
    """Write each row's similar rows beside the graph (saved in ``folder`` already), found
    over the same shallow view of the file that :func:`load_dense_index` searches; a grown
    index finds again only the rows its growth may have changed (``index.redo``)."""
    graph = Index.restore(str(folder / HNSW), view=True, expansion_search=SIMILAR_EXPANSION)
    if graph is None:
        raise DenseIndexError(f"{folder / HNSW}: not a usearch index")
    rows, scores, missed = similar_rows(index, graph, only=index.redo)
    # A grown index keeps the orphans it had among the rows it did not look at again.
    kept = unreachable.NONE if index.redo is None else np.setdiff1d(index.orphans, index.redo)
    orphans = np.union1d(missed, kept).astype(np.intp)
    unreachable.add_to_similar(np.asarray(index.vectors), rows, scores, orphans)
    np.save(folder / NEIGHBOURS, rows, allow_pickle=False)
    np.save(folder / NEIGHBOUR_SCORES, scores, allow_pickle=False)
    np.save(folder / ORPHANS, orphans.astype(np.int64), allow_pickle=False)
    index.neighbours, index.redo, index.orphans = (rows, scores), None, orphans
    index.orphans_known = True
    if len(orphans):
        log.info("dense index: %d of %d rows unreachable in the graph", len(orphans), len(index))
    return [NEIGHBOURS, NEIGHBOUR_SCORES, ORPHANS]


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _write_files(index: DenseIndex, folder: Path, source: VectorStats | None) -> None:
    (folder / IDS).write_text(json.dumps(index.ids))
    np.save(folder / VECTORS, np.ascontiguousarray(index.vectors), allow_pickle=False)
    names = [IDS, VECTORS]
    if index.graph is not None:
        index.graph.save(str(folder / HNSW))
        names.append(HNSW)
        names += _write_neighbours(index, folder)
    params = {
        "format": FORMAT_VERSION,
        "model": index.model,
        "dimensions": index.dimensions,
        "count": len(index),
        "kind": "exact" if index.graph is None else "hnsw",
        "hnsw": HNSW_OPTIONS if index.graph is not None else None,
        "files": {
            name: {"bytes": (folder / name).stat().st_size, "sha256": _sha256(folder / name)}
            for name in names
        },
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        # Set when the build grew from the previous one (see ``_grown``) rather than anew.
        "growth": {key: (index.params or {}).get(key) for key in GROWTH_KEYS}
        if index.params is not None and "grown_from" in index.params
        else None,
        "source": None
        if source is None
        else {"count": source.count, "newest": source.newest and source.newest.isoformat()},
    }
    (folder / PARAMS).write_text(json.dumps(params, indent=2) + "\n")
    for name in [*names, PARAMS]:
        _fsync(folder / name)


def _builds(root: Path) -> list[Path]:
    return sorted(path for path in root.glob("build-*") if path.is_dir())


def save_dense_index(index: DenseIndex, root: Path, source: VectorStats | None = None) -> Path:
    """Write ``index`` as a new build under ``root`` and make it the current one.

    Keeps the build it replaces (a reader may have just read ``CURRENT``) and deletes older.
    """
    root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
    try:
        _write_files(index, scratch, source)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        build = root / f"build-{stamp}-{secrets.token_hex(3)}"
        scratch.rename(build)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    pointer = root / f".{CURRENT}.{secrets.token_hex(4)}"
    pointer.write_text(build.name + "\n")
    _fsync(pointer)
    os.replace(pointer, root / CURRENT)
    for old in _builds(root)[:-2]:
        if old != build:
            shutil.rmtree(old, ignore_errors=True)
    return build


def read_params(root: Path) -> tuple[Path, dict[str, Any]]:
    """The current build folder and its ``params.json``, or ``DenseIndexError``."""
    try:
        build = root / (root / CURRENT).read_text().strip()
        params = json.loads((build / PARAMS).read_text())
    except (OSError, ValueError) as error:
        raise DenseIndexError(f"no usable dense index in {root}: {error}") from error
    if not isinstance(params, dict) or params.get("format") != FORMAT_VERSION:
        raise DenseIndexError(f"{build}: format is not {FORMAT_VERSION}")
    return build, params


def _check_files(build: Path, files: dict[str, Any]) -> None:
    for name, expected in files.items():
        path = build / name
        if not path.is_file() or path.stat().st_size != expected["bytes"]:
            raise DenseIndexError(f"{path}: missing or not {expected['bytes']} bytes")
        if _sha256(path) != expected["sha256"]:
            raise DenseIndexError(f"{path}: checksum does not match params.json")


def load_dense_index(root: Path, *, model: str, dimensions: int) -> DenseIndex:
    """The current build under ``root``, checked whole; ``DenseIndexError`` if unusable."""
    build, params = read_params(root)
    if params.get("model") != model or params.get("dimensions") != dimensions:
        raise DenseIndexError(
            f"{build}: built for {params.get('model')} ({params.get('dimensions')} dimensions),"
            f" not {model} ({dimensions})"
        )
    try:
        _check_files(build, params["files"])
        ids = json.loads((build / IDS).read_text())
        # A plain array over the mapped file: a memmap's rows pass through its Python-level
        # __getitem__ and __array_finalize__ at every search.
        vectors = np.load(build / VECTORS, mmap_mode="r", allow_pickle=False).view(np.ndarray)
        graph = None
        if HNSW in params["files"]:
            # expansion_search is a search setting, not kept in the file.
            graph = Index.restore(str(build / HNSW), view=True, expansion_search=SEARCH_EXPANSION)
            if graph is None:
                raise DenseIndexError(f"{build / HNSW}: not a usearch index")
    except DenseIndexError:
        raise
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as error:
        raise DenseIndexError(f"{build}: {error}") from error
    count = params["count"]
    if len(ids) != count or vectors.shape != (count, dimensions) or vectors.dtype != np.float32:
        raise DenseIndexError(f"{build}: ids or vectors do not match count {count}")
    if graph is not None and (graph.size != count or graph.ndim != dimensions):
        raise DenseIndexError(f"{build}: HNSW graph does not match count {count}")
    index = DenseIndex(model, ids, vectors, graph, {**params, "build": build.name})
    if graph is not None:  # memory-mapped like the first: the same pages, a shallower search
        path = str(build / HNSW)
        index.similar_graph = Index.restore(path, view=True, expansion_search=SIMILAR_EXPANSION)
    if NEIGHBOURS in params["files"]:
        index.neighbours = _load_neighbours(build, count)
    if ORPHANS in params["files"]:  # builds before orphans were kept have none
        index.orphans, index.orphans_known = _load_orphans(build, count), True
    return index


def _load_neighbours(build: Path, count: int) -> tuple[npt.NDArray[np.int32], Matrix]:
    rows = np.load(build / NEIGHBOURS, mmap_mode="r", allow_pickle=False)
    scores = np.load(build / NEIGHBOUR_SCORES, mmap_mode="r", allow_pickle=False)
    shape = (count, SIMILAR_KEPT)
    if rows.shape != shape or scores.shape != shape or rows.dtype != np.int32:
        raise DenseIndexError(f"{build}: similar papers do not match count {count}")
    return rows, scores


def _load_orphans(build: Path, count: int) -> npt.NDArray[np.intp]:
    rows = np.load(build / ORPHANS, allow_pickle=False)
    if (
        rows.ndim != 1
        or rows.dtype != np.int64
        or (len(rows) and not 0 <= rows.min() <= rows.max() < count)
    ):
        raise DenseIndexError(f"{build}: unreachable rows do not match count {count}")
    return np.asarray(rows, dtype=np.intp)


def _read_store(store: Store, model: str) -> tuple[list[str], Matrix, VectorStats]:
    """All vectors of ``model`` and the state they were read in, from one snapshot."""
    ids: list[str] = []
    pages: list[Matrix] = []
    with store.read() as connection:
        stats = vector_stats(connection, model)
        for page_ids, matrix in iter_vector_pages(connection, model):
            ids += page_ids
            pages.append(matrix)
    return ids, _stack(pages), stats


def _stack(pages: Iterable[Matrix]) -> Matrix:
    listed = list(pages)
    if not listed:
        return np.zeros((0, 0), dtype=np.float32)
    return np.concatenate(listed).astype(np.float32, copy=False)


def _grown(old: DenseIndex, ids: list[str], vectors: Matrix) -> DenseIndex | None:
    """``old`` with the store's new and re-embedded papers, or None if a paper went.

    The daily case (new papers, a few re-embedded after an arXiv replacement) then changes
    only those vectors in the HNSW graph instead of building it anew: a re-embedded paper
    keeps its row (its graph key) and gets its new vector, new papers go at the end.
    """
    if old.graph is None or len(ids) < len(old):
        return None
    rows = np.fromiter((old.position.get(i, -1) for i in ids), dtype=np.intp, count=len(ids))
    is_old = rows >= 0
    if int(is_old.sum()) != len(old):
        return None  # some paper went
    matrix = np.concatenate([old.vectors, vectors[~is_old]])
    # A re-embedded paper moves far more than float rounding (cosine 0.99 is 1e-2 per value).
    moved = ~np.isclose(matrix[rows[is_old]], vectors[is_old], rtol=0, atol=1e-6).all(axis=1)
    changed = rows[is_old][moved]
    matrix[changed] = vectors[is_old][moved]
    graph = old.graph.copy()
    for key in changed:
        graph.remove(int(key))
    keys = np.concatenate([changed, np.arange(len(old), len(matrix))]).astype(np.uint64)
    if len(keys):
        graph.add(keys, matrix[keys.astype(np.intp)], threads=_build_threads(len(matrix)))
    new_ids = [paper_id for paper_id, keep in zip(ids, is_old, strict=True) if not keep]
    params = {"grown_from": _build_name(old), "added": len(new_ids), "replaced": len(changed)}
    grown = DenseIndex(old.model, old.ids + new_ids, matrix, graph, params)
    redo = _rows_to_redo(old, matrix, changed)
    if redo is not None and old.neighbours is not None:
        kept_rows, kept_scores = (np.asarray(part) for part in old.neighbours)
        extra = len(matrix) - len(old)
        grown.neighbours = (
            np.concatenate([kept_rows, np.full((extra, SIMILAR_KEPT), -1, dtype=np.int32)]),
            np.concatenate([kept_scores, np.zeros((extra, SIMILAR_KEPT), dtype=np.float32)]),
        )
        # The old orphans' rows stay theirs (looked at again if redone); unknown ones mean
        # every row's similar papers are found again, and its orphans with them.
        grown.redo = redo if old.orphans_known else None
        grown.orphans = old.orphans
    return grown


def _build_name(index: DenseIndex) -> str | None:
    return None if index.params is None else index.params.get("build")


def build_dense_index(
    store: Store,
    model: str,
    root: Path,
    *,
    exact_below: int,
    dimensions: int,
    previous: DenseIndex | None = None,
) -> DenseIndex:
    """Build the index of ``model``'s vectors in the store, save it under ``root``, return it.

    With ``previous`` (the index being replaced) only added papers are indexed, when that is
    all that changed.
    """
    ids, vectors, stats = _read_store(store, model)
    if not ids:
        vectors = np.zeros((0, dimensions), dtype=np.float32)
    index = _grown(previous, ids, _normalised(vectors)) if previous is not None else None
    if index is None:
        index = DenseIndex.from_arrays(model, ids, vectors, exact_below=exact_below)
    build = save_dense_index(index, root, stats)
    index.params = {**json.loads((build / PARAMS).read_text()), "build": build.name}
    return index


def _is_current(params: dict[str, Any], stats: VectorStats) -> bool:
    """Whether a build holds the store's vectors (and, with a graph, the similar papers and
    the unreachable rows, which builds before them lack: such a build is grown again,
    unchanged, to get them)."""
    newest = stats.newest.isoformat() if stats.newest else None
    files = params.get("files", {})
    if params.get("kind") == "hnsw" and (NEIGHBOURS not in files or ORPHANS not in files):
        return False
    return params.get("source") == {"count": stats.count, "newest": newest}


def ensure_dense_index(store: Store, settings: Settings, model: str, dimensions: int) -> DenseIndex:
    """The dense index of ``model``, rebuilt first if missing, corrupt or behind the store."""
    root = index_root(settings, model)
    with store.read() as connection:
        stats = vector_stats(connection, model)
    previous = None
    try:
        previous = load_dense_index(root, model=model, dimensions=dimensions)
        if previous.params is not None and _is_current(previous.params, stats):
            return previous
        log.info("dense index %s is behind the store; updating it", root)
    except DenseIndexError as error:
        # A first build is routine; a damaged or foreign index is worth a warning.
        first = not (root / CURRENT).exists()
        log.log(logging.INFO if first else logging.WARNING, "building the dense index: %s", error)
    return build_dense_index(
        store,
        model,
        root,
        exact_below=settings.dense_exact_below,
        dimensions=dimensions,
        previous=previous,
    )
