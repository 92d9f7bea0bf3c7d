"""Hybrid search: exact ids and titles first, then lexical and dense lists fused.

``SearchEngine.search`` is the one function the CLI, the pages, the API and the feeds call.
Steps: clean the text (cap 250 characters); an arXiv id or URL, or a title equal to a paper's
(or nearly equal: a typo), puts that paper first; the lexical index and, in hybrid and dense
modes, the dense index each give a top list under the filters (the dense one for the query's
embedding, or for a query that names a paper, for that paper's stored vector: papers like
it); the lists are fused (by
default a convex combination of normalised scores whose semantic weight follows how far this
query's semantic list can be trusted, see ``fusion``); a sort other than relevance reorders
the fused list.
If the query embedding fails or takes longer than the timeout, the lexical list alone is
returned and the response says so (as it does when an index is not built yet). When no
paper has the query's words, semantic hits below a similarity floor are dropped, so a
nonsense query finds nothing rather than noise. The last rankings are kept (``_rankings``),
so another page of the same search is only cut from its ranking.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from operator import itemgetter
from typing import Protocol

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz

from dailypapers.index.lexical.index import IndexUnusable
from dailypapers.index.lexical.snippet import Marker
from dailypapers.memo import Memo
from dailypapers.search.catalog import Catalog, Entry, title_key
from dailypapers.search.embedding import Pending, QueryThread
from dailypapers.search.fusion import get_fusion
from dailypapers.search.query import Filters, Mode, SearchRequest, as_arxiv_id, clean_query

log = logging.getLogger(__name__)

DAMAGED_NOTE = "Keyword search is unavailable (its index is damaged and is being rebuilt)"
# Candidates taken from each retriever before fusion; deep enough for Recall@100.
DEPTH = 100
# A title this similar to the query counts as the same title with a typo: the normalised
# insertion/deletion similarity (2 x longest common subsequence / total length, in C by
# rapidfuzz; difflib's ratio, used before, is at most this and cost 0.2 ms a title).
TITLE_TYPO_RATIO = 0.9
# Queries whose title key is shorter are keywords, not titles: none is taken for a title with
# a typo.
TITLE_MIN_CHARS = 20
NOT_BUILT = (
    "The search index is not built yet (run `dailypapers index`): only exact arXiv ids and "
    "titles are found for now."
)


class Lexical(Protocol):
    def search(
        self, text: str, k: int = 100, filters: Filters | None = None
    ) -> list[tuple[str, float]]: ...


class Dense(Protocol):
    def search(
        self, query_vector: npt.NDArray[np.float32], k: int, filters: Filters | None = None
    ) -> list[tuple[str, float]]: ...

    def similar(self, paper_id: str, k: int) -> list[tuple[str, float]]: ...

    def vector(self, paper_id: str) -> npt.NDArray[np.float32] | None: ...


class QueryEmbedder(Protocol):
    def embed_query(self, text: str) -> npt.NDArray[np.float32]: ...


# Not frozen: a frozen dataclass sets each of its 9 fields through object.__setattr__, about
# three times the cost of a plain __init__ for the 20 hits of a page (as FeedEntry, see
# store/entries.py). Treat it as immutable all the same (``dataclasses.replace`` makes a
# changed copy); hashable by its fields, as it was.
@dataclass(slots=True, unsafe_hash=True)
class Hit:
    id: str
    title: str
    score: float
    day: date | None
    authors: tuple[str, ...]
    categories: tuple[str, ...]
    has_code: bool
    exact: bool = False  # matched as the paper's id or title
    snippet: str | None = None  # HTML: escaped abstract text with the matches in <mark>


@dataclass(frozen=True)
class SearchResponse:
    query: str
    mode: Mode
    used_mode: Mode
    truncated: bool
    hits: list[Hit]
    candidates: int
    notes: list[str] = field(default_factory=list)
    # The stems of the query's words the keyword search forgave as typos (matched one edit
    # away too), for the snippets' marks; None when no keyword search said (see ``marker``).
    typos: frozenset[str] | None = None


@dataclass
class SearchConfig:
    fusion: str = "adaptive"
    lexical_weight: float = 1.0
    dense_weight: float = 1.0
    embed_timeout: float = 0.5  # seconds
    # Semantic neighbours always exist, however meaningless the query; when no paper has the
    # query's words, those below this cosine are noise (nonsense strings score about 0.3 with
    # all-MiniLM-L6-v2, topical queries 0.5 and more).
    dense_min_similarity: float = 0.4


# A query embedding under way in the engine's thread.
Embedding = Pending[npt.NDArray[np.float32]]
# What the semantic half searches with: the query's embedding, or the vector stored for the
# paper the query names (see ``SearchEngine._named``).
SemanticQuery = Embedding | npt.NDArray[np.float32]

# Abstracts of some papers by id, for the snippets of one page of hits.
Abstracts = Callable[[list[str]], dict[str, str]]


@dataclass(frozen=True)
class Ranking:
    """What a search found, before it is cut into pages: the papers in the order shown,
    their fused scores, and which matched as the paper's id or title."""

    ordered: tuple[str, ...]
    scores: dict[str, float]
    exact: frozenset[str]
    used_mode: Mode
    typos: frozenset[str] | None = None  # as in SearchResponse


# The last searches' rankings, by engine, query, mode, filters and sort: the next page of
# results, a reload or the same search's feed neither searches nor fuses again. An engine
# never changes what it finds (a reopening is another engine, another serial), so a kept
# ranking is never stale; one of an engine replaced is only dropped in its turn. A Memo,
# so the benchmarks' cold rows start without it. About 20 KB each.
RANKINGS_KEPT = 256
_rankings: Memo[tuple[object, ...], Ranking] = Memo(RANKINGS_KEPT, fixed=True)
_serials = itertools.count()


def _all_known(dense: Dense | None, catalog: Catalog) -> bool:
    """Whether every paper of ``dense`` has an entry in ``catalog`` (False when the index
    does not list its papers as ``ids``)."""
    ids = getattr(dense, "ids", None)
    return ids is not None and all(map(catalog.entries.__contains__, ids))


class SearchEngine:
    def __init__(
        self,
        catalog: Catalog,
        lexical: Lexical | None,
        dense: Dense | None = None,
        embedder: QueryEmbedder | None = None,
        config: SearchConfig | None = None,
        abstracts: Abstracts | None = None,
    ) -> None:
        self.catalog = catalog
        self.abstracts = abstracts
        self.lexical = lexical
        self.dense = dense
        self.embedder = embedder
        self.config = config or SearchConfig()
        self.fuse = get_fusion(self.config.fusion)
        # False when opened with a part kept from the engine it replaces (see service.py).
        self.complete = True
        # Set when the keyword index failed a search: whoever holds the engine rebuilds it.
        self.damaged = False
        # One worker: a query embedding that overruns its timeout finishes in the background
        # while the request returns lexical results.
        self._embedding = QueryThread()
        self._serial = next(_serials)  # its rankings' key (see ``_rankings``)
        # The dense index when every one of its papers is in the catalog (else None): the
        # catalog only gains papers, and an index never changes its ids. See ``_known``.
        self._known_dense = dense if _all_known(dense, catalog) else None

    def close(self) -> None:
        self._embedding.close()

    def search(self, request: SearchRequest) -> SearchResponse:
        text, truncated = clean_query(request.text)
        notes = [f"The query was cut to its first {len(text)} characters."] if truncated else []
        key = (self._serial, text, request.mode, request.filters, request.sort)
        ranking = _rankings.get(key)
        if ranking is None:
            ranking = self._rank(text, request, notes)
            # Only a whole answer is kept: not one that fell back (a slow embedding, a
            # damaged or missing index) and says so, which the next search may not.
            if not notes and not self.damaged:
                _rankings.keep(key, ranking)
        # Hits are made for the page only: a fused list holds up to two hundred papers.
        window = ranking.ordered[request.offset : request.offset + request.limit]
        scores, exact = ranking.scores, ranking.exact
        page = [self._hit(pid, scores.get(pid, 0.0), pid in exact) for pid in window]
        if request.snippets:
            page = self._with_snippets(page, text, ranking.typos)
        found, typos = len(ranking.ordered), ranking.typos
        return SearchResponse(
            text, request.mode, ranking.used_mode, truncated, page, found, notes, typos
        )

    def _rank(self, text: str, request: SearchRequest, notes: list[str]) -> Ranking:
        """Every paper found for ``text``, in the order shown, and their scores."""
        key = title_key(text)  # once: it names a paper for both halves and for the top
        ranked, used_mode, typos, lexical = self._retrieve(
            text, key, request.mode, request.filters, notes
        )
        ranked = self._known(ranked, lexical, used_mode)
        exact = self._exact_matches(text, key, ranked, request.filters)
        ids = map(itemgetter(0), ranked)
        ordered = exact + [pid for pid in ids if pid not in exact] if exact else list(ids)
        if request.sort == "newest":
            entries = self.catalog.entries
            ordered.sort(key=lambda pid: entries[pid].day or date.min, reverse=True)
        return Ranking(tuple(ordered), dict(ranked), frozenset(exact), used_mode, typos)

    def _known(
        self, ranked: list[tuple[str, float]], lexical: list[tuple[str, float]], used_mode: Mode
    ) -> list[tuple[str, float]]:
        """``ranked`` without the papers the catalog does not know: an index can be a little
        ahead of it (a paper indexed after the catalog was loaded).

        When every paper of the dense index is in the catalog (looked up once, when the
        engine opens), only those of the keyword list (``lexical``: every paper a hybrid
        list can hold beside the dense ones) are looked up: a dense list's papers are random
        reads of a 75,000-entry dict, about a microsecond each in a search page."""
        known = self.catalog.entries  # the dict itself: a method call per hit cost more
        dense_known = self.dense is not None and self.dense is self._known_dense
        if used_mode == "lexical" or not dense_known:
            return [found for found in ranked if found[0] in known]  # the pairs kept
        if used_mode == "dense":
            return ranked
        unknown = {pid for pid, _score in lexical if pid not in known}
        return [found for found in ranked if found[0] not in unknown] if unknown else ranked

    def _retrieve(
        self,
        text: str,
        key: str,
        mode: Mode,
        filters: Filters,
        notes: list[str],
    ) -> tuple[list[tuple[str, float]], Mode, frozenset[str] | None, list[tuple[str, float]]]:
        """The fused list, the mode used, the keyword search's typos (None: no keyword
        search said which) and the keyword list fused (empty when none was).

        A query that names a paper, by its arXiv id or its title (``key``, exactly or with a
        typo), searches the semantic half with that paper's stored vector: its neighbours
        are the papers like the one asked for, and the query costs no embedding (the
        embedding is most of a search's CPU). Otherwise the embedding starts first and runs
        in its thread (ONNX Runtime releases the GIL) while the keyword search runs here: a
        hybrid query costs the longer of the two rather than their sum. A query long enough
        to be a title with a typo waits for the keyword list, whose first hits say whether
        it is one, before it is embedded."""
        if not text:
            return [], mode, None, []
        semantic: SemanticQuery | None = None
        if mode != "lexical":
            semantic = self._named(text, key)
            if semantic is None and (mode == "dense" or len(key) < TITLE_MIN_CHARS):
                semantic = self._start_embedding(text)
        lexical, typos = ([], None) if mode == "dense" else self._lexical(text, filters, notes)
        if semantic is None and mode == "hybrid":
            semantic = self._stored(self._near_title(key, lexical))
            if semantic is None:
                semantic = self._start_embedding(text)
        ranked, used_mode = self._combine(text, mode, filters, notes, semantic, lexical)
        return ranked, used_mode, typos, lexical

    def _named(self, text: str, key: str) -> npt.NDArray[np.float32] | None:
        """The stored vector of the paper ``text`` names by its arXiv id or its exact title
        (``key``; of equal titles, the first with a vector); None when no paper is named or
        it has no vector yet. Filters do not matter: the semantic half is filtered itself."""
        if self.dense is None:
            return None
        arxiv_id = as_arxiv_id(text)
        if arxiv_id and arxiv_id in self.catalog:
            return self._stored(arxiv_id)
        for paper_id in self.catalog.with_key(key):
            vector = self._stored(paper_id)
            if vector is not None:
                return vector
        return None

    def _stored(self, paper_id: str | None) -> npt.NDArray[np.float32] | None:
        """The vector the dense index holds for ``paper_id``, if any."""
        if paper_id is None or self.dense is None:
            return None
        return self.dense.vector(paper_id)

    def _near_title(self, key: str, ranked: Sequence[tuple[str, float]]) -> str | None:
        """The first of the first five papers of ``ranked`` whose title is ``key`` but for a
        typo (None for a query too short to be a title)."""
        if len(key) < TITLE_MIN_CHARS:
            return None
        entries = self.catalog.entries
        for pid, _score in ranked[:5]:
            entry = entries.get(pid)  # a keyword list can be a little ahead of the catalog
            if entry is not None and fuzz.ratio(
                key, entry.key, score_cutoff=TITLE_TYPO_RATIO * 100
            ):
                return pid
        return None

    def _combine(
        self,
        text: str,
        mode: Mode,
        filters: Filters,
        notes: list[str],
        semantic: SemanticQuery | None,
        lexical: list[tuple[str, float]],
    ) -> tuple[list[tuple[str, float]], Mode]:
        """The semantic list (unless lexical) fused with ``lexical``, or what is left."""
        if self.damaged and mode != "dense":  # the keyword index failed: semantic only
            if semantic is None:
                semantic = self._start_embedding(text)
            dense, problem = self._dense(semantic, filters)
            notes.append(
                f"{DAMAGED_NOTE}; showing semantic results."
                if problem is None
                else f"{DAMAGED_NOTE}, and semantic search is unavailable too ({problem})."
            )
            return dense, "dense"
        if mode == "lexical":
            return lexical, mode
        dense, problem = self._dense(semantic, filters)
        if problem is not None:
            notes.append(f"Semantic search is unavailable ({problem}); showing keyword results.")
            lexical = lexical or self._lexical(text, filters, notes)[0]
            return lexical, "lexical"
        if mode == "dense":
            return dense, mode
        if not lexical:  # no paper has the query's words: keep only close semantic matches
            floor = self.config.dense_min_similarity
            return [(pid, score) for pid, score in dense if score >= floor], mode
        weights = (self.config.lexical_weight, self.config.dense_weight)
        return self.fuse([lexical, dense], weights, words=len(text.split())), mode

    def _lexical(
        self, text: str, filters: Filters, notes: list[str]
    ) -> tuple[list[tuple[str, float]], frozenset[str] | None]:
        """The keyword list and the words it forgave as typos (None: the index cannot say,
        or none ran); a damaged index gives none and marks the engine for a rebuild."""
        if self.lexical is None:  # the server only opens indexes: the index job builds them
            if NOT_BUILT not in notes:
                notes.append(NOT_BUILT)
            return [], None
        # LexicalIndex says which words it forgave as it searches: the snippets need not
        # ask again (a parse and a dozen document counts).
        search_with_typos = getattr(self.lexical, "search_with_typos", None)
        try:
            if search_with_typos is None:
                return self.lexical.search(text, DEPTH, filters), None
            found: tuple[list[tuple[str, float]], frozenset[str]] = search_with_typos(
                text, DEPTH, filters
            )
            return found
        except IndexUnusable:
            log.exception("the keyword index failed; it will be rebuilt")
            self.damaged = True
            return [], None

    def _start_embedding(self, text: str) -> Embedding | None:
        """The query's embedding, begun in the engine's thread; None without a dense index."""
        if self.dense is None or self.embedder is None:
            return None
        return self._embedding.start(self.embedder.embed_query, text)

    def _dense(
        self, query: SemanticQuery | None, filters: Filters
    ) -> tuple[list[tuple[str, float]], str | None]:
        if self.dense is None or query is None:
            return [], "no semantic index has been built yet"
        if isinstance(query, np.ndarray):  # a paper's stored vector
            return self.dense.search(query, DEPTH, filters), None
        try:
            vector = query.result(timeout=self.config.embed_timeout)
        except TimeoutError:
            return [], f"the query embedding took over {self.config.embed_timeout:g} s"
        except Exception as error:  # any failure of the model falls back, never a 500
            return [], f"the embedding model failed: {type(error).__name__}"
        return self.dense.search(vector, DEPTH, filters), None

    def _exact_matches(
        self, text: str, key: str, ranked: Sequence[tuple[str, float]], filters: Filters
    ) -> list[str]:
        """Papers named by id or by (nearly) their exact title (``key``), to be shown first."""

        def ok(paper_id: str) -> bool:
            return not filters.active or self.catalog.entries[paper_id].allowed_by(filters)

        arxiv_id = as_arxiv_id(text)
        if arxiv_id and arxiv_id in self.catalog and ok(arxiv_id):
            return [arxiv_id]
        same_title = [pid for pid in self.catalog.with_key(key) if ok(pid)]
        if same_title:
            return same_title
        near = self._near_title(key, ranked)
        return [] if near is None else [near]

    def _hit(self, paper_id: str, score: float, exact: bool) -> Hit:
        entry: Entry = self.catalog.entries[paper_id]
        return Hit(
            entry.id, entry.title, score, entry.day, entry.authors, entry.categories,
            entry.has_code, exact,
        )  # fmt: skip

    def marker(self, text: str, typos: frozenset[str] | None = None) -> Marker:
        """What marks ``text``'s words in the snippets of its hits: near words only for the
        query words the keyword search forgave as typos, when the index can say which.

        ``typos``: those of the search's response (``SearchResponse.typos``), when it says;
        otherwise the index is asked. The words near a typo are those the index holds, when
        it can say (``LexicalIndex.neighbours``): the page's words need not all be looked up."""
        if typos is not None:
            neighbours = getattr(self.lexical, "neighbours", None)
            return Marker(text, typos, neighbours() if typos and neighbours else None)
        ask: Callable[[str], frozenset[str]] | None = getattr(self.lexical, "typos", None)
        forgiven = None
        if ask is not None and not self.damaged:
            try:
                forgiven = ask(clean_query(text)[0])
            except IndexUnusable:  # the search itself says so, and marks it for a rebuild
                forgiven = None
        return Marker(text, forgiven)

    def _with_snippets(self, hits: list[Hit], text: str, typos: frozenset[str] | None) -> list[Hit]:
        if self.abstracts is None or not hits:
            return hits
        found = self.abstracts([hit.id for hit in hits])
        marker = self.marker(text, typos)
        return [
            replace(hit, snippet=marker.snippet(found[hit.id])) if hit.id in found else hit
            for hit in hits
        ]

    def similar(self, paper_id: str, k: int = 10) -> list[Hit]:
        """Nearest papers by vector, the paper itself excluded."""
        if self.dense is None or paper_id not in self.catalog:
            return []
        return [
            self._hit(pid, score, False)
            for pid, score in self.dense.similar(paper_id, k)
            if pid in self.catalog
        ]
