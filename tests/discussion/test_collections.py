"""Collections and "not interested" over the real store (SQLite and PostgreSQL): the default
list made when first needed, items added once, notes, order (moves and a whole new order),
the sorts (added, upvotes, trending by feed/trending.py's score), visibility, the rules'
errors, "export my data", and account deletion taking it all along."""

from __future__ import annotations

from datetime import datetime

import pytest

from dailypapers.accounts.flows import export_data
from dailypapers.accounts.service import user_by_id
from dailypapers.discussion import collections as service
from dailypapers.discussion.collections import CollectionError
from dailypapers.feed.trending import age_hours, trending_score
from dailypapers.store import Store
from dailypapers.store import not_interested as marks
from dailypapers.store.users import delete_user
from tests.discussion.conftest import paper_ids
from tests.support.members import add_members


def test_saving_makes_read_later_once_and_keeps_each_paper_once(papers: Store) -> None:
    (ada,) = add_members(papers, 1)
    first, second = paper_ids(papers, 2)
    assert service.collections_of(papers, ada) == []
    made, added = service.add_paper(papers, ada, first)
    again, added_again = service.add_paper(papers, ada, f"https://arxiv.org/abs/{first}v2")
    service.add_paper(papers, ada, second)
    assert (made.name, made.slug, made.is_default, made.public) == (
        "Read later", "read-later", True, False,
    )  # fmt: skip
    assert (added, added_again, again.id) == (True, False, made.id)
    assert [c.size for c in service.collections_of(papers, ada)] == [2]
    assert [i.paper_id for i in service.items_of(papers, made.id)] == [first, second]
    assert service.saved_ids(papers, ada) == {first, second}


def test_notes_moves_and_a_new_order(papers: Store) -> None:
    (ada,) = add_members(papers, 1)
    ids = paper_ids(papers, 4)
    reading = service.create_collection(papers, ada, "  Diffusion   models ")
    assert (reading.name, reading.slug) == ("Diffusion models", "diffusion-models")
    for paper in ids:
        service.add_paper(papers, ada, paper, reading.id)
    service.set_note(papers, ada, reading.id, ids[2], "read §3 first")
    service.move(papers, ada, reading.id, ids[3], 0)
    order = [i.paper_id for i in service.items_of(papers, reading.id)]
    assert order == [ids[3], ids[0], ids[1], ids[2]]
    service.reorder(papers, ada, reading.id, list(reversed(ids)))
    items = service.items_of(papers, reading.id)
    assert [i.paper_id for i in items] == list(reversed(ids))
    assert [i.position for i in items] == [0, 1, 2, 3]
    assert {i.paper_id: i.note for i in items}[ids[2]] == "read §3 first"
    with pytest.raises(CollectionError, match="every paper"):
        service.reorder(papers, ada, reading.id, ids[:3])
    assert service.remove_paper(papers, ada, reading.id, ids[0])
    assert not service.remove_paper(papers, ada, reading.id, ids[0])


def test_the_sorts(papers: Store) -> None:
    (ada,) = add_members(papers, 1)
    ids = paper_ids(papers, 6)
    for paper in reversed(ids):  # added in the reverse order of upvotes
        service.add_paper(papers, ada, paper)
    (reading,) = service.collections_of(papers, ada)
    items = service.items_of(papers, reading.id)
    by_upvotes = service.sort_items(items, "upvotes")
    counts = [i.entry.upvotes for i in by_upvotes if i.entry]
    assert counts == sorted(counts, reverse=True) and counts[0] > counts[-1]
    assert [i.paper_id for i in service.sort_items(items, "added")][0] == ids[0]  # newest
    now = datetime(2026, 6, 14, 12)

    def score(item: service.Item) -> float:
        assert item.entry is not None
        age = age_hours(now, item.entry.submitted_at, item.entry.day)
        stars = item.entry.github_stars or 0
        return trending_score(
            item.entry.upvotes, age, stars=stars, comments=item.entry.num_comments
        )

    trending = service.sort_items(items, "trending", now)
    assert [score(i) for i in trending] == sorted((score(i) for i in items), reverse=True)
    with pytest.raises(CollectionError, match="sort by one of"):
        service.sort_items(items, "random")


def test_rename_visibility_and_slugs(papers: Store) -> None:
    (ada,) = add_members(papers, 1)
    one = service.create_collection(papers, ada, "Reading group")
    two = service.create_collection(papers, ada, "Reading group!", public=True)
    assert (one.slug, two.slug, two.public) == ("reading-group", "reading-group-2", True)
    renamed = service.update_collection(papers, ada, one.id, name="Théorie", public=True)
    assert (renamed.name, renamed.slug, renamed.public) == ("Théorie", "theorie", True)
    assert service.by_slug(papers, ada, "theorie") == renamed
    assert service.visible(renamed, None) == renamed
    private = service.update_collection(papers, ada, one.id, public=False)
    with pytest.raises(CollectionError, match="no such collection") as refused:
        service.visible(private, None)
    assert refused.value.status == 404
    assert service.visible(private, ada) == private
    service.delete_collection(papers, ada, one.id)
    assert [c.slug for c in service.collections_of(papers, ada)] == ["reading-group-2"]


@pytest.mark.parametrize(
    ("call", "status", "message"),
    [
        (lambda s, u, c, p: service.create_collection(s, u, "   "), 422, "needs a name"),
        (lambda s, u, c, p: service.create_collection(s, u, "x" * 101), 422, "at most 100"),
        (lambda s, u, c, p: service.add_paper(s, u, "not an id", c), 422, "not an arXiv id"),
        (lambda s, u, c, p: service.add_paper(s, u, "2101.99999", c), 404, "no paper"),
        (lambda s, u, c, p: service.add_paper(s, u, p, c, "n" * 1001), 422, "at most 1000"),
        (lambda s, u, c, p: service.set_note(s, u, c, "2101.99999", "x"), 404, "not in this"),
        (lambda s, u, c, p: service.add_paper(s, u + 1, p, c), 404, "no such collection"),
        (lambda s, u, c, p: service.delete_collection(s, u + 1, c), 404, "no such collection"),
        (lambda s, u, c, p: service.move(s, u, c, "2101.99999", 0), 404, "not in this"),
    ],
)
def test_bad_requests_say_why_and_change_nothing(
    papers: Store, call: object, status: int, message: str
) -> None:
    ada, _bob = add_members(papers, 2)
    (paper,) = paper_ids(papers, 1)
    reading = service.create_collection(papers, ada, "Mine")
    with pytest.raises(CollectionError, match=message) as refused:
        call(papers, ada, reading.id, paper)  # type: ignore[operator]
    assert refused.value.status == status
    assert [(c.name, c.size) for c in service.collections_of(papers, ada)] == [("Mine", 0)]


def test_not_interested_marks(papers: Store) -> None:
    ada, bob = add_members(papers, 2)
    first, second = paper_ids(papers, 2)
    assert service.mark_not_interested(papers, ada, first)
    assert not service.mark_not_interested(papers, ada, first)
    service.mark_not_interested(papers, ada, second)
    service.mark_not_interested(papers, bob, second)
    assert service.not_interested_ids(papers, ada) == {first, second}
    assert [e.id for e, _ in service.not_interested_entries(papers, ada)] == [second, first]
    with papers.read() as connection:
        assert marks.marked_by_users(connection, [ada, bob, 999]) == {
            ada: {first, second}, bob: {second}, 999: frozenset(),
        }  # fmt: skip
    assert service.undo_not_interested(papers, ada, first)
    assert not service.undo_not_interested(papers, ada, first)
    assert service.member_marks(papers, ada) == (frozenset(), frozenset({second}))
    with pytest.raises(CollectionError, match="no paper"):
        service.mark_not_interested(papers, ada, "2101.99999")


def test_many_members_marks_read_together_are_each_members_own(papers: Store) -> None:
    ada, bob, cy = add_members(papers, 3, prefix="batch")
    first, second, third = paper_ids(papers, 3)
    service.add_paper(papers, ada, first)
    other = service.create_collection(papers, ada, "Other")
    service.add_paper(papers, ada, first, other.id)  # in two lists: once
    service.add_paper(papers, ada, second, other.id)
    service.add_paper(papers, bob, third)
    service.mark_not_interested(papers, bob, first)
    together = service.members_marks(papers, [ada, bob, cy])
    assert together == {user: service.member_marks(papers, user) for user in (ada, bob, cy)}
    assert together[ada] == (frozenset({first, second}), frozenset())
    assert together[cy] == (frozenset(), frozenset())


def test_export_my_data_and_deleting_the_account(papers: Store) -> None:
    ada, bob = add_members(papers, 2)
    first, second = paper_ids(papers, 2)
    service.add_paper(papers, ada, first, note="later")
    shared = service.create_collection(papers, ada, "Shared", public=True)
    service.add_paper(papers, ada, second, shared.id)
    service.add_paper(papers, bob, first)
    service.mark_not_interested(papers, ada, second)
    user = user_by_id(papers, ada)
    assert user is not None
    data = export_data(papers, user)
    assert [(c["name"], [i["paperId"] for i in c["items"]]) for c in data["collections"]] == [
        ("Read later", [first]), ("Shared", [second]),
    ]  # fmt: skip
    assert data["collections"][0]["items"][0]["note"] == "later"
    assert [m["paperId"] for m in data["notInterested"]] == [second]
    with papers.write() as connection:
        delete_user(connection, ada)
    assert service.collections_of(papers, ada) == []
    assert service.get_collection(papers, shared.id) is None
    assert service.not_interested_ids(papers, ada) == frozenset()
    assert service.saved_ids(papers, bob) == {first}  # the others' lists stay
