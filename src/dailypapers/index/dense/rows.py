"""Filters pushed down to the dense index: a boolean mask over its rows.

``RowAttributes`` keeps, for row ``i`` of a dense index, the paper's day (as an ordinal,
``-1`` when undated), whether it has code, and the rows of each category, as numpy arrays;
:meth:`RowAttributes.mask` turns a :class:`~dailypapers.index.filters.Filters` into the rows
that pass with a few vector operations instead of a set of ids built per query. Authors are
checked last, only on the rows the other filters left. The attributes are built when the
search engine opens (from the papers it holds in memory), not saved with the index, so a
code link found after the last index build filters correctly at once.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from dailypapers.index.filters import Filters, RowInfo

Mask = npt.NDArray[np.bool_]
UNDATED = -1


def author_key(name: str) -> str:
    """A name as the author filter compares it: NFKC, casefolded, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


class RowAttributes:
    """Per-row arrays of day, has_code and categories (and author tuples) of an index."""

    def __init__(self, ids: Sequence[str], papers: Mapping[str, RowInfo]) -> None:
        count = len(ids)
        self.known: Mask = np.zeros(count, dtype=np.bool_)  # rows whose paper is known
        self.days = np.full(count, UNDATED, dtype=np.int32)
        self.has_code: Mask = np.zeros(count, dtype=np.bool_)
        self.authors: list[tuple[str, ...]] = [()] * count
        by_category: dict[str, list[int]] = {}
        for row, paper_id in enumerate(ids):
            paper = papers.get(paper_id)
            if paper is None:
                continue
            self.known[row] = True
            if paper.day is not None:
                self.days[row] = paper.day.toordinal()
            self.has_code[row] = paper.has_code
            self.authors[row] = paper.authors
            for category in paper.categories:
                by_category.setdefault(category, []).append(row)
        self.categories = {
            name: np.array(rows, dtype=np.intp) for name, rows in by_category.items()
        }

    def __len__(self) -> int:
        return len(self.known)

    def mask(self, filters: Filters) -> Mask:
        """The rows that pass ``filters``: a boolean array as long as the index."""
        keep = self.known.copy()
        if filters.since is not None:
            keep &= self.days >= filters.since.toordinal()
        if filters.until is not None:
            keep &= (self.days <= filters.until.toordinal()) & (self.days != UNDATED)
        if filters.categories:
            in_any = np.zeros(len(keep), dtype=np.bool_)
            for category in filters.categories:
                rows = self.categories.get(category)
                if rows is not None:
                    in_any[rows] = True
            keep &= in_any
        if filters.has_code is not None:
            keep &= self.has_code == filters.has_code
        if filters.author:
            wanted = author_key(filters.author)
            for row in np.flatnonzero(keep):
                if not any(author_key(name) == wanted for name in self.authors[row]):
                    keep[row] = False
        return keep


def is_active(filters: Filters | None) -> bool:
    """Whether ``filters`` restricts anything."""
    return filters is not None and bool(
        filters.since or filters.until or filters.categories
        or filters.has_code is not None or filters.author
    )  # fmt: skip
