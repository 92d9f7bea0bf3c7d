"""Query cleaning and arXiv id recognition."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from dailypapers.search.query import MAX_QUERY_CHARS, as_arxiv_id, clean_query


def test_clean_query_caps_and_strips_control_characters() -> None:
    assert clean_query("a\x00b\n c\u200b") == ("a b c", False)
    text, cut = clean_query("word " * 100)
    assert cut and len(text) <= MAX_QUERY_CHARS and not text.endswith(" ")


@given(st.text(max_size=300))
def test_clean_query_skips_its_loop_only_for_what_it_would_keep(text: str) -> None:
    # The loop makes spaces of control and format characters and line and paragraph
    # separators; a printable text (no such character) is cleaned the same without it.
    spaced = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text
    )
    cleaned = " ".join(spaced.split())
    assert clean_query(text)[0] == cleaned[:MAX_QUERY_CHARS].rstrip()


def test_arxiv_ids_and_urls_are_recognised() -> None:
    assert as_arxiv_id("2501.01234v3") == "2501.01234"
    assert as_arxiv_id("https://arxiv.org/abs/2501.01234") == "2501.01234"
    assert as_arxiv_id("<arXiv:2501.01234>") == "2501.01234"
    assert as_arxiv_id("2501.01234 transformers") is None
    assert as_arxiv_id("transformers") is None


@given(st.text(max_size=2000))
def test_clean_query_never_fails(text: str) -> None:
    cleaned, _cut = clean_query(text)
    assert len(cleaned) <= MAX_QUERY_CHARS and "\x00" not in cleaned
    as_arxiv_id(cleaned)
