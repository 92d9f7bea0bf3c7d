"""Searching the lexical index: ranking, typos, phrases, exclusions, filters, field weights,
and BM25 scores against a reference implementation (bm25s, Lucene's formula)."""

from __future__ import annotations

import random
from datetime import date
from pathlib import Path

import bm25s
import pytest

from dailypapers.index.lexical.index import LexicalIndex, build
from dailypapers.index.lexical.query import terms
from dailypapers.index.lexical.schema import FIELD_BOOSTS, STEMMED
from tests.index.lexical_corpus import CORPUS, Filters, doc


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> LexicalIndex:
    return build(tmp_path_factory.mktemp("lexical") / "idx", CORPUS)


def ids(index: LexicalIndex, text: str, filters: Filters | None = None) -> list[str]:
    return [paper for paper, _ in index.search(text, filters=filters)]


def test_exact_title_comes_first(index: LexicalIndex) -> None:
    for paper in CORPUS:
        assert ids(index, paper.title)[0] == paper.id, paper.title


def test_title_with_typos_still_finds_its_paper(index: LexicalIndex) -> None:
    assert ids(index, "Atention is all you need")[0] == "2501.00001"
    assert ids(index, "graph nueral networks for molecular property predicton")[0] == "2501.00002"
    assert ids(index, "Difusion Models Beat GANs on Image Synthesis")[0] == "2501.00005"


def test_a_misspelt_word_alone_finds_the_word(index: LexicalIndex) -> None:
    assert "2501.00001" in ids(index, "transfomer")
    assert ids(index, "protien")[0] == "2501.00006"


def test_typos_are_the_words_the_search_forgives(index: LexicalIndex) -> None:
    # Long words in at most two papers: "atention" and "transfomer" (in none), "protein" (in
    # one). "attention" is in three papers, "GANs" too short, and a phrase's words are
    # searched as they are: none of them is forgiven.
    text = 'Atention transfomer attention GANs protein "protien folding"'
    assert index.typos(text) == {"atent", "transfom", "protein"}
    assert index.typos("") == frozenset() and index.typos('"atention"') == frozenset()
    # What they mean: the papers one edit away are found for them alone.
    assert "2501.00001" in ids(index, "transfomer")


@pytest.mark.parametrize(
    "text",
    [
        'Atention transfomer attention GANs protein "protien folding"',
        "graph nueral networks for molecular property predicton",
        "Difusion Models Beat GANs",
        "protien -folding",
        '"atention"',
        "the of and",
        "",
    ],
)
def test_a_search_says_its_typos_as_it_searches(index: LexicalIndex, text: str) -> None:
    # The engine keeps the typos its search decided for the page's snippets: they must be
    # what typos() works out alone, with the same hits as a plain search.
    hits, typos = index.search_with_typos(text)
    assert typos == index.typos(text)
    assert hits == index.search(text)
    filtered = Filters(categories=("cs.LG",))
    assert index.search_with_typos(text, 5, filtered) == (index.search(text, 5, filtered), typos)


def test_stemming_matches_other_forms(index: LexicalIndex) -> None:
    assert ids(index, "predicting molecules")[0] == "2501.00002"
    assert "2501.00009" in ids(index, "quasar")


def test_phrase_needs_the_words_together(index: LexicalIndex) -> None:
    words = ids(index, "neural networks")
    assert {"2501.00002", "2501.00004"} <= set(words)
    # "neural networks" is in 2501.00002's title; 00004 has both words but never adjacent.
    assert ids(index, '"neural networks"') == ["2501.00002"]
    assert ids(index, '"networks neural"') == []


def test_phrase_plus_words_requires_the_phrase_and_ranks_by_words(index: LexicalIndex) -> None:
    found = ids(index, '"language models" compute')
    assert found == ["2501.00007"]


def test_exclusions(index: LexicalIndex) -> None:
    assert "2501.00003" in ids(index, "attention")
    assert "2501.00003" not in ids(index, "attention -survey")
    assert "2501.00001" not in ids(index, 'attention -"network architecture"')
    assert "2501.00003" in ids(index, 'attention -"network architecture"')
    assert ids(index, "-attention") == []  # nothing positive to search for


def test_author_names_are_searchable(index: LexicalIndex) -> None:
    assert ids(index, "LeCun")[0] == "2501.00004"
    assert ids(index, "yann lecun")[0] == "2501.00004"


def test_common_words_do_not_match_author_names(tmp_path: Path) -> None:
    filler = tuple(doc(f"f{n}", f"Filler {n}", "What we do and how we do it.") for n in range(60))
    corpus = (
        doc("do", "Sparse Coding", "Dictionaries for images.", ("Minh Do",)),
        doc("tf", "Transformers", "Why they work so well.", ("Ada Lovelace",)),
        *filler,
    )
    index = build(tmp_path / "idx", corpus)
    assert ids(index, "how do transformers work")[0] == "tf"
    assert "do" not in ids(index, "how do transformers work")
    assert ids(index, "Minh Do")[0] == "do"  # "minh" is no common word


def test_filters(index: LexicalIndex) -> None:
    everything = "networks attention learning models"
    found = ids(index, everything, Filters(since=date(2025, 2, 1), until=date(2025, 3, 1)))
    assert set(found) == {"2501.00003", "2501.00004", "2501.00005"}
    found = ids(index, everything, Filters(since=date(2025, 3, 1)))
    assert set(found) == {"2501.00005", "2501.00006"}  # 00007 has no day
    found = ids(index, everything, Filters(categories=("cs.CV", "q-bio.NC")))
    assert set(found) == {"2501.00004", "2501.00005"}
    assert set(ids(index, everything, Filters(has_code=True))) == {
        "2501.00001",
        "2501.00003",
        "2501.00005",
    }
    assert "2501.00001" not in ids(index, everything, Filters(has_code=False))
    assert ids(index, everything, Filters(author="  minh   DO ")) == ["2501.00003"]
    assert ids(index, everything, Filters(author="Minh")) == []
    both = Filters(categories=("cs.LG",), has_code=True, until=date(2025, 1, 31))
    assert ids(index, everything, both) == ["2501.00001"]


def test_filters_do_not_change_scores(index: LexicalIndex) -> None:
    plain = dict(index.search("attention"))
    filtered = index.search("attention", filters=Filters(categories=("cs.LG",)))
    assert filtered and all(score == pytest.approx(plain[paper]) for paper, score in filtered)


def test_k_limits_and_orders(index: LexicalIndex) -> None:
    hits = index.search("networks", k=2)
    assert len(hits) == 2 and hits[0][1] >= hits[1][1]
    assert index.search("networks", k=0) == []
    assert len(index.search("networks", k=10**12)) == len(ids(index, "networks"))


def test_field_weights_title_above_authors_above_abstract(tmp_path: Path) -> None:
    # Same document frequency and field lengths everywhere: only the boosts differ.
    corpus = (
        doc("t", "zyx alpha", "beta gamma", ("Beta Gamma",)),
        doc("a", "alpha beta", "zyx gamma", ("Beta Gamma",)),
        doc("p", "alpha beta", "beta gamma", ("Zyx Gamma",)),
    )
    scores = dict(build(tmp_path / "idx", corpus).search("zyx"))
    assert list(scores) == ["t", "p", "a"]
    assert scores["t"] / scores["a"] == pytest.approx(FIELD_BOOSTS["title"], rel=1e-5)
    assert scores["p"] / scores["a"] == pytest.approx(FIELD_BOOSTS["authors"], rel=1e-5)


def test_bm25_matches_the_reference(tmp_path: Path) -> None:
    """Abstract only, so each score is BM25 (k1=1.2, b=0.75, Lucene's idf) of one field.

    Lucene 8 dropped BM25's constant factor (k1 + 1) from the numerator, and bm25s's
    "lucene" method follows it; tantivy keeps it. The ranking is the same.
    """
    rng = random.Random(7)
    vocabulary = "graph image text token layer noise agent robot sound video".split()
    abstracts = [" ".join(rng.choices(vocabulary, k=rng.randint(3, 25))) for _ in range(40)]
    corpus = tuple(doc(f"d{n}", "", text) for n, text in enumerate(abstracts))
    index = build(tmp_path / "idx", corpus)
    reference = bm25s.BM25(method="lucene", k1=1.2, b=0.75)
    reference.index([[t for _, t in terms(a, STEMMED)] for a in abstracts], show_progress=False)
    for query in ("graph", "noise robot", "token layer video agent"):
        expected = reference.get_scores([t for _, t in terms(query, STEMMED)])
        found = dict(index.search(query, k=100))
        assert set(found) == {f"d{n}" for n, score in enumerate(expected) if score > 0}
        for paper, score in found.items():
            reference_score = (1.2 + 1) * expected[int(paper[1:])]
            assert score == pytest.approx(reference_score, rel=1e-4), (query, paper)
