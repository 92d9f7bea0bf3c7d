"""Filters pushed down to the dense index: a boolean mask over its rows.

``RowAttributes`` keeps, for row ``i`` of a dense index, the paper's day (as an ordinal,
``-1`` when undated), whether it has code, and the rows of each category, as numpy arrays;
:meth:`RowAttributes.mask` turns a :class:`~dailypapers.index.filters.Filters` into the rows
that pass with a few vector operations instead of a set of ids built per query. Authors are
checked last, only on the rows the other filters left, as a substring search in one line of
author keys per row. The attributes are built when the
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
        self._author_lines: list[str] | None = None
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
            rows = np.flatnonzero(keep)
            keep[rows] = self._by_author(author_key(filters.author), rows)
        return keep

    def _by_author(self, wanted: str, rows: npt.NDArray[np.intp]) -> Mask:
        """Which of ``rows`` list the author ``wanted`` (a key from :func:`author_key`)."""
        if self._author_lines is None:
            # Built at the first author filter: one string per row, its authors' keys one a
            # line, so a check is a substring search (about 75,000 a few ms) rather than a
            # normalisation of every name of every row per query.
            self._author_lines = [
                "\n" + "\n".join(author_key(name) for name in names) + "\n"
                for names in self.authors
            ]
        needle, lines = f"\n{wanted}\n", self._author_lines
        return np.fromiter((needle in lines[row] for row in rows), np.bool_, count=len(rows))


def is_active(filters: Filters | None) -> bool:
    """Whether ``filters`` restricts anything."""
    return filters is not None and bool(
        filters.since or filters.until or filters.categories
        or filters.has_code is not None or filters.author
    )  # fmt: skip
