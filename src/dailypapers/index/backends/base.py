"""The shape of a search backend (see :mod:`dailypapers.index.backends`): a Protocol and
the small records it returns."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from dailypapers.index.filters import Filters, RowInfo
from dailypapers.settings import Settings
from dailypapers.store import Store

Hits = list[tuple[str, float]]
# (step, done, total): what a long job reports as it goes; total None when unknown.
StepProgress = Callable[[str, int, int | None], None]


class Model(Protocol):
    """The embedding model whose vectors the dense index holds."""

    @property
    def name(self) -> str: ...
    @property
    def dimensions(self) -> int: ...


class LexicalSearcher(Protocol):
    def search(self, text: str, k: int = 100, filters: Filters | None = None) -> Hits: ...


class DenseSearcher(Protocol):
    def search(
        self, query_vector: npt.NDArray[np.float32], k: int, filters: Filters | None = None
    ) -> Hits: ...

    def similar(self, paper_id: str, k: int) -> Hits: ...

    def vector(self, paper_id: str) -> npt.NDArray[np.float32] | None: ...


@dataclass(frozen=True)
class Opened:
    """What a backend could open; a part that is missing or unusable is None."""

    lexical: LexicalSearcher | None
    dense: DenseSearcher | None


@dataclass(frozen=True)
class IndexStamp:
    """What a server compares to know that index files changed, one value per part (compared,
    never read): new vectors alone move only ``dense``, so a server reopens only that part."""

    lexical: object
    dense: object


@dataclass(frozen=True)
class Updated:
    lexical_papers: int  # 0 when the lexical index was left as it was (``lexical=False``)
    lexical_rebuilt: bool
    dense_papers: int


class SearchBackend(Protocol):
    def open(
        self, settings: Settings, model: Model | None, papers: Mapping[str, RowInfo]
    ) -> Opened: ...

    def open_dense(
        self, settings: Settings, model: Model, papers: Mapping[str, RowInfo]
    ) -> DenseSearcher | None: ...

    def update(
        self,
        store: Store,
        settings: Settings,
        model: Model | None,
        progress: StepProgress,
        *,
        lexical: bool = True,
    ) -> Updated: ...

    def stamp(self, settings: Settings) -> IndexStamp: ...
