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
from itertools import compress, repeat

from rapidfuzz.distance import OSA
from rapidfuzz.process import extract

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


@lru_cache(maxsize=256)
def _query_terms(query: str) -> tuple[str, ...]:
    # Cached: a results page asks for the same query's terms once per hit. In query order, so
    # that a word near two terms marks the first.
    parsed = parse_query(query)
    text = " ".join((*parsed.words, *parsed.phrases))
    return tuple(dict.fromkeys(term for _, term in terms(text, STEMMED)))


# On ASCII text the analyzer's tokenizer cuts at every character that is not a letter or a
# digit, and lowercases; everything after that (long words dropped, stop words, stems) is per
# word. This table makes every other byte a space and upper case lower, in one C pass.
_ASCII_WORDS = bytes(
    (c | 0x20) if chr(c).isascii() and chr(c).isalnum() else 0x20 for c in range(256)
)


# The analyzer's term of each lowercase ASCII word seen (None: a stop word, or too long). A
# plain dict, read in one comprehension per text: an English vocabulary is small (65,536
# words cover 99.4% of the abstracts' words), and an ``lru_cache`` lookup cost twice a dict's.
_TERMS: dict[bytes, str | None] = {}
_TERMS_MAX = 1 << 16
_UNKNOWN = "\x00"  # never a term: the analyzer keeps letters and digits only


def _learn(word: bytes) -> str | None:
    """The analyzer's term for ``word``, remembered while the memo has room."""
    # Asking tantivy costs a call into Rust and a Python object per token.
    tokens = analyzer(STEMMED).pre_tokenize(word.decode("ascii")).tokens
    term = tokens[0].text if tokens else None
    if len(_TERMS) < _TERMS_MAX:
        _TERMS[word] = term
    return term


def _terms_of(words: list[bytes]) -> list[str | None]:
    """The term of each of ``words``, in their order (a ``map`` over the memo runs in C)."""
    found = list(map(_TERMS.get, words, repeat(_UNKNOWN)))
    if _UNKNOWN in found:
        found = [_learn(w) if t is _UNKNOWN else t for w, t in zip(words, found, strict=True)]
    return found


def _ascii_spans(cleaned: bytes, marked: dict[bytes, str]) -> list[_Span]:
    """The spans of the words of ``cleaned`` (an ASCII text as ``_ASCII_WORDS`` leaves it:
    lowercase letters and digits, a space for every other byte, so offsets are the text's)
    that are keys of ``marked``, in text order."""
    # Every separator is a space: a whole word is the word between two spaces, and a text
    # padded with one space at each end needs no check of a match's neighbours.
    padded = b" " + cleaned + b" "
    spans = []
    for word, term in marked.items():
        needle = b" " + word + b" "
        at = padded.find(needle)
        while at >= 0:
            # ``at`` is the space before the word: the word starts at ``at`` in the text.
            spans.append(_Span(at, at + len(word), term))
            at = padded.find(needle, at + len(word))
    spans.sort(key=lambda span: span.start)
    return spans


class Marker:
    """Marks one query's words in texts (the hits of a page, say)."""

    def __init__(self, query: str) -> None:
        self.wanted = _query_terms(query)
        self._wanted = frozenset(self.wanted)
        self._fuzzy = [
            (term, 2 if len(term) >= FUZZY_TWO_EDITS_CHARS else 1)
            for term in self.wanted
            if len(term) >= FUZZY_MIN_CHARS
        ]

    def _hits(self, present: set[str]) -> dict[str, str]:
        """Each of a text's terms (``present``) that is marked, and the query term it marks:
        itself, or for a word near a long query term that is not in the text, that term."""
        wanted = self._wanted
        hits = {term: term for term in present & wanted}
        missing = [(term, limit) for term, limit in self._fuzzy if term not in present]
        if missing:
            # Optimal-string-alignment distance (transpositions count one edit), in C over
            # all the words at once; a word near two terms marks the first (query order).
            # Words of other lengths are more than ``limit`` edits away: rapidfuzz drops them
            # before any work, faster than a filter here.
            others = list(present - wanted)
            for term, limit in missing if others else ():
                for word, _, _ in extract(
                    term, others, scorer=OSA.distance, score_cutoff=limit, limit=None
                ):
                    hits.setdefault(word, term)
        return hits

    def matches(self, text: str) -> list[_Span]:
        """The spans of ``text`` that mark the query's terms or words near a missing one."""
        if text.isascii():
            # The analyzer's terms without building a Python object per token in Rust: the
            # text's distinct words, each word's term from the memo, all in C but the few
            # words marked.
            cleaned = text.encode("ascii").translate(_ASCII_WORDS)
            words = list(set(cleaned.split()))
            found = _terms_of(words)
            present = set(found)
            present.discard(None)
            hits = self._hits(present)  # type: ignore[arg-type]  # None is gone
            if not hits:
                return []
            keep = list(map(hits.__contains__, found))
            marked = {
                word: hits[term]  # type: ignore[index]  # only terms in hits are kept
                for word, term in zip(compress(words, keep), compress(found, keep), strict=True)
            }
            return _ascii_spans(cleaned, marked)
        tokens = analyzer(STEMMED).pre_tokenize(text).tokens
        triples = [(token.char_offset_from, token.char_offset_to, token.text) for token in tokens]
        hits = self._hits({term for _, _, term in triples})
        return [
            _Span(start, end, hit)
            for start, end, term in triples
            if (hit := hits.get(term)) is not None
        ]

    def snippet(self, text: str, max_chars: int = 240) -> str:
        """HTML: about ``max_chars`` of ``text`` around the query's words, each in ``<mark>``."""
        max_chars = max(1, max_chars)
        text = printable(text)
        spans = self.matches(text)
        if spans:
            first, last = _best_window(spans, max_chars)
            start, end = _cut(text, spans[first].start, spans[last].end, max_chars)
        else:
            start, end = _cut(text, 0, 0, max_chars)
        return _render(text, start, end, spans)

    def highlight(self, text: str) -> str:
        """HTML: all of ``text`` (a title, say) with the query's words in ``<mark>``."""
        text = printable(text)
        return _render(text, 0, len(text), self.matches(text))


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
    return Marker(query).snippet(text, max_chars)


def highlight(text: str, query: str) -> str:
    """HTML: all of ``text`` (a title, say) with the query's words in ``<mark>``."""
    return Marker(query).highlight(text)
