"""The evaluation-set generator of ``benchmarks.query_sets``: seeded, and honest per kind."""

from __future__ import annotations

from pathlib import Path

from benchmarks.query_sets import KINDS, Paper, make_queries, write_set

from dailypapers.search.beir import load_beir

PAPERS = [
    Paper(
        f"2601.{n:05d}",
        f"Sparse Mixture Routing for Efficient Model Number {n}",
        f"We study routing tokens between experts in layer {n}. Our balancing loss keeps every "
        "expert busy while training remains stable across many different random seeds. "
        "Experiments on translation benchmarks show consistent gains over dense baselines.",
    )
    for n in range(40)
]


def test_the_same_seed_gives_the_same_queries() -> None:
    for kind in KINDS:
        first = make_queries(PAPERS, kind, 10, seed=7)
        assert first == make_queries(PAPERS, kind, 10, seed=7)
        assert len(first) == 10 and len({q.paper for q in first}) == 10


def test_only_title_kinds_copy_the_text_they_should_find() -> None:
    by_id = {paper.id: paper for paper in PAPERS}
    for kind in KINDS:
        for query in make_queries(PAPERS, kind, 20, seed=3):
            paper = by_id[query.paper]
            if kind == "exact-title":
                assert query.text == paper.title
                continue
            if kind == "title-memory":  # the first words, lower case, often with a typo
                assert query.text != paper.title.lower() and query.text == query.text.lower()
                assert query.text.split()[0] == paper.title.lower().split()[0]
                continue
            assert query.text.lower() not in paper.title.lower()
            assert query.text.lower() not in paper.abstract.lower()
            if kind == "keyword-bag":
                title_words = set(paper.title.lower().split())
                assert len(query.text.split()) == 5
                assert not title_words & set(query.text.split())


def test_a_written_set_reads_back_as_beir(tmp_path: Path) -> None:
    queries = make_queries(PAPERS, "fragment", 5, seed=1)
    write_set(tmp_path / "fragment", PAPERS, queries)
    dataset = load_beir(tmp_path / "fragment", "test")
    assert len(dataset.corpus) == len(PAPERS) and len(dataset.queries) == 5
    assert all(dataset.qrels[q.id] == {q.paper: 1} for q in queries)
