"""The anonymous card memo (web/cards.py): a kept card is the card written afresh, every
value the card shows is in its key, and a vote needs no new entry."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date

import pytest
from pydantic_core import to_json

from dailypapers import memo
from dailypapers.feed.reader import FeedEntry
from dailypapers.web import cards, models
from dailypapers.web.cards import Voter
from dailypapers.web.models import daily_json, items_json

ENTRY = FeedEntry(
    "2606.13681", "EvoArena: <Memory> & $x^2$ \"agents\"", "An abstract.",
    ("Ada Lovelace", "Bo Müller", "C. Shannon", "D. Knuth", "E. Noether"), ("cs.CL", "cs.AI"),
    date(2026, 6, 12), 118, 3, "https://github.com/a/b", 42, None, None, None, "akhaliq",
    "akhaliq", None, "user", "https://github.com/a/b", 2, "a note",
)  # fmt: skip


@pytest.fixture(autouse=True)
def cold_memo() -> Iterator[None]:
    cards.clear_card_memo()
    yield
    cards.clear_card_memo()


def _fresh(entry: FeedEntry, rank: int | None = None, note: str | None = None) -> str:
    """The card written without the memo."""
    return cards._card(entry, rank, None, False, 2, None, note, entry.upvotes)


def test_a_kept_card_is_the_card_written_afresh() -> None:
    cold = str(cards.card(ENTRY, 4, note="n"))
    warm = str(cards.card(ENTRY, 4, note="n"))
    assert cold == warm == _fresh(ENTRY, 4, "n")
    listed = str(cards.cards([ENTRY], first_rank=4, notes={ENTRY.id: "n"}))
    assert f"<li>{cold}</li>" in listed
    assert 'title="120 upvotes"' in cold and '<span class="count">120</span>' in cold


@pytest.mark.parametrize(
    "change",
    [
        {"title": "Another title"},
        {"authors": ("Ada Lovelace", "Z. Other", "C. Shannon", "D. Knuth", "E. Noether")},
        {"categories": ("cs.LG",)},
        {"day": date(2026, 6, 13)},
        {"num_comments": 4},
        {"code_url": "https://github.com/c/d", "github_repo": "https://github.com/c/d"},
        {"github_stars": 43},
        {"github_repo": None},  # the stars are shown only beside the given repository
        {"featured_by": "someone"},
        {"hf_upvotes": 1},
        {"local_upvotes": 0},
    ],
)
def test_every_shown_value_changes_the_card(change: dict[str, object]) -> None:
    before = str(cards.card(ENTRY))
    changed = dataclasses.replace(ENTRY, **change)  # type: ignore[arg-type]
    after = str(cards.card(changed))
    assert after != before
    assert after == _fresh(changed)
    assert str(cards.card(ENTRY)) == before  # the first card is still kept as it was


def test_rank_level_note_and_snippet_are_in_the_key() -> None:
    plain = str(cards.card(ENTRY))
    others = [
        cards.card(ENTRY, rank=2),
        cards.card(ENTRY, level=3),
        cards.card(ENTRY, note="why"),
        cards.card(ENTRY, exact=True),
    ]
    assert len({plain, *map(str, others)}) == 5


def test_a_search_result_is_kept_once_for_every_snippet() -> None:
    # The snippet depends on the query: the card is kept with a slot where it goes.
    for snippet in ("<mark>x</mark>", "an <mark>abstract</mark>…", "<mark>x</mark>"):
        for exact in (False, True):
            html = str(cards.card(ENTRY, snippet=snippet, exact=exact))
            assert html == cards._card(ENTRY, None, snippet, exact, 2, None, None, ENTRY.upvotes)
            assert f'<p class="snippet">{snippet}</p>' in html
    assert len(cards._memo) == 2  # exact or not
    assert str(cards.card(ENTRY, snippet="")) == str(cards.card(ENTRY))  # as no snippet
    assert len(cards._memo) == 3


def test_a_card_holding_the_slots_character_is_the_card_written_afresh() -> None:
    # The slot is only in the key: a kept search card is never split at it.
    odd = dataclasses.replace(ENTRY, title="A \x00 title", featured_by="\x00")
    for _ in range(2):
        html = str(cards.card(odd, snippet="<mark>x</mark>"))
        assert html == cards._card(odd, None, "<mark>x</mark>", False, 2, None, None, odd.upvotes)


def test_result_cards_are_the_cards_written_afresh_and_kept() -> None:
    @dataclasses.dataclass
    class Result:
        entry: FeedEntry
        snippet: str | None
        exact: bool

    other = dataclasses.replace(ENTRY, id="2606.00001", note=None)
    results = [Result(ENTRY, "<mark>x</mark>", True), Result(other, None, False)]
    fresh = "".join(
        f"  <li>{cards._card(r.entry, None, r.snippet, r.exact, 2, None, None, r.entry.upvotes)}"
        "</li>\n"
        for r in results
    )
    for _ in range(2):
        assert str(cards.result_cards(results)) == f'<ol class="cards">\n{fresh}</ol>'
        assert len(cards._memo) == 2


def test_a_vote_reuses_the_kept_card() -> None:
    cards.card(ENTRY)
    kept = len(cards._memo)
    voted = str(cards.card(dataclasses.replace(ENTRY, local_upvotes=3)))
    assert len(cards._memo) == kept
    assert 'title="121 upvotes"' in voted and '<span class="count">121</span>' in voted


def test_members_cards_are_not_kept() -> None:
    voter = Voter(frozenset({ENTRY.id}), "token", "/")
    html = str(cards.card(ENTRY, voter=voter))
    assert 'aria-pressed="true"' in html and not cards._memo


def test_the_memo_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cards._memo, "size", 3)
    for rank in range(1, 8):
        cards.card(ENTRY, rank)
    assert len(cards._memo) == 3
    assert str(cards.card(ENTRY, 1)) == _fresh(ENTRY, 1)


def test_a_full_memo_drops_the_oldest_kept_first() -> None:
    kept: memo.Memo[int, str] = memo.Memo(3)
    for key in range(6):
        kept.keep(key, str(key))
    assert list(kept.kept.items()) == [(3, "3"), (4, "4"), (5, "5")]
    assert kept.get(0) is None and kept.get(5) == "5"


def test_cards_set_aside_come_back() -> None:
    warm = str(cards.card(ENTRY))
    with memo.set_aside():
        assert not cards._memo
        assert str(cards.card(ENTRY, 2)) == _fresh(ENTRY, 2)
    assert len(cards._memo) == 1 and str(cards.card(ENTRY)) == warm


def test_kept_api_items_are_the_items_written_afresh() -> None:
    other = dataclasses.replace(ENTRY, id="2606.00001", featured_by=None)
    fresh = to_json([daily_json(ENTRY), daily_json(other)])
    memo.clear_all()
    assert items_json([ENTRY, other]) == fresh == items_json([ENTRY, other])
    voted = dataclasses.replace(ENTRY, local_upvotes=9)  # another entry: another item
    assert items_json([voted]) == to_json([daily_json(voted)]) != items_json([ENTRY])
    assert items_json([]) == b"[]" == to_json([])


def test_a_memo_of_size_0_keeps_nothing() -> None:
    try:
        memo.size_all(0)  # DAILYPAPERS_PAGE_MEMO_PAPERS=0
        assert str(cards.card(ENTRY)) == _fresh(ENTRY) == str(cards.card(ENTRY))
        assert items_json([ENTRY]) == to_json([daily_json(ENTRY)])
        assert not cards._memo and not models._items
    finally:
        memo.size_all(memo.DEFAULT_SIZE)
    cards.card(ENTRY)
    assert len(cards._memo) == 1


def test_keep_all_keeps_each_and_drops_the_oldest_first() -> None:
    kept: memo.Memo[int, str] = memo.Memo(3)
    kept.keep(0, "0")
    kept.keep_all((key, str(key)) for key in range(1, 5))
    assert list(kept.kept.items()) == [(2, "2"), (3, "3"), (4, "4")]
    nothing: memo.Memo[int, str] = memo.Memo(0)
    nothing.keep_all([(1, "1")])
    assert not nothing


def test_a_list_of_cards_keeps_each_card_once_and_shows_the_same() -> None:
    entries = [dataclasses.replace(ENTRY, id=f"2606.{index:05d}") for index in range(4)]
    first = str(cards.cards(entries, 1))
    assert len(cards._memo) == 4
    assert str(cards.cards(entries, 1)) == first and len(cards._memo) == 4
    for rank, entry in enumerate(entries, 1):
        assert f"  <li>{_fresh(entry, rank)}</li>\n" in first


def test_an_id_that_is_not_an_arxiv_id_is_escaped_in_every_place() -> None:
    odd = dataclasses.replace(ENTRY, id='x&y"/z w')
    for html in (str(cards.card(odd)), str(cards.card(odd, voter=Voter(frozenset(), "t", "/")))):
        assert 'data-paper="x&amp;y&quot;/z w"' in html
        assert 'href="/papers/x%26y%22/z%20w"' in html
        assert 'id="t-x&amp;y&quot;-z w"' in html and '"t-x&amp;y&quot;-z w"' in html
        assert 'x&y"' not in html


def test_a_members_card_holds_its_actions_and_states_alone() -> None:
    """A member's card has no form, token or way back of its own: its three buttons name
    the page's member form (``page_form``), each with its action and the state it asks for,
    so the card is the same for every member and every page."""
    html = str(cards.card(ENTRY, voter=Voter(frozenset(), "token", "/date/2026-06-12?p=2")))
    assert "<form" not in html and "token" not in html and "/date/" not in html
    buttons = [
        ("votes", "upvote", 'name="upvoted" value="1"'),
        ("save", "save", 'name="saved" value="1"'),
        ("hide", "not-interested", 'name="hidden" value="1"'),
    ]
    for kind, action, state in buttons:
        submits = f'form="m" formaction="/papers/{ENTRY.id}/{action}" {state}'
        assert f'<button class="{kind}"' in html and submits in html
    form = str(cards.page_form(Voter(frozenset(), 'a"b', "/date/2026-06-12?p=2&q=<x>")))
    assert form == (
        '<form id="m" method="post" hidden><input type="hidden" name="csrf_token" '
        'value="a&quot;b"><input type="hidden" name="next" value="/date/2026-06-12?p=2&amp;'
        'q=&lt;x&gt;"></form>'
    )
    assert str(cards.page_form(None)) == ""


def test_the_way_back_is_the_page_at_the_card() -> None:
    assert cards.back_to_card("/?p=2", "2606.13681") == "/?p=2#t-2606-13681"
    assert cards.back_to_card("/papers/hep-th/9901001", "hep-th/9901001") == (
        "/papers/hep-th/9901001#t-hep-th-9901001"
    )
    assert cards.back_to_card("/settings#hiding", "2606.13681") == "/settings#hiding"
    assert cards.back_to_card("", "2606.13681") == ""
