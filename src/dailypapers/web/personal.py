"""A signed-in member's page from the cached one everybody shares: the pieces and the merge.

Pages a member reads (daily lists, trending, a paper, search, authors, about) differ from
one member to the next in a few places only: the header (their name, the log-out form), the
CSRF token of their forms, which of the page's papers they upvoted or saved in a collection,
and the cards of papers they marked "not interested" (left out). So such a page is
rendered once per URL in a *member template* form (:func:`in_template`): the header is
:data:`HEADER_SLOT`, every CSRF token is :data:`CSRF_SLOT` (the cards' controls share the
page's one member form: one token a page, web/cards.py ``page_form``), every vote box is in the
"not upvoted" and every save box in the "not saved" state, every card is there, and the
paper page's "yours among them" is a slot. That rendering is
kept in the response cache like an anonymous one (:mod:`dailypapers.web.member_pages` serves
it), and for each request :func:`merge` fills in the member: a few byte replacements, and
the flips of their upvoted and saved papers' boxes and the cuts of their hidden cards, a
fraction of a rendering (:func:`merge_planned`: one join, the boxes looked up where the
template's :class:`Plan` found them once).

The slots carry a random part made when the process starts, so no text from the store can
spell one (it is never sent anywhere: every answer is merged first). ``tests/web/
test_personal.py`` checks that a merged page is byte for byte the page rendered for the
member directly, so this module and the card markup (``web/cards.py``) cannot drift apart.

:class:`SessionCache` keeps who a session token belongs to for :data:`SESSION_SECONDS`, so a
cached page costs no session lookup either.
"""

from __future__ import annotations

import bisect
import itertools
import re
import secrets
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from functools import lru_cache
from html import escape
from typing import Any, cast
from urllib.parse import quote

from dailypapers.accounts import User
from dailypapers.web.cards import card_anchor

_NONCE = secrets.token_hex(8)
CSRF_SLOT = f"csrf-slot-{_NONCE}"
HEADER_SLOT = f"<!--account-nav {_NONCE}-->"
_YOURS = f"<!--yours {_NONCE} "
YOURS_TEXT = ", yours among them"
_OWN = f"<!--own {_NONCE} "  # a comment's edit/delete controls (its author only) or report form
OWN_END = f"<!--/own {_NONCE}-->"

# Scope state keys (``scope["state"]``, which Starlette's ``request.state`` reads).
TEMPLATE_KEY = "personal_template"  # set (to the moderator flag) while rendering a template
PAPER_IDS_KEY = "page_paper_ids"  # the ids of the papers a page shows, recorded as it renders

MEMBER_MARKS_SECONDS = 10.0  # how long a member's saved/hidden papers are trusted unchanged
MEMBER_VOTES_SIZE = 50_000  # members whose votes are kept at most; afresh beyond
SESSION_SECONDS = 60.0  # how long a session token's member is trusted without the store
SESSION_CACHE_SIZE = 20_000  # tokens kept at most; the cache starts afresh beyond
# Sessions kept longer than this share of SESSION_SECONDS are read again together, in the
# background (SessionCache.stale, renew), before they expire in a request's way.
SESSION_RENEW_SHARE = 0.5


def in_template(state: dict[str, Any]) -> bool:
    """Whether this request renders the member template (slots instead of the member)."""
    return TEMPLATE_KEY in state


def record_papers(state: dict[str, Any], ids: Collection[str]) -> None:
    """Note the papers a page shows: a vote on one of them makes its cached copy stale."""
    state.setdefault(PAPER_IDS_KEY, set()).update(ids)


def yours_slot(paper_id: str) -> str:
    """The paper page's "yours among them" in a template, filled in by :func:`merge`."""
    return f"{_YOURS}{escape(quote(paper_id))}-->"


def own_slot(username: str, *, others: bool = False) -> str:
    """Opens a comment's own controls in a template (closed by :data:`OWN_END`): the merge
    keeps what is between for the member ``username`` and drops it for anyone else; with
    ``others`` the other way round (a comment's report form: everyone but its author)."""
    return f"{_OWN}{'!' if others else ''}{escape(username)}-->"


def _own_controls(body: bytes, username: str) -> bytes:
    """``body`` with the slots of :func:`own_slot` kept or dropped for ``username``."""
    marker, end_marker = _OWN.encode(), OWN_END.encode()
    mine = f"{escape(username)}-->".encode()
    parts: list[bytes] = []
    at = 0
    while (start := body.find(marker, at)) >= 0:
        end = body.find(end_marker, start)
        if end < 0:
            break
        parts.append(body[at:start])
        name = start + len(marker)
        others = body.startswith(b"!", name)  # usernames never hold "!"
        if body.startswith(mine, name + others) != others:
            parts.append(body[body.index(b"-->", name) + 3 : end])
        at = end + len(end_marker)
    parts.append(body[at:])
    return b"".join(parts)


def anonymous_nav(path: str) -> str:
    """The header's account links for nobody signed in."""
    login = ' aria-current="page"' if path == "/login" else ""
    signup = ' aria-current="page"' if path == "/signup" else ""
    return f'<a href="/login"{login}>Log in</a>\n<a href="/signup"{signup}>Sign up</a>'


def notifications_link(unread: int, path: str) -> str:
    """The header's link to the member's notifications, with their unread count."""
    current = ' aria-current="page"' if path == "/notifications" else ""
    if not unread:
        return f'<a href="/notifications" class="notifications"{current}>Notifications</a>'
    return (
        f'<a href="/notifications" class="notifications"{current}>Notifications '
        f'<span class="unread">{unread}<span class="visually-hidden"> unread</span></span></a>'
    )


def member_nav(username: str, csrf_token: str, path: str, unread: int = 0) -> str:
    """The header's account links for a signed-in member: profile, notifications (with the
    unread count), settings, log out."""
    settings = ' aria-current="page"' if path.startswith("/settings") else ""
    return (
        f'<a href="/users/{escape(quote(username))}">{escape(username)}</a>\n'
        f"{notifications_link(unread, path)}\n"
        f'<a href="/settings"{settings}>Settings</a>\n'
        '<form method="post" action="/logout" class="logout">'
        f'<input type="hidden" name="csrf_token" value="{escape(csrf_token)}">'
        '<button type="submit">Log out</button></form>'
    )


# The vote button (web/cards.py ``vote_box``) of a paper not upvoted, and what changes when it is.
_FLIPS = (
    (b'" data-paper=', b' upvoted" data-paper='),
    (b'name="upvoted" value="1"', b'name="upvoted" value="0"'),
    (b'aria-pressed="false"', b'aria-pressed="true"'),
    (b'title="Upvote (', b'title="Take back your upvote ('),
    (b"upvotes. Upvote</span>", b"upvotes. Take back your upvote</span>"),
)


_COUNT = re.compile(rb'class="count">\d+<')
_TITLE = re.compile(rb'\d[\d,]* upvotes?(?=[)"])')
# The paper page's own box, then the line that says its count (templates/paper.html).
_PAPER_LINE = re.compile(rb"(</(?:button|div)>\n</div>\s*<p>)\d[\d,]* upvotes?")


Edit = tuple[int, int, bytes]  # bytes [start, end) of a body replaced by these


def count_edits(
    body: bytes, paper_id: str, upvotes: int, boxes: CountBoxes | None = None
) -> list[Edit]:
    """Where ``body`` (a page as cached) shows the count of ``paper_id``, and ``upvotes`` as
    it (sorted, apart, each the count's own text alone: no slot of :class:`Plan` is in one,
    so a plan moves with them): after a vote, the pages showing the paper are corrected
    rather than rendered again (:func:`apply_edits`). ``boxes``: where the body's boxes
    are (:class:`CountBoxes`), looked up instead of searched for."""
    title = (f"{upvotes:,} upvote" if upvotes == 1 else f"{upvotes:,} upvotes").encode()
    count = f'class="count">{upvotes}<'.encode()
    spelled = escape(paper_id).encode()
    if boxes is None:
        places: Iterable[int] = _found(body, _DATA_PAPER + spelled + b'"')
    else:
        places = boxes.starts(body, spelled)
    edits: list[Edit] = []
    end = 0
    for at in places:
        if at < end:  # inside the box before (as a search from its end skips it)
            continue
        start = body.rfind(b"<", 0, at)
        closing = b"</button>" if body.startswith(b"<button", start) else b"</div>"
        end = body.find(closing, at)
        if start < 0 or end < 0:
            break
        box = [
            (match.start(), match.end(), replacement)
            for pattern, replacement in ((_TITLE, title), (_COUNT, count))
            if (match := pattern.search(body, start, end)) is not None
        ]
        edits += sorted(box)
        line = _PAPER_LINE.match(body, end)
        if line is not None:
            edits.append((line.end(1), line.end(), title))
    return edits


_DATA_PAPER = b'data-paper="'


class CountBoxes:
    """Where a cached body shows the count boxes (their ``data-paper``) of the papers
    corrected in it so far, for :func:`count_edits` to look up: it searched the whole page
    for the voted paper, two-way, at every correction (20 to 25 us on a 68 kB day page,
    most of a correction), and members vote on the same papers again and again while a
    page is kept. Each paper's boxes are searched for the first time it is corrected, then
    kept with the entry (``CachedResponse.derived``) and moved along with its corrections
    (:meth:`shifted`), as a :class:`Plan`'s places are. (One pass finding every paper's
    boxes at once cost three searches' time: more than most pages' corrections gained.)"""

    __slots__ = ("seen",)

    def __init__(self) -> None:
        self.seen: dict[bytes, tuple[int, ...]] = {}  # paper as spelled -> where, in order

    def starts(self, body: bytes, spelled: bytes) -> tuple[int, ...]:
        """Where ``data-paper="spelled"`` starts in ``body`` (this index's), in order."""
        found = self.seen.get(spelled)
        if found is None:
            found = self.seen[spelled] = tuple(_found(body, _DATA_PAPER + spelled + b'"'))
        return found

    def shifted(self, body: bytes, edits: Sequence[Edit]) -> CountBoxes:
        """This index for ``body``, the body with ``edits`` made (:class:`~dailypapers.web.
        cache.Shifts`): itself when every count kept its width (most corrections: nothing
        moved), else the boxes seen moved (those an edit touched forgotten)."""
        move = _move(edits)
        if not any(move[2]):
            return self
        moved = CountBoxes()
        for spelled, starts in self.seen.items():
            now = [_moved(start, move) for start in starts]
            if None not in now:
                moved.seen[spelled] = tuple(cast(list[int], now))
        return moved


def apply_edits(body: bytes, edits: Sequence[Edit]) -> bytes:
    """``body`` with each of ``edits`` (sorted, apart) made."""
    parts: list[bytes] = []
    at = 0
    for start, end, replacement in edits:
        parts += (body[at:start], replacement)
        at = end
    parts.append(body[at:])
    return b"".join(parts)


def with_count(body: bytes, paper_id: str, upvotes: int) -> bytes:
    """``body`` with ``upvotes`` as the count of ``paper_id`` wherever it shows."""
    return apply_edits(body, count_edits(body, paper_id, upvotes))


def _yours(body: bytes, upvoted: Collection[str]) -> bytes:
    marker = _YOURS.encode()
    at = body.find(marker)
    while at >= 0:
        end = body.find(b"-->", at)
        paper = body[at + len(marker) : end].decode()
        shown = YOURS_TEXT if any(escape(quote(p)) == paper for p in upvoted) else ""
        body = body[:at] + shown.encode() + body[end + 3 :]
        at = body.find(marker, at)
    return body


# The save button (web/cards.py ``save_box``) of a paper in none of the member's collections,
# and what changes when it is in one.
_SAVE_FLIPS = (
    (b'" form="', b' saved" form="'),
    (b'name="saved" value="1"', b'name="saved" value="0"'),
    (b'aria-pressed="false"', b'aria-pressed="true"'),
    # (a box ends where its button's text does: before "</button>")
    (b'title="Save to Read later">Save', b'title="Take it out of your collections">Saved'),
)


# The paper page's "Not interested" toggle (web/collections.py ``paper_not_interested``) of
# a paper not hidden, and what changes when the member hid it.
_HIDE_FLIPS = (
    (b'" form="', b' marked" form="'),
    (b'name="hidden" value="1"', b'name="hidden" value="0"'),
    (b'aria-pressed="false"', b'aria-pressed="true"'),
    (
        b'title="Hide this paper from your daily, trending and search pages">Not interested',
        'title="Show this paper in your lists again">Undo “Not interested”'.encode(),
    ),
)


_ACTION = b'formaction="/papers/'
# The action (after the paper in a formaction, web/cards.py) of each box a member's marks
# flip, and how its button starts (a card's "Not interested" is never flipped).
_BUTTONS = {
    b"upvote": b'<button class="votes',
    b"save": b'<button class="save',
    b"not-interested": b'<button class="hide-toggle',
}
# Each kind of mark: its box's action as the places key it, and its flips.
_MARKS = ((b"/upvote", _FLIPS), (b"/save", _SAVE_FLIPS), (b"/not-interested", _HIDE_FLIPS))
_CARD_START = b'  <li><article class="card" aria-labelledby="'
_CARD_END = b"</article></li>\n"

Places = dict[bytes, tuple[int, ...]]


def _places(body: bytes) -> Places:
    """Where the boxes a member's marks flip start in ``body``, by their formaction's
    paper and action as it spells them (``2501.01234/upvote``), and where the list items of
    its cards start, by "#" and the card's anchor: one pass over the page, after which a
    merge looks up the member's few papers (a pass per merge cost 100 us a day page)."""
    found: dict[bytes, list[int]] = {}
    at = body.find(_ACTION)
    while at >= 0:
        start, close = body.rfind(b"<button", 0, at), body.find(b'"', at + len(_ACTION))
        if start < 0 or close < 0:
            break
        path = body[at + len(_ACTION) : close]
        button = _BUTTONS.get(path[path.rfind(b"/") + 1 :])
        if button is not None and body.startswith(button, start):
            found.setdefault(path, []).append(start)
        at = body.find(_ACTION, close)
    at = body.find(_CARD_START)
    while at >= 0:
        name_end = body.find(b'"', at + len(_CARD_START))
        if name_end < 0:
            break
        found.setdefault(b"#" + body[at + len(_CARD_START) : name_end], []).append(at)
        at = body.find(_CARD_START, name_end)
    return {key: tuple(starts) for key, starts in found.items()}


# A member's marked papers as the places key them: computed once per paper (a merge looks up
# each of the member's papers on the page, every request).
@lru_cache(maxsize=65536)
def _spelled(paper_id: str) -> bytes:
    """``paper_id`` as a formaction (and a "yours among them" slot) spells it."""
    return escape(quote(paper_id)).encode()


@lru_cache(maxsize=65536)
def _card_key(paper_id: str) -> bytes:
    return b"#" + escape(card_anchor(paper_id)).encode()


def _flipped(body: bytes, start: int, flips: tuple[tuple[bytes, bytes], ...]) -> Edit:
    """The edit that flips the box starting at ``start`` of ``body``."""
    end = body.index(b"</button>", start)
    box = body[start:end]
    for neutral, flipped in flips:
        box = box.replace(neutral, flipped, 1)
    return start, end, box


def _mark_edits(
    body: bytes,
    where: Callable[[bytes], tuple[int, ...]],
    upvoted: Collection[str],
    saved: Collection[str],
    hidden: Collection[str],
    flipped: dict[int, Edit] | None = None,
) -> list[Edit]:
    """The edits of ``body`` (``where`` its boxes and cards start: :func:`_places`, as a
    look-up) that flip the vote boxes of ``upvoted``, the save boxes of ``saved`` and the
    paper page's "Not interested" of ``hidden``, and take the cards of ``hidden`` out (boxes
    inside them go with them): sorted, apart. A box ends where its button's text does
    (before "</button>"). ``flipped``: the flips made before for this body, by box start
    (kept there)."""
    edits: list[Edit] = []
    for paper_id in hidden:
        for start in where(_card_key(paper_id)):
            edits.append((start, body.index(_CARD_END, start) + len(_CARD_END), b""))
    removed = [(start, end) for start, end, _ in edits]
    kept = {} if flipped is None else flipped
    for papers, (action, flips) in zip((upvoted, saved, hidden), _MARKS, strict=True):
        for paper_id in papers:
            for start in where(_spelled(paper_id) + action):
                if any(first <= start < last for first, last in removed):
                    continue
                edit = kept.get(start)
                if edit is None:
                    edit = kept[start] = _flipped(body, start, flips)
                edits.append(edit)
    edits.sort()
    return edits


def _marked(
    body: bytes, upvoted: Collection[str], saved: Collection[str], hidden: Collection[str]
) -> bytes:
    """``body`` with the member's marks made (:func:`_mark_edits`), in one copy of it."""
    places = _places(body)
    edits = _mark_edits(body, lambda key: places.get(key, ()), upvoted, saved, hidden)
    return apply_edits(body, edits) if edits else body


# Where a body's count edits (sorted, apart) start and stop, and how far each moves what
# follows it (the sum of its and the earlier edits' growth): a Plan's places follow them.
Move = tuple[list[int], list[int], list[int]]


def _move(edits: Sequence[Edit]) -> Move:
    starts, stops, shifts, shift = [], [], [], 0
    for start, stop, replacement in edits:
        shift += len(replacement) - (stop - start)
        starts.append(start)
        stops.append(stop)
        shifts.append(shift)
    return starts, stops, shifts


def _moved(position: int, move: Move) -> int | None:
    """Where ``position`` of a body is once ``move``'s edits are made; None when one of
    them starts there or covers it (what started there is not known to be there still)."""
    starts, stops, shifts = move
    before = bisect.bisect_right(starts, position)  # the edits starting at or before it
    if not before:
        return position
    if starts[before - 1] == position or stops[before - 1] > position:
        return None
    return position + shifts[before - 1]


class _Touched(Exception):
    """A count edit touched a box or card a plan looked up: find them all again."""


MAX_MOVES = 64  # count corrections a plan's places follow before they are found again


_CSRF_BYTES = CSRF_SLOT.encode()
_HEADER_BYTES = HEADER_SLOT.encode()
_YOURS_START = _YOURS.encode()


def _found(data: bytes, needle: bytes) -> Iterator[int]:
    """Where ``needle`` starts in ``data``, each place (``bytes.find``: memchr speed)."""
    at = data.find(needle)
    while at >= 0:
        yield at
        at = data.find(needle, at + len(needle))


Slot = tuple[int, int, bytes | None]  # where a slot starts and ends, and its hole (Plan)


def _slot_end(slot: Slot) -> int:
    return slot[1]


def _slots(template: bytes) -> list[Slot]:
    """The per-member slots of ``template`` in order: where each starts and ends, and its
    hole (see :class:`Plan`). Found with ``bytes.find`` alone, which copies nothing (a split
    copied the page, a regex over it cost five times more)."""
    slots: list[Slot] = [(at, at + len(_CSRF_BYTES), None) for at in _found(template, _CSRF_BYTES)]
    slots += [(at, at + len(_HEADER_BYTES), b"") for at in _found(template, _HEADER_BYTES)]
    for at in _found(template, _YOURS_START):
        end = template.find(b"-->", at)
        slots.append((at, end + 3, template[at + len(_YOURS_START) : end]))
    slots.sort()
    return slots


def _shifted_slots(slots: list[Slot], edits: Sequence[Edit], firsts: list[int]) -> list[Slot]:
    """``slots`` moved by what ``edits`` (apart from them; ``firsts[i]``: the first slot
    not before edit i) added or took away before each. A count of the same width (most
    votes: 12 to 13 upvotes) moves nothing, and :meth:`Plan.shifted` skips this."""
    moved: list[Slot] = []
    shift, done = 0, 0
    for (start, stop, replacement), first in zip(edits, firsts, strict=True):
        moved += [(at + shift, end + shift, hole) for at, end, hole in slots[done:first]]
        done = first
        shift += len(replacement) - (stop - start)
    moved += [(at + shift, end + shift, hole) for at, end, hole in slots[done:]]
    return moved


def _cuts(slots: list[Slot]) -> list[slice]:
    """Where the parts between ``slots`` are (the last one to the end)."""
    cuts, start = [], 0
    for at, end, _ in slots:
        cuts.append(slice(start, at))
        start = end
    cuts.append(slice(start, None))
    return cuts


class Plan:
    """A member template cut once at its per-member slots, so that each merge is one join.

    ``parts`` are the template's bytes between its slots (the header, every CSRF token, the
    paper page's "yours among them"); ``holes[i]`` says what goes between ``parts[i]`` and
    ``parts[i + 1]``: ``None`` for the CSRF token, ``b""`` for the header, else the
    ``yours`` slot's paper (as the slot spells it). Boxes and cards of the member's own marks
    are not cut: where they are is found once, the first time a member with marks on the
    page asks for it (``places``, :meth:`fill_marked`), followed through the votes' count
    corrections of the template after that (:meth:`shifted`: a count is inside a box, never
    before its start, so a box moves by what the edits before it added), and their edits
    made in the same join. Own comment controls are finished by a pass of :func:`merge`
    (``has_own``: the page has own controls).
    """

    __slots__ = (
        "source", "headers", "slots", "cuts", "parts", "holes", "fills", "has_own", "places",
        "moves", "seen", "flipped",
    )  # fmt: skip

    def __init__(
        self,
        template: bytes,
        headers: Sequence[tuple[bytes, bytes]] = (),
        slots: list[Slot] | None = None,
        has_own: bool | None = None,
    ) -> None:
        self.source = template  # the body it was cut from (a changed body needs a new plan)
        self.headers = headers  # the answer's headers but its length (set by each merge)
        self.slots = _slots(template) if slots is None else slots
        self.cuts = _cuts(self.slots)
        # The parts are views of the template, not copies: a plan costs a few bytes a part.
        view = memoryview(template)
        self.parts: list[bytes | memoryview] = [view[cut] for cut in self.cuts]
        self.holes = [hole for _, _, hole in self.slots]
        # Where each hole's bytes go in the list :meth:`fill` joins (odd indexes).
        self.fills = [(2 * i + 1, hole) for i, hole in enumerate(self.holes) if hole is not None]
        self.has_own = _OWN.encode() in template if has_own is None else has_own
        # The boxes and cards of marks (_places), once asked, where they were in the body
        # they were found in; the count corrections made since (moves); and those looked up
        # for members so far, where they are in this plan's body (seen).
        self.places: Places | None = None
        self.moves: tuple[Move, ...] = ()
        self.seen: dict[bytes, tuple[int, ...]] = {}
        self.flipped: dict[int, Edit] = {}  # the boxes flipped for members so far, by start

    def shifted(self, body: bytes, edits: Sequence[Edit]) -> Plan | None:
        """This plan for ``body``, the template with ``edits`` made (:func:`apply_edits`):
        its slots moved by what the edits before each added or took away, not searched for
        again (a day page's cut cost 100 to 300 us, made again after every vote on one of
        its papers). None when an edit touches a slot (then cut ``body`` afresh).

        The parts are views of ``body`` again, at the moved slots: a plan views the body of
        its entry alone (the one before is let go) and copies nothing (copying out the
        parts an edit is in, most of a day page, cost 5 to 10 us a correction)."""
        touched = []  # the part each edit is in (the first slot after it)
        for start, stop, _ in edits:  # few: a paper shows once or twice a page
            first = bisect.bisect_right(self.slots, start, key=_slot_end)  # the first not before
            if first < len(self.slots) and self.slots[first][0] < stop:
                return None  # this edit overlaps a slot
            touched.append(first)
        slots, cuts = self.slots, self.cuts  # never changed in place: shared while nothing moves
        if any(len(replacement) != stop - start for start, stop, replacement in edits):
            slots = _shifted_slots(self.slots, edits, touched)
            cuts = _cuts(slots)
        moved = Plan.__new__(Plan)  # copy.copy cost more than the whole move
        moved.source, moved.headers, moved.slots, moved.cuts = body, self.headers, slots, cuts
        moved.holes, moved.fills, moved.has_own = self.holes, self.fills, self.has_own
        view = memoryview(body)
        moved.parts = [view[cut] for cut in cuts]
        self._move_marks(moved, _move(edits))
        return moved

    def _move_marks(self, moved: Plan, move: Move) -> None:
        """The places, the look-ups and the flipped boxes of this plan, for ``moved`` (its
        body this one's with ``move``'s edits made): followed, not found again (a day page's
        pass cost 150 to 250 us after every vote's correction of it); a flipped box an edit
        is in (its count) is flipped again when asked."""
        moved.places, moved.moves, moved.seen, moved.flipped = None, (), {}, {}
        if self.places is None or len(self.moves) >= MAX_MOVES:
            return
        moved.places, moved.moves = self.places, (*self.moves, move)
        for key, starts in self.seen.items():
            now = [_moved(start, move) for start in starts]
            if None not in now:
                moved.seen[key] = tuple(cast(list[int], now))
        edited = move[0]
        for start, (_, end, box) in self.flipped.items():
            at = _moved(start, move)
            following = bisect.bisect_left(edited, start)  # the first edit at or after it
            if at is not None and (following == len(edited) or edited[following] >= end):
                moved.flipped[at] = (at, at + end - start, box)

    def _where(self, key: bytes) -> tuple[int, ...]:
        """Where the boxes or cards of ``key`` (see :func:`_places`) start in this plan's
        body; :class:`_Touched` if a correction since they were found touched one."""
        found = self.seen.get(key)
        if found is None:
            assert self.places is not None
            starts: list[int] = list(self.places.get(key, ()))
            for move in self.moves:
                now = [_moved(start, move) for start in starts]
                if None in now:
                    raise _Touched(key)
                starts = cast(list[int], now)
            found = self.seen[key] = tuple(starts)
        return found

    def fill(self, csrf: bytes, header: bytes, upvoted: Collection[str]) -> bytes:
        """The template with ``csrf`` in every CSRF slot, ``header`` as the header and the
        "yours among them" of the ``upvoted`` papers."""
        pieces: list[bytes | memoryview] = [csrf] * (2 * len(self.parts) - 1)
        pieces[::2] = self.parts
        for index, hole in self.fills:
            if hole:  # a "yours among them" slot
                pieces[index] = _YOURS_BYTES if _yours_of(hole, upvoted) else b""
            else:
                pieces[index] = header
        return b"".join(pieces)

    def fill_marked(
        self,
        csrf: bytes,
        header: bytes,
        upvoted: Collection[str],
        saved: Collection[str],
        hidden: Collection[str],
    ) -> bytes | None:
        """:meth:`fill`, with the member's marks made (:func:`_marked`) in the same join:
        their few boxes and cards looked up, not searched for. None when a mark's edit
        would touch a slot (then fill, and mark the page filled)."""
        if self.places is None:
            self._find_places()
        try:
            marks = _mark_edits(self.source, self._where, upvoted, saved, hidden, self.flipped)
        except _Touched:
            self._find_places()
            marks = _mark_edits(self.source, self._where, upvoted, saved, hidden, self.flipped)
        if not marks:
            return self.fill(csrf, header, upvoted)
        edits = sorted([*self._slot_edits(csrf, header, upvoted), *marks])
        if any(start < end for (_, end, _), (start, _, _) in itertools.pairwise(edits)):
            return None
        view, at = memoryview(self.source), 0
        pieces: list[bytes | memoryview] = []
        for start, end, replacement in edits:
            pieces += (view[at:start], replacement)
            at = end
        pieces.append(view[at:])
        return b"".join(pieces)

    def _find_places(self) -> None:
        self.places, self.moves, self.seen = _places(self.source), (), {}

    def _slot_edits(self, csrf: bytes, header: bytes, upvoted: Collection[str]) -> list[Edit]:
        """Each slot of the template with what :meth:`fill` puts there, as edits."""
        edits: list[Edit] = []
        for at, end, hole in self.slots:
            if hole is None:
                edits.append((at, end, csrf))
            elif hole:
                edits.append((at, end, _YOURS_BYTES if _yours_of(hole, upvoted) else b""))
            else:
                edits.append((at, end, header))
        return edits


_YOURS_BYTES = YOURS_TEXT.encode()


def _yours_of(slot_paper: bytes, upvoted: Collection[str]) -> bool:
    return any(_spelled(p) == slot_paper for p in upvoted)


def merge_planned(
    plan: Plan,
    *,
    username: str,
    header: bytes,
    csrf_token: str,
    upvoted: Collection[str],
    saved: Collection[str] = (),
    hidden: Collection[str] = (),
) -> bytes:
    """:func:`merge` over a template cut beforehand (:class:`Plan`), with the member's
    ``header`` made beforehand (:func:`member_nav`): byte for byte the same page, at the cost
    of one join, and a look-up of each of the page's papers they marked."""
    csrf = csrf_token.encode()
    marked = upvoted or saved or hidden
    body = plan.fill_marked(csrf, header, upvoted, saved, hidden) if marked else None
    if body is None:
        body = plan.fill(csrf, header, upvoted)
        if marked:
            body = _marked(body, upvoted, saved, hidden)
    if plan.has_own:
        body = _own_controls(body, username)
    return body


def merge(
    template: bytes,
    *,
    username: str,
    csrf_token: str,
    path: str,
    upvoted: Collection[str],
    unread: int = 0,
    saved: Collection[str] = (),
    hidden: Collection[str] = (),
) -> bytes:
    """The member's page from the member template: their header (with their unread
    notifications), their CSRF token in every form, the papers they upvoted and saved (among
    the page's) marked so, the cards of those they are not interested in left out, and the
    edit and delete controls of their own comments (:func:`own_slot`) kept, everybody else's
    dropped (the report forms the other way round)."""
    header = member_nav(username, CSRF_SLOT, path, unread).encode()
    body = template.replace(HEADER_SLOT.encode(), header)
    body = body.replace(CSRF_SLOT.encode(), csrf_token.encode())
    if upvoted or saved or hidden:
        body = _marked(body, upvoted, saved, hidden)
    if _OWN.encode() in body:
        body = _own_controls(body, username)
    return _yours(body, upvoted) if _YOURS.encode() in body else body


class SessionCache:
    """Session token -> its member, for :data:`SESSION_SECONDS` (thread-safe).

    A log-out or a log-in on this process forgets the member's tokens at once; a session
    ended elsewhere (log out everywhere, another worker process, a suspension) is seen
    within :data:`SESSION_SECONDS` (each token is kept 0.75 to 1 x that, spread so that
    sessions first seen together are not looked up again together). Only sessions that
    resolved are kept. Those older than :data:`SESSION_RENEW_SHARE` of it are read again
    together (:meth:`stale`, :meth:`renew`, by the member pages in the background), so that
    a member seen often is not looked up in a request's way, one query each.
    """

    def __init__(self, seconds: float = SESSION_SECONDS) -> None:
        self.seconds = seconds
        self._members: dict[str, tuple[User, float]] = {}
        self._lock = threading.Lock()

    def get(self, token: str) -> User | None:
        with self._lock:
            found = self._members.get(token)
            if found is None:
                return None
            # Between 0.75 and 1 x the seconds, fixed per token: members who signed in (or
            # were first seen) together are not all looked up again at once.
            if time.monotonic() - found[1] > self.seconds * (1.0 - (hash(token) % 1024) / 4096):
                del self._members[token]
                return None
            return found[0]

    def put(self, token: str, user: User) -> None:
        with self._lock:
            if len(self._members) >= SESSION_CACHE_SIZE:
                self._members.clear()
            self._members[token] = (user, time.monotonic())

    def stale(self) -> dict[str, float]:
        """The tokens kept longer than ``SESSION_RENEW_SHARE`` of the seconds, each with
        when it was kept (for :meth:`renew`)."""
        limit = time.monotonic() - self.seconds * SESSION_RENEW_SHARE
        with self._lock:
            return {token: at for token, (_, at) in self._members.items() if at < limit}

    def renew(self, stale: dict[str, float], found: dict[str, User], read_at: float) -> None:
        """After the ``stale`` tokens were read again (from ``read_at`` on): those ``found``
        kept as of then, with their member as read, the others forgotten (ended, suspended,
        their role changed: their next request resolves them). A token kept again or
        forgotten meanwhile (a log-out) stays as that left it."""
        with self._lock:
            for token, at in stale.items():
                kept = self._members.get(token)
                if kept is None or kept[1] != at:
                    continue
                user = found.get(token)
                if user is None:
                    del self._members[token]
                else:
                    self._members[token] = (user, read_at)

    def forget(self, token: str | None = None, user_id: int | None = None) -> None:
        """Forget ``token``, and every token of ``user_id``."""
        with self._lock:
            if token is not None:
                self._members.pop(token, None)
            if user_id is not None:
                for key in [k for k, (user, _) in self._members.items() if user.id == user_id]:
                    del self._members[key]


class MemberVotes:
    """Member id -> every paper they upvoted, so a cached page costs no query (thread-safe).

    Kept exact by this process's votes (:meth:`voted`), and dropped whole when votes changed
    elsewhere (:class:`~dailypapers.web.vote_watch.VoteWatch` calls :meth:`clear` when it
    drops the cached pages for the same reason).
    """

    def __init__(self) -> None:
        self._votes: dict[int, frozenset[str]] = {}
        # A load older than a vote of its member, or than a clear, is not kept. Per member:
        # with one global count, members voting every few ms kept every load from being kept.
        self._cleared = 0
        self._changes: dict[int, int] = {}  # member id -> their votes seen since the clear
        self._lock = threading.Lock()

    def get(self, user_id: int) -> frozenset[str] | None:
        return self._votes.get(user_id)

    def mark(self, user_id: int) -> tuple[int, int]:
        """Taken before loading a member's votes from the store, for :meth:`put`."""
        with self._lock:
            return self._cleared, self._changes.get(user_id, 0)

    def put(self, user_id: int, voted: frozenset[str], mark: tuple[int, int]) -> None:
        with self._lock:
            if mark != (self._cleared, self._changes.get(user_id, 0)):
                return  # a vote landed while this was read: it may be missing
            if len(self._votes) >= MEMBER_VOTES_SIZE:
                self._clear()
            self._votes[user_id] = voted

    def voted(self, user_id: int, paper_id: str, upvoted: bool) -> None:
        with self._lock:
            if len(self._changes) >= MEMBER_VOTES_SIZE:
                self._clear()
            self._changes[user_id] = self._changes.get(user_id, 0) + 1
            known = self._votes.get(user_id)
            if known is not None:
                self._votes[user_id] = known | {paper_id} if upvoted else known - {paper_id}

    def _clear(self) -> None:
        self._cleared += 1
        self._votes.clear()
        self._changes.clear()

    def clear(self) -> None:
        with self._lock:
            self._clear()


Marks = tuple[frozenset[str], frozenset[str]]  # (saved papers, not interested papers)


class MemberMarks:
    """Member id -> (papers in their collections, papers they are not interested in), so a
    cached page costs no query for them either (thread-safe).

    A change made by this process forgets the member's entry at once (the next page reads
    it again: one query); a change made by another server process is seen within
    :data:`MEMBER_MARKS_SECONDS`, when the entry is read again anyway.
    """

    def __init__(self, seconds: float = MEMBER_MARKS_SECONDS) -> None:
        self.seconds = seconds
        self._marks: dict[int, tuple[Marks, float]] = {}
        self._changes: dict[int, int] = {}
        self._lock = threading.Lock()

    def get(self, user_id: int) -> Marks | None:
        found = self._marks.get(user_id)
        if found is None or time.monotonic() - found[1] > self.seconds:
            return None
        return found[0]

    def stale(self) -> dict[int, int]:
        """The members whose marks are older than :attr:`seconds`, each with its
        :meth:`mark` (to read theirs again together and :meth:`put` them)."""
        now = time.monotonic()
        with self._lock:
            return {
                user_id: self._changes.get(user_id, 0)
                for user_id, (_, when) in self._marks.items()
                if now - when > self.seconds
            }

    def peek(self, user_id: int) -> tuple[Marks, bool] | None:
        """The member's marks kept, even when older than :attr:`seconds`, and whether they
        are younger (a cached page serves old ones while they are read again)."""
        found = self._marks.get(user_id)
        if found is None:
            return None
        return found[0], time.monotonic() - found[1] <= self.seconds

    def mark(self, user_id: int) -> int:
        """Taken before reading a member's marks from the store, for :meth:`put`."""
        with self._lock:
            return self._changes.get(user_id, 0)

    def put(self, user_id: int, marks: Marks, mark: int) -> None:
        with self._lock:
            if mark != self._changes.get(user_id, 0):
                return  # a change landed while this was read: it may be missing
            if len(self._marks) >= MEMBER_VOTES_SIZE:
                self._marks.clear()
            self._marks[user_id] = (marks, time.monotonic())

    def changed(self, user_id: int) -> None:
        """The member saved, took out, hid or showed a paper: read theirs again."""
        with self._lock:
            if len(self._changes) >= MEMBER_VOTES_SIZE:
                self._changes.clear()
                self._marks.clear()
            self._changes[user_id] = self._changes.get(user_id, 0) + 1
            self._marks.pop(user_id, None)
