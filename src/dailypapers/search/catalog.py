"""What the search engine keeps in memory about each paper: enough to filter and show a hit.

Abstracts stay out (they are most of the bytes); snippets fetch the few they need. Built from
the store's documents, or from any documents (a BEIR corpus).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from dailypapers.search.query import Filters
from dailypapers.store.documents import Document

_NOT_WORD = re.compile(r"[\W_]+")


def title_key(text: str) -> str:
    """A title reduced to lower-case words, so punctuation and spacing do not matter."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(_NOT_WORD.sub(" ", folded.lower()).split())


@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    title: str
    authors: tuple[str, ...]
    categories: tuple[str, ...]
    day: date | None
    has_code: bool
    # The title's title_key, as Catalog.add files it: the engine compares the query with the
    # first hits' keys (a near title), 11 µs a key to make.
    key: str

    def allowed_by(self, filters: Filters) -> bool:
        if filters.since and (self.day is None or self.day < filters.since):
            return False
        if filters.until and (self.day is None or self.day > filters.until):
            return False
        if filters.categories and not set(filters.categories) & set(self.categories):
            return False
        if filters.has_code is not None and self.has_code != filters.has_code:
            return False
        return not filters.author or filters.author.casefold() in (
            name.casefold() for name in self.authors
        )


class Catalog:
    """Entries by id, and ids by title key (several papers can share a title)."""

    def __init__(self, documents: Iterable[Document]) -> None:
        self.entries: dict[str, Entry] = {}
        self.by_title: dict[str, list[str]] = {}
        for document in documents:
            self.add(document)

    def add(self, document: Document) -> None:
        old = self.entries.get(document.id)
        if old is not None:
            self.by_title[old.key].remove(document.id)
        key = title_key(document.title)
        self.entries[document.id] = Entry(
            document.id, document.title, document.authors, document.categories,
            document.day, document.has_code, key,
        )  # fmt: skip
        self.by_title.setdefault(key, []).append(document.id)

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, paper_id: object) -> bool:
        return paper_id in self.entries

    def with_key(self, key: str) -> list[str]:
        """The papers whose title's :func:`title_key` is ``key``."""
        return list(self.by_title.get(key, ()))
