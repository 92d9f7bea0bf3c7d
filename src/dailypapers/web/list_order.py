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
first checked (:func:`read_again`: the ids of the same page of the list read from the
store, one query instead of a rendering): the same papers in the same order, and its counts
corrected, is the page rendering it again would give, and it is kept on
(``ResponseCache.still_right``); the same papers in another order get their cards moved
into that order (:func:`reordered`); otherwise it is rendered again as before. A list may
thus show a stale order no longer than before: at most until its next expiry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from html import escape
from typing import Any

from dailypapers.feed.daily import PeriodSort
from dailypapers.feed.reader import Store, read
from dailypapers.web.cards import card_anchor

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


def read_again(store: Store, order: ListOrder) -> tuple[str, ...] | None:
    """The papers of the list ``order`` noted, read again now, in their order now, when
    they are the same papers out of the same total (in the same order or another); None
    when they are not (a paper came onto the page or left it): then it is rendered again.
    A worker thread's call: it reads the store (the ids alone, ``Reader.period_order``)."""
    with read(store) as reader:
        if order.sort == "trending":  # (not noted: its order moves with the clock)
            found = reader.period(
                order.start, order.end, sort=order.sort, limit=order.limit,
                offset=order.offset, category=order.category,
            )  # fmt: skip
            ids, total = tuple(entry.id for entry in found.entries), found.total
        else:
            ids, total = reader.period_order(
                order.start, order.end, sort=order.sort, limit=order.limit,
                offset=order.offset, category=order.category,
            )  # fmt: skip
    if total != order.total or len(ids) != len(order.ids) or set(ids) != set(order.ids):
        return None
    return ids


# A list's cards as ``web/cards.py`` writes them (``cards``): an ordered list of items, each
# one card, its rank (its place in the list) first.
_LIST_START = b'<ol class="cards">\n'
_LIST_END = b"</ol>"
_ITEM_START = b'  <li><article class="card" aria-labelledby="'
_ITEM_END = b"</article></li>\n"
_RANK_START = b'>\n  <span class="rank" aria-hidden="true">'
_RANK_END = b"</span>"


def reordered(body: bytes, order: ListOrder, ids: tuple[str, ...]) -> bytes | None:
    """``body``, a page showing the list ``order`` noted, with its cards in the order of
    ``ids`` (the same papers, read again: :func:`read_again`), each place's rank kept: the
    page rendering it again would give, when its counts are right (each card holds its own
    paper's alone), for a fraction of a rendering. None when its cards are not found as
    ``web/cards.py`` writes them, each paper's at its place (then render it again)."""
    start = body.find(_LIST_START)
    if start < 0 or body.find(_LIST_START, start + 1) >= 0:
        return None
    at = start + len(_LIST_START)
    cards: dict[str, tuple[bytes, bytes]] = {}  # paper -> its item but for its rank
    ranks: list[bytes] = []
    for paper_id in order.ids:
        opening = _ITEM_START + escape(card_anchor(paper_id)).encode() + b'"'
        end = body.find(_ITEM_END, at)
        if not body.startswith(opening, at) or end < 0:
            return None
        rank_start = rank_end = at + len(opening)
        if body.startswith(_RANK_START, rank_start):
            rank_end = body.index(_RANK_END, rank_start) + len(_RANK_END)
        ranks.append(body[rank_start:rank_end])
        cards[paper_id] = (body[at:rank_start], body[rank_end : end + len(_ITEM_END)])
        at = end + len(_ITEM_END)
    if not body.startswith(_LIST_END, at) or set(ids) != cards.keys():
        return None
    parts = [body[: start + len(_LIST_START)]]
    for paper_id, rank in zip(ids, ranks, strict=True):
        head, tail = cards[paper_id]
        parts += (head, rank, tail)
    parts.append(body[at:])
    return b"".join(parts)
