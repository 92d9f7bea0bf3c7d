"""Reports, hiding and suspensions on a real store (SQLite and PostgreSQL), through the
comment service: a hidden comment leaves the readers' thread and the paper's count and stays
for moderators with its reason; reports close; a suspended author's comments go and come
back; every action is in the audit log."""

from __future__ import annotations

import pytest

from dailypapers.accounts import User
from dailypapers.discussion import comments as service
from dailypapers.discussion import moderation
from dailypapers.settings import get_settings
from dailypapers.store import Store
from dailypapers.store.votes import vote_stamp
from tests.discussion.test_comments import PAPER, local_comments, site  # noqa: F401
from tests.support.members import add_members, member, set_role


def _people(store: Store) -> tuple[User, User, User, User]:
    ada, bob, mod, root = add_members(store, 4, prefix="m")
    set_role(store, mod, "moderator")
    set_role(store, root, "admin")
    return member(store, ada), member(store, bob), member(store, mod), member(store, root)


def _texts(store: Store, moderator: bool = False) -> list[tuple[str, bool, str | None]]:
    thread = service.thread(store, PAPER, moderator=moderator)
    flat = [c for top in thread for c in (top, *top.replies)]
    return [(c.body, c.hidden, c.hidden_reason if moderator else None) for c in flat]


def test_report_hide_unhide_and_the_count(site: Store) -> None:  # noqa: F811
    ada, bob, mod, root = _people(site)
    settings = get_settings()
    top = service.post_comment(site, settings, ada, PAPER, "buy cheap pills")
    service.post_comment(site, settings, bob, PAPER, "fine comment")
    assert local_comments(site) == 2
    filed = moderation.report(site, bob, top.id, "  spam,\n obviously ")
    assert filed.paper_id == PAPER
    with pytest.raises(moderation.ModerationError, match="already") as twice:
        moderation.report(site, bob, top.id, "again")
    assert twice.value.status == 409
    with pytest.raises(moderation.ModerationError, match="own comment"):
        moderation.report(site, ada, top.id, "me")
    with pytest.raises(moderation.ModerationError, match="reason"):
        moderation.report(site, mod, top.id, "   ")
    with pytest.raises(moderation.ModerationError) as missing:
        moderation.report(site, mod, 10_000, "x")
    assert missing.value.status == 404
    queue, total = moderation.open_reports(site, limit=50, offset=0)
    assert total == 1 and [(r.id, r.reporter, r.author, r.reason) for r in queue] == [
        (filed.id, "m1", "m0", "spam, obviously")
    ]

    with pytest.raises(moderation.ModerationError) as refused:
        moderation.hide(site, bob, top.id, "no")
    assert refused.value.status == 403
    with site.read() as connection:
        before = vote_stamp(connection)
    moderation.hide(site, mod, top.id, "advertising")
    with site.read() as connection:
        assert vote_stamp(connection) > before  # the cached pages' stamp moved
    assert local_comments(site) == 1
    assert _texts(site) == [("fine comment", False, None)]
    assert ("buy cheap pills", True, "advertising") in _texts(site, moderator=True)
    assert moderation.open_reports(site, limit=50, offset=0) == ([], 0)  # closed by the hide
    with pytest.raises(moderation.ModerationError, match="hidden already"):
        moderation.hide(site, mod, top.id, "again")
    moderation.report(site, bob, top.id, "still spam")  # a new one is allowed

    moderation.unhide(site, mod, top.id, "a misunderstanding")
    assert local_comments(site) == 2
    assert ("buy cheap pills", False, None) in _texts(site)
    (open_one,), _ = moderation.open_reports(site, limit=50, offset=0)
    moderation.dismiss(site, mod, open_one.id)
    with pytest.raises(moderation.ModerationError, match="closed already"):
        moderation.dismiss(site, mod, open_one.id)
    entries, total = moderation.audit_page(site, root, limit=10, offset=0)
    assert [(e.actor, e.action, e.target_id, e.reason) for e in entries] == [
        ("m2", "dismiss", str(open_one.id), None),
        ("m2", "unhide", str(top.id), "a misunderstanding"),
        ("m2", "hide", str(top.id), "advertising"),
    ]
    assert entries[1].target_label == f"m0 on {PAPER}"
    with pytest.raises(moderation.ModerationError) as not_admin:
        moderation.audit_page(site, mod, limit=10, offset=0)
    assert not_admin.value.status == 403


def test_a_suspended_authors_comments_are_hidden_until_restored(site: Store) -> None:  # noqa: F811
    ada, bob, mod, root = _people(site)
    settings = get_settings()
    service.post_comment(site, settings, ada, PAPER, "from ada")
    service.post_comment(site, settings, bob, PAPER, "from bob")
    suspended = moderation.set_suspended(site, mod, ada, True, "spam")
    assert suspended.suspended and local_comments(site) == 1
    assert _texts(site) == [("from bob", False, None)]
    with pytest.raises(service.NotAllowed):
        service.post_comment(site, settings, suspended, PAPER, "again")
    moderation.set_suspended(site, mod, suspended, False, "appeal")
    assert local_comments(site) == 2
    assert [text for text, _, _ in _texts(site)] == ["from ada", "from bob"]
    entries, _ = moderation.audit_page(site, root, limit=10, offset=0)
    assert [(e.action, e.target_label, e.reason) for e in entries] == [
        ("restore", "m0", "appeal"),
        ("suspend", "m0", "spam"),
    ]


def test_a_moderators_edit_and_deletion_of_someone_elses_comment_are_audited(
    site: Store,  # noqa: F811
) -> None:
    ada, _, mod, root = _people(site)
    settings = get_settings()
    comment = service.post_comment(site, settings, ada, PAPER, "first words")
    service.edit_comment(site, settings, ada, comment.id, "own second words")  # not audited
    service.edit_comment(site, settings, mod, comment.id, "[removed a phone number]")
    service.delete_comment(site, mod, comment.id)
    own = service.post_comment(site, settings, mod, PAPER, "a moderator's own")
    service.delete_comment(site, mod, own.id)  # their own: not audited
    entries, total = moderation.audit_page(site, root, limit=10, offset=0)
    assert total == 2
    assert [(e.actor, e.action, e.target_id) for e in entries] == [
        ("m2", "delete_comment", str(comment.id)),
        ("m2", "edit_comment", str(comment.id)),
    ]
