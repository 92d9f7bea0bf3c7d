"""ANN index growth: a day's new vectors added to the current build against a full rebuild.

Run::

    .venv/bin/python -m benchmarks.ann_growth [--count 74728] [--added 500] [--no-write]

Synthetic unit vectors (384 dimensions, clustered like real embeddings) stand in for the
papers, so it runs without embedding 75,000 papers first; the HNSW work per vector is the
same. Times, in the same run: a full build of ``count + added`` vectors (graph and saved
build), and growing a saved build of ``count`` by ``added`` new vectors and 1% re-embedded
ones (copy of the graph, adds, save with checksums), then loading it; the report gives their
ratio. Also the latency of dense search with filters pushed down as a row mask. Writes the
"ANN growth" section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib.metadata import version
from pathlib import Path

import numpy as np

from benchmarks.common import machine, percentile, timed, write_section
from dailypapers.index.dense import ann
from dailypapers.index.dense.ann import DenseIndex, load_dense_index, save_dense_index
from dailypapers.search.query import Filters

HEADING = "## ANN growth"
DIMS = 384
MODEL = "bench-model"


@dataclass(frozen=True)
class Row:
    day: date | None
    categories: tuple[str, ...]
    has_code: bool
    authors: tuple[str, ...] = ()


def clustered(count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(300, DIMS))
    rows = centres[rng.integers(0, 300, count)] + 0.5 * rng.normal(size=(count, DIMS))
    unit: np.ndarray = (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)
    return unit


def growth(root: Path, count: int, added: int) -> dict[str, float]:
    ids = [f"p{n:06d}" for n in range(count + added)]
    vectors = clustered(count + added, seed=0)
    full_s, _ = timed(
        lambda: save_dense_index(
            DenseIndex.from_arrays(MODEL, ids, vectors, exact_below=1), root / "full"
        )
    )
    save_dense_index(
        DenseIndex.from_arrays(MODEL, ids[:count], vectors[:count], exact_below=1), root / "grow"
    )
    previous = load_dense_index(root / "grow", model=MODEL, dimensions=DIMS)
    changed = vectors.copy()
    replaced = count // 100
    changed[:replaced] = clustered(replaced, seed=1)
    grow_s, grown = timed(lambda: ann._grown(previous, ids, changed))
    assert grown is not None and grown.graph is not None
    save_s, _ = timed(lambda: save_dense_index(grown, root / "grow"))
    load_s, _ = timed(lambda: load_dense_index(root / "grow", model=MODEL, dimensions=DIMS))
    return {
        "full_s": full_s, "grow_s": grow_s, "save_s": save_s, "load_s": load_s,
        "replaced": float(replaced), "ratio": (grow_s + save_s) / full_s,
    }  # fmt: skip


def filtered(count: int) -> dict[str, dict[str, float]]:
    rng = np.random.default_rng(2)
    ids = [f"p{n:06d}" for n in range(count)]
    categories = ("cs.CL", "cs.CV", "cs.LG", "cs.AI", "stat.ML", "cs.RO", "eess.IV", "cs.IR")
    start = date(2025, 1, 1)
    papers = {
        pid: Row(
            start + timedelta(days=int(rng.integers(0, 365))),
            tuple(rng.choice(categories, size=2, replace=False)),
            bool(rng.random() < 0.3),
        )
        for pid in ids
    }
    index = DenseIndex.from_arrays(MODEL, ids, clustered(count, seed=0), exact_below=1)
    index.with_rows(papers)
    queries = clustered(300, seed=3)
    cases = {
        "no filter": Filters(),
        "one category (about 25%)": Filters(categories=("cs.RO",)),
        "has code (30%)": Filters(has_code=True),
        "one week (2%)": Filters(since=date(2025, 6, 1), until=date(2025, 6, 7)),
    }
    report = {}
    for name, case in cases.items():
        for query in queries[:20]:
            index.search(query, 100, case)
        seconds = [_search_seconds(index, query, case) for query in queries]
        report[name] = {
            "p50": percentile(seconds, 0.5) * 1000,
            "p99": percentile(seconds, 0.99) * 1000,
        }
    return report


def _search_seconds(index: DenseIndex, query: np.ndarray, filters: Filters) -> float:
    return timed(lambda: index.search(query, 100, filters))[0]


def section(count: int, added: int, g: dict[str, float], f: dict[str, dict[str, float]]) -> str:
    usearch = f"usearch {version('usearch')}"
    lines = [
        HEADING,
        "",
        f"`python -m benchmarks.ann_growth`, {datetime.now(UTC):%Y-%m-%d}, on "
        f"{machine(usearch)}; load average {os.getloadavg()[0]:.1f} "
        "at the end (other work shared the cores). Synthetic clustered unit vectors, "
        f"{DIMS} dimensions, HNSW as served.",
        "",
        f"- Full build of {count + added:,} vectors (graph and saved build): {g['full_s']:.1f} s.",
        f"- Growing a build of {count:,} by {added:,} new vectors and {g['replaced']:.0f} "
        f"re-embedded ones: {g['grow_s']:.1f} s in the graph, {g['save_s']:.1f} s to save "
        f"with checksums; {g['ratio']:.2f} of the full build. Loading the grown build: "
        f"{g['load_s']:.2f} s.",
        "",
        f"Dense search, top 100 of {count:,}, filters pushed down as a row mask (300 queries, "
        "warm), in milliseconds:",
        "",
        "| filter | p50 | p99 |",
        "| --- | --- | --- |",
    ]
    lines += [f"| {name} | {v['p50']:.2f} | {v['p99']:.2f} |" for name, v in f.items()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=74_728)
    parser.add_argument("--added", type=int, default=500)
    parser.add_argument("--no-write", action="store_true", help="print, do not edit BENCHMARKS.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ann-growth-") as work:
        g = growth(Path(work), args.count, args.added)
    text = section(args.count, args.added, g, filtered(args.count))
    print(text)
    if not args.no_write:
        write_section(HEADING, text)


if __name__ == "__main__":
    main()
