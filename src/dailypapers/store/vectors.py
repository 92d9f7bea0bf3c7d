"""Sentence embeddings of papers, one row per paper and model, as float32 bytes.

The store is the vectors' source of truth (the ANN index files are rebuilt from here). A paper
needs a vector for a model when it has none or when the paper's ``text_hash`` (title and
abstract) moved on since its vector was made; new upvotes or stars do not re-embed a paper.
``save_vectors`` replaces a batch in one transaction, so an embedding job
killed half-way keeps every batch it committed and loses nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
from sqlalchemy import ColumnElement, Connection, Join, and_, delete, func, or_, select

from dailypapers.store.batches import chunks
from dailypapers.store.schema import paper_vectors, papers

PAGE = 5000


@dataclass(frozen=True, slots=True)
class PendingPaper:
    """A paper whose vector for some model is missing or out of date."""

    id: str
    title: str
    abstract: str
    text_hash: str


@dataclass(frozen=True, slots=True)
class VectorStats:
    """How many vectors a model has and when the newest was made: changes when any row does."""

    count: int
    newest: datetime | None


def _stale(model: str) -> tuple[Join, ColumnElement[bool]]:
    """``papers`` outer-joined to the model's vectors, keeping papers without a current one."""
    joined = papers.outerjoin(
        paper_vectors,
        and_(paper_vectors.c.paper_id == papers.c.arxiv_id, paper_vectors.c.model == model),
    )
    condition = or_(
        paper_vectors.c.paper_id.is_(None), paper_vectors.c.text_hash != papers.c.text_hash
    )
    return joined, condition


def papers_needing_vectors(
    connection: Connection,
    model: str,
    *,
    after: str = "",
    limit: int = 256,
    newest_first: bool = False,
) -> list[PendingPaper]:
    """Up to ``limit`` papers that need a vector: with arXiv id above ``after``, in id order,
    or ``newest_first`` (by feed day, then id; ``after`` is then ignored), so a backlog
    gives today's papers their vectors first."""
    joined, condition = _stale(model)
    query = (
        select(papers.c.arxiv_id, papers.c.title, papers.c.abstract, papers.c.text_hash)
        .select_from(joined)
        .limit(limit)
    )
    if newest_first:
        query = query.where(condition).order_by(
            papers.c.feed_day.desc().nulls_last(), papers.c.arxiv_id.desc()
        )
    else:
        query = query.where(condition, papers.c.arxiv_id > after).order_by(papers.c.arxiv_id)
    return [
        PendingPaper(row.arxiv_id, row.title, row.abstract or "", row.text_hash)
        for row in connection.execute(query)
    ]


def count_papers_needing_vectors(connection: Connection, model: str) -> int:
    joined, condition = _stale(model)
    query = select(func.count()).select_from(joined).where(condition)
    return int(connection.execute(query).scalar_one())


@dataclass(frozen=True, slots=True)
class SemanticProgress:
    """How many papers have a current vector of a model, out of all papers."""

    embedded: int
    papers: int

    @property
    def percent(self) -> int:
        """Whole percent, rounded down (100 only when every paper has its vector)."""
        return 100 if self.embedded >= self.papers else self.embedded * 100 // self.papers


def semantic_progress(connection: Connection, model: str) -> SemanticProgress:
    """How far the semantic index of ``model`` is: papers with a current vector, of all."""
    total = int(connection.execute(select(func.count()).select_from(papers)).scalar_one())
    return SemanticProgress(total - count_papers_needing_vectors(connection, model), total)


def save_vectors(
    connection: Connection,
    model: str,
    papers_embedded: Sequence[PendingPaper],
    vectors: npt.NDArray[np.float32],
) -> None:
    """Store row ``i`` of ``vectors`` as the vector of ``papers_embedded[i]``, replacing any.

    Call inside one ``Store.write`` transaction. Each vector carries the text hash the
    paper had when its text was read, so a paper changed meanwhile is picked up again.
    """
    if len(papers_embedded) != len(vectors):
        raise ValueError(f"{len(papers_embedded)} papers but {len(vectors)} vectors")
    if not papers_embedded:
        return
    matrix = np.ascontiguousarray(vectors, dtype=np.float32)
    now = datetime.now(UTC).replace(tzinfo=None)
    ids = [paper.id for paper in papers_embedded]
    for chunk in chunks(ids):
        connection.execute(
            delete(paper_vectors).where(
                paper_vectors.c.model == model, paper_vectors.c.paper_id.in_(chunk)
            )
        )
    rows = [
        {
            "paper_id": paper.id,
            "model": model,
            "dimensions": matrix.shape[1],
            "vector": matrix[row].tobytes(),
            "text_hash": paper.text_hash,
            "created_at": now,
        }
        for row, paper in enumerate(papers_embedded)
    ]
    connection.execute(paper_vectors.insert(), rows)


def vector_stats(connection: Connection, model: str) -> VectorStats:
    query = select(func.count(), func.max(paper_vectors.c.created_at)).where(
        paper_vectors.c.model == model
    )
    count, newest = connection.execute(query).one()
    return VectorStats(int(count), newest)


def iter_vector_pages(
    connection: Connection, model: str, *, page: int = PAGE
) -> Iterator[tuple[list[str], npt.NDArray[np.float32]]]:
    """Every vector of ``model`` in paper-id order, as (ids, matrix) pages of up to ``page``.

    Keyset pagination keeps memory flat; call inside one read transaction to see one snapshot.
    """
    after = ""
    while True:
        rows = connection.execute(
            select(paper_vectors.c.paper_id, paper_vectors.c.dimensions, paper_vectors.c.vector)
            .where(paper_vectors.c.model == model, paper_vectors.c.paper_id > after)
            .order_by(paper_vectors.c.paper_id)
            .limit(page)
        ).all()
        if not rows:
            return
        dimensions = rows[0].dimensions
        if any(row.dimensions != dimensions for row in rows):
            raise ValueError(f"vectors of {model!r} have different dimensions")
        matrix = np.frombuffer(b"".join(row.vector for row in rows), dtype=np.float32)
        yield [row.paper_id for row in rows], matrix.reshape(len(rows), dimensions)
        after = rows[-1].paper_id


def get_vector(connection: Connection, model: str, paper_id: str) -> npt.NDArray[np.float32] | None:
    """The stored vector of one paper, if it has one for ``model``."""
    blob = connection.execute(
        select(paper_vectors.c.vector).where(
            paper_vectors.c.model == model, paper_vectors.c.paper_id == paper_id
        )
    ).scalar_one_or_none()
    return None if blob is None else np.frombuffer(blob, dtype=np.float32)
