"""A small corpus of our own, indexed for real: tantivy, the built-in model, the ANN index."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest

from dailypapers.index.dense.ann import DenseIndex
from dailypapers.index.dense.embedder import OnnxEmbedder, load_builtin
from dailypapers.index.dense.vectors import document_text
from dailypapers.index.lexical import index as lexical
from dailypapers.search.catalog import Catalog
from dailypapers.search.engine import SearchConfig, SearchEngine
from dailypapers.settings import Settings
from dailypapers.store.documents import Document

_PAPERS = [
    ("2501.00001", "Attention Is All You Need for Protein Folding",
     "We fold proteins with transformer attention over amino acid sequences.",
     ("Ada Lovelace",), ("q-bio.BM", "cs.LG"), date(2025, 1, 6), True),
    ("2501.00002", "Consistency Regularization for Self-Rewarding Language Models",
     "Self-rewarding language models judge their own outputs; a consistency term keeps "
     "the judgements stable across rounds of training.",
     ("Alan Turing", "Grace Hopper"), ("cs.CL",), date(2025, 1, 7), False),
    ("2501.00003", "Coral Reef Bleaching Under Warming Oceans",
     "Rising ocean temperatures make corals expel their symbiotic algae.",
     ("Rachel Carson",), ("q-bio.PE",), date(2025, 1, 8), False),
    ("2501.00004", "Graph Neural Networks for Molecular Property Prediction",
     "Message passing networks predict properties of molecules from their graphs.",
     ("Grace Hopper",), ("cs.LG", "physics.chem-ph"), date(2025, 1, 9), True),
    ("2501.00005", "Sleep Consolidates Memory",
     "Deep sleep after learning strengthens the memories formed during the day.",
     ("Ada Lovelace", "Rachel Carson"), ("q-bio.NC",), date(2025, 1, 10), False),
    ("2501.00006", "Reward Models Without Human Labels",
     "We train reward models for language model alignment from synthetic preferences.",
     ("Alan Turing",), ("cs.CL", "cs.LG"), date(2025, 1, 11), True),
    ("2501.00007", "Perovskite Solar Cells Reach New Efficiency",
     "Perovskite layers raise the efficiency of photovoltaic panels.",
     ("Marie Curie",), ("physics.app-ph",), date(2025, 1, 12), False),
    ("2501.00008", "Quantum Error Correction with Surface Codes",
     "Surface codes protect logical qubits against noise in quantum computers.",
     ("Marie Curie", "Alan Turing"), ("quant-ph",), date(2025, 1, 13), False),
]  # fmt: skip


def documents() -> list[Document]:
    now = datetime(2025, 1, 14)
    return [
        Document(pid, title, abstract, authors, categories, day, code, "", now)
        for pid, title, abstract, authors, categories, day, code in _PAPERS
    ]


@pytest.fixture(scope="session")
def minilm(models_dir: Path) -> OnnxEmbedder:
    """The default embedder (built-in all-MiniLM-L6-v2, int8), loaded once."""
    settings = Settings(mode="development", data_dir=models_dir.parent, models_dir=models_dir)
    return load_builtin("all-MiniLM-L6-v2", settings)


@pytest.fixture(scope="session")
def small_indexes(
    tmp_path_factory: pytest.TempPathFactory, minilm: OnnxEmbedder
) -> tuple[lexical.LexicalIndex, DenseIndex]:
    docs = documents()
    lexical_index = lexical.build(tmp_path_factory.mktemp("lexical"), docs)
    vectors = minilm.embed_documents([document_text(d.title, d.abstract) for d in docs])
    dense = DenseIndex.from_arrays(minilm.name, [d.id for d in docs], vectors)
    dense.with_rows(Catalog(docs).entries)  # what filters are pushed down to
    return lexical_index, dense


@pytest.fixture
def engine(
    small_indexes: tuple[lexical.LexicalIndex, DenseIndex], minilm: OnnxEmbedder
) -> Iterator[SearchEngine]:
    lexical_index, dense = small_indexes
    searcher = SearchEngine(Catalog(documents()), lexical_index, dense, minilm, SearchConfig())
    yield searcher
    searcher.close()
