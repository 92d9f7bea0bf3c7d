"""Hybrid search on a small real index: exact matches first, filters, sorts, fallbacks."""

from __future__ import annotations

import threading
from datetime import date

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dailypapers.index.dense.ann import DenseIndex
from dailypapers.index.lexical.snippet import Marker
from dailypapers.search import engine as search_engine
from dailypapers.search.catalog import Catalog, title_key
from dailypapers.search.engine import Lexical, QueryEmbedder, SearchConfig, SearchEngine
from dailypapers.search.query import Filters, SearchRequest
from tests.search.conftest import documents

MODES = ("hybrid", "lexical", "dense")


def ids(engine: SearchEngine, text: str, **options: object) -> list[str]:
    response = engine.search(SearchRequest(text=text, **options))  # type: ignore[arg-type]
    return [hit.id for hit in response.hits]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "text", ["2501.00005", "2501.00005v3", "https://arxiv.org/abs/2501.00005", "arXiv:2501.00005"]
)
def test_an_arxiv_id_comes_first(engine: SearchEngine, text: str, mode: str) -> None:
    response = engine.search(SearchRequest(text=text, mode=mode))  # type: ignore[arg-type]
    assert response.hits[0].id == "2501.00005" and response.hits[0].exact


@pytest.mark.parametrize("mode", MODES)
def test_exact_and_mistyped_titles_come_first(engine: SearchEngine, mode: str) -> None:
    title = "Graph Neural Networks for Molecular Property Prediction"
    assert ids(engine, title, mode=mode)[0] == "2501.00004"
    assert ids(engine, title.lower() + "!", mode=mode)[0] == "2501.00004"
    assert ids(engine, "Graph Nueral Networks for Molecular Property Predictoin", mode=mode)[0] == (
        "2501.00004"
    )


def test_a_mistyped_title_is_compared_with_the_keys_the_catalog_keeps(
    engine: SearchEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The catalog keeps each title's key: a long query makes its own key only, not those of
    the first hits it is compared with (11 µs each)."""
    assert all(e.key == title_key(e.title) for e in engine.catalog.entries.values())
    made: list[str] = []

    def counted(text: str) -> str:
        made.append(text)
        return title_key(text)

    monkeypatch.setattr(search_engine, "title_key", counted)
    query = "Graph Nueral Networks for Molecular Property Predictoin"
    assert ids(engine, query)[0] == "2501.00004" and made == [query]


def test_semantic_match_without_shared_words(engine: SearchEngine) -> None:
    # No word in common with "Sleep Consolidates Memory", so only the dense side finds it.
    assert "2501.00005" not in ids(engine, "napping helps recall", mode="lexical")
    assert ids(engine, "napping helps recall", mode="dense")[0] == "2501.00005"
    assert "2501.00005" in ids(engine, "napping helps recall", mode="hybrid")[:3]


def test_nonsense_finds_nothing_but_meaning_without_words_is_kept(engine: SearchEngine) -> None:
    assert ids(engine, "zzqxv wvkjq", mode="hybrid") == []
    assert ids(engine, "zzqxv wvkjq", mode="dense")  # explicit semantic mode: no floor
    # No shared word either, but close in meaning: above the floor, so it stays.
    assert ids(engine, "napping helps recall", mode="hybrid")[0] == "2501.00005"


def test_hybrid_uses_both_lists(engine: SearchEngine) -> None:
    top = ids(engine, "self-rewarding reward models for language", mode="hybrid")[:2]
    assert set(top) == {"2501.00002", "2501.00006"}


def test_phrase_and_exclusion(engine: SearchEngine) -> None:
    assert ids(engine, '"reward models"', mode="lexical") == ["2501.00006"]
    found = ids(engine, "language models -consistency", mode="lexical")
    assert "2501.00006" in found and "2501.00002" not in found


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "filters",
    [
        Filters(since=date(2025, 1, 9), until=date(2025, 1, 11)),
        Filters(categories=("cs.LG",)),
        Filters(has_code=True),
        Filters(author="grace hopper"),
    ],
)
def test_filters_hold_in_every_mode(engine: SearchEngine, mode: str, filters: Filters) -> None:
    response = engine.search(SearchRequest(text="models networks", mode=mode, filters=filters))  # type: ignore[arg-type]
    assert response.hits, "each filter leaves something to find"
    catalog = Catalog(documents())
    assert all(catalog.entries[hit.id].allowed_by(filters) for hit in response.hits)


def test_an_id_outside_the_filters_is_not_forced_in(engine: SearchEngine) -> None:
    request = SearchRequest(text="2501.00005", filters=Filters(categories=("cs.CL",)))
    assert "2501.00005" not in [hit.id for hit in engine.search(request).hits]


def test_sort_newest_and_pages(engine: SearchEngine) -> None:
    response = engine.search(SearchRequest(text="models", sort="newest", limit=50))
    days = [hit.day for hit in response.hits]
    assert days == sorted(days, reverse=True)  # type: ignore[type-var]
    first = ids(engine, "models", limit=2)
    second = ids(engine, "models", limit=2, offset=2)
    assert len(first) == 2 and not set(first) & set(second)


def test_similar_papers_exclude_the_paper(engine: SearchEngine) -> None:
    similar = [hit.id for hit in engine.similar("2501.00002", k=3)]
    assert "2501.00002" not in similar and similar[0] == "2501.00006"
    assert engine.similar("9999.99999") == []


def test_long_queries_are_cut_and_say_so(engine: SearchEngine) -> None:
    response = engine.search(SearchRequest(text="protein folding " * 40))
    assert response.truncated and len(response.query) <= 250
    assert response.notes and "cut" in response.notes[0]
    assert response.hits[0].id == "2501.00001"


class BrokenEmbedder:
    def embed_query(self, text: str) -> npt.NDArray[np.float32]:
        raise RuntimeError("model file unreadable")


class StuckEmbedder:
    def __init__(self) -> None:
        self.release = threading.Event()

    def embed_query(self, text: str) -> npt.NDArray[np.float32]:
        self.release.wait(5)
        return np.zeros(384, dtype=np.float32)


def test_a_failing_or_slow_embedder_falls_back_to_keywords(engine: SearchEngine) -> None:
    stuck = StuckEmbedder()
    for embedder, reason in ((BrokenEmbedder(), "failed"), (stuck, "took over")):
        fallback = SearchEngine(
            engine.catalog, engine.lexical, engine.dense, embedder, SearchConfig(embed_timeout=0.2)
        )
        response = fallback.search(SearchRequest(text="coral bleaching"))
        fallback.close()
        assert response.used_mode == "lexical" and response.mode == "hybrid"
        assert reason in response.notes[0]
        assert response.hits[0].id == "2501.00003"
    stuck.release.set()


class WatchedEmbedder:
    """The engine's own embedder, noting whether it had begun when the keyword search ran."""

    def __init__(self, inner: QueryEmbedder) -> None:
        self.inner = inner
        self.started = threading.Event()

    def embed_query(self, text: str) -> npt.NDArray[np.float32]:
        self.started.set()
        return self.inner.embed_query(text)


class WatchedLexical:
    """A keyword index that records whether the query embedding was under way when it ran."""

    def __init__(self, inner: Lexical, embedder: WatchedEmbedder) -> None:
        self.inner = inner
        self.embedder = embedder
        self.embedding_under_way: list[bool] = []

    def search(
        self, text: str, k: int = 100, filters: Filters | None = None
    ) -> list[tuple[str, float]]:
        # Bounded wait: if the engine only embedded after the keyword search, this times out.
        self.embedding_under_way.append(self.embedder.started.wait(2))
        return self.inner.search(text, k, filters)


def test_the_query_embedding_runs_alongside_the_keyword_search(engine: SearchEngine) -> None:
    assert engine.embedder is not None and engine.lexical is not None
    embedder = WatchedEmbedder(engine.embedder)
    lexical = WatchedLexical(engine.lexical, embedder)
    both = SearchEngine(engine.catalog, lexical, engine.dense, embedder)
    response = both.search(SearchRequest(text="coral bleaching"))
    both.close()
    assert lexical.embedding_under_way == [True]
    assert response.used_mode == "hybrid" and response.hits[0].id == "2501.00003"


class CountingEmbedder:
    """The engine's own embedder, keeping the texts it was asked to embed."""

    def __init__(self, inner: QueryEmbedder) -> None:
        self.inner = inner
        self.texts: list[str] = []

    def embed_query(self, text: str) -> npt.NDArray[np.float32]:
        self.texts.append(text)
        return self.inner.embed_query(text)


def counted_engine(engine: SearchEngine) -> tuple[SearchEngine, CountingEmbedder]:
    assert engine.embedder is not None
    embedder = CountingEmbedder(engine.embedder)
    return SearchEngine(engine.catalog, engine.lexical, engine.dense, embedder), embedder


NAMING = {
    "2501.00002": ("hybrid", "dense"),
    "arXiv:2501.00002v2": ("hybrid", "dense"),
    "Consistency Regularization for Self-Rewarding Language Models": ("hybrid", "dense"),
    "consistency regularisation for self rewarding language models": ("hybrid",),  # a typo
}


@pytest.mark.parametrize(
    ("text", "mode"), [(text, mode) for text, modes in NAMING.items() for mode in modes]
)
def test_a_query_naming_a_paper_searches_for_papers_like_it(
    engine: SearchEngine, text: str, mode: str
) -> None:
    """By its id or its title (a typo too, found among the first keyword hits), a paper's
    stored vector is the semantic query: its neighbours, and no embedding."""
    named, embedder = counted_engine(engine)
    response = named.search(SearchRequest(text=text, mode=mode))  # type: ignore[arg-type]
    named.close()
    assert embedder.texts == []
    assert response.used_mode == mode and response.hits[0].id == "2501.00002"
    assert response.hits[0].exact
    if mode == "dense":  # the paper, then the papers most like it, in their order
        like = [hit.id for hit in engine.similar("2501.00002", k=3)]
        assert [hit.id for hit in response.hits[1:4]] == like
        assert response.hits[0].score == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize(
    "text",
    [
        "coral bleaching",  # names no paper
        "2501.09999",  # an id of no paper
        "consistency regularisation for self rewarding language models",  # a typo, in dense
    ],
)
def test_a_query_naming_no_paper_is_embedded(engine: SearchEngine, text: str) -> None:
    named, embedder = counted_engine(engine)
    mode = "dense" if "consistency" in text else "hybrid"
    response = named.search(SearchRequest(text=text, mode=mode))  # type: ignore[arg-type]
    named.close()
    assert embedder.texts == [text] and response.used_mode == mode


def test_a_named_paper_without_a_vector_yet_is_embedded(engine: SearchEngine) -> None:
    """A paper the dense index does not hold yet (the backlog is still embedding)."""
    assert engine.dense is not None and engine.embedder is not None
    ids_without = [pid for pid in engine.catalog.entries if pid != "2501.00002"]
    assert isinstance(engine.dense, DenseIndex)
    rows = [engine.dense.position[pid] for pid in ids_without]
    partial = DenseIndex.from_arrays(engine.dense.model, ids_without, engine.dense.vectors[rows])
    embedder = CountingEmbedder(engine.embedder)
    named = SearchEngine(engine.catalog, engine.lexical, partial, embedder)
    response = named.search(SearchRequest(text="2501.00002"))
    named.close()
    assert embedder.texts == ["2501.00002"] and response.hits[0].id == "2501.00002"


def test_without_a_dense_index_search_is_lexical(engine: SearchEngine) -> None:
    bare = SearchEngine(engine.catalog, engine.lexical)
    response = bare.search(SearchRequest(text="coral bleaching", mode="dense"))
    assert response.used_mode == "lexical" and response.hits[0].id == "2501.00003"
    assert "no semantic index" in response.notes[0]


NASTY = ['"', '""', "AND OR", "*", "-", "title:(", "x" * 10_000, "\x00", "🦜🔥", '-"a b"', "(("]


@pytest.mark.parametrize("text", NASTY)
@pytest.mark.parametrize("mode", MODES)
def test_nasty_queries_give_results_or_nothing(engine: SearchEngine, text: str, mode: str) -> None:
    response = engine.search(SearchRequest(text=text, mode=mode))  # type: ignore[arg-type]
    assert isinstance(response.hits, list)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(max_size=400), mode=st.sampled_from(MODES))
def test_no_query_raises(engine: SearchEngine, text: str, mode: str) -> None:
    engine.search(SearchRequest(text=text, mode=mode))  # type: ignore[arg-type]


def test_papers_the_catalog_does_not_know_are_left_out(engine: SearchEngine) -> None:
    older = Catalog(d for d in documents() if d.id != "2501.00003")
    behind = SearchEngine(older, engine.lexical, engine.dense, engine.embedder)
    for mode in MODES:
        response = behind.search(SearchRequest(text="coral reef bleaching", mode=mode))  # type: ignore[arg-type]
        assert "2501.00003" not in [hit.id for hit in response.hits]
    behind.close()


def test_a_keyword_paper_the_catalog_does_not_know_is_left_out_of_a_hybrid_list(
    engine: SearchEngine,
) -> None:
    """The dense index knows only the catalog's papers, so only the keyword list's papers
    are looked up in the catalog; the one the keyword index alone holds is still left out."""
    assert isinstance(engine.dense, DenseIndex)
    missing = "2501.00003"
    older = Catalog(d for d in documents() if d.id != missing)
    rows = [row for row, pid in enumerate(engine.dense.ids) if pid != missing]
    dense = DenseIndex(
        engine.dense.model, [engine.dense.ids[row] for row in rows], engine.dense.vectors[rows]
    )
    behind = SearchEngine(older, engine.lexical, dense, engine.embedder)
    assert behind._known_dense is dense  # the dense list is not looked up
    for mode in MODES:
        response = behind.search(SearchRequest(text="coral reef bleaching", mode=mode))  # type: ignore[arg-type]
        assert missing not in [hit.id for hit in response.hits]
        assert response.used_mode == mode and (response.hits or mode == "lexical")
    behind.close()


class _FixedQuery:
    """The query embedding of a keyword bag whose semantic neighbours are all noise."""

    def __init__(self, vector: npt.NDArray[np.float32]) -> None:
        self.vector = vector

    def embed_query(self, text: str) -> npt.NDArray[np.float32]:
        return self.vector


@pytest.mark.parametrize("fusion", ["adaptive", "convex"])
def test_a_keyword_bag_with_a_noisy_semantic_list_finds_its_paper_first(
    engine: SearchEngine, fusion: str
) -> None:
    # Hand-made vectors: paper i is the unit vector e_i; the query sits at a flat, middling
    # cosine (0.37 to 0.36) from every paper but its own (0.05), as measured for keyword bags.
    ids = list(engine.catalog.entries)
    wanted = "2501.00002"
    vectors = np.eye(len(ids), 16, dtype=np.float32)
    query = np.zeros(16, dtype=np.float32)
    for row, pid in enumerate(ids):
        query[row] = 0.05 if pid == wanted else 0.37 - 0.001 * row
    query[15] = np.sqrt(1.0 - float(query @ query))
    dense = DenseIndex.from_arrays("hand-made", ids, vectors)
    searcher = SearchEngine(
        engine.catalog, engine.lexical, dense, _FixedQuery(query), SearchConfig(fusion=fusion)
    )
    try:
        hits = searcher.search(SearchRequest(text="judgements rounds consistency language")).hits
    finally:
        searcher.close()
    assert engine.lexical is not None
    lexical = engine.lexical.search("judgements rounds consistency language", 10)
    assert lexical[0][0] == wanted and len(lexical) > 1
    if fusion == "adaptive":
        assert hits[0].id == wanted
    else:  # fixed weights let the noise win, which is why adaptive is the default
        assert hits[0].id != wanted


def test_snippets_mark_near_words_for_the_typos_the_search_forgave(engine: SearchEngine) -> None:
    # "temperatres" is in no paper: the search forgave it, and its snippet marks the word one
    # edit away. Without a keyword index to ask, every long query word may mark near words.
    text = "Rising ocean temperatures make corals expel their symbiotic algae."
    marked = engine.marker("ocean temperatres").snippet(text)
    assert marked == (
        "Rising <mark>ocean</mark> <mark>temperatures</mark> make corals expel their "
        "symbiotic algae."
    )
    assert engine.marker("temperatres oceen").snippet(text).count("<mark>") == 2
    bare = SearchEngine(engine.catalog, None)
    assert bare.marker("ocean temperatres").snippet(text) == marked


@pytest.mark.parametrize("mode", ["hybrid", "lexical", "dense"])
def test_a_response_says_the_typos_its_keyword_search_forgave(
    engine: SearchEngine, mode: str
) -> None:
    # Decided once, by the keyword search (and kept with its ranking), for the snippets: the
    # same as the index works out alone, and the same marks; a search without keywords (the
    # dense mode) cannot say, so its marker asks the index.
    assert engine.lexical is not None
    for text in ("ocean temperatres", "temperatres oceen warming", "coral bleaching"):
        request = SearchRequest(text=text, mode=mode, snippets=True)  # type: ignore[arg-type]
        first, again = engine.search(request), engine.search(request)
        asked = engine.lexical.typos(text)  # type: ignore[attr-defined]
        assert first.typos == again.typos == (None if mode == "dense" else asked)
        marker, alone = engine.marker(text, first.typos), engine.marker(text)
        abstract = "Rising ocean temperatures make corals expel their symbiotic algae."
        assert marker.snippet(abstract) == alone.snippet(abstract)
    assert "temperatr" in (engine.search(SearchRequest(text="ocean temperatres")).typos or ())
    # An index that cannot say (no search_with_typos) leaves it to the marker.
    counted = SearchEngine(engine.catalog, CountedLexical(engine.lexical))
    assert counted.search(SearchRequest(text="ocean temperatres")).typos is None


class CountedLexical:
    """The engine's keyword index, counting its searches."""

    def __init__(self, inner: Lexical) -> None:
        self.inner = inner
        self.searches = 0

    def search(
        self, text: str, k: int = 100, filters: Filters | None = None
    ) -> list[tuple[str, float]]:
        self.searches += 1
        return self.inner.search(text, k, filters)


class FailingEmbedder:
    def embed_query(self, text: str) -> npt.NDArray[np.float32]:
        raise RuntimeError("no model")


def test_a_ranking_is_kept_for_the_next_page_of_the_same_engine(engine: SearchEngine) -> None:
    assert engine.lexical is not None
    lexical = CountedLexical(engine.lexical)
    counted = SearchEngine(engine.catalog, lexical, engine.dense, engine.embedder)
    first = counted.search(SearchRequest(text="ocean warming", limit=2))
    again = counted.search(SearchRequest(text="ocean warming", limit=2))
    second = counted.search(SearchRequest(text="ocean warming", limit=2, offset=2))
    assert lexical.searches == 1 and again == first and first.hits[0].id == "2501.00003"
    whole = counted.search(SearchRequest(text="ocean warming", limit=4))
    assert whole.hits == first.hits + second.hits and whole.candidates == first.candidates
    # Another sort, filter or engine searches again, and finds what a fresh engine finds.
    newest = counted.search(SearchRequest(text="ocean warming", sort="newest"))
    assert lexical.searches == 2
    other = SearchEngine(engine.catalog, lexical, engine.dense, engine.embedder)
    assert other.search(SearchRequest(text="ocean warming", sort="newest")) == newest
    assert lexical.searches == 3
    counted.close()
    other.close()


def test_an_answer_that_fell_back_is_not_kept(engine: SearchEngine) -> None:
    assert engine.lexical is not None
    lexical = CountedLexical(engine.lexical)
    failing = SearchEngine(engine.catalog, lexical, engine.dense, FailingEmbedder())
    for _ in range(2):
        response = failing.search(SearchRequest(text="ocean warming"))
        assert response.used_mode == "lexical" and "unavailable" in response.notes[0]
    assert lexical.searches == 2
    failing.close()


def test_a_typos_near_words_come_from_the_index_once_it_has_read_them(
    engine: SearchEngine,
) -> None:
    # The search read the index's words for its typo clause: the marker takes the typo's
    # neighbours from there rather than looking up every word of the page, with the same
    # marks; before any typo was searched the index holds none, and the page looks them up.
    assert engine.lexical is not None
    text = "ocean temperatres"
    response = engine.search(SearchRequest(text=text))
    near = engine.lexical.neighbours()  # type: ignore[attr-defined]
    assert near is not None and "temperatur" in near("temperatr")
    marker = engine.marker(text, response.typos)
    assert marker._neighbours is not None
    abstract = "Rising ocean temperatures make corals expel their symbiotic algae."
    assert marker.snippets([abstract]) == Marker(text, response.typos).snippets([abstract])
    assert "<mark>temperatures</mark>" in marker.snippet(abstract)
