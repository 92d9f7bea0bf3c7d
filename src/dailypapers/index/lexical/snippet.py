"""Highlighted text for a hit: the part of an abstract around the query's words, as safe HTML.

The text is cut into terms by the index's own analyzer, so "transformers" in the abstract is
marked for the query "Transformer", and (like the search) a long query word that is not in
the text marks the words one or two edits away. Every piece of text is HTML-escaped before
``<mark>`` tags are put between the pieces, so neither a paper nor a query can inject markup.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from functools import lru_cache

from dailypapers.index.lexical.query import (
    FUZZY_MIN_CHARS,
    FUZZY_TWO_EDITS_CHARS,
    parse_query,
    terms,
)
from dailypapers.index.lexical.schema import STEMMED, analyzer, printable

ELLIPSIS = "\u2026"


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    term: str


def _within(a: str, b: str, limit: int) -> bool:
    """Optimal-string-alignment distance of ``a`` and ``b`` is at most ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return False
    before: list[int] = []
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(row[j] + 1, current[j - 1] + 1, row[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], before[j - 2] + 1)
        if min(current) > limit:
            return False
        before, row = row, current
    return row[-1] <= limit


@lru_cache(maxsize=256)
def _query_terms(query: str) -> frozenset[str]:
    # Cached: a results page asks for the same query's terms once per hit.
    parsed = parse_query(query)
    text = " ".join((*parsed.words, *parsed.phrases))
    return frozenset(term for _, term in terms(text, STEMMED))


def _matches(text: str, query: str) -> list[_Span]:
    wanted = _query_terms(query)
    tokens = analyzer(STEMMED).pre_tokenize(text).tokens
    # Each attribute of a token is a call into the analyzer's Rust object: read them once.
    words = [token.text for token in tokens]
    present = set(words)
    fuzzy = [
        (term, set(term), 2 if len(term) >= FUZZY_TWO_EDITS_CHARS else 1)
        for term in wanted - present
        if len(term) >= FUZZY_MIN_CHARS
    ]
    # Each distinct word of the text is compared with the fuzzy terms once. The edit distance
    # runs in Python, so cheap necessary conditions come first: only words whose length is
    # within the limit are looked at, and one edit changes at most two memberships of the
    # words' letter sets. A word near two terms marks the first (terms in query order).
    hits = {word: word for word in present & wanted}
    by_length: dict[int, list[str]] = {}
    for word in present - wanted if fuzzy else ():
        by_length.setdefault(len(word), []).append(word)
    for term, term_letters, limit in fuzzy:
        for length in range(len(term) - limit, len(term) + limit + 1):
            for word in by_length.get(length, ()):
                if (
                    word not in hits
                    and len(set(word) ^ term_letters) <= 2 * limit
                    and _within(word, term, limit)
                ):
                    hits[word] = term
    return [
        _Span(token.char_offset_from, token.char_offset_to, hit)
        for token, word in zip(tokens, words, strict=True)
        if (hit := hits.get(word)) is not None
    ]


def _best_window(spans: list[_Span], max_chars: int) -> tuple[int, int]:
    """The first and last span of the window with the most distinct terms (earliest wins)."""
    best, best_count, last = (0, 0), 0, 0
    for first in range(len(spans)):
        last = max(last, first)
        while last + 1 < len(spans) and spans[last + 1].end - spans[first].start <= max_chars:
            last += 1
        count = len({span.term for span in spans[first : last + 1]})
        if count > best_count:
            best, best_count = (first, last), count
    return best


def _cut(text: str, low: int, high: int, max_chars: int) -> tuple[int, int]:
    """A window of at most ``max_chars`` around ``[low, high)``, on word boundaries."""
    slack = max(0, max_chars - (high - low))
    start = max(0, low - slack // 3)
    end = min(len(text), max(high, start + max_chars))
    start = max(0, min(start, end - max_chars))
    # Move inwards to the nearest space, unless that would cut into the matched words.
    if start > 0 and not text[start - 1].isspace():
        start = next((i + 1 for i in range(start, low) if text[i].isspace()), start)
    if end < len(text) and not text[end].isspace():
        end = next((i for i in range(end - 1, high - 1, -1) if text[i].isspace()), end)
    return start, end


def _render(text: str, start: int, end: int, spans: list[_Span]) -> str:
    pieces = [ELLIPSIS if start > 0 else ""]
    at = start
    for span in spans:
        if span.start < at or span.end > end:
            continue
        pieces += [html.escape(text[at : span.start]), "<mark>"]
        pieces += [html.escape(text[span.start : span.end]), "</mark>"]
        at = span.end
    pieces += [html.escape(text[at:end]), ELLIPSIS if end < len(text) else ""]
    return "".join(pieces).strip()


def snippet(text: str, query: str, max_chars: int = 240) -> str:
    """HTML: about ``max_chars`` of ``text`` around the query's words, each in ``<mark>``."""
    max_chars = max(1, max_chars)
    text = printable(text)
    spans = _matches(text, query)
    if spans:
        first, last = _best_window(spans, max_chars)
        start, end = _cut(text, spans[first].start, spans[last].end, max_chars)
    else:
        start, end = _cut(text, 0, 0, max_chars)
    return _render(text, start, end, spans)


def highlight(text: str, query: str) -> str:
    """HTML: all of ``text`` (a title, say) with the query's words in ``<mark>``."""
    text = printable(text)
    return _render(text, 0, len(text), _matches(text, query))
