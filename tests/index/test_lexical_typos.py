"""Typo tolerance: one-edit neighbours found in the index's words, and when a word is fuzzy.

Pure tests of ``typos`` (the four kinds of edit, nothing two edits away), then the rule on
small real indexes: a word that papers contain is searched as it is, a word (nearly) no paper
contains also finds the words one edit away, in titles, abstracts and authors' names, and
words added by an update are corrected to at once.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dailypapers.index.lexical.index import LexicalIndex, build
from dailypapers.index.lexical.typos import WordSet, alphabet_of, one_edit, one_edit_candidates
from tests.index.lexical_corpus import doc

LETTERS = "abcdefghijklmnopqrstuvwxyz"
WORDS = WordSet(frozenset(["graph", "grape", "transform", "model", "models", "diffusion"]), LETTERS)


def test_one_edit_covers_every_kind_of_edit() -> None:
    variants = one_edit("graph", LETTERS)
    assert "graph" in variants
    assert {"grph", "raph", "grap"} <= variants  # deletions
    assert {"rgaph", "garph", "grpah", "grahp"} <= variants  # neighbours swapped
    assert {"grapj", "braph"} <= variants  # substitutions
    assert {"graphs", "agraph", "graaph"} <= variants  # insertions
    assert "gaprh" not in variants and "grphs" not in variants  # two edits


def reference_one_edit(word: str, alphabet: str) -> set[str]:
    """Norvig's four set comprehensions: what ``one_edit`` must give."""
    letters = set(alphabet) | set(word)
    splits = [(word[:cut], word[cut:]) for cut in range(len(word) + 1)]
    deletions = {head + tail[1:] for head, tail in splits if tail}
    swaps = {head + tail[1] + tail[0] + tail[2:] for head, tail in splits if len(tail) > 1}
    substitutions = {head + c + tail[1:] for head, tail in splits if tail for c in letters}
    insertions = {head + c + tail for head, tail in splits for c in letters}
    return {word} | deletions | swaps | substitutions | insertions


@given(st.text(alphabet="abcxyzé{}1", max_size=9), st.text(alphabet="abcdeé{", max_size=4))
def test_one_edit_is_the_four_edits(word: str, alphabet: str) -> None:
    assert one_edit(word, alphabet) == reference_one_edit(word, alphabet)
    assert set(one_edit_candidates(word, alphabet)) == one_edit(word, alphabet)


def test_near_finds_words_one_edit_away_only() -> None:
    assert WORDS.near("grapj") == ["grape", "graph"]
    assert WORDS.near("transfom") == ["transform"]
    assert WORDS.near("modle") == ["model"]
    assert WORDS.near("modles") == ["models"]
    assert WORDS.near("difusoin") == []  # two edits
    assert WORDS.near("graph") == ["grape", "graph"]  # the word itself, if present


def test_letters_of_the_word_itself_are_tried() -> None:
    words = WordSet(frozenset(["naïve"]), LETTERS)
    assert words.near("naïv") == ["naïve"]  # an insertion of one of its own letters
    assert words.near("nave") == []  # "ï" is neither in the alphabet nor in the word


def test_alphabet_keeps_letters_of_enough_words() -> None:
    assert alphabet_of(["ab", "ba", "ac"], min_share=0.5) == "ab"
    assert alphabet_of(["ab", "ba", "ac"], min_share=1.0) == "a"
    assert WordSet.of(["ab", "cd"]).alphabet == "abcd"  # a small vocabulary keeps them all


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> LexicalIndex:
    corpus = [
        doc(f"g{n}", f"Graph learning {n}", "Message passing over a graph.") for n in range(4)
    ]
    corpus += [
        doc("grape", "Grape yield prediction", "Vineyards and their harvests."),
        doc("hint", "Deep belief nets", "A fast learning algorithm.", ("Geoffrey Hinton",)),
        doc("rare", "Quasar spectra", "Telescopes observe quasars."),
    ]
    return build(tmp_path_factory.mktemp("typos") / "idx", corpus)


def ids(index: LexicalIndex, text: str) -> set[str]:
    return {paper for paper, _score in index.search(text)}


def test_a_word_papers_contain_is_not_fuzzy(index: LexicalIndex) -> None:
    # "graph" is in four papers: "grape", one edit away, is not searched.
    assert ids(index, "graph") == {"g0", "g1", "g2", "g3"}


def test_an_absent_word_finds_the_words_one_edit_away(index: LexicalIndex) -> None:
    assert ids(index, "grapj") == {"g0", "g1", "g2", "g3", "grape"}
    assert ids(index, "garph") == {"g0", "g1", "g2", "g3"}  # a swap
    assert ids(index, "grxpz") == set()  # two edits from "grape"


def test_a_rare_word_is_fuzzy_too(index: LexicalIndex) -> None:
    # "quasar" is in one paper: its neighbours are searched beside it.
    assert ids(index, "quasar") == {"rare"}
    assert ids(index, "quasr") == {"rare"}


def test_author_names_are_corrected(index: LexicalIndex) -> None:
    assert ids(index, "hintno") == {"hint"}
    assert ids(index, "geofrey") == {"hint"}


def test_short_words_are_never_fuzzy(index: LexicalIndex) -> None:
    assert ids(index, "grap") == set()  # 4 letters: below FUZZY_MIN_CHARS


def test_words_of_an_update_are_corrected_at_once(tmp_path: Path) -> None:
    index = build(tmp_path / "idx", [doc("a", "Sparse coding", "Dictionaries.")])
    assert ids(index, "zeolitte") == set()  # reads the vocabulary
    index.update([doc("b", "Zeolite catalysts", "Porous minerals.")])
    assert ids(index, "zeolitte") == {"b"}
    reader = LexicalIndex.open(index.path)
    assert ids(reader, "zeolitte") == {"b"}
    index.update([doc("c", "Perovskite films", "Solar cells.")])
    reader.refresh()
    assert ids(reader, "perovkite") == {"c"}


def test_neighbours_asked_again_are_the_same_and_the_memo_stays_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    words = WordSet(frozenset(["graph", "grape", "model"]), LETTERS)
    first = words.near("graph")
    first.append("changed by a caller")
    assert words.near("graph") == ["grape", "graph"]  # the memo's own list, not the caller's
    monkeypatch.setattr("dailypapers.index.lexical.typos.NEAR_MEMO_SIZE", 2)
    for word in ("modle", "grap", "graps", "mode"):
        words.near(word)
        assert len(words._near) <= 2
    assert words.near("modle") == ["model"]
