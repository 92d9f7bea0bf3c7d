"""The shape of search filters as the index sees them (both halves honour the same ones).

``dailypapers.search.query.Filters`` has this shape; the index depends on the shape only, so
it never imports the search package.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol


class Filters(Protocol):
    """Restrictions on the results; empty (None, ``()``) means no restriction."""

    @property
    def since(self) -> date | None: ...
    @property
    def until(self) -> date | None: ...
    @property
    def categories(self) -> tuple[str, ...]: ...
    @property
    def has_code(self) -> bool | None: ...
    @property
    def author(self) -> str | None: ...


class RowInfo(Protocol):
    """What a filter looks at in one paper (``dailypapers.search.catalog.Entry`` has it)."""

    @property
    def day(self) -> date | None: ...
    @property
    def categories(self) -> tuple[str, ...]: ...
    @property
    def has_code(self) -> bool: ...
    @property
    def authors(self) -> tuple[str, ...]: ...
