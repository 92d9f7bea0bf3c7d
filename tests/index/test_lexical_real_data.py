"""The lexical index on 5,000 real papers from the shared listing file, loaded into the store
by the real ingest: titles (exact and with a typo) find their paper first."""

from __future__ import annotations

import gzip
import itertools
from functools import partial
from pathlib import Path

import pytest

from dailypapers.index.lexical.index import LexicalIndex, build_from_store
from dailypapers.index.lexical.query import build_query, parse_query
from dailypapers.ingest.files import JsonLinesSource
from dailypapers.ingest.run import ingest
from dailypapers.store import Store
from dailypapers.store.documents import Document, iter_documents

LISTING = Path("arxiv-daily-listings") / "papers.jsonl.gz"
PAPERS = 5000


Real = tuple[LexicalIndex, list[Document]]


@pytest.fixture
def real(shared_data: Path, sqlite_store: Store, tmp_path: Path) -> Real:
    part = tmp_path / "part.jsonl.gz"
    with gzip.open(shared_data / LISTING, "rb") as lines, gzip.open(part, "wb") as out:
        out.writelines(itertools.islice(lines, PAPERS))
    summary = ingest(sqlite_store, "file", "listing", JsonLinesSource(part))
    assert summary.counts.new == PAPERS
    with sqlite_store.read() as connection:
        documents = list(iter_documents(connection))
    return build_from_store(sqlite_store, tmp_path / "lexical"), documents


def with_typo(title: str) -> str:
    """Swap two letters inside the title's longest word (a transposition: one edit)."""
    words = title.split()
    longest = max(range(len(words)), key=lambda n: len(words[n]))
    word = words[longest]
    words[longest] = word[:2] + word[3] + word[2] + word[4:]
    return " ".join(words)


def test_titles_find_their_paper_first(real: Real) -> None:
    index, documents = real
    assert len(index) == PAPERS
    same_title: dict[str, set[str]] = {}
    for document in documents:
        same_title.setdefault(document.title.casefold(), set()).add(document.id)
    for document in documents[:: len(documents) // 50][:50]:
        first = index.search(document.title, k=5)[0][0]
        assert first in same_title[document.title.casefold()], document.title


def test_titles_with_a_typo_find_their_paper(real: Real) -> None:
    index, documents = real
    picked = [d for d in documents[7::97] if max(len(w) for w in d.title.split()) >= 7][:50]
    assert len(picked) == 50
    for document in picked:
        found = index.search(with_typo(document.title), k=3)
        assert found[0][0] == document.id, (with_typo(document.title), document.id)


def whole_query_top(index: LexicalIndex, text: str, k: int) -> list[tuple[str, float]]:
    """The top ``k`` of ``text`` searched as one query (never in two parts)."""
    searcher = index._index.searcher()
    built = build_query(
        parse_query(text), index._schema, searcher, partial(index.vocabulary, searcher),
        split=False,
    )  # fmt: skip
    assert built.query is not None
    hits = searcher.search(built.query, limit=k, count=False).hits
    return [(searcher.doc(address)["id"][0], score) for score, address in hits]


def test_words_searched_in_two_parts_give_the_whole_querys_top(real: Real) -> None:
    """Plain words are searched as their term clauses (which tantivy prunes) and the papers
    matching the title phrase or a typo clause; the top ``k`` is the whole query's."""
    index, documents = real
    picked = documents[3::173][:25]
    texts = [d.title for d in picked] + [with_typo(d.title) for d in picked]
    texts += [" ".join(d.abstract.split()[5:11]) for d in picked]  # a phrase in no title
    texts += ["graph neural networks", "language models", "diffusion", "Wang Chen"]
    split = 0
    for text in texts:
        for k in (10, 100):
            expected = whole_query_top(index, text, k)
            found = index.search(text, k)
            assert [pid for pid, _ in found] == [pid for pid, _ in expected], (text, k)
            assert [s for _, s in found] == pytest.approx([s for _, s in expected], rel=1e-5)
        split += (
            build_query(
                parse_query(text), index._schema, index._index.searcher(), index.vocabulary
            ).terms
            is not None
        )
    assert split == len(texts)  # every one of them went the two parts' way
