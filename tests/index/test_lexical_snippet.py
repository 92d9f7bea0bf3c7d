"""Snippets and highlights: the right fragment, the query's words marked, everything escaped."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from hypothesis import given
from hypothesis import strategies as st

from dailypapers.index.lexical.query import terms
from dailypapers.index.lexical.schema import STEMMED, printable
from dailypapers.index.lexical.snippet import (
    ELLIPSIS,
    Marker,
    _prepared,
    _search_prefixes,
    _term,
    highlight,
    snippet,
)
from dailypapers.index.lexical.typos import WordSet

ABSTRACT = (
    "Large models need data. " * 12
    + "We train transformers with sparse attention on long documents. "
    + "Results follow. " * 12
)


def unmarked(fragment: str) -> str:
    return html.unescape(fragment.replace("<mark>", "").replace("</mark>", ""))


def test_fragment_around_the_matches() -> None:
    found = snippet(ABSTRACT, "transformer attention", max_chars=80)
    assert found.startswith(ELLIPSIS) and found.endswith(ELLIPSIS)
    assert "<mark>transformers</mark>" in found and "<mark>attention</mark>" in found
    assert len(unmarked(found)) <= 80 + 2
    body = unmarked(found).strip(ELLIPSIS)
    assert body in ABSTRACT and body == body.strip()  # cut on word boundaries


def test_window_with_most_distinct_words_wins() -> None:
    text = "attention here. " * 10 + "sparse attention with transformers. " + "filler. " * 20
    found = snippet(text, "sparse transformers attention", max_chars=60)
    assert "<mark>sparse</mark>" in found and "<mark>transformers</mark>" in found


def test_no_match_gives_the_beginning() -> None:
    assert snippet(ABSTRACT, "quasar", max_chars=30) == "Large models need data. Large" + ELLIPSIS
    assert snippet("Short.", "quasar") == "Short."


def test_typos_are_highlighted_like_they_are_searched() -> None:
    assert "<mark>transformers</mark>" in snippet(ABSTRACT, "transfomers")


def test_excluded_words_are_not_marked() -> None:
    assert "<mark>" not in highlight("Sparse attention", "-attention -sparse")


def test_html_in_text_and_query_is_escaped() -> None:
    text = 'A <script>alert("x")</script> & <b>bold</b> attention model'
    found = highlight(text, '<script> attention "<b>"')
    assert "<script>" not in found and "<b>" not in found
    assert "&lt;<mark>script</mark>&gt;" in found and "&amp;" in found
    assert "<mark>attention</mark>" in found
    assert unmarked(found) == text


def test_offsets_survive_non_ascii_text() -> None:
    text = "Prétraînement 🙂 des modèles: naïve attention — état de l'art"
    found = highlight(text, "attention etat")
    assert "<mark>attention</mark>" in found and "<mark>état</mark>" in found
    assert unmarked(found) == text


@given(text=st.text(max_size=400), query=st.text(max_size=60))
def test_output_is_always_escaped_text_plus_marks(text: str, query: str) -> None:
    found = snippet(text, query, max_chars=100)
    without_marks = re.sub(r"</?mark>", "", found)
    assert "<" not in without_marks and ">" not in without_marks
    assert found.count("<mark>") == found.count("</mark>")


ASCII_WORDS = st.text(
    alphabet=st.sampled_from("abcdeTRANSformer019 _-.,()'"), min_size=0, max_size=120
)


@given(ASCII_WORDS, st.sampled_from(["transformer", "tranformers attention", "the data 1"]))
def test_ascii_words_are_cut_like_the_analyzer_cuts_them(text: str, query: str) -> None:
    # ASCII text is cut in Python; a non-ASCII word after it sends the text through tantivy's
    # tokenizer instead, and the marks before it must be the same.
    marker = Marker(query)
    assert marker.matches(text + " \u00e9t\u00e9") == marker.matches(text)


ASCII_WITH_CONTROLS = st.text(
    alphabet=st.sampled_from("abde Transformer1 .\x00\t\n\x1f\x7f&<>\"'"), max_size=120
)


@given(ASCII_WITH_CONTROLS, st.sampled_from(["transformer", "tranformers bed", "a'b <e>"]))
def test_ascii_control_characters_are_spaces_as_printable_makes_them(text: str, query: str) -> None:
    # An ASCII text is cleaned and checked for control characters in one pass: one that has
    # any is shown, marked and cut as printable() makes it, like every other text.
    marker = Marker(query)
    assert marker.matches(text) == marker.matches(printable(text))
    assert marker.snippets([text], 40) == marker.snippets([printable(text)], 40)
    assert unmarked(marker.highlight(text)) == printable(text).strip()


@given(st.text(alphabet=st.sampled_from("ab &<>\"'"), max_size=60))
def test_each_character_html_escapes_is_escaped_in_a_window(text: str) -> None:
    found = snippet(text, "ab", max_chars=30)
    without_marks = found.replace("<mark>", "").replace("</mark>", "")
    assert html.escape(html.unescape(without_marks)) == without_marks


def test_a_word_near_two_missing_terms_marks_the_first_of_the_query() -> None:
    assert Marker("transformar transformor").matches("a transformer") == Marker(
        "transformar"
    ).matches("a transformer")


STEM_WORDS = (
    "hoping hopping possibly dying lying tying skies idly gently ugly early only singly news "
    "generalization conditional relational happiness ability studies transformers operator "
    "activity valency organisations agreed feed bias atlas cosmos 3d 2024 gpt4 x"
).split()


@given(
    st.lists(
        st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=12)
        | st.sampled_from(["ing", "ed", "ies", "ly", "ational", "biliti", "ization", "fulness"]),
        min_size=1,
        max_size=3,
    )
)
def test_every_word_begins_with_its_terms_search_prefix(parts: list[str]) -> None:
    # The snippets look a query term's words up by the term's beginning: the stemmer must
    # only ever rewrite a word's last characters (at most two of the term's its own).
    for word in [*STEM_WORDS, "".join(parts)]:
        term = _term(word.encode())
        if term is not None:
            assert any((" " + word).encode().startswith(p) for p in _search_prefixes((term,)))


def test_a_query_word_on_the_page_marks_no_near_words() -> None:
    # "model" in three of the page's abstracts is a word the papers use: the search took it
    # as it is (it forgives only words in at most two papers), so "modal" in another
    # abstract is not what it matched. In two, or alone, "modal" may be what a typo meant.
    used = ["We train a model.", "Model sizes.", "Three models."]
    marked = ["We train a <mark>model</mark>.", "<mark>Model</mark> sizes."]
    assert Marker("models").snippets([*used, "A modal logic."]) == [
        *marked,
        "Three <mark>models</mark>.",
        "A modal logic.",
    ]
    assert Marker("models").snippets([*used[:2], "A modal logic."]) == [
        *marked,
        "A <mark>modal</mark> logic.",
    ]
    assert snippet("A modal logic.", "models") == "A <mark>modal</mark> logic."


@given(st.lists(ASCII_WORDS, max_size=4), st.sampled_from(["data 1", "the art", '"data art"']))
def test_a_page_without_typo_terms_is_each_snippet_alone(texts: list[str], query: str) -> None:
    # Terms of fewer than five characters are never taken as typos: the page changes nothing.
    marker = Marker(query)
    assert marker.snippets(texts, 50) == [marker.snippet(text, 50) for text in texts]


@given(
    st.lists(ASCII_WORDS, min_size=1, max_size=4),
    st.sampled_from(["transformer", "tranformers attention", "the data 1", "atention datta"]),
)
def test_a_pages_ascii_words_are_marked_like_the_analyzer_marks_them(
    texts: list[str], query: str
) -> None:
    # The page's ASCII path (prefix search, the page's words looked up once, the typo rule
    # over the page) against tantivy's tokenizer on the same texts, each made non-ASCII.
    marker = Marker(query)
    made_non_ascii = [text + " \u00e9t\u00e9" for text in texts]
    assert marker._matches(*_prepared(made_non_ascii)) == marker._matches(*_prepared(texts))


def test_only_the_typos_the_search_forgave_mark_near_words() -> None:
    # Told which terms the search forgave, the marker looks for near words of those only.
    text = "A modal logic of transformers."
    assert Marker("models transfomer").matches(text) == Marker(
        "models transfomer", typos={"model", "transfom"}
    ).matches(text)
    only = Marker("models transfomer", typos={"transfom"}).snippet(text)
    assert only == "A modal logic of <mark>transformers</mark>."
    assert Marker("models transfomer", typos=frozenset()).snippet(text) == text
    assert Marker("models transfomer").snippet(text) == (
        "A <mark>modal</mark> logic of <mark>transformers</mark>."
    )


def neighbours_of(texts: list[str]) -> Callable[[str], list[str]]:
    """The stems of ``texts`` one edit from a stem: what an index of them would say."""
    return WordSet.of(term for text in texts for _, term in terms(text, STEMMED)).near


@given(
    st.lists(ASCII_WORDS, min_size=1, max_size=4),
    st.sampled_from(["tranformers attention", "atention datta", "modles transfomer"]),
)
def test_the_index_neighbours_mark_what_the_page_words_mark(texts: list[str], query: str) -> None:
    # Given the index's near stems, a page's ASCII texts are searched for those words only:
    # the marks are the same as when every word of the page is looked up.
    typos = {"tranform", "atent", "datta", "modl", "transfom"}
    page = [*texts, "Transformers and attention models.", "A modal data set."]
    with_index = Marker(query, typos, neighbours_of(page))
    assert with_index.snippets(page, 60) == Marker(query, typos).snippets(page, 60)


def test_the_index_neighbours_are_used_for_typos() -> None:
    page = ["A modal logic of transformers.", "Data."]
    marker = Marker("models transfomer", {"transfom"}, neighbours_of(page))
    assert marker.snippets(page) == ["A modal logic of <mark>transformers</mark>.", "Data."]
    # An index that holds no near stem: nothing near is marked.
    nothing = Marker("models transfomer", {"transfom"}, lambda _stem: [])
    assert nothing.snippets(page) == ["A modal logic of transformers.", "Data."]


def test_a_page_without_forgiven_typos_marks_its_non_ascii_texts() -> None:
    # With no term that may mark near words, the page rule is skipped: a non-ASCII text
    # (cut by tantivy's tokenizer) is still marked by its own words' terms, as alone.
    page = ["Transformers for data.", "Des mod\u00e8les: transformers et donn\u00e9es, data."]
    marker = Marker("transformer data", typos=frozenset())
    assert marker.snippets(page) == [
        "<mark>Transformers</mark> for <mark>data</mark>.",
        "Des mod\u00e8les: <mark>transformers</mark> et donn\u00e9es, <mark>data</mark>.",
    ]
    assert marker.snippets(page) == [marker.snippet(text) for text in page]
    assert Marker("transformer data").snippets(page) == marker.snippets(page)
