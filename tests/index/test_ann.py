"""The dense index: exact and HNSW agree, filters, similar papers, atomic files, and an index
that is missing, corrupt, truncated or for another model is detected and rebuilt, never served.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from dailypapers.index.dense import ann, orphans
from dailypapers.index.dense.ann import (
    CURRENT,
    HNSW,
    PARAMS,
    VECTORS,
    DenseIndex,
    DenseIndexError,
    ensure_dense_index,
    index_root,
    load_dense_index,
    model_slug,
    save_dense_index,
)
from dailypapers.paper import make_record
from dailypapers.search.query import Filters
from dailypapers.settings import Settings
from dailypapers.store import Store
from dailypapers.store.papers import upsert_papers
from dailypapers.store.vectors import iter_vector_pages, papers_needing_vectors, save_vectors

MODEL = "test-model"


def _clustered(count: int, dims: int = 32, seed: int = 0) -> np.ndarray:
    """Unit vectors around 50 centres, so neighbours are meaningful (as real embeddings)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(50, dims))
    rows = centres[rng.integers(0, 50, count)] + 0.3 * rng.normal(size=(count, dims))
    unit: np.ndarray = (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)
    return unit


def _ids(count: int) -> list[str]:
    return [f"2501.{n:05d}" for n in range(count)]


def test_hnsw_agrees_with_exact_search() -> None:
    vectors = _clustered(3000)
    exact = DenseIndex.from_arrays(MODEL, _ids(3000), vectors, exact_below=10_000)
    hnsw = DenseIndex.from_arrays(MODEL, _ids(3000), vectors, exact_below=1000)
    assert exact.graph is None and hnsw.graph is not None
    queries = _clustered(50, seed=1)
    recall = []
    for query in queries:
        truth = exact.search(query, 10)
        found = hnsw.search(query, 10)
        assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)
        recall.append(len({i for i, _ in truth} & {i for i, _ in found}) / 10)
        # Scores are exact cosines, whichever way a hit was found.
        for paper_id, score in found:
            row = int(paper_id.split(".")[1])
            assert score == pytest.approx(float(vectors[row] @ query), abs=1e-5)
    assert np.mean(recall) >= 0.95


@dataclass(frozen=True)
class Row:
    """A paper as the dense filters see it; only ``has_code`` varies in these tests."""

    has_code: bool
    day: date | None = None
    categories: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()


@pytest.mark.parametrize("exact_below", [10_000, 1000])
def test_filters_and_similar(exact_below: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # Small filters are searched exactly, big ones through the graph: test both ways.
    monkeypatch.setattr(ann, "FILTER_EXACT", 100)
    vectors = _clustered(3000)
    index = DenseIndex.from_arrays(MODEL, _ids(3000), vectors, exact_below=exact_below)
    query = vectors[17]
    with_code = Filters(has_code=True)
    for allowed in ({"2501.00005", "2501.02999"}, set(_ids(3000)[::2])):
        index.with_rows({i: Row(i in allowed) for i in index.ids})
        hits = index.search(query, 10, with_code)
        assert hits and {paper_id for paper_id, _ in hits} <= allowed
        expected = sorted(
            ((float(vectors[int(i[5:])] @ query), i) for i in allowed if i in index.position),
            reverse=True,
        )[: len(hits)]
        assert [i for _, i in expected][:3] == [i for i, _ in hits][:3]
    index.with_rows({})  # no paper known: nothing passes a filter
    assert index.search(query, 10, with_code) == []
    assert len(index.search(query, 10, Filters())) == 10  # an empty filter is no filter
    similar = index.similar("2501.00017", 5)
    assert len(similar) == 5 and "2501.00017" not in {i for i, _ in similar}
    assert similar[0][1] >= similar[-1][1]
    assert index.similar("0000.00000", 5) == []


def test_filters_need_the_rows() -> None:
    index = DenseIndex.from_arrays(MODEL, _ids(10), _clustered(10))
    with pytest.raises(ValueError, match="with_rows"):
        index.search(_clustered(1)[0], 3, Filters(has_code=True))


def test_small_and_empty_indexes() -> None:
    vectors = _clustered(3)
    index = DenseIndex.from_arrays(
        MODEL, _ids(3), (vectors * 3).astype(np.float32)
    )  # rows are normalised
    hits = index.search(vectors[0], 10)
    assert len(hits) == 3 and hits[0][0] == "2501.00000"
    assert hits[0][1] == pytest.approx(1.0, abs=1e-5)
    empty = DenseIndex.from_arrays(MODEL, [], np.zeros((0, 32), dtype=np.float32))
    assert empty.search(vectors[0], 10) == [] and empty.similar("2501.00000", 3) == []
    with pytest.raises(ValueError, match="dimensions"):
        index.search(np.ones(5, dtype=np.float32), 3)


@pytest.mark.parametrize("exact_below", [10_000, 100])
def test_save_and_load_round_trip(tmp_path: Path, exact_below: int) -> None:
    vectors = _clustered(500)
    index = DenseIndex.from_arrays(MODEL, _ids(500), vectors, exact_below=exact_below)
    root = tmp_path / f"dense-{model_slug(MODEL)}"
    save_dense_index(index, root)
    loaded = load_dense_index(root, model=MODEL, dimensions=32)
    assert loaded.ids == index.ids and np.array_equal(loaded.vectors, index.vectors)
    assert (loaded.graph is None) == (index.graph is None)
    assert loaded.search(vectors[3], 5) == index.search(vectors[3], 5)
    params = json.loads((root / (root / CURRENT).read_text().strip() / PARAMS).read_text())
    assert (params["format"], params["model"], params["count"]) == (1, MODEL, 500)
    assert set(params["files"]) >= {"ids.json", VECTORS}
    # Later builds replace it; the one before stays (a reader may be opening it), older go.
    for _ in range(3):
        save_dense_index(index, root)
    assert len(list(root.glob("build-*"))) == 2
    assert not list(root.glob(".tmp-*"))


def _damage_and_expect(root: Path, damage: str) -> None:
    build = root / (root / CURRENT).read_text().strip()
    if damage == "flip a byte":
        data = bytearray((build / VECTORS).read_bytes())
        data[-7] ^= 0xFF
        (build / VECTORS).write_bytes(bytes(data))
    elif damage == "truncate":
        whole = (build / HNSW).read_bytes()
        (build / HNSW).write_bytes(whole[: len(whole) // 2])
    elif damage == "delete a file":
        (build / VECTORS).unlink()
    elif damage == "bad params":
        (build / PARAMS).write_text("{not json")
    elif damage == "no current":
        (root / CURRENT).unlink()
    with pytest.raises(DenseIndexError):
        load_dense_index(root, model=MODEL, dimensions=32)


@pytest.mark.parametrize(
    "damage", ["flip a byte", "truncate", "delete a file", "bad params", "no current"]
)
def test_damaged_index_is_detected(tmp_path: Path, damage: str) -> None:
    root = tmp_path / "dense"
    vectors = _clustered(300)
    save_dense_index(DenseIndex.from_arrays(MODEL, _ids(300), vectors, exact_below=100), root)
    _damage_and_expect(root, damage)


def test_wrong_model_or_dimensions_or_missing(tmp_path: Path) -> None:
    root = tmp_path / "dense"
    with pytest.raises(DenseIndexError, match="no usable dense index"):
        load_dense_index(root, model=MODEL, dimensions=32)
    save_dense_index(DenseIndex.from_arrays(MODEL, _ids(10), _clustered(10)), root)
    with pytest.raises(DenseIndexError, match="built for test-model"):
        load_dense_index(root, model="other", dimensions=32)
    with pytest.raises(DenseIndexError, match="32 dimensions"):
        load_dense_index(root, model=MODEL, dimensions=384)


def test_unfinished_build_is_never_seen(tmp_path: Path) -> None:
    root = tmp_path / "dense"
    save_dense_index(DenseIndex.from_arrays(MODEL, _ids(10), _clustered(10)), root)
    # A writer killed half-way leaves a temporary folder and no new CURRENT.
    (root / ".tmp-killed").mkdir()
    (root / ".tmp-killed" / VECTORS).write_bytes(b"\x93NUMPY half")
    assert len(load_dense_index(root, model=MODEL, dimensions=32)) == 10


def _store_with_vectors(store: Store, count: int, seed: int = 0) -> np.ndarray:
    records = [make_record(i, f"Paper {i}", abstract="A.") for i in _ids(count)]
    with store.write() as connection:
        upsert_papers(connection, records)
    with store.read() as connection:
        pending = papers_needing_vectors(connection, MODEL, limit=count)
    vectors = _clustered(count, seed=seed)
    with store.write() as connection:
        save_vectors(connection, MODEL, pending, vectors)
    return vectors


def test_ensure_builds_reuses_refreshes_and_repairs(store: Store, settings: Settings) -> None:
    settings = settings.model_copy(update={"dense_exact_below": 100})
    vectors = _store_with_vectors(store, 300)
    root = index_root(settings, MODEL)
    first = ensure_dense_index(store, settings, MODEL, 32)
    assert len(first) == 300 and first.graph is not None
    assert first.search(vectors[5], 1)[0][0] == "2501.00005"
    builds = sorted(root.glob("build-*"))
    again = ensure_dense_index(store, settings, MODEL, 32)
    assert sorted(root.glob("build-*")) == builds, "an up-to-date index is reused"
    assert again.ids == first.ids
    # New vectors in the store: the index is behind and is rebuilt with them.
    with store.write() as connection:
        upsert_papers(connection, [make_record("2412.00001", "New", abstract="B.")])
    with store.read() as connection:
        pending = papers_needing_vectors(connection, MODEL)
    with store.write() as connection:
        save_vectors(connection, MODEL, pending, _clustered(1, seed=9))
    newer = ensure_dense_index(store, settings, MODEL, 32)
    assert len(newer) == 301 and newer.ids[-1] == "2412.00001", "added at the end"
    assert newer.search(_clustered(1, seed=9)[0], 1)[0][0] == "2412.00001"
    assert newer.ids == load_dense_index(root, model=MODEL, dimensions=32).ids
    # A re-embedded paper changes a vector the graph holds: it keeps its row, gets the vector.
    with store.write() as connection:
        upsert_papers(connection, [make_record("2501.00007", "Changed", abstract="C.")])
    with store.read() as connection:
        pending = papers_needing_vectors(connection, MODEL)
    with store.write() as connection:
        save_vectors(connection, MODEL, pending, _clustered(1, seed=11))
    rebuilt = ensure_dense_index(store, settings, MODEL, 32)
    assert rebuilt.ids == newer.ids and len(rebuilt) == 301
    assert rebuilt.search(_clustered(1, seed=11)[0], 1)[0][0] == "2501.00007"
    assert rebuilt.params is not None and rebuilt.params["growth"] == {
        "grown_from": newer.params["build"] if newer.params else None,
        "added": 0,
        "replaced": 1,
    }
    # A corrupt index is rebuilt from the store, not served.
    build = root / (root / CURRENT).read_text().strip()
    (build / HNSW).write_bytes(b"garbage")
    repaired = ensure_dense_index(store, settings, MODEL, 32)
    assert len(repaired) == 301
    assert len(load_dense_index(root, model=MODEL, dimensions=32)) == 301


def test_usearch_and_onnxruntime_load_in_either_order() -> None:
    # usearch 2.26 loaded before onnxruntime crashed the process (hence its pin).
    for first, second in (("usearch.index", "onnxruntime"), ("onnxruntime", "usearch.index")):
        code = f"import {first}; import {second}"
        assert subprocess.run([sys.executable, "-c", code]).returncode == 0, code


def _stored(store: Store) -> dict[str, np.ndarray]:
    with store.read() as connection:
        pages = list(iter_vector_pages(connection, MODEL))
    return {pid: row for ids, matrix in pages for pid, row in zip(ids, matrix, strict=True)}


def test_incremental_growth_equals_a_full_build(sqlite_store: Store, settings: Settings) -> None:
    settings = settings.model_copy(update={"dense_exact_below": 100})
    _store_with_vectors(sqlite_store, 600)
    first = ensure_dense_index(sqlite_store, settings, MODEL, 32)
    assert first.params is not None and first.params["growth"] is None  # a first, full build
    # A day's work: 50 new papers, 10 papers re-embedded (a new arXiv version, say).
    new = [make_record(f"2502.{n:05d}", f"New {n}", abstract="N.") for n in range(50)]
    changed = [make_record(pid, "Changed", abstract="C.") for pid in _ids(600)[::60]]
    with sqlite_store.write() as connection:
        upsert_papers(connection, new + changed)
    with sqlite_store.read() as connection:
        pending = papers_needing_vectors(connection, MODEL)
    assert len(pending) == 60
    with sqlite_store.write() as connection:
        save_vectors(connection, MODEL, pending, _clustered(60, seed=5))
    grown = ensure_dense_index(sqlite_store, settings, MODEL, 32)
    assert grown.params is not None
    assert grown.params["growth"] == {
        "grown_from": first.params["build"],
        "added": 50,
        "replaced": 10,
    }
    assert grown.graph is not None and grown.graph.size == 650
    # The same papers and vectors as a full build from the store...
    stored = _stored(sqlite_store)
    full = DenseIndex.from_arrays(
        MODEL, list(stored), np.stack(list(stored.values())), exact_below=100
    )
    assert sorted(grown.ids) == sorted(full.ids)
    for pid, row in zip(grown.ids, grown.vectors, strict=True):
        assert np.allclose(row, stored[pid], atol=1e-6), pid
    # ...so the same results: exactly when searched exhaustively, and through the graphs.
    exhaustive = DenseIndex(MODEL, grown.ids, np.asarray(grown.vectors))
    truth_index = DenseIndex(MODEL, full.ids, np.asarray(full.vectors))
    recalls: dict[str, list[float]] = {"grown": [], "full": []}
    for query in _clustered(40, seed=6):
        truth = [pid for pid, _ in truth_index.search(query, 10)]
        assert [pid for pid, _ in exhaustive.search(query, 10)] == truth
        for name, index in (("grown", grown), ("full", full)):
            found = {pid for pid, _ in index.search(query, 10)}
            recalls[name].append(len(found & set(truth)) / 10)
    assert float(np.mean(recalls["grown"])) >= min(0.95, float(np.mean(recalls["full"])))
    # What is on disk is what was grown.
    loaded = load_dense_index(index_root(settings, MODEL), model=MODEL, dimensions=32)
    assert loaded.ids == grown.ids and loaded.graph is not None and loaded.graph.size == 650


def _searched(index: DenseIndex, paper_id: str) -> list[tuple[str, float]]:
    """A paper's similar papers searched in the graph, as before builds kept them."""
    kept, index.neighbours = index.neighbours, None
    try:
        return index.similar(paper_id, ann.SIMILAR_KEPT)
    finally:
        index.neighbours = kept


def test_kept_similar_papers_are_the_graph_search(tmp_path: Path) -> None:
    vectors = _clustered(3000)
    save_dense_index(DenseIndex.from_arrays(MODEL, _ids(3000), vectors, exact_below=1000), tmp_path)
    loaded = load_dense_index(tmp_path, model=MODEL, dimensions=32)
    assert loaded.neighbours is not None and loaded.params is not None
    assert ann.NEIGHBOURS in loaded.params["files"]  # checked like the other files
    for paper_id in loaded.ids:
        kept = loaded.similar(paper_id, ann.SIMILAR_KEPT)
        assert len(kept) == ann.SIMILAR_KEPT and paper_id not in dict(kept)
        assert kept == _searched(loaded, paper_id), paper_id
    # Other counts are still searched; a small (exact) index keeps none.
    assert len(loaded.similar(loaded.ids[0], 10)) == 10
    save_dense_index(DenseIndex.from_arrays(MODEL, _ids(50), _clustered(50)), tmp_path / "small")
    assert load_dense_index(tmp_path / "small", model=MODEL, dimensions=32).neighbours is None


def test_growth_finds_again_the_similar_papers_it_may_change(
    sqlite_store: Store, settings: Settings
) -> None:
    settings = settings.model_copy(update={"dense_exact_below": 100})
    _store_with_vectors(sqlite_store, 600)
    first = ensure_dense_index(sqlite_store, settings, MODEL, 32)
    before = {pid: first.similar(pid, ann.SIMILAR_KEPT) for pid in first.ids}
    new = [make_record(f"2502.{n:05d}", f"New {n}", abstract="N.") for n in range(30)]
    changed = [make_record(pid, "Changed", abstract="C.") for pid in _ids(600)[::100]]
    with sqlite_store.write() as connection:
        upsert_papers(connection, new + changed)
        pending = papers_needing_vectors(connection, MODEL)
        save_vectors(connection, MODEL, pending, _clustered(len(pending), seed=7))
    grown = ensure_dense_index(sqlite_store, settings, MODEL, 32)
    loaded = load_dense_index(index_root(settings, MODEL), model=MODEL, dimensions=32)
    assert grown.params is not None and grown.params["growth"]["added"] == 30
    moved = {record.arxiv_id for record in new + changed}
    agree = 0
    for pid in loaded.ids:
        kept = loaded.similar(pid, ann.SIMILAR_KEPT)
        assert kept == grown.similar(pid, ann.SIMILAR_KEPT)
        if pid in moved or moved & set(dict(before.get(pid, []))):
            assert kept == _searched(loaded, pid), pid  # found again
        agree += kept == _searched(loaded, pid)
    # A row not found again keeps what the last search found, which the graph's growth
    # rarely changes (a new paper nearer to it is found again, see ann._rows_to_redo).
    assert agree >= 0.98 * len(loaded.ids), agree


def test_a_build_without_similar_papers_is_grown_to_keep_them(
    sqlite_store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings.model_copy(update={"dense_exact_below": 100})
    _store_with_vectors(sqlite_store, 300)
    with monkeypatch.context() as patch:  # as builds made before they were kept
        patch.setattr(ann, "_write_neighbours", lambda index, folder: [])
        old = ensure_dense_index(sqlite_store, settings, MODEL, 32)
    assert old.params is not None and ann.NEIGHBOURS not in old.params["files"]
    assert (
        load_dense_index(index_root(settings, MODEL), model=MODEL, dimensions=32).neighbours is None
    )
    again = ensure_dense_index(sqlite_store, settings, MODEL, 32)
    assert again.params is not None and ann.NEIGHBOURS in again.params["files"]
    assert again.params["growth"] == {"grown_from": old.params["build"], "added": 0, "replaced": 0}
    loaded = load_dense_index(index_root(settings, MODEL), model=MODEL, dimensions=32)
    assert all(
        loaded.similar(pid, ann.SIMILAR_KEPT) == _searched(loaded, pid) for pid in loaded.ids
    )


def test_a_small_graph_finds_every_row_from_its_own_vector() -> None:
    """Built on one thread (ONE_THREAD_BELOW), a small graph reaches every row: each of 300
    clustered vectors, asked as a query, finds itself first. Threads racing to link rows into
    so small a graph left about one row in 400 out of every search."""
    vectors, ids = _clustered(300), _ids(300)
    for _build in range(3):
        index = DenseIndex.from_arrays(MODEL, ids, vectors, exact_below=100)
        assert index.graph is not None
        assert [index.search(vector, 1)[0][0] for vector in vectors] == ids


def test_a_row_the_graph_cannot_reach_is_found_all_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A row no graph search reaches (here taken out of the graph, as usearch's builds now
    and then leave one) is found by the build's look for similar papers, then scored beside
    the graph's candidates: a search finds it, and the rows it is nearest to list it."""
    vectors, ids = _clustered(1000), _ids(1000)
    index = DenseIndex.from_arrays(MODEL, ids, vectors, exact_below=100)
    assert index.graph is not None
    lost = 7
    index.graph.remove(lost)
    assert index.search(vectors[lost], 1)[0][0] != ids[lost]  # the graph alone misses it
    rows, scores, missed = ann.similar_rows(index, index.graph)
    assert lost in missed.tolist()
    assert not (rows == lost).any()  # nobody's similar paper either
    index.orphans = missed
    found, cosine = index.search(vectors[lost], 1)[0]
    assert found == ids[lost] and cosine == pytest.approx(1.0, abs=1e-5)
    monkeypatch.setattr(ann, "FILTER_EXACT", 100)  # half the rows pass: through the graph
    index.with_rows({pid: Row(row % 2 == 1) for row, pid in enumerate(ids)})
    assert index.search(vectors[lost], 1, Filters(has_code=True))[0][0] == ids[lost]
    orphans.add_to_similar(vectors, rows, scores, missed)
    cosines = vectors @ vectors[lost]
    for row in range(len(ids)):
        listed = rows[row].tolist()
        if row != lost and cosines[row] > scores[row, -1] + 1e-6:
            assert lost in listed, row
            assert scores[row, listed.index(lost)] == pytest.approx(cosines[row], abs=1e-5)
        assert np.all(np.diff(scores[row]) <= 1e-6), row  # still best first


def test_orphans_go_into_similar_lists_in_order() -> None:
    vectors = np.eye(4, dtype=np.float32)
    vectors[3] = np.array([0.8, 0.6, 0, 0], dtype=np.float32)  # nearest to rows 0 and 1
    rows = np.array([[2, -1], [2, -1], [0, 1], [0, 1]], dtype=np.int32)
    scores = np.array([[0.5, 0], [0.1, 0], [0.9, 0.2], [0.8, 0.6]], dtype=np.float32)
    orphans.add_to_similar(vectors, rows, scores, np.array([3]))
    assert rows.tolist() == [[3, 2], [3, 2], [0, 1], [0, 1]]
    assert np.allclose(scores, [[0.8, 0.5], [0.6, 0.1], [0.9, 0.2], [0.8, 0.6]])


def test_a_saved_build_keeps_its_unreachable_rows(tmp_path: Path) -> None:
    vectors = _clustered(1000)
    index = DenseIndex.from_arrays(MODEL, _ids(1000), vectors, exact_below=100)
    save_dense_index(index, tmp_path)
    loaded = load_dense_index(tmp_path, model=MODEL, dimensions=32)
    assert loaded.params is not None and ann.ORPHANS in loaded.params["files"]
    assert loaded.orphans_known and loaded.orphans.tolist() == index.orphans.tolist()
    # Whatever the graph missed, every row finds itself first through the search.
    assert [loaded.search(vector, 1)[0][0] for vector in vectors] == loaded.ids


def test_an_unfiltered_search_is_the_exact_scoring_of_the_beam_and_the_orphans() -> None:
    """The search page's path (``_beam``: rows as a Python list) gives what ``_exact`` over
    ``with_orphans(_graph(...))`` gives, to the bit, ties in row order included (a few rows
    are copies of others: equal cosines), with orphans and without."""
    vectors = _clustered(2000)
    vectors[1500:1520] = vectors[100:120]  # exact ties
    index = DenseIndex.from_arrays(MODEL, _ids(2000), vectors, exact_below=100)
    queries = np.concatenate([_clustered(40, seed=3) * 2.5, vectors[100:110]])
    for orphan_rows in ([], [3, 1500, 1999]):
        index.orphans = np.array(orphan_rows, dtype=np.intp)
        for query in queries:
            unit = query / max(float(np.linalg.norm(query)), 1e-12)
            for k in (1, 10, 100, 150):
                candidates = index._graph(unit, max(k, ann.SEARCH_EXPANSION))
                expected = index._exact(unit, k, orphans.with_orphans(candidates, index.orphans))
                assert index.search(query, k) == expected


def test_a_query_is_scaled_as_numpy_norm_scales_it() -> None:
    rng = np.random.default_rng(5)
    for scale in (1e-30, 1e-3, 1.0, 7.5, 1e6):
        for _ in range(200):
            vector = (rng.normal(size=384) * scale).astype(np.float32)
            expected = vector / max(float(np.linalg.norm(vector)), 1e-12)
            assert ann._unit(vector, 384).tobytes() == expected.tobytes()
    assert not ann._unit(np.zeros(384, dtype=np.float32), 384).any()
    with pytest.raises(ValueError, match="dimensions"):
        ann._unit(np.ones(3, dtype=np.float32), 384)


def test_a_loaded_index_holds_a_plain_array_over_its_file(tmp_path: Path) -> None:
    index = DenseIndex.from_arrays(MODEL, _ids(300), _clustered(300), exact_below=100)
    save_dense_index(index, tmp_path)
    loaded = load_dense_index(tmp_path, model=MODEL, dimensions=32)
    assert type(loaded.vectors) is np.ndarray and isinstance(loaded.vectors.base, np.memmap)
    assert np.array_equal(loaded.vectors, index.vectors)


def test_a_large_graph_gets_its_rows_grouped_by_nearest_seed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """From ``GROUPED_FROM`` rows on, a build adds rows group after group (each row's group:
    its nearest of ``GROUP_SEEDS`` sampled rows); the keys stay the rows, so searches are
    as right as in row order."""
    monkeypatch.setattr(ann, "GROUPED_FROM", 1000)
    vectors = _clustered(3000)
    order = ann._added_order(vectors)
    assert sorted(order.tolist()) == list(range(3000)) and order.tolist() != list(range(3000))
    seeds = vectors[np.random.default_rng(0).choice(3000, ann.GROUP_SEEDS, replace=False)]
    group = (vectors @ seeds.T).argmax(axis=1)[order]
    assert 1 + int((np.diff(group) != 0).sum()) == len(np.unique(group)), "each group at once"
    assert ann._added_order(vectors[:999]).tolist() == list(range(999))
    index = DenseIndex.from_arrays(MODEL, _ids(3000), vectors, exact_below=1000)
    exact = DenseIndex.from_arrays(MODEL, _ids(3000), vectors, exact_below=10_000)
    for row in range(0, 3000, 7):
        assert index.search(vectors[row], 1)[0][0] == _ids(3000)[row]
    recall = [
        len({p for p, _ in index.search(q, 10)} & {p for p, _ in exact.search(q, 10)}) / 10
        for q in _clustered(50, seed=1)
    ]
    assert float(np.mean(recall)) >= 0.95
