"""A paper's card (title, authors, votes, badges), the one piece of HTML every list of papers
repeats: daily, trending, author and search pages and similar papers.

It is written here in Python rather than as a Jinja2 macro because a page shows up to 50 of
them: the macro escaped each of its fifteen values through a separate call and cost about
50 µs a card, most of an uncached daily page's rendering; this costs a fifth of that
(BENCHMARKS.md, "Web CPU per request"). Every value from the store goes through
:func:`html.escape`; only the search snippet, which the search engine builds as escaped
text with ``<mark>`` around the matches, is inserted as it is. The templates call it as
``card(entry, rank, snippet, exact, level)`` (see ``templates/_macros.html``); ``level`` is
the title's heading level, one below the heading the cards stand under (h2 under the page's
h1, h3 under "Similar papers"), so headings never skip a level.

For a signed-in member (a :class:`Voter`), the votes box is a button that upvotes the paper
(or takes the upvote back), and under the meta line "Save" (into "Read later") and "Not
interested" are buttons too. None of them is a form of its own: each submits the page's one
member form (:func:`page_form`, ``id="m"``, in ``templates/base.html``), which carries the CSRF
token and the way back to the page, through the standard ``form`` and ``formaction``
attributes, and adds its own state wanted as its name and value (``upvoted=1``). So a card
holds only its paper's actions and states, and a member's page one CSRF token instead of
three a card (it was 100 kB for a day of 50 cards, 45 kB anonymous, and the member merge
filled 150 slots: BENCHMARKS.md, "Lighter member pages, session 12"). Without JavaScript the
button is a plain POST that comes back to the page at the card (:func:`back_to_card`);
``static/upvote.js`` and ``static/collections.js`` send it in place. A card the member is
not interested in is left out of the list. Everyone else gets the count alone and no
buttons, so an anonymous page stays the same for all and can be cached.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from html import escape
from typing import Protocol
from urllib.parse import quote

from markupsafe import Markup

from dailypapers.discussion.render import title_math_html
from dailypapers.feed.reader import FeedEntry
from dailypapers.memo import Memo

SHOWN_AUTHORS = 3


def short_authors(names: tuple[str, ...] | list[str], shown: int = SHOWN_AUTHORS) -> str:
    """ "A, B, C et al." for a card; every name when there are few."""
    if len(names) <= shown + 1:
        return ", ".join(names)
    return ", ".join(names[:shown]) + " et al."


# Every card says "N upvotes" and "N comments", on every request (the count is not part of a
# kept card): remembered, a third of the formatting's cost.
@lru_cache(maxsize=4096)
def plural(count: int, word: str) -> str:
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}s"


@dataclass(frozen=True, slots=True)
class Voter:
    """A signed-in member looking at a page: which of its papers they upvoted (one lookup per
    page), their form token, and the page's path and query to come back to."""

    upvoted: frozenset[str]
    csrf_token: str
    back: str
    moderator: bool = False
    saved: frozenset[str] = frozenset()  # papers in one of the member's collections
    hidden: frozenset[str] = frozenset()  # papers they marked "not interested": no card


def card_anchor(paper_id: str) -> str:
    """The id of a card's title (its anchor on the page), and of the paper page's facts."""
    return "t-" + paper_id.replace("/", "-").replace(".", "-")


def back_to_card(next: str, paper_id: str) -> str:
    """Where a card's control goes back without JavaScript: ``next`` (the page, from the
    page's form) at the card of ``paper_id``, unless ``next`` names its own anchor; an
    empty ``next`` stays empty (the handler's own fallback)."""
    if not next or "#" in next:
        return next
    return f"{next}#{card_anchor(paper_id)}"


PAGE_FORM = "m"  # the id of a member's page form: every card's buttons name it (short: 150 a page)


def page_form(voter: Voter | None) -> Markup:
    """``{{ page_form(voter) }}`` (``templates/base.html``): the one form every member
    control of the page submits (``form="m"``), with the CSRF token and the way back to
    this page; nothing for nobody signed in. It shows nothing itself: each button names
    where it goes (``formaction``) and the state it asks for (its name and value)."""
    if voter is None:
        return Markup("")
    return Markup(
        f'<form id="{PAGE_FORM}" method="post" hidden>'
        f'<input type="hidden" name="csrf_token" value="{escape(voter.csrf_token)}">'
        f'<input type="hidden" name="next" value="{escape(voter.back)}"></form>'
    )


def _submits(paper_id: str, action: str) -> str:
    """The attributes of a member button that submits the page form to ``action`` of
    ``paper_id`` ("upvote", "save", "not-interested")."""
    return f'form="{PAGE_FORM}" formaction="/papers/{escape(quote(paper_id))}/{action}"'


# An arXiv id ("2501.01234", "hep-th/9901001") holds only these: escaping it (and the anchor
# made of it) and quoting it for a URL give it back unchanged, so a card skips those calls
# (about 1.5 us of a card built anew). Any other id takes the long way.
_plain_id = re.compile(r"[A-Za-z0-9._/-]+").fullmatch


def _id_parts(paper_id: str) -> tuple[str, str, str]:
    """A card's ``paper_id`` escaped, quoted then escaped (its link), and its escaped anchor."""
    anchor = card_anchor(paper_id)
    if _plain_id(paper_id):
        return paper_id, paper_id, anchor
    return escape(paper_id), escape(quote(paper_id)), escape(anchor)


# A page's cards share a few days and categories: their HTML is made once per value.
@lru_cache(maxsize=1024)
def _category_badge(category: str) -> str:
    href = escape(quote(category))
    return f'<a class="badge category" href="/?category={href}">{escape(category)}</a>'


@lru_cache(maxsize=4096)
def _day_html(day: date) -> str:
    return f'<time datetime="{day.isoformat()}">{day.strftime("%a %-d %b %Y")}</time>'


_SEP = "\n      "  # between the meta line's parts


def _meta(entry: FeedEntry, exact: bool) -> str:
    # One f-string of the optional parts, each with its separator (no list to join: a card
    # built anew is a third of a cold daily page).
    exact_html = f'<span class="badge exact">exact match</span>{_SEP}' if exact else ""
    category = f"{_category_badge(entry.categories[0])}{_SEP}" if entry.categories else ""
    code = ""
    if entry.code_url:
        stars = entry.github_stars if entry.code_url == entry.github_repo else None
        label = f"code ★ {stars}" if stars else "code"
        href = escape(entry.code_url)
        code = f'<a class="badge code" href="{href}" rel="noopener">{label}</a>{_SEP}'
    submitter = ""
    if entry.featured_by:
        submitter = f'<span class="submitter">submitted by {escape(entry.featured_by)}</span>{_SEP}'
    day = f"{_SEP}{_day_html(entry.day)}" if entry.day else ""
    comments = plural(entry.num_comments, "comment")
    return f'{exact_html}{category}{code}{submitter}<span class="comments">{comments}</span>{day}'


def vote_box(paper_id: str, upvotes: int, voter: Voter | None) -> str:
    """The count of a paper's upvotes; for a ``voter``, the button that upvotes it (or
    takes the upvote back) through the page form (:func:`page_form`)."""
    title = plural(upvotes, "upvote")
    if voter is None:
        before, between, after = _anonymous_box(escape(paper_id))
        return f"{before}{title}{between}{upvotes}{after}"
    upvoted = paper_id in voter.upvoted
    action = "Take back your upvote" if upvoted else "Upvote"
    # The class, data-paper, value, aria-pressed, title and hidden text are what
    # personal.merge flips for the member's upvoted papers (keep the two in step).
    return (
        f'  <button class="votes{" upvoted" if upvoted else ""}" data-paper="{escape(paper_id)}" '
        f'{_submits(paper_id, "upvote")} name="upvoted" value="{"0" if upvoted else "1"}" '
        f'aria-pressed="{"true" if upvoted else "false"}" title="{action} ({title})">'
        f'<span aria-hidden="true">▲</span><span class="count">{upvotes}</span>'
        f'<span class="visually-hidden"> upvotes. {action}</span></button>\n'
    )


def _anonymous_box(paper: str) -> tuple[str, str, str]:
    """The votes box for nobody signed in, around its two counts (the title's "N upvotes",
    then N): the part before, between and after them; ``paper`` is the paper's id escaped.
    data-paper: where a vote's new count goes in a cached page (web/personal.py)."""
    return (
        f'  <div class="votes" data-paper="{paper}" title="',
        '">\n    <span aria-hidden="true">▲</span><span class="count">',
        '</span>\n    <span class="visually-hidden">upvotes</span>\n  </div>\n',
    )


def save_box(paper_id: str, voter: Voter, big: bool = False) -> str:
    """The "Save" toggle of a paper for a signed-in member: a button that posts the page
    form to ``/papers/{id}/save``, which puts it in their "Read later" (``saved=1``) or
    takes it out of all their collections (``0``); ``static/collections.js`` sends it in
    place. Its saved state is what :func:`~dailypapers.web.personal.merge` flips (keep the
    two in step)."""
    saved = paper_id in voter.saved
    title = "Take it out of your collections" if saved else "Save to Read later"
    return (
        f'    <button class="save{" big" if big else ""}{" saved" if saved else ""}" '
        f'{_submits(paper_id, "save")} name="saved" value="{"0" if saved else "1"}" '
        f'aria-pressed="{"true" if saved else "false"}" '
        f'title="{title}">{"Saved" if saved else "Save"}</button>\n'
    )


def hide_box(paper_id: str, voter: Voter) -> str:
    """The "Not interested" control of a card: a button that posts the page form to
    ``/papers/{id}/not-interested``, which hides the paper from the member's lists (undone
    in settings)."""
    return (
        f'    <button class="hide" {_submits(paper_id, "not-interested")} name="hidden" '
        'value="1" title="Hide this paper from your lists">Not interested</button>\n'
    )


def paper_save(paper_id: str, voter: Voter | None) -> Markup:
    """The paper page's "Save" toggle, and a link to all the member's collections; for
    nobody signed in, a link to log in (no form: that page is the same for everyone)."""
    if voter is None:
        login = escape(quote(f"/papers/{paper_id}", safe="/"))
        return Markup(
            f'<p class="save-login"><a href="/login?next={login}">Log in</a> to save it</p>'
        )
    return Markup(
        f'<div class="saving">\n{save_box(paper_id, voter, big=True)}'
        f'    <a href="/collections/add?paper={escape(quote(paper_id))}">Collections…</a>\n</div>'
    )


def paper_vote(paper_id: str, upvotes: int, voter: Voter | None) -> Markup:
    """The votes box of a paper's own page (the same as a card's, bigger)."""
    return Markup(vote_box(paper_id, upvotes, voter).replace('class="votes', 'class="votes big', 1))


def card(
    entry: FeedEntry,
    rank: int | None = None,
    snippet: str | None = None,
    exact: bool = False,
    level: int = 2,
    voter: Voter | None = None,
    note: str | None = None,
) -> Markup:
    """The card of ``entry``: ``rank`` shown before it, ``snippet`` (HTML) under the authors,
    the votes box as ``voter`` sees it (the count alone for nobody signed in), the
    submitter's ``note`` under the authors."""
    return Markup(_card_html(entry, rank, snippet, exact, level, voter, note))


def _card_html(
    entry: FeedEntry,
    rank: int | None,
    snippet: str | None,
    exact: bool,
    level: int,
    voter: Voter | None,
    note: str | None,
    made: list[tuple[tuple[object, ...], tuple[str, ...]]] | None = None,
) -> str:
    """:func:`card` as a plain string: a list of cards wraps them once, not each (a
    ``Markup`` is a copy of its string); ``made`` as for :func:`_anonymous_card`."""
    if voter is None and not snippet:  # an empty snippet shows as none
        return _anonymous_card(entry, rank, exact, level, note, made)
    if voter is None and snippet:
        return _anonymous_card_with(entry, rank, snippet, exact, level, note, made)
    return _card(entry, rank, snippet, exact, level, voter, note, entry.upvotes)


def _card(
    entry: FeedEntry,
    rank: int | None,
    snippet: str | None,
    exact: bool,
    level: int,
    voter: Voter | None,
    note: str | None,
    upvotes: int,
) -> str:
    _paper, href, anchor = _id_parts(entry.id)
    return (
        f"{_opening(anchor, rank)}{vote_box(entry.id, upvotes, voter)}"
        f"{_body(entry, snippet, exact, level, note, anchor, href)}"
        f"{_actions(entry.id, voter)}"
        "  </div>\n</article>"
    )


def _opening(anchor: str, rank: int | None) -> str:
    rank_html = f'\n  <span class="rank" aria-hidden="true">{rank}</span>' if rank else ""
    return f'<article class="card" aria-labelledby="{anchor}">{rank_html}\n'


def _body(
    entry: FeedEntry,
    snippet: str | None,
    exact: bool,
    level: int,
    note: str | None,
    anchor: str,
    href: str,
) -> str:
    """A card's title, authors, snippet, note and meta line (its actions and end follow);
    ``anchor`` and ``href`` (the paper's id as a path segment) already escaped."""
    head, rest = _body_around(entry, exact, level, note, anchor, href)
    snippet_html = f"{_SNIPPET_OPEN}{snippet}{_SNIPPET_CLOSE}" if snippet else ""
    return f"{head}{snippet_html}{rest}"


# What wraps a snippet under the authors: in a card made whole (_body) and around the gap a
# kept search card leaves for it (_search_parts).
_SNIPPET_OPEN = '\n    <p class="snippet">'
_SNIPPET_CLOSE = "</p>"


def _body_around(
    entry: FeedEntry, exact: bool, level: int, note: str | None, anchor: str, href: str
) -> tuple[str, str]:
    """:func:`_body` before its snippet (the title and authors) and after it (the note and
    the meta line)."""
    note_html = f'\n    <p class="note">{escape(note)}</p>' if note else ""
    return (
        '  <div class="body">\n'
        f'    <h{level} class="title" id="{anchor}">'
        f'<a href="/papers/{href}">{title_math_html(entry.title)}</a>'
        f"</h{level}>\n"
        f'    <p class="authors">{escape(short_authors(entry.authors))}</p>',
        f'{note_html}\n    <p class="meta">\n      {_meta(entry, exact)}\n    </p>\n',
    )


# An anonymous card is the same for everyone until something it shows changes, and the
# pages repeat the same papers (a day's 50, a paper's similar ones): its HTML is kept,
# keyed by every value it shows but the upvote count, which goes between its two halves
# (so a vote misses nothing). The key holds the values themselves, so a kept card is
# never stale: an edited title or a new comment is another key. A card is about 800 bytes;
# DAILYPAPERS_PAGE_MEMO_PAPERS of them are kept (BENCHMARKS.md, "Web CPU:
# uncached pages, session 7", for what a card costs when it is not kept).


_memo: Memo[tuple[object, ...], tuple[str, ...]] = Memo()


def _anonymous_around(
    entry: FeedEntry, rank: int | None, exact: bool, level: int, note: str | None
) -> tuple[str, str, str, str]:
    """The anonymous card of ``entry`` (:func:`vote_box` for nobody signed in, then the
    body) in four parts: the first two are joined by the count as a title, the next two by
    the count itself and, between them, where a snippet goes (under the authors)."""
    paper, href, anchor = _id_parts(entry.id)
    before, between, after = _anonymous_box(paper)
    head, rest = _body_around(entry, exact, level, note, anchor, href)
    # No actions for nobody signed in (see _actions).
    return (
        f"{_opening(anchor, rank)}{before}",
        between,
        f"{after}{head}",
        f"{rest}  </div>\n</article>",
    )


def _anonymous_parts(
    entry: FeedEntry, rank: int | None, exact: bool, level: int, note: str | None
) -> tuple[str, str, str]:
    """The anonymous card without a snippet in three parts, to be joined by the count as a
    title and the count itself."""
    opening, between, head, rest = _anonymous_around(entry, rank, exact, level, note)
    return opening, between, f"{head}{rest}"


def _card_key(
    entry: FeedEntry,
    rank: int | None,
    snippet: str | None,
    exact: bool,
    level: int,
    note: str | None,
) -> tuple[object, ...]:
    """Everything an anonymous card shows but the count (the stars only beside the given
    repository): the key it is kept by."""
    code = entry.code_url
    return (
        entry.id, entry.title, entry.authors, entry.categories[:1], entry.day,
        entry.num_comments, code, entry.github_stars if code == entry.github_repo else None,
        entry.featured_by, rank, snippet, exact, level, note,
    )  # fmt: skip


def _anonymous_card(
    entry: FeedEntry,
    rank: int | None,
    exact: bool,
    level: int,
    note: str | None,
    made: list[tuple[tuple[object, ...], tuple[str, ...]]] | None = None,
) -> str:
    """The anonymous card, kept; or, given ``made``, its parts put there for the caller to
    keep with the page's others (:func:`cards`: the memo's lock taken once a page)."""
    key = _card_key(entry, rank, None, exact, level, note)
    parts = _memo.get(key)
    if parts is None:
        parts = _anonymous_parts(entry, rank, exact, level, note)
        if made is None:
            _memo.keep(key, parts)
        else:
            made.append((key, parts))
    upvotes = entry.upvotes
    return f"{parts[0]}{plural(upvotes, 'upvote')}{parts[1]}{upvotes}{parts[2]}"


# A search result's card is kept without its snippet (which depends on the query): in four
# parts, the snippet going between the last two. Its key holds this in the snippet's place,
# a value no card without a snippet has (their key holds None there).
_SNIPPET_SLOT = "\x00"


def _anonymous_card_with(
    entry: FeedEntry,
    rank: int | None,
    snippet: str,
    exact: bool,
    level: int,
    note: str | None,
    made: list[tuple[tuple[object, ...], tuple[str, ...]]] | None = None,
) -> str:
    """:func:`_anonymous_card` with ``snippet`` (HTML, not empty) under the authors: the
    card is kept without it (see the slot); ``made`` as for :func:`_anonymous_card`."""
    key = _card_key(entry, rank, _SNIPPET_SLOT, exact, level, note)
    parts = _memo.get(key)
    if parts is None:
        parts = _search_parts(entry, rank, exact, level, note)
        if made is None:
            _memo.keep(key, parts)
        else:
            made.append((key, parts))
    upvotes = entry.upvotes
    return f"{parts[0]}{plural(upvotes, 'upvote')}{parts[1]}{upvotes}{parts[2]}{snippet}{parts[3]}"


def _search_parts(
    entry: FeedEntry, rank: int | None, exact: bool, level: int, note: str | None
) -> tuple[str, str, str, str]:
    """The anonymous card with a snippet in four parts, the snippet going between the last
    two (made in those parts: no slot written and the card split at it again)."""
    opening, between, head, rest = _anonymous_around(entry, rank, exact, level, note)
    return opening, between, f"{head}{_SNIPPET_OPEN}", f"{_SNIPPET_CLOSE}{rest}"


def clear_card_memo() -> None:
    """Forget every kept card (tests)."""
    _memo.clear()


def _actions(paper_id: str, voter: Voter | None) -> str:
    if voter is None:
        return ""
    boxes = save_box(paper_id, voter) + hide_box(paper_id, voter)
    return f'    <div class="actions">\n{boxes}    </div>\n'


def _shown(entry: FeedEntry, voter: Voter | None) -> bool:
    """Whether a list shows ``entry``'s card: not when the member is not interested."""
    return voter is None or entry.id not in voter.hidden


def cards(
    entries: list[FeedEntry],
    first_rank: int | None = None,
    level: int = 2,
    voter: Voter | None = None,
    notes: Mapping[str, str] | None = None,
) -> Markup:
    """The cards of ``entries`` as an ordered list, ranked from ``first_rank`` if given,
    with the submitters' ``notes`` by paper id."""
    notes = notes or {}
    items = []
    made: list[tuple[tuple[object, ...], tuple[str, ...]]] = []
    for index, entry in enumerate(entries):
        if not _shown(entry, voter):
            continue  # its rank stays taken, as in the merged page (web/personal.py)
        rank = first_rank + index if first_rank else None
        note = notes.get(entry.id)
        if voter is None:
            html = _anonymous_card(entry, rank, False, level, note, made)
        else:
            html = _card(entry, rank, None, False, level, voter, note, entry.upvotes)
        items.append(f"  <li>{html}</li>\n")
    _memo.keep_all(made)
    return Markup(f'<ol class="cards">\n{"".join(items)}</ol>')


class Result(Protocol):
    """A search result as :func:`result_cards` shows it (``pages.search.Result``)."""

    @property
    def entry(self) -> FeedEntry: ...
    @property
    def snippet(self) -> str | None: ...
    @property
    def exact(self) -> bool: ...


def result_cards(results: Sequence[Result], voter: Voter | None = None) -> Markup:
    """The cards of search ``results`` (with their snippets) as an ordered list."""
    made: list[tuple[tuple[object, ...], tuple[str, ...]]] = []
    items = [
        f"  <li>{_card_html(r.entry, None, r.snippet, r.exact, 2, voter, None, made)}</li>\n"
        for r in results
        if _shown(r.entry, voter)
    ]
    if made:  # the page's new cards under the memo's lock once
        _memo.keep_all(made)
    return Markup(f'<ol class="cards">\n{"".join(items)}</ol>')
