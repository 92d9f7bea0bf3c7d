"""Highlighted text for a hit: the part of an abstract around the query's words, as safe HTML.

The text is cut into terms by the index's own analyzer, so "transformers" in the abstract is
marked for the query "Transformer", and (like the search) a long query word that is not in
the text marks the words one edit away (on a page of results: that no text of the
page has, see ``Marker``). Every piece of text is HTML-escaped before ``<mark>`` tags are put
between the pieces, so neither a paper nor a query can inject markup.

A page's snippets cost about a millisecond (``Marker.snippets``): each text is searched only
for the words that begin like a query term (the stemmer rewrites only a word's end), and
only a typo, a long query word on none of the page's texts, has every word of the page
looked up (BENCHMARKS.md, "Search page CPU"), unless the index says which of its words are
one edit from the typo (``Marker``'s ``neighbours``): then the texts are searched for those.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from functools import lru_cache
from itertools import repeat
from typing import Final

from rapidfuzz.distance import OSA
from rapidfuzz.process import extract

from dailypapers.index.lexical.query import (
    FUZZY_EDITS,
    FUZZY_MAX_DOC_FREQ,
    FUZZY_MIN_CHARS,
    parse_query,
    terms,
)
from dailypapers.index.lexical.schema import STEMMED, analyzer, printable

ELLIPSIS = "\u2026"


# A marked word: its start and end offsets in the text and the query term it marks. A plain
# tuple, read by index (START, END, TERM): a page makes a few hundred of them, and a
# NamedTuple's constructor and attributes are Python-level calls (a page's snippets cost 8 %
# less without them, BENCHMARKS.md "Search page, Python half, session 13").
_Span = tuple[int, int, str]
START: Final = 0
END: Final = 1
TERM: Final = 2


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
# The same, but a control character (the only ASCII that is not printable) becomes
# _CONTROL: one pass then both cleans a raw text and says whether :func:`printable` would
# change it, where ``str.isprintable`` cost an eighth of a page's snippets' instructions.
_CONTROL = 0x01
_ASCII_CHECKED = bytes(
    _CONTROL if not chr(c).isprintable() else byte for c, byte in enumerate(_ASCII_WORDS)
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


def _search_prefixes(terms: tuple[str, ...]) -> tuple[bytes, ...]:
    """What to look for in a padded text to find every word whose term is one of ``terms``:
    a space, then the term but its last two characters (at least its first).

    The English stemmer only rewrites a word's end: a term is a beginning of its word
    followed by at most two characters of its own ("hoping" -> "hope", "possibly" ->
    "possibl"), and it is never longer than the word. Checked on every one of the 124,683
    distinct words of the 74,737 papers' titles and abstracts, and in the tests. A prefix
    that begins with another is left out: the shorter one finds its words too.
    """
    prefixes = sorted({term[: max(1, len(term) - 2)] for term in terms if term.isascii()}, key=len)
    kept: list[str] = []
    for prefix in prefixes:
        if not any(prefix.startswith(shorter) for shorter in kept):
            kept.append(prefix)
    return tuple(b" " + prefix.encode("ascii") for prefix in kept)


def _term(word: bytes) -> str | None:
    """The analyzer's term of a lowercase ASCII word (None: a stop word, or too long)."""
    term = _TERMS.get(word, _UNKNOWN)
    return _learn(word) if term is _UNKNOWN else term


class Marker:
    """Marks one query's words in texts (the hits of a page, say).

    A word is marked when its term (stem) is one of the query's, and, as the search forgives
    typos, when it is one edit from a long query term that its text lacks, unless
    more than ``FUZZY_MAX_DOC_FREQ`` texts of the page have that term: the search forgives
    only words in at most that many papers, so such a word was searched as it is and words
    near it are not what it matched. A text alone is marked the same either way. When the
    index says which terms the search forgave (``typos``, :meth:`LexicalIndex.typos`), only
    those mark near words: a term in more papers than that was not forgiven either, and the
    page's texts are not looked through for its neighbours (about half of the searches of
    a page made of titles, BENCHMARKS.md "Web CPU: the search page, session 9").
    """

    def __init__(
        self,
        query: str,
        typos: Collection[str] | None = None,
        neighbours: Callable[[str], Collection[str]] | None = None,
    ) -> None:
        self.wanted = _query_terms(query)
        # The index's terms one edit from a term (``WordSet.near`` of the search's typo
        # vocabulary), when known: a page's ASCII texts are then searched for the words
        # of those terms alone, instead of every word of the page being looked up.
        self._neighbours = neighbours
        self._wanted = frozenset(self.wanted)
        # The terms whose near words may be marked: those the search forgave as typos when
        # the index said which (``typos``), else every long term.
        fuzzy = (
            [t for t in self.wanted if len(t) >= FUZZY_MIN_CHARS]
            if typos is None
            else [t for t in self.wanted if t in typos]
        )
        self._fuzzy = [(term, FUZZY_EDITS) for term in fuzzy]
        self._prefixes = _search_prefixes(self.wanted)

    def _hits(self, present: set[str], fuzzy: list[tuple[str, int]]) -> dict[str, str]:
        """Each of a text's terms (``present``) that is marked, and the query term it marks:
        itself, or for a word near a term of ``fuzzy`` not in the text, that term."""
        wanted = self._wanted
        hits = {term: term for term in present & wanted}
        missing = [(term, limit) for term, limit in fuzzy if term not in present]
        if missing:
            others = list(present - wanted)
            for term, near in self._near(others, missing).items():
                for word in near:
                    hits.setdefault(word, term)
        return hits

    @staticmethod
    def _near(others: list[str], fuzzy: list[tuple[str, int]]) -> dict[str, list[str]]:
        """For each term of ``fuzzy`` (in its order), those of ``others`` within its edit
        distance: optimal string alignment (a transposition counts one edit), in C over all
        of them at once (rapidfuzz drops other lengths before any work)."""
        return {
            term: [
                near
                for near, _, _ in extract(
                    term, others, scorer=OSA.distance, score_cutoff=limit, limit=None
                )
            ]
            for term, limit in (fuzzy if others else ())
        }

    def _exact(self, padded: bytes) -> list[_Span]:
        """The words of a padded, cleaned text whose term is one of the query's: only the
        words that begin like one (:func:`_search_prefixes`) are looked up."""
        wanted, spans, find, known = self._wanted, [], padded.find, _TERMS.get
        for needle in self._prefixes:
            at = find(needle)
            while at >= 0:
                # ``at`` is the space before the word: the word starts at ``at`` in the text.
                end = find(b" ", at + 1)
                word = padded[at + 1 : end]
                term = known(word, _UNKNOWN)
                if term is _UNKNOWN:
                    term = _learn(word)
                if term in wanted:
                    spans.append((at, end - 1, term))
                at = find(needle, end)
        if len(self._prefixes) > 1:  # one needle's words are found in the text's order
            spans.sort()
        return spans

    def _near_in_index(
        self, padded: list[bytes], fuzzy: list[tuple[str, int]], present: list[set[str]]
    ) -> list[list[_Span]]:
        """:meth:`_fuzzy_matches` from the index's neighbours of each fuzzy term: every
        word of an ASCII text is in the index, so its term is one edit from a fuzzy term
        exactly when the index's neighbours of that term hold it; those words are found as
        :meth:`_exact` finds the query's, by the beginnings of their terms."""
        assert self._neighbours is not None
        wanted = self._wanted
        near: dict[str, list[str]] = {}  # in query order, as in _fuzzy_matches
        for term, _limit in fuzzy:
            for other in self._neighbours(term):
                if other not in wanted:
                    near.setdefault(other, []).append(term)
        prefixes = _search_prefixes(tuple(near))
        result = []
        for text, here in zip(padded, present, strict=True):
            spans = []
            for needle in prefixes:
                at = text.find(needle)
                while at >= 0:
                    end = text.find(b" ", at + 1)
                    targets = near.get(_term(text[at + 1 : end]))  # type: ignore[arg-type]
                    mark = (
                        None
                        if targets is None
                        else next((term for term in targets if term not in here), None)
                    )
                    if mark is not None:
                        spans.append((at, end - 1, mark))
                    at = text.find(needle, end)
            spans.sort()
            result.append(spans)
        return result

    def _fuzzy_matches(
        self, padded: list[bytes], fuzzy: list[tuple[str, int]], present: list[set[str]]
    ) -> list[list[_Span]]:
        """The words of each padded text one edit from a term of ``fuzzy`` that the
        text lacks (``present``: each text's query terms), as :meth:`_hits` marks them: the
        distinct words of the whole page (most repeat from text to text), their terms from
        the memo, in C; then each text is searched for the few near ones."""
        words = list(set(b"".join(padded).split()))
        found = _terms_of(words)
        terms = set(found) - self._wanted
        terms.discard(None)
        # The query terms each page term is near, in query order: a word near two terms
        # marks the first that its text lacks.
        near: dict[str, list[str]] = {}
        for term, others in self._near(list(terms), fuzzy).items():  # type: ignore[arg-type]
            for other in others:
                near.setdefault(other, []).append(term)
        needles = [
            (b" " + word + b" ", near[term])
            for word, term in zip(words, found, strict=True)
            if term in near
        ]
        result = []
        for text, here in zip(padded, present, strict=True):
            spans: list[_Span] = []
            for needle, targets in needles:
                mark = next((term for term in targets if term not in here), None)
                at = -1 if mark is None else text.find(needle)
                while at >= 0:
                    spans.append((at, at + len(needle) - 2, mark))  # type: ignore[arg-type]
                    at = text.find(needle, at + len(needle) - 1)
            result.append(spans)
        return result

    def _matches(self, texts: list[str], padded: list[bytes]) -> list[list[_Span]]:
        """:meth:`matches` of each of ``texts`` (printable already, and :func:`_prepared`
        with their ``padded`` words), the page rule applied."""
        is_ascii = [bool(words) for words in padded]
        spans = [self._exact(text) for text in padded]
        tokens = [
            [] if plain else _tokens(text) for text, plain in zip(texts, is_ascii, strict=True)
        ]
        # Each text's query terms and the fuzzy terms the page rule keeps: only needed when
        # some query term may mark near words (most queries have none: a page then skips them).
        present: list[set[str]] = []
        fuzzy: list[tuple[str, int]] = []
        if self._fuzzy:
            present = [{span[TERM] for span in text} for text in spans]
            for index, triples in enumerate(tokens):
                present[index].update(term for _, _, term in triples)
            # A term in more texts of the page than the search forgives is a word the papers
            # use: the search took it as it is (see the class).
            texts_with = Counter(term for here in present for term in here)
            fuzzy = [(t, n) for t, n in self._fuzzy if texts_with[t] <= FUZZY_MAX_DOC_FREQ]
        if fuzzy and any(is_ascii):
            chosen = [index for index, plain in enumerate(is_ascii) if plain]
            fuzzy_matches = self._fuzzy_matches if self._neighbours is None else self._near_in_index
            near = fuzzy_matches([padded[i] for i in chosen], fuzzy, [present[i] for i in chosen])
            for index, extra in zip(chosen, near, strict=True):
                if extra:
                    spans[index] = sorted(spans[index] + extra)
        for index, triples in enumerate(tokens):
            if not is_ascii[index]:
                # Such a text has no spans yet: its terms are its words'.
                here = present[index] if present else {term for _, _, term in triples}
                hits = self._hits(here, fuzzy)
                spans[index] = [
                    (start, end, hit)
                    for start, end, term in triples
                    if (hit := hits.get(term)) is not None
                ]
        return spans

    def matches(self, text: str) -> list[_Span]:
        """The spans of ``text`` that mark the query's terms or words near a missing one."""
        return self._matches(*_prepared([text]))[0]

    def snippets(self, texts: Sequence[str], max_chars: int = 240) -> list[str]:
        """HTML: about ``max_chars`` of each of ``texts`` (a page's abstracts) around the
        query's words, each in ``<mark>``; a query word on none of them marks the words
        one edit away (see the class)."""
        max_chars = max(1, max_chars)
        printed, padded = _prepared(texts)
        return [
            _snippet(text, spans, max_chars)
            for text, spans in zip(printed, self._matches(printed, padded), strict=True)
        ]

    def snippet(self, text: str, max_chars: int = 240) -> str:
        """HTML: about ``max_chars`` of ``text`` around the query's words, each in ``<mark>``."""
        return self.snippets([text], max_chars)[0]

    def highlight(self, text: str) -> str:
        """HTML: all of ``text`` (a title, say) with the query's words in ``<mark>``."""
        printed, padded = _prepared([text])
        return _render(printed[0], 0, len(printed[0]), self._matches(printed, padded)[0])


def _prepared(texts: Sequence[str]) -> tuple[list[str], list[bytes]]:
    """Each of ``texts`` as :func:`printable` makes it, and its words for matching: an ASCII
    text's lowercase letters and digits with every other character a space, padded with a
    space at each end, so that a whole word is the word between two spaces (b"" for a text
    that is not ASCII). A raw ASCII text is cleaned in one pass (``_ASCII_CHECKED``); one
    with a control character, like any other, goes through :func:`printable` first."""
    printed: list[str] = []
    padded: list[bytes] = []
    for text in texts:
        if text.isascii():  # a flag of the string: no pass over it
            words = text.encode("ascii").translate(_ASCII_CHECKED)
            if _CONTROL not in words:  # then printable: printable(text) is text
                printed.append(text)
                padded.append(b" " + words + b" ")
                continue
        text = printable(text)
        printed.append(text)
        plain = text.isascii()
        padded.append(b" " + text.encode("ascii").translate(_ASCII_WORDS) + b" " if plain else b"")
    return printed, padded


def _tokens(text: str) -> list[tuple[int, int, str]]:
    """The analyzer's terms of ``text`` with their character offsets (tantivy's tokenizer)."""
    tokens = analyzer(STEMMED).pre_tokenize(text).tokens
    return [(token.char_offset_from, token.char_offset_to, token.text) for token in tokens]


def _snippet(text: str, spans: list[_Span], max_chars: int) -> str:
    if spans:
        first, last = _best_window(spans, max_chars)
        start, end = _cut(text, spans[first][START], spans[last][END], max_chars)
    else:
        start, end = _cut(text, 0, 0, max_chars)
    return _render(text, start, end, spans)


def _best_window(spans: list[_Span], max_chars: int) -> tuple[int, int]:
    """The first and last span of the window with the most distinct terms (earliest wins)."""
    # One transposition in C, not three comprehensions.
    starts, ends, terms = zip(*spans, strict=True)
    # No later window can hold more than every term: the first that does is the answer.
    distinct = len(set(terms))
    best, best_count, last, count = (0, 0), 0, -1, len(spans)
    counts: dict[str, int] = {}  # the terms of spans[first : last + 1]
    for first, term in enumerate(terms):
        if last < first:
            last = first
            counts[term] = counts.get(term, 0) + 1
        limit = starts[first] + max_chars  # a window's spans end at most here
        while last + 1 < count and ends[last + 1] <= limit:
            last += 1
            counts[terms[last]] = counts.get(terms[last], 0) + 1
        if len(counts) > best_count:
            best, best_count = (first, last), len(counts)
            if best_count == distinct:
                break
        if counts[term] == 1:
            del counts[term]
        else:
            counts[term] -= 1
    return best


def _cut(text: str, low: int, high: int, max_chars: int) -> tuple[int, int]:
    """A window of at most ``max_chars`` around ``[low, high)``, on word boundaries.

    ``text`` is printable (:func:`printable`), so a space is its only white space."""
    slack = max(0, max_chars - (high - low))
    start = max(0, low - slack // 3)
    end = min(len(text), max(high, start + max_chars))
    start = max(0, min(start, end - max_chars))
    # Move inwards to the nearest space, unless that would cut into the matched words.
    if start > 0 and text[start - 1] != " " and (space := text.find(" ", start, low)) >= 0:
        start = space + 1
    if end < len(text) and text[end] != " " and (space := text.rfind(" ", high, end)) >= 0:
        end = space
    return start, end


def _render(text: str, start: int, end: int, spans: list[_Span]) -> str:
    # Most windows have no character to escape (none of what ``html.escape`` rewrites): a
    # check of the window then spares an escape a piece. Five ``in`` tests (each a scan for
    # one character in C) cost less than a regular expression's scan for the five did (that
    # scan was 4 % of a page's snippets' instructions).
    window = text[start:end]
    special = "&" in window or "<" in window or ">" in window or '"' in window or "'" in window
    escape = html.escape if special else str
    pieces = [ELLIPSIS if start > 0 else ""]
    at = start
    for low, high, _term in spans:
        if low < at or high > end:
            continue
        pieces += [escape(text[at:low]), "<mark>", escape(text[low:high]), "</mark>"]
        at = high
    pieces += [escape(text[at:end]), ELLIPSIS if end < len(text) else ""]
    return "".join(pieces).strip()


def snippet(text: str, query: str, max_chars: int = 240) -> str:
    """HTML: about ``max_chars`` of ``text`` around the query's words, each in ``<mark>``."""
    return Marker(query).snippet(text, max_chars)


def highlight(text: str, query: str) -> str:
    """HTML: all of ``text`` (a title, say) with the query's words in ``<mark>``."""
    return Marker(query).highlight(text)
