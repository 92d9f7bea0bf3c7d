"""Notifications a comment causes, on a real store (SQLite and PostgreSQL): a reply to your
comment, a mention, a comment on a paper you submitted or are a confirmed author of; one per
member and comment, of the most specific kind; never to yourself; an edit adds mentions
only; read and unread; the email choices."""

from __future__ import annotations

from datetime import datetime

from dailypapers.accounts import User
from dailypapers.accounts.flows import export_data
from dailypapers.discussion import comments as service
from dailypapers.discussion import moderation, notifications
from dailypapers.settings import get_settings
from dailypapers.store import Store
from dailypapers.store.schema import authors, claims, paper_authors
from dailypapers.store.submissions import add_submission
from tests.discussion.test_comments import PAPER, site  # noqa: F401
from tests.support.members import add_members, member, set_role

NAMES = ("ada", "bob", "sub", "carl", "dave", "erin")


def _members(store: Store) -> dict[str, User]:
    ids = add_members(store, len(NAMES), prefix="n")
    people = {name: member(store, uid) for name, uid in zip(NAMES, ids, strict=True)}
    with store.write() as connection:  # sub submitted the paper, carl is its confirmed author
        add_submission(connection, PAPER, people["sub"].id, None, datetime(2026, 1, 2))
        author = connection.execute(authors.insert().values(name="Carl C")).inserted_primary_key
        assert author is not None
        connection.execute(
            paper_authors.insert().values(paper_id=PAPER, author_id=author[0], position=0)
        )
        connection.execute(
            claims.insert().values(
                paper_id=PAPER, author_name="Carl C", user_id=people["carl"].id,
                status="approved", created_at=datetime(2026, 1, 2),
            )
        )  # fmt: skip
    return people


def _kinds(store: Store, people: dict[str, User]) -> dict[str, list[tuple[str, str | None]]]:
    found = {}
    for name, user in people.items():
        listed, _ = notifications.notifications_of(store, user.id, limit=50, offset=0)
        found[name] = [(n.kind, n.actor) for n in listed]
    return found


def test_each_kind_once_and_never_to_yourself(site: Store) -> None:  # noqa: F811
    people = _members(site)
    settings = get_settings()
    top = service.post_comment(site, settings, people["ada"], PAPER, "A first look")
    assert _kinds(site, people) == {
        "ada": [], "bob": [], "sub": [("paper_comment", "n0")],
        "carl": [("paper_comment", "n0")], "dave": [], "erin": [],
    }  # fmt: skip
    text = "Agreed @n0, and @n4 @N4 should see it; @n1 is me; `@n5` is code"
    reply = service.post_comment(site, settings, people["bob"], PAPER, text, parent_id=top.id)
    kinds = _kinds(site, people)
    assert kinds["ada"] == [("reply", "n1")]  # a reply and a mention: one, the reply
    assert kinds["dave"] == [("mention", "n1")]  # mentioned twice: once
    assert kinds["bob"] == [] and kinds["erin"] == []  # not to yourself; code mentions nobody
    assert kinds["sub"][0] == ("paper_comment", "n1") and len(kinds["sub"]) == 2
    listed, total = notifications.notifications_of(site, people["ada"].id, limit=50, offset=0)
    assert total == 1 and listed[0].href == f"/papers/{PAPER}#comment-{reply.id}"
    assert listed[0].excerpt.startswith("Agreed @n0") and not listed[0].read

    service.edit_comment(site, settings, people["bob"], reply.id, text + " and @n5 and @n2")
    kinds = _kinds(site, people)
    assert kinds["erin"] == [("mention", "n1")]  # newly mentioned by the edit
    assert len(kinds["sub"]) == 2 and len(kinds["dave"]) == 1  # nobody told twice
    service.edit_comment(site, settings, people["bob"], reply.id, text + " and @n5, again")
    assert len(_kinds(site, people)["erin"]) == 1


def test_unread_count_mark_one_and_all(site: Store) -> None:  # noqa: F811
    people = _members(site)
    settings = get_settings()
    for text in ("one", "two", "three"):
        service.post_comment(site, settings, people["ada"], PAPER, text)
    sub = people["sub"].id
    assert notifications.unread_count(site, sub) == 3
    listed, _ = notifications.notifications_of(site, sub, limit=50, offset=0)
    assert [n.excerpt for n in listed] == ["three", "two", "one"]  # newest first
    assert notifications.mark_read(site, people["carl"].id, listed[0].id) == 0  # not carl's
    assert notifications.mark_read(site, sub, listed[0].id) == 1
    assert notifications.mark_read(site, sub, listed[0].id) == 0
    assert notifications.unread_count(site, sub) == 2
    assert notifications.unread_count(site, people["carl"].id) == 3
    assert notifications.mark_read(site, sub) == 2
    assert notifications.unread_count(site, sub) == 0


def test_email_choices_are_stored_per_kind(site: Store) -> None:  # noqa: F811
    people = _members(site)
    ada = people["ada"].id
    assert notifications.email_prefs(site, ada) == notifications.EMAIL_DEFAULTS
    notifications.set_email_prefs(site, ada, {"mention": True})
    assert notifications.email_prefs(site, ada) == {
        "reply": False, "mention": True, "paper_comment": False
    }  # fmt: skip
    notifications.set_email_prefs(site, ada, {"reply": True, "paper_comment": True})
    assert notifications.email_prefs(site, ada) == {
        "reply": True, "mention": False, "paper_comment": True
    }  # fmt: skip
    assert notifications.email_prefs(site, people["bob"].id) == notifications.EMAIL_DEFAULTS


def test_hiding_a_comment_reads_its_notifications_and_the_export_holds_them(
    site: Store,  # noqa: F811
) -> None:
    people = _members(site)
    mod = people["dave"]
    set_role(site, mod.id, "moderator")
    spam = service.post_comment(site, get_settings(), people["bob"], PAPER, "@n0 @n5 buy now")
    assert notifications.unread_count(site, people["ada"].id) == 1
    moderation.hide(site, member(site, mod.id), spam.id, "spam")
    assert notifications.unread_count(site, people["ada"].id) == 0
    assert notifications.unread_count(site, people["erin"].id) == 0
    exported = export_data(site, people["ada"])["notifications"]
    assert exported["email"] == notifications.EMAIL_DEFAULTS
    assert [(n["kind"], n["from"], n["read"]) for n in exported["items"]] == [
        ("mention", "n1", True)
    ]


def test_a_processs_kept_counts_follow_other_processes_through_the_clock(
    site: Store,  # noqa: F811
) -> None:
    people = _members(site)
    sub = people["sub"].id
    here = notifications.UnreadCounts(site, check_every=3600)  # this process: hears changed()
    there = notifications.UnreadCounts(site, check_every=0, local=False)  # another process
    here.refresh()
    there.refresh()
    assert here.count(sub) == there.count(sub) == 0
    service.post_comment(site, get_settings(), people["ada"], PAPER, "hi")
    assert here.cached(sub) is None and here.count(sub) == 1  # forgotten at once
    assert there.cached(sub) == 0  # kept until its next look at the clock
    assert there.due()
    there.refresh()
    assert there.cached(sub) is None and there.count(sub) == 1
    there.refresh()  # the clock did not move: kept
    assert there.cached(sub) == 1
    notifications.mark_read(site, sub)
    assert here.count(sub) == 0 and there.cached(sub) == 1
    there.refresh()
    assert there.count(sub) == 0
    notifications.set_email_prefs(site, sub, {})  # not a count: the clock stays
    there.refresh()
    assert there.cached(sub) == 0
