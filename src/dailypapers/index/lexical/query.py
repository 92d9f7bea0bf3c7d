"""What a user typed, as a tantivy query built with its Query API (never its query language).

The grammar is ours and small: ``"quoted phrases"`` must appear (in the title, abstract or
author list), ``-word`` and ``-"a phrase"`` exclude, and everything else is a plain word:
``AND``, ``OR``, ``*``, ``title:(``, emoji, NUL bytes and unbalanced quotes are words too, and
the analyzer keeps only their letters and digits. No input raises.

Plain words are OR-ed: a paper matching more of them, or rarer ones, or in heavier fields
(:data:`~dailypapers.index.lexical.schema.FIELD_BOOSTS`) scores higher under BM25. That is
good recall for rank fusion. On top of the per-word clauses:

* the whole text as a phrase in the title (:data:`TITLE_PHRASE_BOOST`), so an exact title
  comes first;
* typo tolerance: a word of :data:`FUZZY_MIN_CHARS` or more that (nearly) no paper contains
  also matches the indexed words one edit away (``typos``: an insertion, a deletion, a
  substitution or two neighbouring letters swapped), at a constant score, so "transfomer"
  finds "transformer";
* a word counts as an author's name only when it is not a common word in abstracts
  (:data:`COMMON_WORD_SHARE`): otherwise "how do transformers work" would rank papers by
  authors named Do above papers about transformers.

A query of plain words alone (no quoted phrase, exclusion or filter) is searched in two parts
(:class:`BuiltQuery`), which give the same top ``k`` as the whole query: its BM25 term
clauses alone, a flat union of term scorers (which tantivy specialises), and, when there is a
title phrase or a typo clause, the papers matching one of those scored by every clause. A
paper that matches neither scores by its terms alone, so each such paper of the whole query's
top ``k`` is in the union's top ``k``, and each other one is in the second list's top ``k``.

Block-max WAND, which would skip the long posting lists of common words in the first part,
never runs: tantivy-py collects every search through a ``MultiCollector``, which visits each
matching paper. The two parts still cost less than the whole query in one (0.63 against
0.94 ms for a query with a title phrase, the same for one with a typo: BENCHMARKS.md "Search
page, session 17").
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, NamedTuple

import tantivy
from tantivy import FieldType, Occur, Query

from dailypapers.index.filters import Filters
from dailypapers.index.lexical.schema import (
    FIELD_BOOSTS,
    MAX_RAW_CHARS,
    NAMES,
    STEMMED,
    TEXT_FIELDS,
    analyzer,
    author_key,
    day_number,
    printable,
)
from dailypapers.index.lexical.typos import Vocabulary

# Bounds on the work one query can cause; the search box allows far less (250 characters).
MAX_QUERY_CHARS: Final = 1000
MAX_WORDS: Final = 32
MAX_PHRASES: Final = 8
MAX_CATEGORIES: Final = 50

TITLE_PHRASE_BOOST: Final = 3.0
FUZZY_MIN_CHARS: Final = 5
# Typos are matched one edit away only: two edits (tantivy's fuzzy query for words of 10
# letters or more, before) cost 2 to 4 ms a field and moved SciFact's lexical nDCG@10 by
# 0.0003 (BENCHMARKS.md "Search CPU"). ``snippet`` reads it to mark the same matches.
FUZZY_EDITS: Final = 1
# A word in at most this many papers may well be a typo of a word in many more.
FUZZY_MAX_DOC_FREQ: Final = 2
# Score of one fuzzy match, times the field's boost (a typical BM25 word scores 2 to 8).
FUZZY_SCORE: Final = 2.0
COMMON_WORD_SHARE: Final = 0.005
COMMON_WORD_MIN_DOCS: Final = 50

_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u00ab": '"', "\u00bb": '"'})
_PIECE = re.compile(r'(-?)"([^"]*)"|(\S+)')


@dataclass(frozen=True)
class ParsedQuery:
    """The pieces of a query string; words and phrases keep the user's spelling."""

    words: tuple[str, ...] = ()
    phrases: tuple[str, ...] = ()
    excluded_words: tuple[str, ...] = ()
    excluded_phrases: tuple[str, ...] = ()


def parse_query(text: str) -> ParsedQuery:
    """Split ``text`` into words, phrases and exclusions; never fails."""
    text = printable(text[:MAX_QUERY_CHARS])
    words: list[str] = []
    phrases: list[str] = []
    excluded_words: list[str] = []
    excluded_phrases: list[str] = []
    for match in _PIECE.finditer(text.translate(_QUOTES)):
        negated, quoted, word = match.groups()
        if word is not None:
            if word.startswith("-") and len(word) > 1:
                excluded_words.append(word[1:])
            else:
                words.append(word)
        elif negated:
            excluded_phrases.append(quoted)
        else:
            phrases.append(quoted)
    return ParsedQuery(
        tuple(words), tuple(phrases[:MAX_PHRASES]),
        tuple(excluded_words), tuple(excluded_phrases[:MAX_PHRASES]),
    )  # fmt: skip


def terms(text: str, analyzer_name: str) -> list[tuple[int, str]]:
    """``(position, term)`` pairs of ``text``; positions keep the gaps of dropped stop words."""
    tokens = analyzer(analyzer_name).pre_tokenize(text).tokens
    return [(token.position, token.text) for token in tokens]


def _boosted(query: Query, field: str) -> Query:
    return Query.boost_query(query, FIELD_BOOSTS[field])


def _phrase(schema: tantivy.Schema, field: str, pairs: list[tuple[int, str]]) -> Query:
    """A phrase query on ``field`` (a term query for one term); ``pairs`` is not empty."""
    if len(pairs) == 1:
        return Query.term_query(schema, field, pairs[0][1])
    first = pairs[0][0]
    return Query.phrase_query(schema, field, [(pos - first, term) for pos, term in pairs])


def _phrase_anywhere(schema: tantivy.Schema, text: str) -> Query | None:
    """``text`` as a phrase in the title, the abstract or the author list."""
    stemmed, names = terms(text, STEMMED), terms(text, NAMES)
    parts = [(field, stemmed) for field in TEXT_FIELDS] + [("authors", names)]
    clauses = [
        (Occur.Should, _boosted(_phrase(schema, field, pairs), field))
        for field, pairs in parts
        if pairs
    ]
    return Query.boolean_query(clauses) if clauses else None


def _may_be_typo(
    searcher: tantivy.Searcher, stem: str, name: str, in_abstracts: int | None = None
) -> bool:
    """Whether a query word (``name``: lowercased, not stemmed; ``stem``: its stem) is one
    the search forgives as a typo: long enough, and in (nearly) no paper's title or abstract
    as it is. The word as typed decides the length; the index holds stems, so the stem is
    what is counted. ``in_abstracts``: the stem's count of abstracts, when known already."""
    if len(name) < FUZZY_MIN_CHARS:
        return False
    if in_abstracts is None:
        in_abstracts = searcher.doc_freq("abstract", stem)
    if in_abstracts > FUZZY_MAX_DOC_FREQ:  # the titles need not be counted
        return False
    return in_abstracts + searcher.doc_freq("title", stem) <= FUZZY_MAX_DOC_FREQ


def _word_stems(words: tuple[str, ...]) -> tuple[dict[str, str], dict[int, str]]:
    """The searched words: each stem once with its name form (``name``: lowercased, not
    stemmed), in order, and the stems by position (for the title phrase)."""
    text = " ".join(words)
    names = terms(text, NAMES)[:MAX_WORDS]
    if not names:
        return {}, {}
    stemmed = {pos: stem for pos, stem in terms(text, STEMMED) if pos <= names[-1][0]}
    found: dict[str, str] = {}
    for position, name in names:
        # A stop word has no stem: it is not searched, not even as a name ("An", "Do").
        stem = stemmed.get(position)
        if stem is not None and stem not in found:
            found[stem] = name
    return found, stemmed


def typo_stems(parsed: ParsedQuery, searcher: tantivy.Searcher) -> frozenset[str]:
    """The stems of the query's words that the search also matches one edit away (what
    the snippets mark near words for): :func:`build_query`'s rule, without building."""
    words, _ = _word_stems(parsed.words)
    return frozenset(stem for stem, name in words.items() if _may_be_typo(searcher, stem, name))


class _Builder:
    """Collects the clauses of one query; needs the searcher for document frequencies."""

    def __init__(
        self,
        schema: tantivy.Schema,
        searcher: tantivy.Searcher,
        vocabulary: Callable[[], Vocabulary] | None = None,  # None: no typo is corrected
    ) -> None:
        self.schema = schema
        self.searcher = searcher
        # Called only for a word that may be a typo: reading the index's words is the one
        # costly step of a query (once per opened index), which most queries need not pay.
        self.vocabulary = vocabulary
        self.terms: list[Query] = []  # BM25 term clauses (one union of term scorers)
        self.should: list[Query] = []  # the others: the title phrase, typo clauses
        self.typos: list[str] = []  # the stems matched one edit away too
        self.must: list[Query] = []
        self.must_not: list[Query] = []
        docs = searcher.num_docs
        self.common_above = max(COMMON_WORD_MIN_DOCS, int(docs * COMMON_WORD_SHARE))

    def _fuzzy(self, field: str, near: list[str]) -> Query:
        """Papers with any of ``near`` in ``field``, each at one constant score.

        A union of term queries, as tantivy's term set matches them and at the same score:
        the term set built a finite-state set of the words at each query (and an empty
        table for it): 8 % of the keyword search's instructions over benchmarks.web_cpu's
        queries."""
        matches = Query.boolean_query(
            [(Occur.Should, Query.term_query(self.schema, field, term)) for term in near]
        )
        return Query.const_score_query(matches, FUZZY_SCORE * FIELD_BOOSTS[field])

    def add_words(self, words: tuple[str, ...]) -> None:
        found, stemmed = _word_stems(words)
        for stem, name in found.items():
            self._add_word(stem, name)
        if len(stemmed) > 1:
            phrase = _phrase(self.schema, "title", list(stemmed.items()))
            self.should.append(Query.boost_query(phrase, TITLE_PHRASE_BOOST))

    def _add_word(self, stem: str, name: str) -> None:
        """One word: its stem in title and abstract, maybe its name form, maybe fuzzy."""
        for field in TEXT_FIELDS:
            self.terms.append(_boosted(Query.term_query(self.schema, field, stem), field))
        in_abstracts = self.searcher.doc_freq("abstract", stem)
        if in_abstracts <= self.common_above:
            self.terms.append(_boosted(Query.term_query(self.schema, "authors", name), "authors"))
        if self.vocabulary is None or not _may_be_typo(self.searcher, stem, name, in_abstracts):
            return
        self.typos.append(stem)
        vocabulary = self.vocabulary()
        if self.searcher.doc_freq("authors", name) <= FUZZY_MAX_DOC_FREQ:
            names = vocabulary.names.near(name)
            if names:
                self.should.append(self._fuzzy("authors", names))
        stems = vocabulary.stems.near(stem)
        if stems:  # a stem of one field only matches nothing in the other: no harm
            self.should.extend(self._fuzzy(field, stems) for field in TEXT_FIELDS)

    def add_phrases(self, phrases: tuple[str, ...]) -> None:
        for phrase in phrases:
            query = _phrase_anywhere(self.schema, phrase)
            if query is not None:
                self.must.append(query)

    def exclude(self, words: tuple[str, ...], phrases: tuple[str, ...]) -> None:
        for text in (*words[:MAX_WORDS], *phrases):
            query = _phrase_anywhere(self.schema, text)
            if query is not None:
                self.must_not.append(query)

    def restrict(self, filters: Filters) -> None:
        """Filters are required clauses that add nothing to the score."""
        found: list[Query] = []
        if filters.since is not None or filters.until is not None:
            low = day_number(filters.since) if filters.since else None
            high = day_number(filters.until) if filters.until else None
            found.append(Query.range_query(self.schema, "day", FieldType.Integer, low, high))
        if filters.categories:
            cats = [printable(c)[:MAX_RAW_CHARS] for c in filters.categories[:MAX_CATEGORIES]]
            found.append(Query.term_set_query(self.schema, "categories", cats))
        if filters.has_code is not None:
            found.append(Query.term_query(self.schema, "has_code", filters.has_code))
        if filters.author is not None:
            found.append(Query.term_query(self.schema, "author_key", author_key(filters.author)))
        self.must.extend(Query.const_score_query(query, 0.0) for query in found)

    def build(self, has_phrases: bool) -> Query | None:
        """The whole query, every clause in one (None: nothing searchable)."""
        should = self.terms + self.should
        if not should and not has_phrases:
            return None
        clauses = [(Occur.MustNot, query) for query in self.must_not]
        clauses += [(Occur.Must, query) for query in self.must]
        if self.must and not has_phrases:
            # Next to a Must, Should clauses are optional: keep "at least one word" required.
            words = Query.boolean_query([(Occur.Should, query) for query in should])
            clauses.append((Occur.Must, words))
        else:
            clauses += [(Occur.Should, query) for query in should]
        return Query.boolean_query(clauses)

    def build_split(self) -> tuple[Query, Query | None] | None:
        """The term clauses alone and the papers matching any other clause scored by all of
        them (see the module's notes); None when the query has required or excluded
        clauses, or no term clause."""
        if self.must or self.must_not or not self.terms:
            return None
        terms = [(Occur.Should, query) for query in self.terms]
        if not self.should:
            return Query.boolean_query(terms), None
        others = Query.boolean_query([(Occur.Should, query) for query in self.should])
        return Query.boolean_query(terms), Query.boolean_query([(Occur.Must, others), *terms])


class BuiltQuery(NamedTuple):
    """A query to run (None: nothing searchable is left) and the stems of its words that
    it matches one edit away too (:func:`typo_stems`, decided while building).

    A query of plain words comes as ``terms`` and ``rest`` instead of ``query``: the top
    ``k`` of the whole query is the best ``k`` of both lists' top ``k``, a paper in both
    taking its score in ``rest`` (see the module's notes)."""

    query: Query | None
    typos: frozenset[str]
    terms: Query | None = None
    rest: Query | None = None


def build_query(
    parsed: ParsedQuery,
    schema: tantivy.Schema,
    searcher: tantivy.Searcher,
    vocabulary: Callable[[], Vocabulary],
    filters: Filters | None = None,
    *,
    split: bool = True,
) -> BuiltQuery:
    """The tantivy query for ``parsed`` (whole, or in two parts) and its typo stems; no
    query at all when nothing searchable is left in it.

    ``vocabulary`` gives the index's words, for typos; called only when a word may be one.
    ``split`` False: the whole query always (what the two parts must give the same top of)."""
    builder = _Builder(schema, searcher, vocabulary)
    builder.add_words(parsed.words)
    builder.add_phrases(parsed.phrases)
    has_phrases = bool(builder.must)
    builder.exclude(parsed.excluded_words, parsed.excluded_phrases)
    if filters is not None:
        builder.restrict(filters)
    typos = frozenset(builder.typos)
    parts = builder.build_split() if split else None
    if parts is not None:
        return BuiltQuery(None, typos, *parts)
    return BuiltQuery(builder.build(has_phrases), typos)
