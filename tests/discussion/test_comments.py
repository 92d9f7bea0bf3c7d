"""The comment service on a real store (SQLite and PostgreSQL): post, reply, edit with its
versions, delete as a placeholder, the paper's local_comments kept in step, suspended and
deleted authors, new accounts' limits, mentions and listeners."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from dailypapers.accounts.flows import export_data, set_suspended
from dailypapers.accounts.limits import RateLimited, open_limiter
from dailypapers.accounts.service import delete_user
from dailypapers.discussion import comments as service
from dailypapers.discussion.comments import CommentError, NotAllowed, UnknownComment
from dailypapers.feed.trending import all_comments, trending_score
from dailypapers.paper import make_record
from dailypapers.settings import get_settings
from dailypapers.store import Store
from dailypapers.store.entries import feed_entries, rank_inputs
from dailypapers.store.papers import upsert_papers
from dailypapers.store.schema import papers
from dailypapers.store.users import update_user
from dailypapers.store.votes import vote_stamp
from tests.support.members import add_members, member, set_role

PAPER, OTHER = "2501.00001", "2501.00002"


@pytest.fixture
def site(store: Store) -> Store:
    with store.write() as connection:
        upsert_papers(
            connection,
            [
                make_record(PAPER, "P", first_listed_on=date(2025, 1, 6), hf_comments=4),
                make_record(OTHER, "Q", first_listed_on=date(2025, 1, 6)),
            ],
        )
    return store


def local_comments(store: Store, paper_id: str = PAPER) -> int:
    with store.read() as connection:
        query = papers.select().where(papers.c.arxiv_id == paper_id)
        return int(connection.execute(query).mappings().one()["local_comments"])


def test_post_reply_edit_delete_keep_the_count_and_the_thread(site: Store) -> None:
    settings = get_settings()
    ada, bob = (member(site, uid) for uid in add_members(site, 2, prefix="c"))
    with site.read() as connection:
        before = vote_stamp(connection)
    top = service.post_comment(site, settings, ada, PAPER, "An $O(n)$ bound, @c1?")
    assert '<math xmlns="http://www.w3.org/1998/Math/MathML"' in top.html
    assert '<a href="/users/c1"' in top.html
    reply = service.post_comment(site, settings, bob, PAPER, "Yes", parent_id=top.id)
    assert local_comments(site) == 2
    with site.read() as connection:
        assert vote_stamp(connection) > before  # cached pages drop
    edited = service.edit_comment(site, settings, ada, top.id, "An $O(n \\log n)$ bound")
    assert edited.edited and "log" in edited.body
    assert [v.body for v in service.comment_versions(site, top.id)] == ["An $O(n)$ bound, @c1?"]
    with pytest.raises(NotAllowed):
        service.edit_comment(site, settings, bob, top.id, "mine now")
    service.delete_comment(site, ada, top.id)
    assert local_comments(site) == 1
    shown = service.thread(site, PAPER)
    assert [c.id for c in shown] == [top.id] and shown[0].deleted and shown[0].body == ""
    assert [c.id for c in shown[0].replies] == [reply.id]
    service.delete_comment(site, bob, reply.id)
    assert service.thread(site, PAPER) == [] and local_comments(site) == 0
    with pytest.raises(UnknownComment):
        service.edit_comment(site, settings, ada, top.id, "back")


def test_bad_input_is_refused_with_a_message(site: Store) -> None:
    settings = get_settings()
    ada, bob = (member(site, uid) for uid in add_members(site, 2, prefix="bad"))
    top = service.post_comment(site, settings, ada, PAPER, "top")
    reply = service.post_comment(site, settings, bob, PAPER, "reply", parent_id=top.id)
    cases = [
        ("  ", None, PAPER, "empty"),
        ("x" * (settings.comment_max_chars + 1), None, PAPER, "at most"),
        ("x", 999_999, PAPER, "no comment"),
        ("x", top.id, OTHER, "no comment"),
        ("x", reply.id, PAPER, "one level"),
    ]
    for text, parent, paper, message in cases:
        with pytest.raises(CommentError, match=message) as refused:
            service.post_comment(site, settings, ada, paper, text, parent_id=parent)
        assert refused.value.status == 400
    with pytest.raises(service.UnknownPaper):
        service.post_comment(site, settings, ada, "2501.99999", "x")
    assert local_comments(site) == 2


def test_unconfirmed_and_suspended_members_cannot_comment(site: Store) -> None:
    settings = get_settings()
    [uid] = add_members(site, 1, prefix="unconf")
    with site.write() as connection:
        update_user(connection, uid, {"email_confirmed_at": None})
    with pytest.raises(NotAllowed, match="confirm"):
        service.post_comment(site, settings, member(site, uid), PAPER, "hi")


def test_a_suspended_authors_comments_are_hidden_and_uncounted(site: Store) -> None:
    settings = get_settings()
    ada, bob = (member(site, uid) for uid in add_members(site, 2, prefix="sus"))
    top = service.post_comment(site, settings, ada, PAPER, "from ada")
    service.post_comment(site, settings, bob, PAPER, "reply", parent_id=top.id)
    set_suspended(site, ada, True)
    assert local_comments(site) == 1
    shown = service.thread(site, PAPER)
    assert shown[0].hidden and shown[0].body == "" and shown[0].html == ""
    assert service.thread(site, PAPER, moderator=True)[0].body == "from ada"
    with pytest.raises(NotAllowed, match="suspended"):
        service.post_comment(site, settings, member(site, ada.id), PAPER, "again")
    set_suspended(site, member(site, ada.id), False)
    assert local_comments(site) == 2 and service.thread(site, PAPER)[0].body == "from ada"


def test_moderators_hide_and_edit_and_see_versions(site: Store) -> None:
    settings = get_settings()
    ada, mod = add_members(site, 2, prefix="hid")
    set_role(site, mod, "moderator")
    top = service.post_comment(site, settings, member(site, ada), PAPER, "spam?")
    with pytest.raises(NotAllowed):
        service.set_hidden(site, member(site, ada), top.id, True, "no")
    service.set_hidden(site, member(site, mod), top.id, True, "spam")
    assert local_comments(site) == 0 and service.thread(site, PAPER) == []
    assert service.thread(site, PAPER, moderator=True)[0].hidden_reason == "spam"
    service.set_hidden(site, member(site, mod), top.id, False)
    assert local_comments(site) == 1
    service.edit_comment(site, settings, member(site, mod), top.id, "[removed link]")
    assert service.comment_by_id(site, top.id).body == "[removed link]"  # type: ignore[union-attr]


def test_new_accounts_are_limited_in_links_and_rate(site: Store) -> None:
    settings = get_settings()
    [uid] = add_members(site, 1, prefix="newbie")
    now = datetime(2026, 1, 2)  # a day after the member was made: new
    newbie = member(site, uid)
    links = "see https://a.example and [b](https://b.example) and <https://c.example>"
    with pytest.raises(CommentError, match="at most 2 links"):
        service.post_comment(site, settings, newbie, PAPER, links, now=now)
    later = now + timedelta(days=settings.comment_new_account_days)
    service.post_comment(site, settings, newbie, PAPER, links, now=later)
    limiter = open_limiter(site, settings)
    allowed = int(settings.limit_comment_new.split(":")[1].split("/")[0])
    for index in range(allowed):
        service.post_comment(site, settings, newbie, PAPER, f"{index}", limiter=limiter, now=now)
    with pytest.raises(RateLimited):
        service.post_comment(site, settings, newbie, PAPER, "one more", limiter=limiter, now=now)
    assert local_comments(site) == 1 + allowed


def test_mentions_listeners_export_and_account_deletion(site: Store) -> None:
    settings = get_settings()
    ada, bob, cy = (member(site, uid) for uid in add_members(site, 3, prefix="men"))
    heard: list[service.CommentEvent] = []
    service.add_listener(lambda _store, event: heard.append(event))
    text = "cc @men1 @MEN2 @men0 @nobody `@men2` and mail men1@example.org"
    assert service.mentioned_user_ids(site, text, exclude=ada.id) == [bob.id, cy.id]
    top = service.post_comment(site, settings, ada, PAPER, text)
    assert heard[-1].kind == "posted" and heard[-1].mentioned_user_ids == (bob.id, cy.id)
    reply = service.post_comment(site, settings, bob, PAPER, "hi @men0", parent_id=top.id)
    assert export_data(site, ada)["comments"][0]["text"] == text
    delete_user(site, ada.id)
    shown = service.thread(site, PAPER)
    assert shown[0].deleted and shown[0].body == "" and shown[0].author_username is None
    assert shown[0].replies[0].id == reply.id and local_comments(site) == 1
    with site.read() as connection:
        row = connection.execute(papers.select().where(papers.c.arxiv_id == PAPER)).mappings().one()
    assert row["local_comments"] == 1


def test_trending_and_the_feed_count_visible_local_comments(site: Store) -> None:
    settings = get_settings()
    ada, bob = (member(site, uid) for uid in add_members(site, 2, prefix="trend"))
    day = date(2025, 1, 6)

    def counted() -> tuple[int, int]:
        with site.read() as connection:
            ranked = {r.id: r for r in rank_inputs(connection, day, day)}
            [entry] = feed_entries(connection, [PAPER])
        return ranked[PAPER].num_comments, entry.num_comments

    assert counted() == (4, 4)  # imported from Hugging Face
    service.post_comment(site, settings, ada, PAPER, "one")
    second = service.post_comment(site, settings, bob, PAPER, "two")
    assert counted() == (6, 6)
    set_suspended(site, bob, True)
    assert counted() == (5, 5)
    set_suspended(site, member(site, bob.id), False)
    service.delete_comment(site, member(site, bob.id), second.id)
    assert counted() == (5, 5)
    before = trending_score(0, 10, comments=4)
    assert trending_score(0, 10, comments=all_comments(4, 1)) > before
