"""Which of the day's new papers match which saved searches: pure of the store.

:class:`NewPapers` holds the papers of one run: a tantivy index in memory (the search
index's schema and analyzers, so words are stemmed and stop words dropped as in search) and
their embedding matrix. A saved search matches a paper by **keyword** when every searchable
word of its query appears in the title, abstract or author list, every quoted phrase appears,
no excluded word or phrase does, and the filters hold (search ORs the words to rank; an
alert, which sends rather than ranks, needs them all), or **semantically** when the cosine of
its query vector and the paper's is at least the threshold (measured on SciFact:
``benchmarks/alerts.py --threshold``) and the filters and exclusions hold. Each match says why:
the matched words (and phrases), or ``similarity``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import numpy.typing as npt
import tantivy
from tantivy import Occur, Query

from dailypapers.index.lexical.query import (
    MAX_WORDS,
    _Builder,
    _phrase_anywhere,
    parse_query,
    terms,
)
from dailypapers.index.lexical.schema import (
    NAMES,
    STEMMED,
    TEXT_FIELDS,
    author_key,
    build_schema,
    register_analyzers,
    to_tantivy,
)
from dailypapers.search.query import Filters
from dailypapers.store.documents import Document

Vectors = npt.NDArray[np.float32]


@dataclass(frozen=True)
class SavedSearch:
    """What a run needs of an alert."""

    id: int
    user_id: int
    query: str
    filters: Filters
    vector: Vectors | None
    checked_until: datetime


@dataclass(frozen=True)
class Match:
    alert_id: int
    paper_id: str
    words: tuple[str, ...]  # empty: matched by meaning only
    similarity: float | None


@dataclass(frozen=True)
class KeywordQuery:
    """A saved query's tantivy clauses: all words, phrases, exclusions and filters."""

    query: Query | None  # None: no searchable word or phrase
    excluded: Query | None
    words: tuple[str, ...]


def keyword_query(
    schema: tantivy.Schema, searcher: tantivy.Searcher, text: str, filters: Filters
) -> KeywordQuery:
    parsed = parse_query(text)
    must: list[Query] = []
    shown: list[str] = []
    names = terms(" ".join(parsed.words), NAMES)[:MAX_WORDS]
    stems = dict(terms(" ".join(parsed.words), STEMMED))
    for position, name in names:
        stem = stems.get(position)
        if stem is None or name in shown:  # a stop word is not searched (as in search)
            continue
        shown.append(name)
        either = [(Occur.Should, Query.term_query(schema, field, stem)) for field in TEXT_FIELDS]
        either.append((Occur.Should, Query.term_query(schema, "authors", name)))
        must.append(Query.boolean_query(either))
    for phrase in parsed.phrases:
        query = _phrase_anywhere(schema, phrase)
        if query is not None:
            must.append(query)
            shown.append(f'"{phrase}"')
    excluded = [
        query
        for piece in (*parsed.excluded_words[:MAX_WORDS], *parsed.excluded_phrases)
        if (query := _phrase_anywhere(schema, piece)) is not None
    ]
    builder = _Builder(schema, searcher)
    builder.restrict(filters)
    clauses = [(Occur.Must, query) for query in must + builder.must]
    clauses += [(Occur.MustNot, query) for query in excluded]
    excluded_query = (
        Query.boolean_query([(Occur.Should, query) for query in excluded]) if excluded else None
    )
    return KeywordQuery(
        Query.boolean_query(clauses) if must else None, excluded_query, tuple(shown)
    )


def passes(document: Document, filters: Filters) -> bool:
    """The filters on one paper (for semantic matches; keyword ones are filtered by tantivy)."""
    if filters.categories and not set(filters.categories) & set(document.categories):
        return False
    if filters.has_code is not None and document.has_code != filters.has_code:
        return False
    if filters.since is not None or filters.until is not None:
        day = document.day
        if day is None or not _within(day, filters.since, filters.until):
            return False
    if filters.author is not None:
        wanted = author_key(filters.author)
        return any(author_key(name) == wanted for name in document.authors)
    return True


def _within(day: date, since: date | None, until: date | None) -> bool:
    return (since is None or day >= since) and (until is None or day <= until)


class NewPapers:
    """The papers of one run, indexed in memory, with their vectors (where they have one)."""

    def __init__(
        self,
        documents: Sequence[Document],
        created: dict[str, datetime],
        vectors: dict[str, Vectors],
    ) -> None:
        self.documents = list(documents)
        self.created = created
        self.schema = build_schema()
        index = tantivy.Index(self.schema)
        register_analyzers(index)
        writer = index.writer(heap_size=50_000_000, num_threads=1)
        for document in self.documents:
            writer.add_document(to_tantivy(document))
        writer.commit()
        writer.wait_merging_threads()
        index.reload()
        self.searcher = index.searcher()
        self.by_id = {document.id: document for document in self.documents}
        self.embedded = [d.id for d in self.documents if d.id in vectors]
        self.matrix: Vectors = (
            np.stack([vectors[paper_id] for paper_id in self.embedded]).astype(np.float32)
            if self.embedded
            else np.zeros((0, 0), dtype=np.float32)
        )

    def keyword(self, search: SavedSearch) -> tuple[list[tuple[str, tuple[str, ...]]], set[str]]:
        """The papers matching by keyword with the matched words, and the excluded papers."""
        query = keyword_query(self.schema, self.searcher, search.query, search.filters)
        found: list[tuple[str, tuple[str, ...]]] = []
        limit = max(1, len(self.documents))
        if query.query is not None:
            hits = self.searcher.search(query.query, limit=limit, count=False).hits
            found = [(self._id(address), query.words) for _score, address in hits]
        excluded: set[str] = set()
        if query.excluded is not None:
            hits = self.searcher.search(query.excluded, limit=limit, count=False).hits
            excluded = {self._id(address) for _score, address in hits}
        return found, excluded

    def _id(self, address: tantivy.DocAddress) -> str:
        paper_id: str = self.searcher.doc(address)["id"][0]
        return paper_id

    def similarities(self, queries: Vectors) -> Vectors:
        """Cosine of each query (rows, unit length) with each embedded paper (columns)."""
        if not self.embedded or queries.size == 0:
            return np.zeros((len(queries), len(self.embedded)), dtype=np.float32)
        result: Vectors = queries @ self.matrix.T
        return result


def match_all(
    papers: NewPapers,
    searches: Sequence[SavedSearch],
    threshold: float,
    not_interested: dict[int, set[str]],
) -> list[Match]:
    """Every (alert, paper) match of ``searches`` among ``papers``: a paper counts for an
    alert when it was created after the alert's watermark and its member has not marked it
    "not interested"; a keyword match wins over a semantic one (its words say more)."""
    with_vectors = [s for s in searches if s.vector is not None]
    rows = [s.vector for s in with_vectors if s.vector is not None]
    sims = papers.similarities(np.stack(rows) if rows else np.zeros((0, 0), np.float32))
    row_of = {search.id: row for row, search in enumerate(with_vectors)}
    found: list[Match] = []
    for search in searches:
        keyword, excluded = papers.keyword(search)
        skip = excluded | not_interested.get(search.user_id, set())
        taken: set[str] = set()
        for paper_id, words in keyword:
            if paper_id not in skip and papers.created[paper_id] > search.checked_until:
                taken.add(paper_id)
                found.append(Match(search.id, paper_id, words, None))
        row = row_of.get(search.id)
        if row is None:
            continue
        for column in np.flatnonzero(sims[row] >= threshold):
            paper_id = papers.embedded[column]
            if paper_id in taken or paper_id in skip:
                continue
            if papers.created[paper_id] <= search.checked_until:
                continue
            if passes(papers.by_id[paper_id], search.filters):
                found.append(Match(search.id, paper_id, (), float(sims[row, column])))
    return found


def why(words: Sequence[str], similarity: float | None) -> str:
    """The reason a member reads beside a paper."""
    if words:
        return "matched: " + ", ".join(words)
    return "similar to your search" + (f" ({similarity:.2f})" if similarity is not None else "")
