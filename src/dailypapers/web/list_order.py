"""A cached list's order, checked again when the list expires instead of rendering it again.

A day's, week's or month's list by upvotes (or recency) shows its papers' counts and their
order. After a vote of this process on one of its papers, the cached page gets the new
count at once (``vote_watch``, ``ResponseCache.forget_papers``) but keeps its order; when
it expires, it was rendered again if a vote touched its days since its rendering
(``ResponseCache._unchanged``), in case the order changed. With members voting, that
was nearly every list, every lifetime: each voting window of ``benchmarks.signed_in``
rendered most of its days again, once as members' template and once for anonymous readers.

So the rendering notes which list it showed (:func:`record_order`: the period, the sort,
the page, the category, and the papers in their order and their total), the cache keeps it
with the entry (``CachedResponse.order``), and an expired list whose days were voted on is
first checked (:func:`still_in_order`: the same page of the list read from the store, its
papers compared, one query instead of a rendering): the same papers in the same order, and
its counts corrected, is the page rendering it again would give, and it is kept on
(``ResponseCache.still_right``); otherwise it is rendered again as before. A list may thus
show a stale order no longer than before: at most until its next expiry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from dailypapers.feed.daily import PeriodSort
from dailypapers.feed.reader import Store, read

ORDER_KEY = "page_list_order"  # scope state key: the list a page showed (record_order)


@dataclass(frozen=True, slots=True)
class ListOrder:
    """One page of a period's list as a rendering read it: what to read again to check it."""

    start: date
    end: date
    sort: PeriodSort
    limit: int
    offset: int
    category: str | None
    ids: tuple[str, ...]  # the papers shown, in their order
    total: int


def record_order(state: dict[str, Any], order: ListOrder) -> None:
    """Note the list a page being rendered shows (one list a page)."""
    state[ORDER_KEY] = order


def page_order(state: dict[str, Any]) -> ListOrder | None:
    """The list a rendering noted (:func:`record_order`), or None."""
    order = state.get(ORDER_KEY)
    return order if isinstance(order, ListOrder) else None


def still_in_order(store: Store, order: ListOrder) -> bool:
    """Whether the list ``order`` noted is, read again now, the same papers in the same
    order out of the same total (a worker thread's call: it reads the store)."""
    with read(store) as reader:
        found = reader.period(
            order.start, order.end, sort=order.sort, limit=order.limit, offset=order.offset,
            category=order.category,
        )  # fmt: skip
    return found.total == order.total and tuple(e.id for e in found.entries) == order.ids
