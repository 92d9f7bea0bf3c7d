"""Our query grammar: words, phrases, exclusions; hostile input is words or nothing, never an
error, and never reaches tantivy's query language."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tantivy import Query

from dailypapers.index.lexical.index import LexicalIndex, build
from dailypapers.index.lexical.query import (
    FUZZY_SCORE,
    MAX_QUERY_CHARS,
    ParsedQuery,
    _Builder,
    parse_query,
    terms,
)
from dailypapers.index.lexical.schema import FIELD_BOOSTS, NAMES, STEMMED
from tests.index.lexical_corpus import CORPUS, Filters

NASTY = [
    "",
    " ",
    "AND OR NOT",
    "*",
    "title:(",
    "title:(attention",
    'abstract:"x',
    "\x00attention\x00",
    "🙂🙂 attention 🚀",
    '"unbalanced quote',
    'a "b" "c',
    "-",
    "--",
    '-""',
    '""',
    "+attention -",
    "attention^100",
    "attention~2",
    "[a TO z]",
    "{a TO z}",
    "(((",
    "\\",
    "/regex.*/",
    "x" * 10_000,
    "attention " * 2_000,
    '"' * 500,
    "-a " * 3_000,
    "é" * 41,
    "\udcff\ud800",
    "大模型 推理",
    "\u202e\u200b\ufeff",
]


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> LexicalIndex:
    return build(tmp_path_factory.mktemp("lexical") / "idx", CORPUS)


def test_words_phrases_and_exclusions() -> None:
    assert parse_query('deep "neural networks" -survey -"linear attention" x-ray') == ParsedQuery(
        words=("deep", "x-ray"),
        phrases=("neural networks",),
        excluded_words=("survey",),
        excluded_phrases=("linear attention",),
    )


def test_operators_and_syntax_are_plain_words() -> None:
    parsed = parse_query("attention AND title:(transformer) OR *")
    assert parsed.words == ("attention", "AND", "title:(transformer)", "OR", "*")
    assert terms(" ".join(parsed.words), STEMMED) == [(0, "attent"), (2, "titl"), (3, "transform")]


def test_unbalanced_quote_is_a_word() -> None:
    assert parse_query('graph "neural') == ParsedQuery(words=("graph", '"neural'))
    assert parse_query("\u201cneural nets\u201d") == ParsedQuery(phrases=("neural nets",))


def test_control_characters_and_length_are_bounded() -> None:
    assert parse_query("a\x00b\x07c") == ParsedQuery(words=("a", "b", "c"))
    assert sum(len(w) for w in parse_query("word " * 5000).words) <= MAX_QUERY_CHARS


def test_names_keep_stop_words_and_are_not_stemmed() -> None:
    assert terms("An Do Networks", NAMES) == [(0, "an"), (1, "do"), (2, "networks")]
    assert terms("An Do Networks", STEMMED) == [(1, "do"), (2, "network")]


@pytest.mark.parametrize("text", NASTY)
def test_nasty_strings_do_not_raise(index: LexicalIndex, text: str) -> None:
    hits = index.search(text)
    assert all(isinstance(paper, str) and isinstance(score, float) for paper, score in hits)
    index.search(text, filters=Filters(since=date(2025, 1, 1), author=text, categories=(text,)))


def test_operators_do_not_act_as_operators(index: LexicalIndex) -> None:
    # In tantivy's language this would exclude 00003; here "NOT" is a stop word.
    assert "2501.00003" in [p for p, _ in index.search("attention NOT survey")]
    assert index.search("title:(quasars)")[0][0] == "2501.00008"


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=300))
def test_any_text_searches_without_error(index: LexicalIndex, text: str) -> None:
    index.search(text, k=5)
    index.search("attention", filters=Filters(categories=(text,), author=text))


@settings(max_examples=200, deadline=None)
@given(
    words=st.lists(
        st.sampled_from(['"', "-", "*", ":", "(", ")", "attention", "neural", "AND", "\x00", " "]),
        max_size=40,
    )
)
def test_any_mix_of_syntax_searches_without_error(index: LexicalIndex, words: list[str]) -> None:
    index.search("".join(words), k=5)
    index.search(" ".join(words), k=5)


def test_tantivy_query_language_is_never_used() -> None:
    source = Path(__file__).resolve().parents[2] / "src" / "dailypapers" / "index"
    for module in (source / "lexical").glob("*.py"):
        text = module.read_text()
        assert ".parse_query" not in text and "parse_query_lenient" not in text, module.name


@pytest.mark.parametrize("field", ["title", "abstract", "authors"])
def test_a_typo_clause_matches_any_near_word_at_one_constant_score(
    index: LexicalIndex, field: str
) -> None:
    # A union of term queries at a constant score, not tantivy's term set (which built a
    # finite-state set of the words at every query): the same papers at the same score.
    searcher = index._index.searcher()
    vocabulary = index.vocabulary(searcher)
    words = sorted((vocabulary.names if field == "authors" else vocabulary.stems).words)
    matched = 0
    for near in ([words[0]], words[1:4], words[5:40:3], ["absent-word", *words[::7]]):
        clause = _Builder(index._schema, searcher)._fuzzy(field, near)
        term_set = Query.term_set_query(index._schema, field, near)
        expected = Query.const_score_query(term_set, FUZZY_SCORE * FIELD_BOOSTS[field])
        found = [(score, hit.doc) for score, hit in searcher.search(clause, limit=100).hits]
        assert found == [(score, hit.doc) for score, hit in searcher.search(expected, 100).hits]
        matched += len(found)
    assert matched > 0
